"""``application/scim+json`` responses rendered with orjson."""

from typing import Any

import orjson
from starlette.responses import JSONResponse

SCIM_MEDIA_TYPE = "application/scim+json"


class ScimResponse(JSONResponse):
    media_type = SCIM_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
