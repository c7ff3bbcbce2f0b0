"""SCIM filter text → scim2-filter-parser's AST, with the library's grammar bugs fixed.

scim2-filter-parser 0.7 has three defects that matter for Entra and RFC 7644 §3.4.2.2; this
module subclasses its lexer and parser to fix them instead of re-implementing the grammar:

* string values are not JSON strings: ``"a\\"b"`` is cut at the escaped quote and escapes
  (``\\u00e9``, ``\\\\``) are not decoded. Here a value is a JSON string, decoded by ``json``;
* numbers are a single digit (``12`` is a syntax error). Here they are JSON numbers;
* ``and`` and ``or`` have the same precedence, so ``a or b and c`` parses as
  ``(a or b) and c``. Here ``and`` binds tighter than ``or``, as the RFC requires.

A decoded string value is a :class:`QuotedString`, so the compiler can tell ``"true"`` (a
string) from ``true`` (a boolean literal), which the library's AST keeps as the same text.
"""

import json
from typing import Any

from scim2_filter_parser import ast
from scim2_filter_parser.lexer import SCIMLexer
from scim2_filter_parser.parser import SCIMParser, SCIMParserError

from scim.errors import ScimError, ScimType

#: Longer filters are refused before parsing; Entra's longest is well under 200 characters.
MAX_FILTER_LENGTH = 4096


class QuotedString(str):
    """A comparison value that was written as a JSON string."""

    __slots__ = ()


class FilterSyntaxError(ValueError):
    """The text is not a filter; the message says where and why."""


class _Lexer(SCIMLexer):  # type: ignore[misc]
    tokens = SCIMLexer.tokens

    NUMBER = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"

    def COMP_VALUE(self, token: Any) -> Any:  # noqa: N802 - sly names rules after tokens
        try:
            token.value = QuotedString(json.loads(token.value))
        except ValueError as error:
            raise FilterSyntaxError(
                f"invalid string {token.value} at position {token.index}: {error}"
            ) from error
        return token

    COMP_VALUE.pattern = r'"(?:[^"\\]|\\.)*"'  # type: ignore[attr-defined]

    def error(self, token: Any) -> None:
        character = token.value[0]
        what = "unterminated string" if character == '"' else f"unexpected character {character!r}"
        raise FilterSyntaxError(f"{what} at position {token.index}")


class _Parser(SCIMParser):  # type: ignore[misc]
    # sly builds a parser from the rules defined in the class body itself, so the library's
    # rules are listed again; only the precedence table differs.
    precedence = (("left", "OR"), ("left", "AND"), ("right", "NOT"))

    filter = SCIMParser.filter
    value_path = SCIMParser.value_path
    attr_exp = SCIMParser.attr_exp
    log_exp = SCIMParser.log_exp
    comp_value = SCIMParser.comp_value
    attr_path = SCIMParser.attr_path
    sub_attr = SCIMParser.sub_attr

    def error(self, token: Any) -> None:
        if token is None:
            raise FilterSyntaxError("unexpected end of filter")
        raise FilterSyntaxError(f"unexpected {token.value!r} at position {token.index}")


def invalid_filter(detail: str) -> ScimError:
    return ScimError(400, detail, ScimType.INVALID_FILTER)


def parse_filter(text: str) -> Any:
    """Parse ``text`` into an ``ast.Filter``; any failure is a 400 ``invalidFilter``."""
    if len(text) > MAX_FILTER_LENGTH:
        raise invalid_filter(f"filter is longer than {MAX_FILTER_LENGTH} characters")
    if not text.strip():
        raise invalid_filter("filter is empty")
    try:
        tree = _Parser().parse(_Lexer().tokenize(text))
    except FilterSyntaxError as error:
        raise invalid_filter(f"invalid filter: {error}") from error
    except SCIMParserError as error:  # raised by the library's own rules (e.g. a[b].c.d)
        raise invalid_filter("invalid filter: malformed attribute path") from error
    if not isinstance(tree, ast.Filter):  # pragma: no cover - the grammar's start symbol
        raise invalid_filter("invalid filter")
    return tree


def tokenize_path(text: str) -> list[tuple[str, str]]:
    """Tokens of an attribute path such as ``sortBy``'s, as ``(type, value)`` pairs."""
    if len(text) > MAX_FILTER_LENGTH:
        raise FilterSyntaxError("attribute path is too long")
    return [(token.type, token.value) for token in _Lexer().tokenize(text)]
