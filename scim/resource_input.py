"""Normalising what a client sends: a resource body (POST, PUT) or a PATCH operation's value.

Users and Groups share it; a PATCH's values are normalised here once, attribute by attribute
(``scim.patch_changes``), before they are applied.

The output is the *canonical document*: attribute names spelled as in the schema, extension
attributes under their canonical URN, booleans as JSON booleans, ``null`` and empty values
dropped, read-only and write-only attributes (``id``, ``meta``, ``groups``, ``password``)
removed. String values are never altered: Entra compares what it reads back with what it
sent, byte for byte.

Leniencies Entra needs: ``"True"``/``"False"`` for booleans; a single object where a list
goes; a list of one object (or a bare id string) where a single complex attribute such as
``manager`` goes; ``{"value": ""}`` or ``""`` to clear a complex attribute; JSON text inside a
multi-valued attribute's ``value`` (Entra's roles); extension attributes whose URN is missing
from ``schemas``; and the misspelled enterprise URN.
"""

from datetime import datetime
from typing import Any

import orjson

from scim.errors import ScimError, ScimType
from scim.input_limits import MAX_VALUES
from scim.schema_model import Attr, ResourceTypeDef, SchemaDef

#: Attributes every resource has (RFC 7643 §3.1); only externalId is client-writable.
COMMON_READ_ONLY = frozenset({"id", "meta", "schemas"})


def invalid_value(detail: str) -> ScimError:
    return ScimError(400, detail, ScimType.INVALID_VALUE)


