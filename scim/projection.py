"""``attributes`` / ``excludedAttributes`` (RFC 7644 §3.4.2.5, §3.9) over rendered resources.

Requested names are resolved once per request against the resource type (case-insensitive,
URN-qualified or bare, with an optional sub-attribute) into (container, attribute, sub)
triples, then applied to each rendered resource. ``id`` and ``schemas`` are always returned.
"""

from dataclasses import dataclass
from typing import Any

from scim.errors import ScimError, ScimType
from scim.resource_input import resolve_attribute, split_urn_path
from scim.schema_model import ResourceTypeDef

ALWAYS_RETURNED = frozenset({"id", "schemas"})
_COMMON = {"id": "id", "externalid": "externalId", "meta": "meta", "schemas": "schemas"}


@dataclass(frozen=True, slots=True)
class AttrRef:
    container: str | None  # None: top level; else an extension URN
    name: str | None  # None: the whole extension
    sub: str | None = None


def _resolve(resource_type: ResourceTypeDef, text: str) -> AttrRef | None:
    text = text.strip()
    if text.lower().startswith("urn:"):
        found = split_urn_path(resource_type, text)
        if found is None:
            return None
        schema, rest = found
        container = None if schema is resource_type.core else schema.id
        if not rest:
            return AttrRef(container, None)
        name, _, sub = rest.partition(".")
        attr = schema.attr(name)
        if attr is None:
            return None
        sub_attr = attr.sub(sub) if sub else None
        return _with_sub(container, attr.name, sub_attr.name if sub_attr else (sub or None))
    name, _, sub = text.partition(".")
    if name.lower() in _COMMON:
        return AttrRef(None, _COMMON[name.lower()], sub or None)
    resolved = resolve_attribute(resource_type, name)
    if resolved is None:
        return None
    schema, attr = resolved
    container = None if schema is resource_type.core else schema.id
    sub_attr = attr.sub(sub) if sub else None
    return _with_sub(container, attr.name, sub_attr.name if sub_attr else (sub or None))


def _with_sub(container: str | None, name: str, sub: str | None) -> AttrRef:
    return AttrRef(container, name, sub or None)


def parse_attribute_list(resource_type: ResourceTypeDef, value: Any) -> list[AttrRef]:
    """Names from a query string (comma-separated) or a search body (list); unknown names
    are ignored, as RFC 7644 lets a service provider do."""
    if value is None:
        return []
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        items = value
    else:
        raise ScimError(400, "attributes must be a list of names", ScimType.INVALID_VALUE)
    refs = []
    for item in items:
        if item.strip():
            ref = _resolve(resource_type, item)
            if ref is not None:
                refs.append(ref)
    return refs


@dataclass(frozen=True, slots=True)
class Projection:
    include: tuple[AttrRef, ...] = ()
    exclude: tuple[AttrRef, ...] = ()

    @property
    def is_identity(self) -> bool:
        return not self.include and not self.exclude

    def apply(self, resource: dict[str, Any]) -> dict[str, Any]:
        if self.include:
            return _listed_schemas(_include(resource, self.include))
        if self.exclude:
            return _listed_schemas(_exclude(resource, self.exclude))
        return resource


def _listed_schemas(resource: dict[str, Any]) -> dict[str, Any]:
    """Keep in ``schemas`` the core schema and the extensions still present."""
    schemas = resource.get("schemas")
    if isinstance(schemas, list) and schemas:
        resource["schemas"] = [schemas[0]] + [urn for urn in schemas[1:] if urn in resource]
    return resource


def make_projection(
    resource_type: ResourceTypeDef, attributes: Any, excluded_attributes: Any
) -> Projection:
    include = parse_attribute_list(resource_type, attributes)
    exclude = parse_attribute_list(resource_type, excluded_attributes)
    if attributes and excluded_attributes:
        raise ScimError(
            400,
            "attributes and excludedAttributes must not both be given",
            ScimType.INVALID_SYNTAX,
        )
    return Projection(tuple(include), tuple(exclude))


def _include(resource: dict[str, Any], refs: tuple[AttrRef, ...]) -> dict[str, Any]:
    result: dict[str, Any] = {key: resource[key] for key in ALWAYS_RETURNED if key in resource}
    for ref in refs:
        source = resource if ref.container is None else resource.get(ref.container)
        if not isinstance(source, dict):
            continue
        target = result if ref.container is None else result.setdefault(ref.container, {})
        if ref.name is None:
            target.update(source)
        elif ref.name in source:
            value = source[ref.name]
            if ref.sub is None:
                target[ref.name] = value
            elif isinstance(value, dict) and ref.sub in value:
                target.setdefault(ref.name, {})[ref.sub] = value[ref.sub]
            elif isinstance(value, list):
                picked = [{ref.sub: item[ref.sub]} for item in value if ref.sub in item]
                if picked:
                    target[ref.name] = picked
    return {key: result[key] for key in resource if key in result}


def _exclude(resource: dict[str, Any], refs: tuple[AttrRef, ...]) -> dict[str, Any]:
    result = dict(resource)
    for ref in refs:
        if ref.container is None and ref.name in ALWAYS_RETURNED:
            continue
        if ref.container is not None:
            extension = result.get(ref.container)
            if not isinstance(extension, dict):
                continue
            if ref.name is None:
                del result[ref.container]
                continue
            extension = dict(extension)
            _drop(extension, ref)
            if extension:
                result[ref.container] = extension
            else:
                del result[ref.container]
        else:
            _drop(result, ref)
    return result


def _drop(container: dict[str, Any], ref: AttrRef) -> None:
    assert ref.name is not None
    if ref.name not in container:
        return
    if ref.sub is None:
        del container[ref.name]
        return
    value = container[ref.name]
    if isinstance(value, dict):
        container[ref.name] = {k: v for k, v in value.items() if k != ref.sub}
    elif isinstance(value, list):
        container[ref.name] = [
            {k: v for k, v in item.items() if k != ref.sub} if isinstance(item, dict) else item
            for item in value
        ]
