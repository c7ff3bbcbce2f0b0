"""scim2-filter-parser's AST → a SQLAlchemy boolean expression with bound parameters.

Semantics, per RFC 7644 §3.4.2.2:

* a condition on a multi-valued attribute matches when any of its values matches; values kept
  in columns of the row are OR-ed, values kept in another table become a correlated EXISTS;
* an absent attribute matches nothing, except ``ne`` (absent is "not equal") and
  ``eq null`` / ``ne null`` (absent / present); ``not (...)`` is two-valued logic, so
  ``not (title eq "x")`` matches users without a title (SQL's NULL is folded to false first);
* ``co``/``sw``/``ew`` escape ``%`` and ``_``; ``gt``/``ge``/``lt``/``le`` compare strings in
  the database's collation and timestamps chronologically, and refuse booleans.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from scim2_filter_parser import ast
from sqlalchemy import (
    Boolean,
    ColumnElement,
    String,
    and_,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    true,
)
from sqlalchemy.sql.elements import False_, True_

from scim.filter_resources import has_value
from scim.filter_schema import (
    Attribute,
    ColumnField,
    Complex,
    ConstantField,
    Element,
    Field,
    Kind,
    Related,
    ResourceSchema,
)
from scim.filter_syntax import QuotedString

#: Deeper nesting (of parentheses, ``not`` and brackets) is refused rather than recursed into.
MAX_DEPTH = 50

STRING_OPERATORS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"})
ORDERING_OPERATORS = frozenset({"gt", "ge", "lt", "le"})
LIKE_ESCAPE = "/"

Value = str | bool | None
Condition = ColumnElement[bool]


class FilterError(ValueError):
    """The filter is well-formed but asks for something this resource cannot answer."""


# -- attribute resolution ----------------------------------------------------------------------


def resolve(schema: ResourceSchema, name: str, uri: str | None) -> Attribute:
    """The attribute ``name`` (optionally qualified by a schema ``uri``), case-insensitively."""
    key = name.lower()
    if uri is not None:
        urn = schema.urn_aliases.get(uri.lower(), uri.lower())
        attributes = schema.schemas.get(urn)
        if attributes is None:
            raise FilterError(f"unknown schema URN {uri!r} for {schema.name} resources")
        found = attributes.get(key)
    else:
        found = next((a[key] for a in schema.schemas.values() if key in a), None)
    if found is not None:
        return found
    qualified = f"{uri}:{name}" if uri else name
    if key in schema.unfilterable:
        raise FilterError(f"attribute {qualified!r} cannot be used in a filter")
    raise FilterError(f"unknown attribute {qualified!r} for {schema.name} resources")


def sub_field(element: Element, name: str, parent: str) -> Field:
    found = element.fields.get(name.lower())
    if found is None:
        raise FilterError(f"unknown or unfilterable sub-attribute {name!r} of {parent!r}")
    return found


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
        return column == literal(value, Boolean())
    if operator == "ne":
        return or_(column.is_(None), column != literal(value, Boolean()))
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
        pattern = func.lower(literal(like_pattern(value, operator), String()))
        return func.lower(column).like(pattern, escape=LIKE_ESCAPE)
    if field.case_exact:
        left: ColumnElement[Any] = column
        right: ColumnElement[Any] = literal(value, String())
    else:
        left = func.lower(column)
        right = func.lower(literal(value, String()))
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


# -- the tree walk -----------------------------------------------------------------------------


def any_element(attribute: Complex | Related, build: Callable[[Element], Condition]) -> Condition:
    """Matches when some value of a multi-valued (or complex) attribute satisfies ``build``."""
    if isinstance(attribute, Complex):
        return any_of(*(all_of(element.present, build(element)) for element in attribute.elements))
    selected = all_of(attribute.element.present, build(attribute.element))
    if isinstance(selected, False_):
        return selected
    return exists().where(attribute.link, selected).correlate_except(attribute.table)


class ResourceScope:
    """Attribute paths at the top level of a filter: names of the resource's attributes."""

    def __init__(self, compiler: "FilterCompiler") -> None:
        self.compiler = compiler
        self.schema = compiler.schema

    def condition(self, path: Any, operator: str, comp_value: Any) -> Condition:
        if isinstance(path.attr_name, ast.Filter):  # emails[type eq "work"].value eq "x"
            return self.filtered_sub_attribute(path.attr_name, operator, comp_value)
        label = path_label(path)
        attribute = resolve(self.schema, path.attr_name, path.uri)
        sub = path.sub_attr.value if path.sub_attr is not None else None
        if isinstance(attribute, ColumnField):
            if sub is not None:
                raise FilterError(f"{path.attr_name!r} has no sub-attribute {sub!r}")
            return compare(attribute, operator, comp_value, label)
        sub = sub or attribute.default
        if sub is None:
            if operator == "pr":
                return any_element(attribute, lambda element: any_field_present(element))
            raise FilterError(
                f"{label!r} is a complex attribute: filter on one of its sub-attributes"
            )
        return any_element(
            attribute,
            lambda element: compare(sub_field(element, sub, label), operator, comp_value, label),
        )

    def filtered_sub_attribute(self, value_path: Any, operator: str, comp_value: Any) -> Condition:
        parent = value_path.namespace
        attribute = self.complex(parent)
        label = path_label(parent)
        if parent.sub_attr is None:
            raise FilterError(f"{label!r} is a complex attribute: name a sub-attribute after ']'")
        sub = parent.sub_attr.value

        def build(element: Element) -> Condition:
            selected = self.compiler.walk(value_path.expr, ElementScope(element, label), 1)
            compared = compare(sub_field(element, sub, label), operator, comp_value, label)
            return all_of(selected, compared)

        return any_element(attribute, build)

    def value_path(self, parent: Any, inner: Any, depth: int) -> Condition:
        if parent.sub_attr is not None:  # pragma: no cover - the grammar never builds this
            raise FilterError("a sub-attribute cannot precede '['")
        attribute = self.complex(parent)
        label = path_label(parent)
        return any_element(
            attribute,
            lambda element: self.compiler.walk(inner, ElementScope(element, label), depth + 1),
        )

    def complex(self, path: Any) -> Complex | Related:
        if not isinstance(path.attr_name, str):
            raise FilterError("nested '[...]' filters are not supported")
        attribute = resolve(self.schema, path.attr_name, path.uri)
        if isinstance(attribute, ColumnField):
            raise FilterError(f"{path.attr_name!r} is not a complex attribute: '[...]' applies")
        return attribute


