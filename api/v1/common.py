"""Pieces every v1 blueprint uses."""

from __future__ import annotations

import weakref
from typing import Any

from flask import Request
from flask_smorest import Blueprint
from marshmallow import Schema
from webargs.core import missing
from webargs.flaskparser import FlaskParser, abort, is_json_request

from engine.queries.lists import Page

from .. import jsonio, schemas
from ..errors import PROBLEM

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
PROBLEM_CODES = (401, 403, 404, 409, 422)


class StrictArgumentsParser(FlaskParser):
    """webargs' Flask parser, reading JSON bodies with :func:`jsonio.loads`.

    A body holding ``NaN`` or ``Infinity`` is refused with 400, saying where;
    webargs itself would take those tokens as numbers.
    """

    def __init__(self) -> None:
        super().__init__()
        # Whether a query schema has list fields; schemas are made once per operation.
        self._multiple: weakref.WeakKeyDictionary[Schema, bool] = weakref.WeakKeyDictionary()

    def load_querystring(self, req: Request, schema: Schema) -> Any:
        # Without a list field, webargs' proxy answers each argument's first value, as
        # a plain dict does, which marshmallow reads faster; the proxy also walks the
        # schema's fields on every request to find the list ones.
        multiple = self._multiple.get(schema)
        if multiple is None:
            multiple = self._multiple[schema] = bool(
                self._makeproxy(req.args, schema).multiple_keys)
        if multiple:
            return super().load_querystring(req, schema)
        return req.args.to_dict()

    def _raw_load_json(self, req: Request) -> Any:
        if not is_json_request(req):
            return missing
        # Undecodable or malformed text raises as in webargs, which answers 400.
        text = req.get_data(cache=True).decode("utf-8")
        try:
            return jsonio.loads(text)
        except jsonio.RefusedJSON as exc:
            abort(400, exc=exc, messages={"json": [f"Invalid JSON body: {exc}"]})


class ApiBlueprint(Blueprint):
    """flask-smorest's Blueprint, parsing arguments with one schema instance per operation.

    Given a schema class, webargs builds an instance for every request: about
    0.05 ms each, on every call that takes a body or a query. Bodies are read
    as strict JSON (:class:`StrictArgumentsParser`).
    """

    ARGUMENTS_PARSER = StrictArgumentsParser()

    def arguments(self, schema: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)

    # flask-smorest's alt_response and doc only document, yet each wraps the view in
    # one more function that looks the app up and calls it: five or six a view here
    # (see documented). The documentation is kept on the view itself instead.

    def alt_response(self, *args: Any, **kwargs: Any) -> Any:
        return _documentation_only(super().alt_response(*args, **kwargs))

    @staticmethod
    def doc(**kwargs: Any) -> Any:
        return _documentation_only(Blueprint.doc(**kwargs))


def _documentation_only(decorator: Any) -> Any:
    """``decorator``'s documentation (``_apidoc``) given to the function it decorates,
    instead of the wrapper it makes."""
    def document(func: Any) -> Any:
        func._apidoc = decorator(func)._apidoc
        return func
    return document


def blueprint(name: str, url_prefix: str, description: str) -> Blueprint:
    return ApiBlueprint(name, name, url_prefix=f"/api/v1{url_prefix}",
                        description=description)


def page_dict(page: Page[Any]) -> dict[str, Any]:
    return {"items": page.items, "total": page.total, "total_exact": page.total_exact,
            "page": page.page, "per_page": page.per_page}


class Extended:
    """An object seen with extra attributes, so one schema can dump both together."""

    def __init__(self, base: Any, **extra: Any) -> None:
        self._base = base
        self.__dict__.update(extra)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)


def documented(bp: Blueprint, *codes: int, anonymous: bool = False) -> Any:
    """Declare the problem+json answers an operation can give.

    400 is always among them: any request may be malformed (a body that is not
    JSON, a NUL character anywhere, see api/input_checks.py). ``anonymous``: the
    operation needs no token.
    """
    def decorate(func: Any) -> Any:
        for code in sorted({400, *codes}):
            func = bp.alt_response(code, schema=schemas.Problem,
                                   description="problem details (RFC 7807)",
                                   content_type=PROBLEM)(func)
        return func if anonymous else bp.doc(security=BEARER)(func)
    return decorate
