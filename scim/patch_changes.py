"""PATCH operations → changes: each target resolved and each value normalised, once.

This is the step between parsing a PatchOp body (``scim.patch_request``) and applying it
(``scim.patch_apply``): a path-less operation or one on a whole extension becomes one change
per attribute it names, every path is resolved against the resource type, and every value is
brought to its canonical form by ``scim.resource_input`` (the normaliser POST and PUT use).
Nothing here reads the resource, so it runs before the store is touched, and the apply step
only moves canonical values around.

A failure names the operation (``operation N (op path): why``).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from scim.errors import ScimError, ScimType
from scim.patch_path import EXTERNAL_ID, PatchPath, parse_path
from scim.patch_request import Op, PatchOperation
from scim.resource_input import normalise_element, normalise_value, split_urn_path
from scim.schema_model import ResourceTypeDef


@dataclass(frozen=True, slots=True)
class Change:
    """One attribute's part of a PATCH operation, its value already canonical."""

    operation: PatchOperation
    op: Op
    path: PatchPath
    value: Any = None  # None: remove, or an unassigned value (clears the target)
    listed: frozenset[str] | None = None  # remove with a value list: the values it names
    seed: dict[str, Any] | None = None  # add/replace on attr[filter]: a new element's terms


def prepare_changes(
    resource_type: ResourceTypeDef, resource_id: str, operations: list[PatchOperation]
) -> list[Change]:
    """The changes ``operations`` make, in order; raises ScimError naming a bad operation."""
    changes: list[Change] = []
    for operation in operations:
        try:
            for path, value in _targets(resource_type, resource_id, operation):
                change = _change(operation, path, value)
                if change is not None:
                    changes.append(change)
        except ScimError as error:
            raise operation.failed(error) from None
    return changes


def _targets(
    resource_type: ResourceTypeDef, resource_id: str, operation: PatchOperation
) -> Iterator[tuple[PatchPath, Any]]:
    if operation.path is not None:
        path = parse_path(resource_type, operation.path)
        if path.attr is None and operation.op != "remove":
            yield from _extension_targets(path, operation.value)
        else:
            yield path, operation.value
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
                yield parse_path(resource_type, inner_key), inner_value
            continue
        path = parse_path(resource_type, key)
        if path.attr is None:
            yield from _extension_targets(path, value)
        else:
            yield path, value


def _extension_targets(path: PatchPath, value: Any) -> Iterator[tuple[PatchPath, Any]]:
    """``add``/``replace`` of a whole extension: one target per attribute in the value."""
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
        yield PatchPath(path.text, path.schema, attr), item


def _change(operation: PatchOperation, path: PatchPath, value: Any) -> Change | None:
    attr = path.attr
    if attr is None:  # remove of a whole extension
        return Change(operation, operation.op, path)
    if attr.mutability == "readOnly":
        raise ScimError(400, f"{attr.name} is read-only", ScimType.MUTABILITY)
    if attr.returned == "never":
        return None  # password: accepted, never stored
    if operation.op == "remove":
        whole = attr is not EXTERNAL_ID and path.sub is None and path.value_filter is None
        if whole and attr.required:
            raise ScimError(
                400, f"{attr.name} is required and cannot be removed", ScimType.MUTABILITY
            )
        return Change(operation, operation.op, path, listed=listed_values(value))
    filtered = path.value_filter is not None
    seed = _seed(path) if filtered and attr.multi_valued else None
    if path.sub is not None:
        where = path.text if filtered else f"{attr.name}.{path.sub.name}"
        return Change(
            operation, operation.op, path, normalise_element(path.sub, value, where), seed=seed
        )
    if filtered and attr.multi_valued:
        element = normalise_element(attr, value, path.text)
        if not isinstance(element, dict):
            raise ScimError(400, f"{path.text} needs an object value", ScimType.INVALID_VALUE)
        return Change(operation, operation.op, path, element, seed=seed)
    where = path.text if filtered else attr.name
    return Change(operation, operation.op, path, normalise_value(attr, value, where))


def _seed(path: PatchPath) -> dict[str, Any]:
    """The element an unmatched ``attr[a eq "x"]`` creates: its ``eq`` terms, canonical."""
    assert path.attr is not None
    assert path.value_filter is not None
    terms = path.value_filter.equalities
    if not terms:
        return {}
    return normalise_element(path.attr, terms, path.text) or {}


def listed_values(value: Any) -> frozenset[str] | None:
    """The ``value``s a remove's value list names (``None``: the remove has no value)."""
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    listed = {
        item["value"]
        for item in items
        if isinstance(item, dict) and isinstance(item.get("value"), str)
    }
    listed |= {item for item in items if isinstance(item, str)}
    return frozenset(listed)
