"""The value filters inside PATCH paths (``emails[type eq "work"]``), evaluated in memory.

These select elements of one resource's multi-valued attribute, so they run over Python
dicts, not SQL (``scim.filters`` compiles list filters to SQL). Grammar (RFC 7644 §3.4.2.2,
restricted to sub-attributes): ``attr op value``, ``attr pr``, ``and``, ``or``, ``not (…)``,
parentheses. Strings compare case-insensitively unless the sub-attribute is caseExact.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scim.errors import ScimError, ScimType
from scim.schema_model import Attr

Predicate = Callable[[dict[str, Any]], bool]

_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<paren>[()])|(?P<word>[^\s()"]+))',
)
_COMPARISONS = {"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"}


@dataclass(frozen=True, slots=True)
class ValueFilter:
    text: str
    predicate: Predicate
    equalities: dict[str, Any]  # ``a eq v`` terms joined by ``and``: what a new element gets

    def __call__(self, element: Any) -> bool:
        return isinstance(element, dict) and self.predicate(element)


def _bad(text: str, why: str) -> ScimError:
    return ScimError(400, f"invalid value filter [{text}]: {why}", ScimType.INVALID_PATH)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:
            raise _bad(text, f"unexpected character at {position}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, attr: Attr) -> None:
        self.text = text
        self.attr = attr
        self.tokens = _tokens(text)
        self.position = 0
        self.equalities: dict[str, Any] = {}

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise _bad(self.text, "unexpected end")
        self.position += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "word" and token[1].lower() == word:
            self.position += 1
            return True
        return False

    def parse(self) -> ValueFilter:
        predicate = self.disjunction(top=True)
        if self.peek() is not None:
            raise _bad(self.text, f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return ValueFilter(self.text, predicate, self.equalities)

    def disjunction(self, top: bool = False) -> Predicate:
        terms = [self.conjunction(top)]
        while self.keyword("or"):
            terms.append(self.conjunction(False))
        if len(terms) > 1:
            self.equalities.clear()
            return lambda element: any(term(element) for term in terms)
        return terms[0]

    def conjunction(self, top: bool) -> Predicate:
        terms = [self.unary(top)]
        while self.keyword("and"):
            terms.append(self.unary(top))
        if len(terms) == 1:
            return terms[0]
        return lambda element: all(term(element) for term in terms)

    def unary(self, top: bool) -> Predicate:
        if self.keyword("not"):
            inner = self.unary(False)
            return lambda element: not inner(element)
        token = self.peek()
        if token == ("paren", "("):
            self.take()
            inner = self.disjunction()
            if self.take() != ("paren", ")"):
                raise _bad(self.text, "missing ')'")
            return inner
        return self.comparison(top)

    def comparison(self, top: bool) -> Predicate:
        kind, name = self.take()
        if kind != "word":
            raise _bad(self.text, f"expected an attribute name, got {name!r}")
        sub = self.attr.sub(name)
        key = sub.name if sub is not None else name
        case_exact = sub.case_exact if sub is not None else False
        kind, operator = self.take()
        operator = operator.lower()
        if operator == "pr":
            return lambda element: element.get(key) not in (None, "", [], {})
        if operator not in _COMPARISONS:
            raise _bad(self.text, f"unknown operator {operator!r}")
        kind, literal = self.take()
        value = _literal(self.text, kind, literal)
        if operator == "eq" and top:
            self.equalities[key] = value
        return _compare(key, operator, value, case_exact)


def _literal(text: str, kind: str, literal: str) -> Any:
    if kind == "string":
        return json.loads(literal)
    lowered = literal.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    try:
        return json.loads(literal)
    except ValueError:
        raise _bad(text, f"bad value {literal!r}") from None


def _fold(value: Any, case_exact: bool) -> Any:
    return value.lower() if isinstance(value, str) and not case_exact else value


def _compare(key: str, operator: str, expected: Any, case_exact: bool) -> Predicate:
    wanted = _fold(expected, case_exact)

    def test(element: dict[str, Any]) -> bool:
        actual = element.get(key)
        if isinstance(wanted, bool) and isinstance(actual, str):
            actual = actual.lower() == "true" if actual.lower() in ("true", "false") else actual
        actual = _fold(actual, case_exact)
        if operator == "eq":
            return bool(actual == wanted)
        if operator == "ne":
            return bool(actual != wanted)
        if actual is None or wanted is None:
            return False
        try:
            if operator == "co":
                return str(wanted) in str(actual)
            if operator == "sw":
                return str(actual).startswith(str(wanted))
            if operator == "ew":
                return str(actual).endswith(str(wanted))
            if operator == "gt":
                return bool(actual > wanted)
            if operator == "ge":
                return bool(actual >= wanted)
            if operator == "lt":
                return bool(actual < wanted)
            return bool(actual <= wanted)
        except TypeError:
            return False

    return test


def parse_value_filter(text: str, attr: Attr) -> ValueFilter:
    """Parse the text between ``[`` and ``]``; sub-attribute names resolve against ``attr``."""
    if not text.strip():
        raise _bad(text, "empty filter")
    return _Parser(text, attr).parse()
