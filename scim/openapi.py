"""The OpenAPI 3.1 description of the SCIM API, served at ``/scim/openapi.json``.

Nothing in it is written twice: resource bodies are derived from the attribute metadata that
discovery and the input normaliser use (``scim.user_schema``, ``scim.groups_schema``), the
filterable and sortable User attributes from the attribute map (``scim.user_attributes``),
the limits from ``scim.input_limits`` and the filter grammar, the ``scimType`` values from
``scim.errors``. Request schemas describe what the server accepts, Entra's tolerances
included (``"True"``/``"False"`` for booleans, ``null`` for "no value", a single object where
a list goes, a list of one or a bare id where a single complex attribute such as ``manager``
goes, the misspelled enterprise URN); response schemas describe what it answers.

The document is public (it describes no tenant's data): ``app.main`` lets it through without
a token. Both base paths are listed as servers, relative to where the document is served.
"""

from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.types import Scope

from scim import urns
from scim.errors import ERROR_SCHEMA, ScimType
from scim.filter_syntax import MAX_FILTER_LENGTH
from scim.groups_schema import GROUP_RESOURCE_TYPE
from scim.input_limits import MAX_PATCH_OPERATIONS, MAX_VALUES
from scim.responses import SCIM_MEDIA_TYPE, ScimResponse
from scim.schema_model import Attr, ResourceTypeDef, SchemaDef
from scim.user_attributes import USER_ATTRIBUTES
from scim.user_schema import USER_RESOURCE_TYPE

OPENAPI_PATH = "/openapi.json"
JSON_MEDIA_TYPE = "application/json"

_SCALARS: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "reference": {"type": "string"},
    "binary": {"type": "string", "contentEncoding": "base64"},
    "dateTime": {"type": "string", "format": "date-time"},
    "integer": {"type": "integer"},
    "decimal": {"type": "number"},
    "boolean": {"type": "boolean"},
}
#: Entra sends booleans as the strings "True" and "False" (any case is accepted).
_BOOLEAN_TEXT = {"type": "string", "pattern": "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$"}


def is_openapi_document(scope: Scope) -> bool:
    """The description itself, served without a token (``app.auth.RequireToken``)."""
    return scope["method"] == "GET" and str(scope["path"]).endswith(OPENAPI_PATH)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _described(schema: dict[str, Any], attr: Attr) -> dict[str, Any]:
    described = dict(schema)
    if attr.description:
        described["description"] = attr.description
    if attr.mutability == "readOnly":
        described["readOnly"] = True
    if attr.mutability == "writeOnly":
        described["writeOnly"] = True
    return described


def _output_value(attr: Attr) -> dict[str, Any]:
    """What a response holds for one value of ``attr``."""
    if attr.type != "complex":
        return dict(_SCALARS[attr.type])
    properties = {
        sub.name: _described(_output_value(sub), sub)
        for sub in attr.sub_attributes
        if sub.returned != "never"
    }
    return {"type": "object", "properties": properties}


def _output(attr: Attr) -> dict[str, Any]:
    value = _output_value(attr)
    return _described({"type": "array", "items": value} if attr.multi_valued else value, attr)


def _input_scalar(attr: Attr) -> dict[str, Any]:
    if attr.type == "boolean":
        return _nullable({"anyOf": [{"type": "boolean"}, _BOOLEAN_TEXT]})
    return _nullable(dict(_SCALARS[attr.type]))


def _input_object(attr: Attr) -> dict[str, Any]:
    """A complex value as a client may send it: its known sub-attributes typed, others kept."""
    properties = {
        sub.name: _described(_input_scalar(sub), sub)
        for sub in attr.sub_attributes
        if sub.mutability != "readOnly" or attr.multi_valued
    }
    return {"type": "object", "properties": properties}


def _input(attr: Attr) -> dict[str, Any]:
    """What a request may hold for ``attr`` (``resource_input``'s tolerances included)."""
    if attr.type != "complex":
        scalar = _input_scalar(attr)
        return _described(scalar["anyOf"][0] if attr.required else scalar, attr)
    element = _input_object(attr)
    if attr.multi_valued:
        forms = [{"type": "array", "items": element, "maxItems": MAX_VALUES}, element]
    else:
        forms = [element, {"type": "array", "items": element, "maxItems": 1}]
        if attr.sub("value") is not None:
            forms.append({"type": "string", "description": "the value (e.g. the manager's id)"})
    return _described({"anyOf": [*forms, {"type": "null"}]}, attr)