def coerce_boolean(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid_value(f"{where} must be a boolean, not {_shown(value)}")


def normalise_value(attr: Attr, value: Any, where: str) -> Any:
    """The canonical form of ``value`` for ``attr``; None means unassigned."""
    if value is None:
        return None
    if attr.multi_valued:
        return _normalise_multi(attr, value, where)
    return _normalise_single(attr, value, where)


def normalise_element(attr: Attr, value: Any, where: str) -> Any:
    """The canonical form of one element of a multi-valued attribute (or a single value)."""
    if attr.multi_valued and attr.type == "complex" and isinstance(value, dict):
        value = _unpack_json_value(value)
    return _normalise_single(attr, value, where)


def _normalise_multi(attr: Attr, value: Any, where: str) -> list[Any] | None:
    if isinstance(value, str) and attr.type == "complex":
        value = _maybe_json(value)
    items = value if isinstance(value, list) else [value]
    if len(items) > MAX_VALUES:
        raise invalid_value(f"{where} has {len(items)} values; at most {MAX_VALUES} are accepted")
    normalised = []
    for index, item in enumerate(items):
        if attr.type == "complex" and isinstance(item, dict):
            item = _unpack_json_value(item)
        element = _normalise_single(attr, item, f"{where}[{index}]")
        if element is not None:
            normalised.append(element)
    return normalised or None


def _normalise_single(attr: Attr, value: Any, where: str) -> Any:
    if value is None:
        return None
    kind = attr.type
    if kind == "complex":
        return _normalise_complex(attr, value, where)
    if kind == "boolean":
        return coerce_boolean(value, where)
    if kind in ("integer", "decimal"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise invalid_value(f"{where} must be a number, not {_shown(value)}")
        if kind == "integer" and not isinstance(value, int):
            raise invalid_value(f"{where} must be an integer, not {_shown(value)}")
        return value
    if not isinstance(value, str):
        raise invalid_value(f"{where} must be a string, not {_shown(value)}")
    if kind == "dateTime" and not _is_date_time(value):
        raise invalid_value(f"{where} must be an xsd:dateTime, not {_shown(value)}")
    return value


def _is_date_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _shown(value: Any) -> str:
    """A value in an error detail: its JSON type, and short values themselves."""
    kind = {dict: "an object", list: "a list", bool: "a boolean", str: "a string"}.get(
        type(value), "a number"
    )
    text = repr(value)
    return f"{kind} {text}" if len(text) <= 40 else kind


def _normalise_complex(attr: Attr, value: Any, where: str) -> dict[str, Any] | None:
    if not attr.multi_valued:
        if isinstance(value, list):  # Entra: "manager": [{"value": ...}]
            if len(value) != 1:
                raise invalid_value(f"{where} is single-valued; got {len(value)} values")
            value = value[0]
            if value is None:
                return None
        if isinstance(value, str) and attr.sub("value") is not None:  # "manager": "<id>"
            value = {"value": value}
    if not isinstance(value, dict):
        raise invalid_value(f"{where} must be an object, not {_shown(value)}")
    result: dict[str, Any] = {}
    for key, item in value.items():
        sub = attr.sub(key)
        if sub is None:
            if item is not None:
                result[key] = item  # kept verbatim: clients may carry extra sub-attributes
            continue
        if sub.mutability == "readOnly" and not attr.multi_valued:
            continue
        normalised = _normalise_single(sub, item, f"{where}.{sub.name}")
        if normalised is not None:
            result[sub.name] = normalised
    if not attr.multi_valued and result.get("value") == "" and attr.sub("value") is not None:
        return None  # {"value": ""}: Entra clearing a manager
    return result or None


def _maybe_json(text: str) -> Any:
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            return orjson.loads(stripped)
        except orjson.JSONDecodeError:
            return text
    return text


def _unpack_json_value(element: dict[str, Any]) -> dict[str, Any]:
    """Entra's roles: ``{"value": "{\\"id\\": ..., \\"value\\": \\"25\\"}"}`` → the object."""
    inner = element.get("value")
    if isinstance(inner, str):
        parsed = _maybe_json(inner)
        if isinstance(parsed, dict):
            rest = {key: item for key, item in element.items() if key != "value"}
            return {**rest, **parsed}
    return element


def split_urn_path(resource_type: ResourceTypeDef, text: str) -> tuple[SchemaDef, str] | None:
    """``urn:…:User:department`` → (enterprise schema, "department"); also a bare URN → ""."""
    schema = resource_type.schema(text)
    if schema is not None:
        return schema, ""
    prefix, _, rest = text.rpartition(":")
    while prefix:
        schema = resource_type.schema(prefix)
        if schema is not None:
            return schema, rest
        prefix, _, head = prefix.rpartition(":")
        rest = f"{head}:{rest}"
    return None


def resolve_attribute(resource_type: ResourceTypeDef, name: str) -> tuple[SchemaDef, Attr] | None:
    """Find a top-level attribute by bare name: core first, then each extension."""
    for schema in (resource_type.core, *resource_type.extensions):
        attr = schema.attr(name)
        if attr is not None:
            return schema, attr
    return None


def check_schemas(resource_type: ResourceTypeDef, schemas: Any) -> None:
    if schemas is None:
        return
    if not isinstance(schemas, list) or not all(isinstance(urn, str) for urn in schemas):
        raise ScimError(400, "schemas must be a list of URNs", ScimType.INVALID_SYNTAX)
    for urn in schemas:
        if resource_type.schema(urn) is None:
            raise ScimError(400, f"unknown schema {urn!r}", ScimType.INVALID_SYNTAX)


def normalise_resource(resource_type: ResourceTypeDef, body: dict[str, Any]) -> dict[str, Any]:
    """The canonical document of a client's resource body (see the module docstring)."""
    check_schemas(resource_type, body.get("schemas"))
    document: dict[str, Any] = {}
    for key, value in body.items():
        if key.lower() in COMMON_READ_ONLY:
            continue
        if key.lower() == "externalid":
            if value is not None and not isinstance(value, str):
                raise invalid_value(f"externalId must be a string, not {_shown(value)}")
            if value is not None:
                document["externalId"] = value
            continue
        if ":" in key:
            _put_urn_key(resource_type, document, key, value)
            continue
        found = resolve_attribute(resource_type, key)
        if found is None:
            raise ScimError(400, f"unknown attribute {key!r}", ScimType.INVALID_SYNTAX)
        put_attribute(resource_type, document, found[0], found[1], value)
    check_required(resource_type, document)
    return document


def check_required(resource_type: ResourceTypeDef, document: dict[str, Any]) -> None:
    """Refuse a document without a value for a required core attribute (userName, ...)."""
    for attr in resource_type.core.attributes:
        if attr.required and document.get(attr.name) in (None, ""):
            raise invalid_value(f"{attr.name} is required")


def _put_urn_key(
    resource_type: ResourceTypeDef, document: dict[str, Any], key: str, value: Any
) -> None:
    found = split_urn_path(resource_type, key)
    if found is None:
        raise ScimError(400, f"unknown schema in {key!r}", ScimType.INVALID_SYNTAX)
    schema, name = found
    if name:  # "urn:…:User:department": a fully qualified attribute
        attr = schema.attr(name)
        if attr is None:
            raise ScimError(400, f"unknown attribute {key!r}", ScimType.INVALID_SYNTAX)
        put_attribute(resource_type, document, schema, attr, value)
        return
    if value is None:
        return
    if not isinstance(value, dict):
        raise invalid_value(f"{key} must be an object")
    for inner_key, inner_value in value.items():
        if inner_key.lower() == "schemas":
            continue
        attr = schema.attr(inner_key)
        if attr is None:
            raise ScimError(
                400, f"unknown attribute {inner_key!r} of {schema.id}", ScimType.INVALID_SYNTAX
            )
        put_attribute(resource_type, document, schema, attr, inner_value)


def put_attribute(
    resource_type: ResourceTypeDef,
    document: dict[str, Any],
    schema: SchemaDef,
    attr: Attr,
    value: Any,
) -> None:
    """Set (or, for an unassigned value, remove) ``attr`` of ``schema`` in ``document``."""
    if attr.mutability == "readOnly":
        return
    where = attr.name if schema is resource_type.core else f"{schema.id}:{attr.name}"
    normalised = normalise_value(attr, value, where)
    if attr.returned == "never":  # password: checked like any value, then dropped
        return
    container = document if schema is resource_type.core else document.setdefault(schema.id, {})
    if normalised is None:
        container.pop(attr.name, None)
    else:
        container[attr.name] = normalised
    if schema is not resource_type.core and not container:
        document.pop(schema.id, None)
