"""The group repository: names, membership changes, deletion, queries, tenancy."""

import pytest
from sqlalchemy import Connection, func

from db import group_members as group_members_module
from db import groups as repo
from db.database import Database
from db.errors import Conflict, InvalidReference, NotFound
from db.group_members import MemberDelta, member_of
from db.tables import groups, users
from db.tenants import create_tenant
from tests.directory_rows import count_statements, insert_users


@pytest.fixture
def tenant_id(database: Database) -> int:
    return database.write_sync(lambda c: create_tenant(c, "acme")).id


@pytest.fixture
def user_ids(database: Database, tenant_id: int) -> list[str]:
    return database.write_sync(lambda c: insert_users(c, tenant_id, 5))


def _create(database: Database, tenant_id: int, name: str, **kwargs: object) -> repo.GroupRecord:
    return database.write_sync(lambda c: repo.create_group(c, tenant_id, name, **kwargs))  # type: ignore[arg-type]


def _member_ids(database: Database, tenant_id: int, group_id: str) -> list[str]:
    record = database.read_sync(lambda c: repo.get_group(c, tenant_id, group_id))
    assert record.members is not None
    return [member.user_id for member in record.members]


def test_create_and_get(database: Database, tenant_id: int, user_ids: list[str]) -> None:
    created = _create(database, tenant_id, "Sales", external_id="ext-1")
    assert created.members == []
    assert created.version == 1
    fetched = database.read_sync(lambda c: repo.get_group(c, tenant_id, created.id))
    assert fetched == created
    bare = database.read_sync(
        lambda c: repo.get_group(c, tenant_id, created.id, with_members=False)
    )
    assert bare.members is None
    assert bare.display_name == "Sales"
    assert bare.external_id == "ext-1"


def test_create_with_members_shows_display_names(
    database: Database, tenant_id: int, user_ids: list[str]
) -> None:
    created = _create(database, tenant_id, "Sales", member_ids=[user_ids[1], user_ids[0]])
    assert created.members is not None
    assert sorted(m.user_id for m in created.members) == sorted(user_ids[:2])
    assert {m.display for m in created.members} == {None}
    named = database.write_sync(
        lambda c: insert_users(c, tenant_id, 1, "named", display_names=True)
    )
    database.write_sync(lambda c: repo.add_members(c, tenant_id, created.id, named))
    after = database.read_sync(lambda c: repo.get_group(c, tenant_id, created.id))
    assert {m.display for m in after.members or []} == {None, "named 0"}


def test_display_name_is_unique_per_tenant_in_any_case(database: Database, tenant_id: int) -> None:
    _create(database, tenant_id, "Sales")
    with pytest.raises(Conflict, match="SALES"):
        _create(database, tenant_id, "SALES")
    other = database.write_sync(lambda c: create_tenant(c, "globex")).id
    assert _create(database, other, "sales").display_name == "sales"
    assert database.read_sync(lambda c: repo.count_groups(c, tenant_id)) == 1


def test_rename_conflict_and_partial_update(database: Database, tenant_id: int) -> None:
    sales = _create(database, tenant_id, "Sales", external_id="e1")
    _create(database, tenant_id, "Ops")
    with pytest.raises(Conflict):
        database.write_sync(lambda c: repo.update_group(c, tenant_id, sales.id, display_name="ops"))
    database.write_sync(lambda c: repo.update_group(c, tenant_id, sales.id, external_id="e2"))
    after = database.read_sync(lambda c: repo.get_group(c, tenant_id, sales.id))
    assert (after.display_name, after.external_id, after.version) == ("Sales", "e2", 2)
    assert after.last_modified >= sales.last_modified
    database.write_sync(lambda c: repo.update_group(c, tenant_id, sales.id, display_name="SALES"))
    renamed = database.read_sync(lambda c: repo.get_group(c, tenant_id, sales.id))
    assert (renamed.display_name, renamed.version) == ("SALES", 3)


