"""Applying PATCH operations (RFC 7644 §3.5.2) to a canonical resource document.

Works on a copy: either every operation applies or the first failing one is reported
(``operation N (op path): why``) and nothing changes. Entra's shapes are all accepted:
``Add``/``Replace`` on a filtered path with no matching element creates it from the
filter's ``eq`` terms; ``add``/``replace`` on a single complex attribute merges its
sub-attributes; ``remove`` with a ``value`` list removes only the listed elements (and, on a
single complex attribute such as ``manager``, clears it when its value is listed); path-less
operations take dotted and URN-qualified keys. The result is normalised again
(``scim.resource_input.normalise_resource``), so it is valid exactly when a POST of it is.
"""

from typing import Any

from scim.errors import ScimError, ScimType
from scim.patch_path import EXTERNAL_ID, PatchPath, parse_path
from scim.patch_request import Op, PatchOperation
from scim.resource_input import (
    normalise_element,
    normalise_resource,
    normalise_value,
    split_urn_path,
)
from scim.schema_model import Attr, ResourceTypeDef


def apply_patch(
    resource_type: ResourceTypeDef,
    resource_id: str,
    document: dict[str, Any],
    operations: list[PatchOperation],
) -> dict[str, Any]:
    """The document after ``operations``; raises ScimError naming the failing operation."""
    result = _copy(document)
    for operation in operations:
        try:
            _apply(resource_type, resource_id, result, operation)
        except ScimError as error:
            raise ScimError(
                error.status, f"{operation.describe()}: {error.detail}", error.scim_type
            ) from None
    try:
        return normalise_resource(resource_type, result)
    except ScimError as error:
        raise ScimError(
            error.status, f"the patched resource is invalid: {error.detail}", error.scim_type
        ) from None


def _copy(value: Any) -> Any:
    """A deep copy of a JSON value (dicts, lists and scalars): ~5x cheaper than
    ``copy.deepcopy``, which was ~5% of an Entra manager PATCH."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _apply(
    resource_type: ResourceTypeDef,
    resource_id: str,
    document: dict[str, Any],
    operation: PatchOperation,
) -> None:
    if operation.path is not None:
        _apply_at(
            resource_type,
            document,
            parse_path(resource_type, operation.path),
            operation.op,
            operation.value,
        )
        return
    if not isinstance(operation.value, dict):
        raise ScimError(400, "a path-less operation needs an object value", ScimType.INVALID_VALUE)
    for key, value in operation.value.items():
        lowered = key.lower()
        if lowered in ("schemas", "meta"):
            continue
        if lowered == "id":
            if value != resource_id:
                raise ScimError(400, "id cannot be changed", ScimType.MUTABILITY)
            continue
        found = split_urn_path(resource_type, key) if lowered.startswith("urn:") else None
        if found is not None and not found[1] and found[0] is resource_type.core:
            if not isinstance(value, dict):
                raise ScimError(400, f"{key} needs an object value", ScimType.INVALID_VALUE)
            for inner_key, inner_value in value.items():
                _apply_at(
                    resource_type,
                    document,
                    parse_path(resource_type, inner_key),
                    operation.op,
                    inner_value,
                )
            continue
        _apply_at(resource_type, document, parse_path(resource_type, key), operation.op, value)


def _apply_at(
    resource_type: ResourceTypeDef,
    document: dict[str, Any],
    path: PatchPath,
    op: Op,
    value: Any,
) -> None:
    core = path.schema is resource_type.core
    container = document if core else document.setdefault(path.schema.id, {})
    try:
        if path.attr is None:
            _whole_extension(path, container, op, value)
        else:
            _attribute(path, path.attr, container, op, value)
    finally:
        if not core and not document.get(path.schema.id):
            document.pop(path.schema.id, None)


def _whole_extension(path: PatchPath, container: dict[str, Any], op: Op, value: Any) -> None:
    if op == "remove":
        container.clear()
        return
    if not isinstance(value, dict):
        raise ScimError(400, f"{path.schema.id} needs an object value", ScimType.INVALID_VALUE)
    for key, item in value.items():
        if key.lower() == "schemas":
            continue
        attr = path.schema.attr(key)
        if attr is None:
            raise ScimError(
                400, f"{path.schema.id} has no attribute {key!r}", ScimType.INVALID_PATH
            )
        _attribute(PatchPath(path.text, path.schema, attr), attr, container, op, item)


def _attribute(path: PatchPath, attr: Attr, container: dict[str, Any], op: Op, value: Any) -> None:
    if attr.mutability == "readOnly":
        raise ScimError(400, f"{attr.name} is read-only", ScimType.MUTABILITY)
    if attr.returned == "never":
        return  # password: accepted, never stored
    if attr is EXTERNAL_ID:
        _simple(container, attr, op, value)
        return
    if op == "remove" and attr.required and path.sub is None and path.value_filter is None:
        raise ScimError(400, f"{attr.name} is required and cannot be removed", ScimType.MUTABILITY)
    if path.value_filter is not None:
        _filtered(path, attr, container, op, value)
    elif path.sub is not None:
        _sub_attribute(path.sub, attr, container, op, value)
    elif attr.multi_valued:
        _multi(attr, container, op, value)
    elif attr.type == "complex":
        _complex(attr, container, op, value)
    else:
        _simple(container, attr, op, value)


def _simple(container: dict[str, Any], attr: Attr, op: Op, value: Any) -> None:
    if op == "remove":
        container.pop(attr.name, None)
        return
    normalised = normalise_value(attr, value, attr.name)
    if normalised is None:
        container.pop(attr.name, None)
    else:
        container[attr.name] = normalised


def _listed_values(value: Any) -> set[str] | None:
    """The ``value``s of a remove's value list, or None when it names none."""
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    listed = {
        item["value"]
        for item in items
        if isinstance(item, dict) and isinstance(item.get("value"), str)
    }
    listed |= {item for item in items if isinstance(item, str)}
    return listed or None


