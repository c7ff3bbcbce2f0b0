"""Parsing a PATCH ``path`` (RFC 7644 §3.5.2) against a resource type.

Forms: ``attr``, ``attr.sub``, ``urn:…:attr[.sub]``, a bare extension URN,
``attr[filter]`` and ``attr[filter].sub`` (the filter is a ``ValueFilter``). A bare name
that is not a core attribute is looked up in the extensions, so Entra's plain ``manager``
means the enterprise manager.
"""

from dataclasses import dataclass

from scim.errors import ScimError, ScimType
from scim.patch_value_filter import ValueFilter, parse_value_filter
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


def _split_filter(text: str) -> tuple[str, str | None, str]:
    """``emails[type eq "work"].value`` → ("emails", 'type eq "work"', "value")."""
    start = text.find("[")
    if start < 0:
        return text, None, ""
    in_string = False
    escaped = False
    for index in range(start + 1, len(text)):
        char = text[index]
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            in_string = not in_string
        elif char == "]" and not in_string:
            rest = text[index + 1 :]
            if rest and not rest.startswith("."):
                raise _invalid(text, "only '.subAttribute' may follow ']'")
            return text[:start], text[start + 1 : index], rest[1:]
    raise _invalid(text, "missing ']'")


def parse_path(resource_type: ResourceTypeDef, text: str) -> PatchPath:
    head, filter_text, after = _split_filter(text.strip())
    if head.lower().startswith("urn:"):
        found = split_urn_path(resource_type, head)
        if found is None:
            raise _invalid(text, "unknown schema")
        schema, rest = found
        if not rest:
            if filter_text is not None or after:
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
        if name.lower() == "externalid" and not sub_name and filter_text is None:
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
    if filter_text is not None:
        if attr.type != "complex":
            raise _invalid(text, f"{attr.name} is not complex; it takes no filter")
        value_filter = parse_value_filter(filter_text, attr)
    return PatchPath(text, schema, attr, value_filter, sub)