def test_add_members_ignores_existing_and_bumps_version(
    database: Database, tenant_id: int, user_ids: list[str]
) -> None:
    group = _create(database, tenant_id, "Sales")
    first = database.write_sync(lambda c: repo.add_members(c, tenant_id, group.id, user_ids[:2]))
    assert (list(first.added), list(first.removed)) == (user_ids[:2], [])
    second = database.write_sync(
        lambda c: repo.add_members(c, tenant_id, group.id, [user_ids[1], user_ids[2], user_ids[2]])
    )
    assert (list(second.added), list(second.removed)) == ([user_ids[2]], [])
    assert sorted(_member_ids(database, tenant_id, group.id)) == sorted(user_ids[:3])
    after = database.read_sync(lambda c: repo.get_group(c, tenant_id, group.id))
    assert after.version == 3


def test_unknown_member_changes_nothing(
    database: Database, tenant_id: int, user_ids: list[str]
) -> None:
    group = _create(database, tenant_id, "Sales", member_ids=[user_ids[0]])
    with pytest.raises(InvalidReference, match="not a user"):
        database.write_sync(
            lambda c: repo.add_members(c, tenant_id, group.id, [user_ids[1], "no-such-user"])
        )
    with pytest.raises(InvalidReference):
        database.write_sync(
            lambda c: repo.set_members(c, tenant_id, group.id, [user_ids[2], "no-such-user"])
        )
    assert _member_ids(database, tenant_id, group.id) == [user_ids[0]]
    assert database.read_sync(lambda c: repo.get_group(c, tenant_id, group.id)).version == 1


def test_the_member_check_names_the_unknown_id_among_known_ones(
    database: Database, tenant_id: int, user_ids: list[str]
) -> None:
    """Each id is probed on its own: one unknown id among known ones is found and named."""
    mixed = [user_ids[0], "no-such-user", user_ids[1]]
    with pytest.raises(InvalidReference, match="'no-such-user' is not a user of this tenant"):
        database.read_sync(lambda c: group_members_module.require_users(c, tenant_id, mixed))
    database.read_sync(lambda c: group_members_module.require_users(c, tenant_id, user_ids[:2]))


def test_the_member_check_is_one_statement_whatever_the_lists_length(
    database: Database, tenant_id: int, user_ids: list[str]
) -> None:
    """The ids are one parameter: 2 ids and 2,500 send the same SQL, once, which SQLAlchemy
    compiles once (a VALUES or IN list would be new SQL for every length, and chunked)."""
    many = database.write_sync(lambda c: insert_users(c, tenant_id, 2500, "many"))
    sent: list[list[str]] = []
    for ids in (user_ids[:2], many):

        def check(c: Connection, ids: list[str] = ids) -> None:
            group_members_module.require_users(c, tenant_id, ids)

        with count_statements(*database.engines) as log:
            database.read_sync(check)
        sent.append(log.statements)
    assert len(sent[0]) == 1
    assert sent[1] == sent[0]
    # and it still finds the one unknown id at the end of a long list
    with pytest.raises(InvalidReference, match="'no-such-user' is not a user of this tenant"):
        database.read_sync(
            lambda c: group_members_module.require_users(c, tenant_id, [*many, "no-such-user"])
        )


def test_users_of_another_tenant_are_unknown(
    database: Database, tenant_id: int, user_ids: list[str]
) -> None:
    other = database.write_sync(lambda c: create_tenant(c, "globex")).id
    stranger = database.write_sync(lambda c: insert_users(c, other, 1, "stranger"))[0]
    group = _create(database, tenant_id, "Sales")
    with pytest.raises(InvalidReference):
        database.write_sync(lambda c: repo.add_members(c, tenant_id, group.id, [stranger]))
    assert _member_ids(database, tenant_id, group.id) == []


def test_nested_group_is_refused_with_a_clear_detail(database: Database, tenant_id: int) -> None:
    inner = _create(database, tenant_id, "Inner")
    outer = _create(database, tenant_id, "Outer")
    with pytest.raises(InvalidReference, match="nested groups are not supported"):
        database.write_sync(lambda c: repo.add_members(c, tenant_id, outer.id, [inner.id]))