class ElementScope:
    """Attribute paths inside ``[...]``: sub-attributes of one value of the parent."""

    def __init__(self, element: Element, parent: str) -> None:
        self.element = element
        self.parent = parent

    def condition(self, path: Any, operator: str, comp_value: Any) -> Condition:
        if not isinstance(path.attr_name, str):
            raise FilterError(f"nested '[...]' filters inside {self.parent}[...] are not supported")
        if path.uri is not None or path.sub_attr is not None:
            raise FilterError(f"inside {self.parent}[...] only plain sub-attribute names apply")
        label = f"{self.parent}.{path.attr_name}"
        field = sub_field(self.element, path.attr_name, self.parent)
        return compare(field, operator, comp_value, label)

    def value_path(self, parent: Any, inner: Any, depth: int) -> Condition:
        raise FilterError(f"nested '[...]' filters inside {self.parent}[...] are not supported")


Scope = ResourceScope | ElementScope


def any_field_present(element: Element) -> Condition:
    return any_of(*(compare(field, "pr", None, "") for field in element.fields.values()))


def path_label(path: Any) -> str:
    name = path.attr_name if isinstance(path.attr_name, str) else "?"
    if path.sub_attr is not None:
        name = f"{name}.{path.sub_attr.value}"
    return f"{path.uri}:{name}" if path.uri else name


class FilterCompiler:
    def __init__(self, schema: ResourceSchema) -> None:
        self.schema = schema

    def compile(self, tree: Any) -> Condition:
        return self.walk(tree, ResourceScope(self), 0)

    def walk(self, node: Any, scope: Scope, depth: int) -> Condition:
        if depth > MAX_DEPTH:
            raise FilterError(f"filter is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, ast.Filter):
            if node.namespace is not None:
                condition = scope.value_path(node.namespace, node.expr, depth)
            else:
                condition = self.walk(node.expr, scope, depth + 1)
            return negate(condition) if node.negated else condition
        if isinstance(node, ast.LogExpr):
            operator = node.op.lower()
            operands = [self.walk(o, scope, depth + 1) for o in same_operator_chain(node, operator)]
            return all_of(*operands) if operator == "and" else any_of(*operands)
        if isinstance(node, ast.AttrExpr):
            operator = node.value.lower()
            if operator != "pr" and operator not in STRING_OPERATORS:  # pragma: no cover
                raise FilterError(f"unknown operator {node.value!r}")
            return scope.condition(node.attr_path, operator, node.comp_value)
        raise FilterError("invalid filter")  # pragma: no cover - the grammar has no other node


def same_operator_chain(node: Any, operator: str) -> list[Any]:
    """The operands of ``a and b and c ...``, flattened without recursion."""
    operands: list[Any] = []
    pending = [node.expr2, node.expr1]
    while pending:
        item = pending.pop()
        inner = item
        while isinstance(inner, ast.Filter) and not inner.negated and inner.namespace is None:
            inner = inner.expr
        if isinstance(inner, ast.LogExpr) and inner.op.lower() == operator:
            pending.extend((inner.expr2, inner.expr1))
        else:
            operands.append(inner)
    return operands