def _complex(attr: Attr, container: dict[str, Any], op: Op, value: Any) -> None:
    current = container.get(attr.name)
    if op == "remove":
        listed = _listed_values(value)
        if listed is None or (isinstance(current, dict) and current.get("value") in listed):
            container.pop(attr.name, None)
        return
    normalised = normalise_value(attr, value, attr.name)
    if normalised is None:
        container.pop(attr.name, None)
    elif attr.sub("value") is not None and "value" in normalised:
        container[attr.name] = normalised  # a reference (manager): the new one replaces
    else:
        container[attr.name] = {**(current or {}), **normalised}


def _multi(attr: Attr, container: dict[str, Any], op: Op, value: Any) -> None:
    current: list[Any] = list(container.get(attr.name) or [])
    if op == "remove":
        listed = _listed_values(value)
        if listed is None:
            container.pop(attr.name, None)
        else:
            kept = [
                item
                for item in current
                if not (isinstance(item, dict) and item.get("value") in listed)
            ]
            container[attr.name] = kept
        return
    new = normalise_value(attr, value, attr.name) or []
    if op == "replace":
        container[attr.name] = new
        return
    container[attr.name] = current + [item for item in new if item not in current]


def _sub_attribute(sub: Attr, attr: Attr, container: dict[str, Any], op: Op, value: Any) -> None:
    where = f"{attr.name}.{sub.name}"
    new = None if op == "remove" else normalise_element(sub, value, where)
    if attr.multi_valued:
        elements = [dict(item) for item in container.get(attr.name) or [] if isinstance(item, dict)]
        if not elements and new is not None:
            elements = [{}]
        for element in elements:
            _set_or_drop(element, sub.name, new)
        container[attr.name] = [element for element in elements if element]
        return
    current = dict(container.get(attr.name) or {})
    _set_or_drop(current, sub.name, new)
    if current:
        container[attr.name] = current
    else:
        container.pop(attr.name, None)


def _set_or_drop(target: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value


def _filtered(path: PatchPath, attr: Attr, container: dict[str, Any], op: Op, value: Any) -> None:
    value_filter = path.value_filter
    assert value_filter is not None
    sub = path.sub
    where = path.text
    if not attr.multi_valued:
        current = container.get(attr.name)
        matched = isinstance(current, dict) and value_filter(current)
        if op == "remove":
            if matched and sub is not None:
                _sub_attribute(sub, attr, container, op, None)
            elif matched:
                container.pop(attr.name, None)
            return
        if sub is not None:
            _sub_attribute(sub, attr, container, op, value)
        else:
            _complex(attr, container, op, value)
        return
    elements = [
        dict(item) if isinstance(item, dict) else item for item in container.get(attr.name) or []
    ]
    matches = [index for index, item in enumerate(elements) if value_filter(item)]
    if op == "remove":
        if sub is None:
            elements = [item for index, item in enumerate(elements) if index not in matches]
        else:
            for index in matches:
                elements[index].pop(sub.name, None)
        container[attr.name] = [item for item in elements if item]
        return
    if sub is not None:
        new: dict[str, Any] = {sub.name: normalise_element(sub, value, where)}
    else:
        element = normalise_element(attr, value, where)
        if not isinstance(element, dict):
            raise ScimError(400, f"{where} needs an object value", ScimType.INVALID_VALUE)
        new = element
    if not matches:
        elements.append({**value_filter.equalities, **new})
    for index in matches:
        elements[index] = {**elements[index], **new}
    container[attr.name] = [{k: v for k, v in item.items() if v is not None} for item in elements]
