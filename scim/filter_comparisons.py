"""Comparing one attribute with one value: the leaves of a compiled SCIM filter.

An absent attribute matches nothing, except ``ne`` (absent is "not equal") and ``eq null`` /
``ne null`` (absent / present). ``co``/``sw``/``ew`` escape ``%`` and ``_``; case-insensitive
strings compare ``lower()`` on both sides (what the expression indexes are built on);
``gt``/``ge``/``lt``/``le`` compare strings in the database's collation and timestamps
chronologically, and refuse booleans (RFC 7644 §3.4.2.2). Sub-attributes implied by storage
(an email's ``type``) are decided while compiling and fold away.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, ColumnElement, String, and_, bindparam, false, func, not_, or_, true
from sqlalchemy.sql.elements import False_, True_

from scim.filter_schema import ColumnField, ConstantField, Field, Kind, has_value
from scim.filter_syntax import QuotedString

LIKE_ESCAPE = "/"
TEXT = String()
BOOLEAN = Boolean()

Value = str | bool | None
Condition = ColumnElement[bool]


class FilterError(ValueError):
    """The filter is well-formed but asks for something this resource cannot answer."""


# -- comparison values -------------------------------------------------------------------------


def decode_value(comp_value: Any, label: str) -> Value:
    """The JSON value of a compValue: a string, a boolean or null (numbers have no column)."""
    raw = comp_value.value
    if isinstance(raw, QuotedString):
        if "\x00" in raw:
            raise FilterError(f"the value compared with {label!r} contains a NUL character")
        try:
            raw.encode("utf-8")
        except UnicodeEncodeError as error:
            raise FilterError(f"the value compared with {label!r} is not valid Unicode") from error
        return str(raw)
    if raw == "true":
        return True
    if raw == "false":
        return False
    if raw == "null":
        return None
    raise FilterError(f"{label!r} cannot be compared with the number {raw}")


def parse_timestamp(value: Value, label: str) -> datetime:
    if not isinstance(value, str):
        raise FilterError(f"{label!r} is a dateTime: compare it with a quoted ISO 8601 timestamp")
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as error:
        raise FilterError(f"{value!r} is not an ISO 8601 timestamp (for {label!r})") from error


def parse_boolean(value: Value, label: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"  # Entra's legacy "True"/"False"
    raise FilterError(f"{label!r} is a boolean: compare it with true or false")


def like_pattern(value: str, operator: str) -> str:
    escaped = (
        value.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    return {"co": f"%{escaped}%", "sw": f"{escaped}%", "ew": f"%{escaped}"}[operator]


# -- comparisons -------------------------------------------------------------------------------


def compare(field: Field, operator: str, comp_value: Any, label: str) -> Condition:
    if isinstance(field, ConstantField):
        return compare_constant(field.value, operator, comp_value, label)
    if operator == "pr":
        if field.kind is Kind.STRING:
            return has_value(field.column)
        return field.column.is_not(None)
    value = decode_value(comp_value, label)
    if value is None:
        return compare_null(field, operator, label)
    if field.kind is Kind.BOOLEAN:
        return compare_boolean(field.column, operator, parse_boolean(value, label), label)
    if field.kind is Kind.DATETIME:
        return compare_timestamp(field.column, operator, parse_timestamp(value, label), label)
    if not isinstance(value, str):
        raise FilterError(f"{label!r} is a string: compare it with a quoted value")
    return compare_string(field, operator, value)


def compare_null(field: ColumnField, operator: str, label: str) -> Condition:
    present = has_value(field.column) if field.kind is Kind.STRING else field.column.is_not(None)
    if operator == "eq":
        return not_(present)
    if operator == "ne":
        return present
    raise FilterError(f"only eq and ne can compare {label!r} with null")


def compare_boolean(
    column: ColumnElement[Any], operator: str, value: bool, label: str
) -> Condition:
    if operator == "eq":
        return column == bindparam(None, value, BOOLEAN)
    if operator == "ne":
        return or_(column.is_(None), column != bindparam(None, value, BOOLEAN))
    raise FilterError(f"{label!r} is a boolean: only eq, ne and pr apply, not {operator!r}")


def compare_timestamp(
    column: ColumnElement[Any], operator: str, value: datetime, label: str
) -> Condition:
    if operator == "ne":
        return or_(column.is_(None), column != value)
    comparisons: dict[str, Callable[[], Condition]] = {
        "eq": lambda: column == value,
        "gt": lambda: column > value,
        "ge": lambda: column >= value,
        "lt": lambda: column < value,
        "le": lambda: column <= value,
    }
    if operator not in comparisons:
        raise FilterError(f"{label!r} is a dateTime: {operator!r} does not apply")
    return comparisons[operator]()


def compare_string(field: ColumnField, operator: str, value: str) -> Condition:
    column = field.column
    if operator in ("co", "sw", "ew"):
        if field.case_exact:
            return exact_substring(column, operator, value)
        pattern = func.lower(bindparam(None, like_pattern(value, operator), TEXT))
        return field.lowered.like(pattern, escape=LIKE_ESCAPE)
    if field.case_exact:
        left: ColumnElement[Any] = column
        right: ColumnElement[Any] = bindparam(None, value, TEXT)
    else:
        left = field.lowered
        right = func.lower(bindparam(None, value, TEXT))
    if operator == "eq":
        return left == right
    if operator == "ne":
        return or_(column.is_(None), left != right)
    if operator == "gt":
        return left > right
    if operator == "ge":
        return left >= right
    if operator == "lt":
        return left < right
    return left <= right


def exact_substring(column: ColumnElement[Any], operator: str, value: str) -> Condition:
    """Case-sensitive co/sw/ew without LIKE, which is case-insensitive on SQLite."""
    if value == "":
        return column.is_not(None)
    if operator == "sw":
        return func.substr(column, 1, len(value)) == value
    if operator == "ew":
        return func.substr(column, func.length(column) - (len(value) - 1)) == value
    return func.replace(column, value, "") != column


def compare_constant(constant: str, operator: str, comp_value: Any, label: str) -> Condition:
    """A sub-attribute implied by storage (an email's ``type``): decided while compiling."""
    if operator == "pr":
        return true()
    value = decode_value(comp_value, label)
    if value is None and operator in ("eq", "ne"):
        return false() if operator == "eq" else true()
    if not isinstance(value, str):
        raise FilterError(f"{label!r} is a string: compare it with a quoted value")
    have, want = constant.lower(), value.lower()
    outcome = {
        "eq": have == want,
        "ne": have != want,
        "co": want in have,
        "sw": have.startswith(want),
        "ew": have.endswith(want),
        "gt": have > want,
        "ge": have >= want,
        "lt": have < want,
        "le": have <= want,
    }[operator]
    return true() if outcome else false()


def all_of(*conditions: Condition) -> Condition:
    """``and_`` that drops constant-true operands and folds a constant-false one."""
    if any(isinstance(c, False_) for c in conditions):
        return false()
    kept = [c for c in conditions if not isinstance(c, True_)]
    return and_(*kept) if kept else true()


def any_of(*conditions: Condition) -> Condition:
    """``or_`` that drops constant-false operands and folds a constant-true one."""
    if any(isinstance(c, True_) for c in conditions):
        return true()
    kept = [c for c in conditions if not isinstance(c, False_)]
    return or_(*kept) if kept else false()


def negate(condition: Condition) -> Condition:
    if isinstance(condition, True_):
        return false()
    if isinstance(condition, False_):
        return true()
    return not_(func.coalesce(condition, false()))