def _schema_properties(schema: SchemaDef, *, for_input: bool) -> dict[str, Any]:
    if for_input:
        return {
            attr.name: _input(attr) for attr in schema.attributes if attr.mutability != "readOnly"
        }
    return {attr.name: _output(attr) for attr in schema.attributes if attr.returned != "never"}


def _resource(resource_type: ResourceTypeDef, *, for_input: bool) -> dict[str, Any]:
    core = resource_type.core
    properties: dict[str, Any] = {
        "schemas": {
            "type": "array",
            "items": {
                "type": "string",
                "enum": [schema.id for schema in (core, *resource_type.extensions)]
                + (list(_alias_spellings(resource_type)) if for_input else []),
            },
        },
        "externalId": _nullable({"type": "string"}) if for_input else {"type": "string"},
        **_schema_properties(core, for_input=for_input),
    }
    for extension in resource_type.extensions:
        properties[extension.id] = {
            "type": "object",
            "description": extension.description,
            "properties": _schema_properties(extension, for_input=for_input),
        }
    if for_input:
        for alias, canonical in resource_type.aliases.items():
            spelled = _alias_spellings(resource_type).get(alias, alias)
            if any(extension.id == canonical for extension in resource_type.extensions):
                properties[spelled] = {
                    "description": f"accepted spelling of {canonical}",
                    **properties[canonical],
                }
        properties["id"] = {"type": "string", "description": "ignored"}
        properties["meta"] = {"type": "object", "description": "ignored"}
        required = [attr.name for attr in core.attributes if attr.required]
        return {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }
    properties["id"] = {"type": "string", "readOnly": True}
    properties["meta"] = _ref("Meta")
    return {
        "type": "object",
        "properties": properties,
        "required": ["schemas", "id", "meta"],
    }


def _alias_spellings(resource_type: ResourceTypeDef) -> dict[str, str]:
    """The aliases as clients spell them (they are stored lower-cased for look-ups)."""
    known = {urns.ENTERPRISE_USER_MISSPELLED.lower(): urns.ENTERPRISE_USER_MISSPELLED}
    return {alias: known.get(alias, alias) for alias in resource_type.aliases}


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {SCIM_MEDIA_TYPE: {"schema": _ref("Error")}},
    }


def _ok(description: str, schema: dict[str, Any], headers: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {SCIM_MEDIA_TYPE: {"schema": schema}},
    }
    if headers:
        response["headers"] = {"ETag": {"schema": {"type": "string"}}}
    return response


def _errors(*statuses: int) -> dict[str, Any]:
    reasons = {
        400: "invalid request (see scimType)",
        401: "missing, unknown or revoked bearer token",
        403: "a token of another scope",
        404: "no such resource",
        409: "uniqueness conflict",
        412: "If-Match does not match the current version",
        413: "request body or PATCH over the limits",
        429: "rate limited",
    }
    return {str(status): _error_response(reasons[status]) for status in (401, 403, 429, *statuses)}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "required": True,
        "content": {SCIM_MEDIA_TYPE: {"schema": schema}, JSON_MEDIA_TYPE: {"schema": schema}},
    }


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _projection_parameters() -> list[dict[str, Any]]:
    return [
        _query("attributes", {"type": "string"}, "comma-separated attributes to return"),
        _query("excludedAttributes", {"type": "string"}, "comma-separated attributes to leave out"),
    ]


def _filterable_user_attributes() -> list[str]:
    return [entry.path for entry in USER_ATTRIBUTES if entry.filterable]


def _list_parameters(sortable: list[str], filter_help: str) -> list[dict[str, Any]]:
    return [
        _query(
            "filter",
            {"type": "string", "maxLength": MAX_FILTER_LENGTH},
            f"RFC 7644 §3.4.2.2 filter. {filter_help}",
        ),
        _query("startIndex", {"type": "integer"}, "1-based index of the first result"),
        _query("count", {"type": "integer"}, "page size (at most maxResults)"),
        _query("sortBy", {"type": "string", "enum": sortable}, "attribute to sort by"),
        _query(
            "sortOrder", {"type": "string", "enum": ["ascending", "descending"]}, "sort direction"
        ),
        *_projection_parameters(),
    ]


