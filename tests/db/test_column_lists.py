"""The store's column lists come from the table definitions, so a new column cannot be missed."""

from dataclasses import fields

from db.directory_reads import USER_COLUMNS, UserRecord
from db.tables import SYSTEM_COLUMNS, groups, users
from db.users import WRITABLE_COLUMNS


def test_writable_columns_are_the_user_table_but_its_system_columns() -> None:
    names = [column.name for column in users.columns]
    assert list(WRITABLE_COLUMNS) == [name for name in names if name not in SYSTEM_COLUMNS]
    assert {"id", "tenant_id", "version", "created", "last_modified"}.isdisjoint(WRITABLE_COLUMNS)
    assert {"user_name", "manager_id", "attributes"} <= set(WRITABLE_COLUMNS)


def test_directory_reads_select_the_record_s_fields_from_the_user_table() -> None:
    assert [column.name for column in USER_COLUMNS] == [field.name for field in fields(UserRecord)]
    assert all(column.table is users for column in USER_COLUMNS)


def test_groups_have_no_attributes_column_any_more() -> None:
    assert "attributes" not in groups.c
