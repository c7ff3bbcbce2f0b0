"""``POST /.search`` (RFC 7644 §3.4.3): a search across resource types.

Only Users are served so far; when Groups arrive, this merges both result sets.
"""

from starlette.requests import Request
from starlette.responses import Response

from scim.http import read_json_object
from scim.listing import check_search_request
from scim.responses import ScimResponse
from scim.user_search import search_users


async def search_everything(request: Request) -> Response:
    body = await read_json_object(request)
    check_search_request(body)
    return ScimResponse(await search_users(request, body))
