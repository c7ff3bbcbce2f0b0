"""SCIM errors: every failure under /scim is answered with an RFC 7644 §3.12 Error body."""

from enum import StrEnum

from db.errors import Conflict, NotFound, StoreError, Unavailable
from scim.responses import ScimResponse

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


class ScimType(StrEnum):
    """The ``scimType`` values RFC 7644 defines for 400/409/413 answers."""

    INVALID_FILTER = "invalidFilter"
    TOO_MANY = "tooMany"
    UNIQUENESS = "uniqueness"
    MUTABILITY = "mutability"
    INVALID_SYNTAX = "invalidSyntax"
    INVALID_PATH = "invalidPath"
    NO_TARGET = "noTarget"
    INVALID_VALUE = "invalidValue"
    INVALID_VERSION = "invalidVers"
    SENSITIVE = "sensitive"


class ScimError(Exception):
    """Raise anywhere below a SCIM route; the SCIM app turns it into an Error response."""

    def __init__(self, status: int, detail: str, scim_type: ScimType | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type


def from_store_error(error: StoreError) -> ScimError:
    """The SCIM error a store error means; the one place this mapping is made.

    ``NotFound`` → 404, ``Conflict`` (a unique index) → 409 uniqueness, ``InvalidReference``
    (a manager or member that is not a user of the tenant) → 400 invalidValue,
    ``Unavailable`` (the database out of reach, or a statement over its timeout) → 503: a
    condition of the service, which Entra retries.
    """
    if isinstance(error, Unavailable):
        return ScimError(503, str(error))
    if isinstance(error, NotFound):
        return ScimError(404, str(error))
    if isinstance(error, Conflict):
        return ScimError(409, str(error), ScimType.UNIQUENESS)
    return ScimError(400, str(error), ScimType.INVALID_VALUE)


def error_body(status: int, detail: str, scim_type: ScimType | None = None) -> dict[str, object]:
    body: dict[str, object] = {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": detail}
    if scim_type is not None:
        body["scimType"] = scim_type.value
    return body


def scim_error_response(
    status: int, detail: str, scim_type: ScimType | None = None
) -> ScimResponse:
    return ScimResponse(error_body(status, detail, scim_type), status_code=status)


def scim_limit_error(status: int, detail: str) -> ScimResponse:
    """A request over the body-size (413) or nesting (400 invalidSyntax) limit."""
    return scim_error_response(status, detail, ScimType.INVALID_SYNTAX if status == 400 else None)