def test_remove_listed_and_all(database: Database, tenant_id: int, user_ids: list[str]) -> None:
    group = _create(database, tenant_id, "Sales", member_ids=user_ids)
    listed = database.write_sync(
        lambda c: repo.remove_members(c, tenant_id, group.id, [user_ids[0], "not-a-member"])
    )
    assert (list(listed.added), list(listed.removed)) == ([], [user_ids[0]])
    assert sorted(_member_ids(database, tenant_id, group.id)) == sorted(user_ids[1:])
    everyone = database.write_sync(lambda c: repo.remove_all_members(c, tenant_id, group.id))
    assert sorted(everyone.removed) == sorted(user_ids[1:])
    assert _member_ids(database, tenant_id, group.id) == []
    assert database.read_sync(lambda c: repo.get_group(c, tenant_id, group.id)).version == 3


@pytest.mark.parametrize("size", [3, 1500])
def test_set_members_replaces_membership(database: Database, tenant_id: int, size: int) -> None:
    ids = database.write_sync(lambda c: insert_users(c, tenant_id, size + 2))
    group = _create(database, tenant_id, "Sales", member_ids=ids[:2])
    delta = database.write_sync(
        lambda c: repo.set_members(c, tenant_id, group.id, ids[1 : size + 1])
    )
    # who stays is in neither list, whichever way the store replaced the membership
    assert (sorted(delta.added), list(delta.removed)) == (sorted(ids[2 : size + 1]), [ids[0]])
    assert sorted(_member_ids(database, tenant_id, group.id)) == sorted(ids[1 : size + 1])
    database.write_sync(lambda c: repo.set_members(c, tenant_id, group.id, []))
    assert _member_ids(database, tenant_id, group.id) == []


def test_replace_group(database: Database, tenant_id: int, user_ids: list[str]) -> None:
    group = _create(database, tenant_id, "Sales", external_id="e", member_ids=user_ids[:2])
    database.write_sync(
        lambda c: repo.replace_group(
            c,
            tenant_id,
            group.id,
            display_name="Retail",
            external_id=None,
            member_ids=[user_ids[3]],
        )
    )
    after = database.read_sync(lambda c: repo.get_group(c, tenant_id, group.id))
    assert (after.display_name, after.external_id) == ("Retail", None)
    assert [m.user_id for m in after.members or []] == [user_ids[3]]


def test_delete_removes_memberships(
    database: Database, tenant_id: int, user_ids: list[str]
) -> None:
    group = _create(database, tenant_id, "Sales", member_ids=user_ids)
    other = database.write_sync(lambda c: create_tenant(c, "globex")).id
    with pytest.raises(NotFound):
        database.write_sync(lambda c: repo.delete_group(c, other, group.id))
    database.write_sync(lambda c: repo.delete_group(c, tenant_id, group.id))
    with pytest.raises(NotFound):
        database.read_sync(lambda c: repo.get_group(c, tenant_id, group.id))
    with pytest.raises(NotFound):
        database.write_sync(lambda c: repo.delete_group(c, tenant_id, group.id))
    assert database.read_sync(lambda c: repo.groups_of_user(c, tenant_id, user_ids[0])) == []


def test_other_tenant_cannot_see_or_change_a_group(
    database: Database, tenant_id: int, user_ids: list[str]
) -> None:
    group = _create(database, tenant_id, "Sales", member_ids=user_ids[:1])
    other = database.write_sync(lambda c: create_tenant(c, "globex")).id
    with pytest.raises(NotFound):
        database.read_sync(lambda c: repo.get_group(c, other, group.id))
    with pytest.raises(NotFound):
        database.write_sync(lambda c: repo.add_members(c, other, group.id, []))
    assert not database.read_sync(lambda c: repo.has_member(c, other, group.id, user_ids[0]))
    assert database.read_sync(lambda c: repo.has_member(c, tenant_id, group.id, user_ids[0]))


def test_groups_of_user(database: Database, tenant_id: int, user_ids: list[str]) -> None:
    sales = _create(database, tenant_id, "Sales", member_ids=user_ids[:2])
    ops = _create(database, tenant_id, "Ops", member_ids=user_ids[:1])
    refs = database.read_sync(lambda c: repo.groups_of_user(c, tenant_id, user_ids[0]))
    assert refs == [repo.GroupRef(ops.id, "Ops"), repo.GroupRef(sales.id, "Sales")]
    assert database.read_sync(lambda c: repo.groups_of_user(c, tenant_id, user_ids[4])) == []
    other = database.write_sync(lambda c: create_tenant(c, "globex")).id
    assert database.read_sync(lambda c: repo.groups_of_user(c, other, user_ids[0])) == []


