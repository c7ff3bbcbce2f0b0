"""A list of ids bound as one parameter and read as a table, the same SQL for any list.

``listed_ids(dialect)`` is a FROM item with one column, ``value``: the list bound as ``ids``,
unnested by the database (``unnest`` of an array on PostgreSQL, ``json_each`` of a JSON
array on SQLite). A statement built on it is compiled once by SQLAlchemy, whatever the
list's length, where a VALUES list or a multi-row ``values()`` is compiled anew for every
call and an expanding ``IN`` is rendered anew.

Joined to a table by its primary key (``table.c.id == ids.c.value``) it makes a probe per
id, whatever the statistics say. An ``IN`` list beside the tenant's condition does not: with
no statistics (SQLite gathers none by itself) or old ones, both databases would rather read
the tenant's range of an index and test each row against the list; in a prepared statement's
generic plan PostgreSQL tests it against each id in turn.
"""

from sqlalchemy import JSON, String, bindparam, func
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.selectable import TableValuedAlias


def listed_ids(dialect: str, name: str = "wanted") -> TableValuedAlias:
    """The list bound as ``ids`` (a list of str), as a table named ``name`` with the column
    ``value``, on ``dialect`` ("postgresql" or "sqlite")."""
    if dialect == "postgresql":
        ids = bindparam("ids", type_=postgresql.ARRAY(String))
        return func.unnest(ids).table_valued("value", name=name).render_derived()
    return func.json_each(bindparam("ids", type_=JSON)).table_valued("value", name=name)


#: The databases the store runs on: statements on ``listed_ids`` are built once for each.
DIALECTS = ("postgresql", "sqlite")