def _resource_paths(
    endpoint: str, name: str, sortable: list[str], filter_help: str
) -> dict[str, Any]:
    item_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    if_match = {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
    }
    listing = _ok("a ListResponse", _ref(f"{name}List"))
    return {
        endpoint: {
            "get": {
                "operationId": f"list{name}s",
                "parameters": _list_parameters(sortable, filter_help),
                "responses": {"200": listing, **_errors(400)},
            },
            "post": {
                "operationId": f"create{name}",
                "parameters": _projection_parameters(),
                "requestBody": _body(_ref(f"{name}Input")),
                "responses": {
                    "201": _ok(f"the created {name}", _ref(name), headers=True),
                    **_errors(400, 409, 413),
                },
            },
        },
        f"{endpoint}/.search": {
            "post": {
                "operationId": f"search{name}s",
                "requestBody": _body(_ref("SearchRequest")),
                "responses": {"200": listing, **_errors(400, 413)},
            }
        },
        f"{endpoint}/{{id}}": {
            "parameters": [item_id],
            "get": {
                "operationId": f"get{name}",
                "parameters": _projection_parameters(),
                "responses": {
                    "200": _ok(f"the {name}", _ref(name), headers=True),
                    "304": {"description": "If-None-Match matched the current version"},
                    **_errors(400, 404),
                },
            },
            "put": {
                "operationId": f"replace{name}",
                "parameters": [*_projection_parameters(), if_match],
                "requestBody": _body(_ref(f"{name}Input")),
                "responses": {
                    "200": _ok(f"the replaced {name}", _ref(name), headers=True),
                    **_errors(400, 404, 409, 412, 413),
                },
            },
            "patch": {
                "operationId": f"patch{name}",
                "parameters": [*_projection_parameters(), if_match],
                "requestBody": _body(_ref("PatchOp")),
                "responses": {
                    "200": _ok(f"the patched {name}", _ref(name), headers=True),
                    **_errors(400, 404, 409, 412, 413),
                },
            },
            "delete": {
                "operationId": f"delete{name}",
                "parameters": [if_match],
                "responses": {"204": {"description": "deleted"}, **_errors(404, 412)},
            },
        },
    }


def _discovery_paths() -> dict[str, Any]:
    any_object = {"type": "object"}
    discovery_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "/ServiceProviderConfig": {
            "get": {
                "operationId": "getServiceProviderConfig",
                "responses": {"200": _ok("RFC 7643 §5", any_object), **_errors()},
            }
        },
        "/Schemas": {
            "get": {
                "operationId": "listSchemas",
                "responses": {"200": _ok("every schema", _ref("DiscoveryList")), **_errors()},
            }
        },
        "/Schemas/{id}": {
            "parameters": [discovery_id],
            "get": {
                "operationId": "getSchema",
                "responses": {"200": _ok("one schema (by URN)", any_object), **_errors(404)},
            },
        },
        "/ResourceTypes": {
            "get": {
                "operationId": "listResourceTypes",
                "responses": {"200": _ok("User and Group", _ref("DiscoveryList")), **_errors()},
            }
        },
        "/ResourceTypes/{id}": {
            "parameters": [discovery_id],
            "get": {
                "operationId": "getResourceType",
                "responses": {"200": _ok("one resource type", any_object), **_errors(404)},
            },
        },
    }


def _list_of(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["schemas", "totalResults", "Resources", "startIndex", "itemsPerPage"],
        "properties": {
            "schemas": {"type": "array", "items": {"const": urns.LIST_RESPONSE}},
            "totalResults": {"type": "integer", "minimum": 0},
            "Resources": {"type": "array", "items": item},
            "startIndex": {"type": "integer", "minimum": 1},
            "itemsPerPage": {"type": "integer", "minimum": 0},
        },
    }


