"""Checks every request passes before any view: no NUL character in what it sends.

A NUL (``\\u0000``) is never part of a name, a key, a number or a text people
type, and PostgreSQL cannot store it in a text column: left alone it reached the
database and the request failed with a 500. It is refused here with a 400 that
says where it was: in the path, a query or form argument, a file name, or a
string of the JSON body.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from werkzeug.exceptions import BadRequest

NUL = "\x00"
# How a NUL can stand in UTF-8 JSON text: escaped. Only a body holding that, or a zero
# byte (a bare NUL, or JSON in UTF-16 or UTF-32, which json reads too), is parsed
# here: the view parses the body anyway, and most bodies hold neither.
_NUL_BYTES = (b"\\u0000", b"\x00")
# How a NUL comes in a query string (its bare form aside).
_QUERY_NUL = "%00"


def refuse_nul_characters() -> None:
    where = _nul_in_request()
    if where is not None:
        raise BadRequest(f"{where} holds a NUL character (\\u0000), which no value may hold")


def _nul_in_request() -> str | None:
    if NUL in request.path:
        return "the path"
    # The raw query and content type say when there is nothing to look at, which is
    # most of the time: this runs before every request.
    environ = request.environ
    query = environ.get("QUERY_STRING", "")
    if _QUERY_NUL in query or NUL in query:
        for key, value in request.args.items(multi=True):
            if NUL in key or NUL in value:
                return f"the query argument '{key.replace(NUL, '')}'"
    if not environ.get("CONTENT_TYPE"):
        return None  # neither a form nor JSON
    if _is_form():
        for key, value in request.form.items(multi=True):
            if NUL in key or NUL in value:
                return f"the form field '{key.replace(NUL, '')}'"
        for key, upload in request.files.items(multi=True):
            if NUL in key or NUL in (upload.filename or ""):
                return f"the file of field '{key.replace(NUL, '')}'"
    if request.is_json and request.content_length and _may_hold_nul(request.get_data()):
        body = request.get_json(silent=True)
        found = _nul_in_json(body, "")
        if found is not None:
            return f"the body at '{found}'" if found else "the body"
    return None


def _may_hold_nul(body: bytes) -> bool:
    return any(marker in body for marker in _NUL_BYTES)


def _is_form() -> bool:
    return request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded")


def _nul_in_json(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return path if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if NUL in key:
                return here.replace(NUL, "")
            found = _nul_in_json(item, here)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_in_json(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul_characters)
