"""The value filters inside PATCH paths (``emails[type eq "work"]``), evaluated on the document.

The text is parsed by the one filter grammar the service has (scim2-filter-parser, through
``scim.filter_syntax``), and the resulting tree is turned into a predicate over one element
of a multi-valued attribute (a Python dict): list filters become SQL (``scim.filters``), these
select elements of the one resource being patched. Every comparison operator and ``and``,
``or``, ``not (…)``, parentheses and ``pr`` apply; names are sub-attributes of the filtered
attribute; strings compare case-insensitively unless the sub-attribute is caseExact.

Besides matching, a filter says two things the PATCH engine needs: the ``eq`` terms joined by
``and`` (what an element created by ``Add`` on an unmatched filter gets) and, for
``value eq "a" or value eq "b"``, the values it names (how a Group's members are removed
without reading the membership).
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scim2_filter_parser import ast

from scim.errors import ScimError, ScimType
from scim.filter_compiler import MAX_DEPTH, same_operator_chain
from scim.filter_syntax import QuotedString, parse_filter
from scim.schema_model import Attr

Predicate = Callable[[dict[str, Any]], bool]

_ORDERINGS = frozenset({"gt", "ge", "lt", "le"})
_STRING_TESTS = frozenset({"co", "sw", "ew"})


@dataclass(frozen=True, slots=True)
class ValueFilter:
    text: str
    predicate: Predicate
    equalities: dict[str, Any]  # ``a eq v`` terms joined by ``and``: what a new element gets
    named_values: tuple[str, ...] | None  # ``value eq "a" or value eq "b"`` → ("a", "b")

    def __call__(self, element: Any) -> bool:
        return isinstance(element, dict) and self.predicate(element)


def invalid_value_filter(text: str, why: str) -> ScimError:
    return ScimError(400, f"invalid value filter [{text}]: {why}", ScimType.INVALID_PATH)


def parse_value_filter(text: str, attr: Attr) -> ValueFilter:
    """Parse the text between ``[`` and ``]``; sub-attribute names resolve against ``attr``."""
    try:
        tree = parse_filter(text)
    except ScimError as error:
        raise invalid_value_filter(text, error.detail) from None
    return compile_value_filter(tree, attr, text)


def compile_value_filter(tree: Any, attr: Attr, text: str) -> ValueFilter:
    """A parsed filter (the part inside the brackets) → a ValueFilter over ``attr``'s elements."""
    compiler = _Compiler(attr, text)
    predicate = compiler.walk(tree, 0)
    top = _unwrap(tree)
    return ValueFilter(text, predicate, compiler.equalities(top), compiler.named_values(top))


def _unwrap(node: Any) -> Any:
    """The node under plain (non-negated) parentheses."""
    while isinstance(node, ast.Filter) and not node.negated and node.namespace is None:
        node = node.expr
    return node


class _Compiler:
    def __init__(self, attr: Attr, text: str) -> None:
        self.attr = attr
        self.text = text

    def bad(self, why: str) -> ScimError:
        return invalid_value_filter(self.text, why)

    def walk(self, node: Any, depth: int) -> Predicate:
        if depth > MAX_DEPTH:
            raise self.bad(f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, ast.Filter):
            if node.namespace is not None:
                raise self.bad("nested '[...]' filters are not supported")
            inner = self.walk(node.expr, depth + 1)
            if node.negated:
                return lambda element: not inner(element)
            return inner
        if isinstance(node, ast.LogExpr):
            operator = node.op.lower()
            terms = [self.walk(o, depth + 1) for o in same_operator_chain(node, operator)]
            if operator == "and":
                return lambda element: all(term(element) for term in terms)
            return lambda element: any(term(element) for term in terms)
        if isinstance(node, ast.AttrExpr):
            key, case_exact = self.key(node.attr_path)
            operator = node.value.lower()
            if operator == "pr":
                return lambda element: element.get(key) not in (None, "", [], {})
            value = self.literal(node.comp_value)
            return _compare(key, operator, value, case_exact)
        raise self.bad("not a filter")  # pragma: no cover - the grammar has no other node

    def key(self, path: Any) -> tuple[str, bool]:
        """The element key a name inside the brackets means, and whether it is caseExact."""
        if not isinstance(path.attr_name, str):
            raise self.bad("nested '[...]' filters are not supported")
        if path.uri is not None or path.sub_attr is not None:
            raise self.bad(f"only sub-attribute names of {self.attr.name} apply inside '[...]'")
        sub = self.attr.sub(path.attr_name)
        if sub is None:
            return path.attr_name, False
        return sub.name, sub.case_exact

    def literal(self, comp_value: Any) -> Any:
        text = comp_value.value
        if isinstance(text, QuotedString):
            return str(text)
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if lowered == "null":
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise self.bad(f"bad value {text!r}") from None

    def equalities(self, top: Any) -> dict[str, Any]:
        terms = same_operator_chain(top, "and") if _is_log(top, "and") else [top]
        found: dict[str, Any] = {}
        for term in terms:
            if isinstance(term, ast.AttrExpr) and term.value.lower() == "eq":
                found[self.key(term.attr_path)[0]] = self.literal(term.comp_value)
        return found

    def named_values(self, top: Any) -> tuple[str, ...] | None:
        terms = same_operator_chain(top, "or") if _is_log(top, "or") else [top]
        values = []
        for term in terms:
            if not (isinstance(term, ast.AttrExpr) and term.value.lower() == "eq"):
                return None
            value = self.literal(term.comp_value)
            if self.key(term.attr_path)[0] != "value" or not isinstance(value, str):
                return None
            values.append(value)
        return tuple(values)


def _is_log(node: Any, operator: str) -> bool:
    return isinstance(node, ast.LogExpr) and node.op.lower() == operator


def _fold(value: Any, case_exact: bool) -> Any:
    return value.lower() if isinstance(value, str) and not case_exact else value


def _compare(key: str, operator: str, expected: Any, case_exact: bool) -> Predicate:
    wanted = _fold(expected, case_exact)

    def actual_of(element: dict[str, Any]) -> Any:
        actual = element.get(key)
        if isinstance(wanted, bool) and isinstance(actual, str):  # Entra's "True"/"False"
            lowered = actual.lower()
            return lowered == "true" if lowered in ("true", "false") else actual
        return _fold(actual, case_exact)

    if operator == "eq":
        return lambda element: bool(actual_of(element) == wanted)
    if operator == "ne":
        return lambda element: bool(actual_of(element) != wanted)
    if operator in _STRING_TESTS:
        test: Callable[[str, str], bool] = {
            "co": lambda actual, text: text in actual,
            "sw": str.startswith,
            "ew": str.endswith,
        }[operator]

        def string_test(element: dict[str, Any]) -> bool:
            actual = actual_of(element)
            if actual is None or wanted is None:
                return False
            return test(str(actual), str(wanted))

        return string_test
    if operator in _ORDERINGS:

        def ordering(element: dict[str, Any]) -> bool:
            actual = actual_of(element)
            if actual is None or wanted is None:
                return False
            try:
                if operator == "gt":
                    return bool(actual > wanted)
                if operator == "ge":
                    return bool(actual >= wanted)
                if operator == "lt":
                    return bool(actual < wanted)
                return bool(actual <= wanted)
            except TypeError:
                return False

        return ordering
    raise invalid_value_filter(key, f"unknown operator {operator!r}")  # pragma: no cover