def _components() -> dict[str, Any]:
    value_path = {"type": "string", "description": "an attribute path, e.g. name.givenName"}
    operation = {
        "type": "object",
        "required": ["op"],
        "properties": {
            "op": {
                "type": "string",
                "description": "add, replace or remove, in any case",
                "pattern": "^([Aa][Dd][Dd]|[Rr][Ee][Pp][Ll][Aa][Cc][Ee]|[Rr][Ee][Mm][Oo][Vv][Ee])$",
            },
            "path": value_path,
            "value": {},
        },
    }
    return {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "The tenant's SCIM token (Entra's Secret Token)",
            }
        },
        "schemas": {
            "User": _resource(USER_RESOURCE_TYPE, for_input=False),
            "UserInput": _resource(USER_RESOURCE_TYPE, for_input=True),
            "Group": _resource(GROUP_RESOURCE_TYPE, for_input=False),
            "GroupInput": _resource(GROUP_RESOURCE_TYPE, for_input=True),
            "UserList": _list_of(_ref("User")),
            "GroupList": _list_of(_ref("Group")),
            "ResourceList": _list_of({"anyOf": [_ref("User"), _ref("Group")]}),
            "DiscoveryList": _list_of({"type": "object"}),
            "Meta": {
                "type": "object",
                "properties": {
                    "resourceType": {"type": "string"},
                    "created": {"type": "string", "format": "date-time"},
                    "lastModified": {"type": "string", "format": "date-time"},
                    "location": {"type": "string"},
                    "version": {"type": "string"},
                },
            },
            "PatchOp": {
                "type": "object",
                "required": ["schemas", "Operations"],
                "properties": {
                    "schemas": {"type": "array", "contains": {"const": urns.PATCH_OP}},
                    "Operations": {
                        "type": "array",
                        "items": operation,
                        "minItems": 1,
                        "maxItems": MAX_PATCH_OPERATIONS,
                    },
                },
            },
            "SearchRequest": {
                "type": "object",
                "properties": {
                    "schemas": {"type": "array", "contains": {"const": urns.SEARCH_REQUEST}},
                    "filter": {"type": "string", "maxLength": MAX_FILTER_LENGTH},
                    "startIndex": {"type": "integer"},
                    "count": {"type": "integer"},
                    "sortBy": {"type": "string"},
                    "sortOrder": {"type": "string", "enum": ["ascending", "descending"]},
                    "attributes": {"anyOf": [{"type": "string"}, {"type": "array"}]},
                    "excludedAttributes": {"anyOf": [{"type": "string"}, {"type": "array"}]},
                },
            },
            "Error": {
                "type": "object",
                "required": ["schemas", "status", "detail"],
                "properties": {
                    "schemas": {"type": "array", "items": {"const": ERROR_SCHEMA}},
                    "status": {"type": "string", "pattern": "^[1-5][0-9][0-9]$"},
                    "scimType": {"type": "string", "enum": [kind.value for kind in ScimType]},
                    "detail": {"type": "string"},
                },
            },
        },
    }


@cache
def openapi_document() -> dict[str, Any]:
    """The whole description; built once per process."""
    user_filter_help = "User attributes: " + ", ".join(_filterable_user_attributes()) + "."
    user_sortable = [
        entry.path for entry in USER_ATTRIBUTES if entry.sortable and "[" not in entry.path
    ]
    group_filter_help = (
        "Group attributes: displayName, externalId, id, members[value eq ...], members.value."
    )
    search_all = {
        "/.search": {
            "post": {
                "operationId": "searchAll",
                "requestBody": _body(_ref("SearchRequest")),
                "responses": {
                    "200": _ok("Users, then Groups", _ref("ResourceList")),
                    **_errors(400, 413),
                },
            }
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Blink directory SCIM 2.0 API",
            "version": "2.0",
            "description": "Users and Groups provisioning (RFC 7643, RFC 7644) for Microsoft "
            "Entra ID, scoped to the tenant of the bearer token. Every answer is "
            f"{SCIM_MEDIA_TYPE}; every failure an RFC 7644 Error body.",
        },
        "servers": [
            {"url": "/scim", "description": "base path Entra's Tenant URL names"},
            {"url": "/scim/v2", "description": "the same API under /scim/v2"},
        ],
        "security": [{"bearerAuth": []}],
        "paths": {
            **_resource_paths("/Users", "User", user_sortable, user_filter_help),
            **_resource_paths("/Groups", "Group", ["displayName"], group_filter_help),
            **search_all,
            **_discovery_paths(),
        },
        "components": _components(),
    }


async def get_openapi_document(request: Request) -> ScimResponse:
    return ScimResponse(openapi_document(), media_type=JSON_MEDIA_TYPE)
