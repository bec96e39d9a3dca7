"""What a request to /engine-rest sends: Camunda's paging arguments and a JSON body."""

from __future__ import annotations

from typing import Any

from flask import request

from .. import jsonio
from .errors import BadRequest


def paging() -> tuple[int, int | None]:
    try:
        first = int(request.args.get("firstResult", "0"))
        most = request.args.get("maxResults")
        limit = int(most) if most is not None else None
    except ValueError as exc:
        raise BadRequest("firstResult and maxResults must be whole numbers") from exc
    if first < 0 or (limit is not None and limit < 0):
        raise BadRequest("firstResult and maxResults may not be negative")
    return first, limit


def json_body() -> Any:
    """The request's JSON body ({} when empty, None when not JSON), read strictly."""
    if not request.data:
        return {}
    if not request.is_json:
        return None
    try:
        return jsonio.loads(request.get_data(cache=True))
    except jsonio.RefusedJSON as exc:
        raise BadRequest(str(exc)) from None
    except ValueError:
        return None
