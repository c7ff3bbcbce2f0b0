"""Parsing a PATCH ``path`` (RFC 7644 §3.5.2) against a resource type.

Forms: ``attr``, ``attr.sub``, ``urn:…:attr[.sub]``, a bare extension URN,
``attr[filter]`` and ``attr[filter].sub`` (parsed by the filter grammar; the filter is a
``ValueFilter``). A bare name that is not a core attribute is looked up in the extensions, so
Entra's plain ``manager`` means the enterprise manager.
"""

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from scim2_filter_parser import ast

from scim.errors import ScimError, ScimType
from scim.filter_syntax import parse_filter
from scim.patch_value_filter import ValueFilter, compile_value_filter
from scim.resource_input import resolve_attribute, split_urn_path
from scim.schema_model import Attr, ResourceTypeDef, SchemaDef

#: Common attributes (RFC 7643 §3.1) addressable by a path.
EXTERNAL_ID = Attr("externalId", case_exact=True)
READ_ONLY_COMMON = frozenset({"id", "meta", "schemas"})


@dataclass(frozen=True, slots=True)
class PatchPath:
    text: str
    schema: SchemaDef
    attr: Attr | None  # None: the whole extension named by a bare URN
    value_filter: ValueFilter | None = None
    sub: Attr | None = None


def _invalid(text: str, why: str) -> ScimError:
    return ScimError(400, f"invalid path {text!r}: {why}", ScimType.INVALID_PATH)


@lru_cache(maxsize=512)
def _split_value_path(text: str) -> tuple[str, Any, str]:
    """``emails[type eq "work"].value`` → ("emails", the parsed filter inside [], "value").

    A bracketed path is filter syntax: ``attr[filter]`` is a filter by itself, and
    ``attr[filter].sub pr`` is one, so the one filter grammar parses the whole path.
    """
    start = text.find("[")
    if start < 0:
        return text, None, ""
    whole = text if text.endswith("]") else f"{text} pr"
    try:
        tree = _unwrap(parse_filter(whole))
    except ScimError as error:
        raise _invalid(text, error.detail) from None
    if isinstance(tree, ast.AttrExpr) and not text.endswith("]"):
        tree = tree.attr_path.attr_name  # attr[filter].sub pr: the path is the left side
    if not (isinstance(tree, ast.Filter) and isinstance(tree.namespace, ast.AttrPath)):
        raise _invalid(text, "expected attribute[filter] or attribute[filter].subAttribute")
    namespace = tree.namespace
    if not isinstance(namespace.attr_name, str):
        raise _invalid(text, "nested '[...]' filters are not supported")
    sub = namespace.sub_attr.value if namespace.sub_attr is not None else ""
    if text.endswith("]") and sub:  # pragma: no cover - the grammar never builds this
        raise _invalid(text, "a sub-attribute cannot precede '['")
    head = f"{namespace.uri}:{namespace.attr_name}" if namespace.uri else namespace.attr_name
    if head.lower() != text[:start].strip().lower():
        raise _invalid(text, "expected attribute[filter] or attribute[filter].subAttribute")
    return head, tree.expr, sub


def _unwrap(node: Any) -> Any:
    while isinstance(node, ast.Filter) and not node.negated and node.namespace is None:
        node = node.expr
    return node


def parse_path(resource_type: ResourceTypeDef, text: str) -> PatchPath:
    text = text.strip()
    head, filter_tree, after = _split_value_path(text)
    if head.lower().startswith("urn:"):
        found = split_urn_path(resource_type, head)
        if found is None:
            raise _invalid(text, "unknown schema")
        schema, rest = found
        if not rest:
            if filter_tree is not None or after:
                raise _invalid(text, "a schema URN takes no filter")
            if schema is resource_type.core:
                raise _invalid(text, "name an attribute of the core schema")
            return PatchPath(text, schema, None)
        name, _, sub_name = rest.partition(".")
        attr = schema.attr(name)
        if attr is None:
            raise _invalid(text, f"{schema.id} has no attribute {name!r}")
    else:
        name, _, sub_name = head.partition(".")
        if name.lower() in READ_ONLY_COMMON:
            raise ScimError(400, f"{name} is read-only", ScimType.MUTABILITY)
        if name.lower() == "externalid" and not sub_name and filter_tree is None:
            return PatchPath(text, resource_type.core, EXTERNAL_ID)
        resolved = resolve_attribute(resource_type, name)
        if resolved is None:
            raise _invalid(text, f"no attribute {name!r}")
        schema, attr = resolved
    if sub_name and after:
        raise _invalid(text, "two sub-attributes")
    sub_name = sub_name or after
    sub = None
    if sub_name:
        sub = attr.sub(sub_name)
        if sub is None:
            raise _invalid(text, f"{attr.name} has no sub-attribute {sub_name!r}")
    value_filter = None
    if filter_tree is not None:
        if attr.type != "complex":
            raise _invalid(text, f"{attr.name} is not complex; it takes no filter")
        value_filter = compile_value_filter(filter_tree, attr, text)
    return PatchPath(text, schema, attr, value_filter, sub)
