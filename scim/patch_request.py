"""Parsing a PatchOp request body (RFC 7644 §3.5.2) into operations.

``op`` is case-insensitive (Entra sends ``Add``/``Replace``/``Remove``).
"""

from dataclasses import dataclass
from typing import Any, Literal

from scim import urns
from scim.errors import ScimError, ScimType
from scim.input_limits import MAX_PATCH_OPERATIONS

Op = Literal["add", "replace", "remove"]
_OPS: dict[str, Op] = {"add": "add", "replace": "replace", "remove": "remove"}
_MISSING = object()


@dataclass(frozen=True, slots=True)
class PatchOperation:
    number: int  # 1-based position in the request, for error messages
    op: Op
    path: str | None
    value: Any  # None when absent

    def describe(self) -> str:
        return f"operation {self.number} ({self.op}{' ' + self.path if self.path else ''})"

    def failed(self, error: ScimError) -> ScimError:
        """``error`` with this operation named in its detail."""
        return ScimError(error.status, f"{self.describe()}: {error.detail}", error.scim_type)


def parse_patch_request(body: dict[str, Any]) -> list[PatchOperation]:
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or urns.PATCH_OP not in schemas:
        raise ScimError(
            400, f"a PATCH body must have schemas [{urns.PATCH_OP!r}]", ScimType.INVALID_SYNTAX
        )
    raw = body.get("Operations", body.get("operations"))
    if not isinstance(raw, list) or not raw:
        raise ScimError(400, "Operations must be a non-empty list", ScimType.INVALID_SYNTAX)
    if len(raw) > MAX_PATCH_OPERATIONS:
        # 413 as for a bulk request over maxOperations (RFC 7644 §3.7.4): split it.
        raise ScimError(
            413, f"{len(raw)} operations in one PATCH; at most {MAX_PATCH_OPERATIONS} are accepted"
        )
    return [_operation(number, item) for number, item in enumerate(raw, start=1)]


def _operation(number: int, item: Any) -> PatchOperation:
    if not isinstance(item, dict):
        raise ScimError(400, f"operation {number} is not an object", ScimType.INVALID_SYNTAX)
    fields = {key.lower(): value for key, value in item.items()}
    op = _OPS.get(str(fields.get("op", "")).lower())
    if op is None:
        raise ScimError(
            400,
            f"operation {number}: op must be add, replace or remove, not {fields.get('op')!r}",
            ScimType.INVALID_SYNTAX,
        )
    path = fields.get("path")
    if path is not None and not isinstance(path, str):
        raise ScimError(400, f"operation {number}: path must be a string", ScimType.INVALID_PATH)
    if path is not None and not path.strip():
        path = None
    value = fields.get("value", _MISSING)
    if op == "remove" and path is None:
        raise ScimError(400, f"operation {number}: remove needs a path", ScimType.NO_TARGET)
    if op != "remove" and value is _MISSING:
        raise ScimError(400, f"operation {number}: {op} needs a value", ScimType.INVALID_VALUE)
    return PatchOperation(number, op, path, None if value is _MISSING else value)