def test_deleting_a_user_row_cascades_to_memberships(
    database: Database, tenant_id: int, user_ids: list[str]
) -> None:
    group = _create(database, tenant_id, "Sales", member_ids=user_ids[:2])
    database.write_sync(lambda c: c.execute(users.delete().where(users.c.id == user_ids[0])))
    assert _member_ids(database, tenant_id, group.id) == [user_ids[1]]


def test_list_filters_pages_and_skips_members(
    database: Database, tenant_id: int, user_ids: list[str]
) -> None:
    for name in ["Delta", "alpha", "Charlie", "bravo"]:
        _create(database, tenant_id, name, member_ids=user_ids[:2])
    by_name = func.lower(groups.c.display_name)
    page = database.read_sync(
        lambda c: repo.list_groups(c, tenant_id, order_by=by_name, offset=1, limit=2)
    )
    assert page.total == 4
    assert [g.display_name for g in page.groups] == ["bravo", "Charlie"]
    assert all(len(g.members or []) == 2 for g in page.groups)
    where = func.lower(groups.c.display_name) == "charlie"
    with count_statements(database.read_engine) as log:
        found = database.read_sync(
            lambda c: repo.list_groups(c, tenant_id, where=where, with_members=False)
        )
    assert [g.display_name for g in found.groups] == ["Charlie"]
    assert found.groups[0].members is None
    assert not any("group_member" in s for s in log.statements)
    descending = database.read_sync(
        lambda c: repo.list_groups(c, tenant_id, order_by=by_name, descending=True, limit=1)
    )
    assert [g.display_name for g in descending.groups] == ["Delta"]
    none = database.read_sync(lambda c: repo.list_groups(c, tenant_id, limit=0))
    assert (none.total, none.groups) == (4, [])


def test_member_of_clause(database: Database, tenant_id: int, user_ids: list[str]) -> None:
    sales = _create(database, tenant_id, "Sales", member_ids=user_ids[:1])
    _create(database, tenant_id, "Ops", member_ids=user_ids[1:2])
    where = (groups.c.id == sales.id) & member_of(user_ids[0])
    page = database.read_sync(
        lambda c: repo.list_groups(c, tenant_id, where=where, with_members=False)
    )
    assert [g.id for g in page.groups] == [sales.id]
    where = (groups.c.id == sales.id) & member_of(user_ids[1])
    assert database.read_sync(lambda c: repo.count_groups(c, tenant_id, where)) == 0


def test_members_up_to_a_limit(database: Database, tenant_id: int, user_ids: list[str]) -> None:
    group = _create(database, tenant_id, "Sales", member_ids=user_ids[:3])
    for limit, expected in ((3, 3), (5, 3), (2, None)):
        record = database.read_sync(
            lambda c, n=limit: repo.get_group(c, tenant_id, group.id, member_limit=n)  # type: ignore[misc]
        )
        assert (len(record.members) if record.members is not None else None) == expected


def test_a_user_deleted_between_check_and_insert_is_an_invalid_reference(
    database: Database, tenant_id: int, user_ids: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    group = _create(database, tenant_id, "Sales", member_ids=user_ids[:1])
    database.write_sync(lambda c: c.execute(users.delete().where(users.c.id == user_ids[1])))
    # The check passed just before the user went away: the foreign key still refuses the row.
    monkeypatch.setattr(group_members_module, "require_users", lambda *args: None)
    with pytest.raises(InvalidReference, match="deleted while being added"):
        database.write_sync(lambda c: repo.add_members(c, tenant_id, group.id, [user_ids[1]]))
    assert _member_ids(database, tenant_id, group.id) == [user_ids[0]]


def test_a_member_delta_is_net() -> None:
    delta = MemberDelta().add(["a", "b"]).remove(["b", "c"])
    assert (list(delta.added), list(delta.removed)) == (["a"], ["c"])
    delta.merge(MemberDelta().add(["c", "d"]))
    assert (list(delta.added), list(delta.removed)) == (["a", "d"], [])
    assert not MemberDelta()
    assert delta
