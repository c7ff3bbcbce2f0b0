"""scim2-filter-parser's AST → a SQLAlchemy boolean expression with bound parameters.

Semantics, per RFC 7644 §3.4.2.2:

* a condition on a multi-valued attribute matches when any of its values matches; values kept
  in columns of the row are OR-ed, values kept in another table become a correlated EXISTS;
* ``and`` binds tighter than ``or``; ``not (...)`` is two-valued logic, so
  ``not (title eq "x")`` matches users without a title (SQL's NULL is folded to false first);
* inside ``attr[...]`` names are sub-attributes of one value of ``attr``; nesting is refused.

The comparisons at the leaves are in ``scim.filter_comparisons``.
"""

from collections.abc import Callable
from typing import Any

from scim2_filter_parser import ast
from sqlalchemy import exists
from sqlalchemy.sql.elements import False_

from scim.filter_comparisons import (
    Condition,
    FilterError,
    all_of,
    any_of,
    compare,
    negate,
)
from scim.filter_schema import (
    Attribute,
    ColumnField,
    Complex,
    Element,
    Field,
    Related,
    ResourceSchema,
)

#: Deeper nesting (of parentheses, ``not`` and brackets) is refused rather than recursed into.
MAX_DEPTH = 50

OPERATORS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"})


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
            if operator not in OPERATORS:  # pragma: no cover
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
