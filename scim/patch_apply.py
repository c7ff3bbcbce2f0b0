"""Applying PATCH changes (RFC 7644 §3.5.2) to a canonical resource document.

The changes come from ``scim.patch_changes``: paths resolved, values already canonical, so
this step only places them. It works on a copy: either every change applies or the first
failing one is reported (``operation N (op path): why``) and nothing changes. Entra's shapes
are all accepted: ``Add``/``Replace`` on a filtered path with no matching element creates it
from the filter's ``eq`` terms; ``add``/``replace`` on a single complex attribute merges its
sub-attributes (a reference such as ``manager`` is replaced whole); ``remove`` with a
``value`` list removes only the listed elements (and, on a single complex attribute such as
``manager``, clears it when its value is listed). Empty values are dropped as they arise,
and the result must still carry every required attribute.
"""

from typing import Any

from scim.errors import ScimError
from scim.patch_changes import Change, prepare_changes
from scim.patch_path import EXTERNAL_ID
from scim.patch_request import PatchOperation
from scim.resource_input import check_required
from scim.schema_model import Attr, ResourceTypeDef


def apply_patch(
    resource_type: ResourceTypeDef,
    resource_id: str,
    document: dict[str, Any],
    operations: list[PatchOperation],
) -> dict[str, Any]:
    """The document after ``operations``: ``prepare_changes`` then ``apply_changes``."""
    changes = prepare_changes(resource_type, resource_id, operations)
    return apply_changes(resource_type, document, changes)


def apply_changes(
    resource_type: ResourceTypeDef, document: dict[str, Any], changes: list[Change]
) -> dict[str, Any]:
    """The document after ``changes``; raises ScimError naming the failing operation."""
    result: dict[str, Any] = _copy(document)
    for change in changes:
        try:
            _apply(resource_type, result, change)
        except ScimError as error:
            raise change.operation.failed(error) from None
    try:
        check_required(resource_type, result)
    except ScimError as error:
        raise ScimError(
            error.status, f"the patched resource is invalid: {error.detail}", error.scim_type
        ) from None
    return result


def _copy(value: Any) -> Any:
    """A deep copy of a JSON value (dicts, lists and scalars), cheaper than ``copy.deepcopy``
    on the small documents an Entra PATCH touches."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _put(container: dict[str, Any], name: str, value: Any) -> None:
    """Set ``name``, or remove it when the value is unassigned (None or empty)."""
    if value is None or value == [] or value == {}:
        container.pop(name, None)
    else:
        container[name] = value


def _apply(resource_type: ResourceTypeDef, document: dict[str, Any], change: Change) -> None:
    path = change.path
    core = path.schema is resource_type.core
    container = document if core else document.setdefault(path.schema.id, {})
    try:
        attr = path.attr
        if attr is None:  # remove of a whole extension
            container.clear()
        elif attr is EXTERNAL_ID or (
            path.value_filter is None and path.sub is None and attr.type != "complex"
        ):
            _put(container, attr.name, None if change.op == "remove" else change.value)
        elif path.value_filter is not None:
            _filtered(change, attr, container)
        elif path.sub is not None:
            _sub_attribute(path.sub, attr, container, change.value)
        elif attr.multi_valued:
            _multi(change, attr, container)
        else:
            _complex(change, attr, container)
    finally:
        if not core and not document.get(path.schema.id):
            document.pop(path.schema.id, None)


def _complex(change: Change, attr: Attr, container: dict[str, Any]) -> None:
    current = container.get(attr.name)
    if change.op == "remove":
        listed = change.listed
        if not listed or (isinstance(current, dict) and current.get("value") in listed):
            container.pop(attr.name, None)
        return
    new = change.value
    if new is None:
        container.pop(attr.name, None)
    elif attr.sub("value") is not None and "value" in new:
        container[attr.name] = new  # a reference (manager): the new one replaces
    else:
        container[attr.name] = {**(current or {}), **new}


def _multi(change: Change, attr: Attr, container: dict[str, Any]) -> None:
    current: list[Any] = list(container.get(attr.name) or [])
    if change.op == "remove":
        listed = change.listed
        if not listed:
            container.pop(attr.name, None)
            return
        kept = [
            item for item in current if not (isinstance(item, dict) and item.get("value") in listed)
        ]
        _put(container, attr.name, kept)
        return
    new = change.value or []
    if change.op == "replace":
        _put(container, attr.name, new)
        return
    _put(container, attr.name, current + [item for item in new if item not in current])


def _sub_attribute(sub: Attr, attr: Attr, container: dict[str, Any], new: Any) -> None:
    if attr.multi_valued:
        elements = [dict(item) for item in container.get(attr.name) or [] if isinstance(item, dict)]
        if not elements and new is not None:
            elements = [{}]
        for element in elements:
            _put(element, sub.name, new)
        _put(container, attr.name, [element for element in elements if element])
        return
    current = dict(container.get(attr.name) or {})
    _put(current, sub.name, new)
    _put(container, attr.name, current)


def _filtered(change: Change, attr: Attr, container: dict[str, Any]) -> None:
    path = change.path
    value_filter = path.value_filter
    assert value_filter is not None
    sub = path.sub
    removing = change.op == "remove"
    if not attr.multi_valued:
        current = container.get(attr.name)
        matched = isinstance(current, dict) and value_filter(current)
        if removing and matched and sub is not None:
            _sub_attribute(sub, attr, container, None)
        elif removing and matched:
            container.pop(attr.name, None)
        elif not removing and sub is not None:
            _sub_attribute(sub, attr, container, change.value)
        elif not removing:
            _complex(change, attr, container)
        return
    elements = [
        dict(item) if isinstance(item, dict) else item for item in container.get(attr.name) or []
    ]
    matches = [index for index, item in enumerate(elements) if value_filter(item)]
    if removing:
        if sub is None:
            elements = [item for index, item in enumerate(elements) if index not in matches]
        else:
            for index in matches:
                elements[index].pop(sub.name, None)
        _put(container, attr.name, [item for item in elements if item])
        return
    new: dict[str, Any] = {sub.name: change.value} if sub is not None else change.value
    if not matches:
        elements.append({**(change.seed or {}), **new})
    for index in matches:
        elements[index] = {**elements[index], **new}
    _put(
        container,
        attr.name,
        [{k: v for k, v in item.items() if v is not None} for item in elements],
    )
