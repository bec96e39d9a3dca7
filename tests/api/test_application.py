"""The Flask application class and the arguments parser: what they skip per request
changes no answer."""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import EXCLUDE, RAISE, Schema, fields
from werkzeug.exceptions import UnprocessableEntity

from api import create_app
from api.application import SYNC_KEPT, SertiflowFlask
from api.v1.common import StrictArgumentsParser
from engine.composition import Engine


def test_a_request_without_the_cookie_gets_no_cookie_and_no_vary(engine: Engine) -> None:
    app = create_app(engine.settings, engine=engine)
    answer = app.test_client().get("/api/v1/openapi.json")
    assert answer.status_code == 200
    assert "Set-Cookie" not in answer.headers
    assert "Cookie" not in answer.headers.get("Vary", "")


def test_a_session_written_without_a_cookie_is_sent_and_read_back(engine: Engine) -> None:
    app = create_app(engine.settings, engine=engine)

    @app.get("/test-session/<word>")
    def remember(word: str) -> Any:
        from flask import session

        before = session.get("word")
        session["word"] = word
        return {"before": before}

    client = app.test_client()
    first = client.get("/test-session/satu")
    assert first.json == {"before": None}
    assert "sertiflow_session=" in first.headers["Set-Cookie"]
    assert client.get("/test-session/dua").json == {"before": "satu"}


def test_coroutine_functions_are_answered_as_flask_does() -> None:
    app = SertiflowFlask(__name__)

    def plain() -> int:
        return 1

    async def coroutine() -> int:
        return 2

    assert app.ensure_sync(plain) is plain
    assert app.ensure_sync(plain) is plain
    # Flask runs one only with its "async" extra, not installed here: it refuses,
    # every time (the answer is not taken for a plain function's).
    for _ in range(2):
        with pytest.raises(RuntimeError, match="async"):
            app.ensure_sync(coroutine)
    # Functions made anew (a class-based view's bound methods) fill no endless cache.
    for n in range(SYNC_KEPT + 10):
        app.ensure_sync(lambda n=n: n)
    assert len(app._sync) == SYNC_KEPT


class _Listing(Schema):
    state = fields.String()
    page = fields.Integer(load_default=1)


class _Picking(_Listing):
    roles = fields.List(fields.String())


def test_query_arguments_are_read_as_webargs_reads_them() -> None:
    """A schema without list fields reads a plain dict of first values (faster); one
    with them gets every value of a repeated argument still."""
    parser = StrictArgumentsParser()
    app = SertiflowFlask(__name__)
    query = "/?state=ready&state=done&page=2&roles=a&roles=b&other=x"
    plain, listing = _Listing(), _Picking()
    with app.test_request_context(query):
        assert parser.parse(plain, location="query", unknown=EXCLUDE) == {
            "state": "ready", "page": 2}
        assert parser.parse(listing, location="query", unknown=EXCLUDE) == {
            "state": "ready", "page": 2, "roles": ["a", "b"]}
        with pytest.raises(UnprocessableEntity):
            parser.parse(plain, location="query", unknown=RAISE)  # "roles", "other"


def test_documenting_an_operation_adds_no_call_layer(engine: Engine) -> None:
    """alt_response and doc keep documenting each operation (its problem answers and
    bearer security) without wrapping the view in one more call each."""
    app = create_app(engine.settings, engine=engine)
    operation = app.test_client().get("/api/v1/openapi.json").json[
        "paths"]["/api/v1/tasks/{task_id}/complete"]["post"]
    assert {"200", "400", "401", "403", "404", "409", "422"} <= set(operation["responses"])
    assert operation["responses"]["409"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert operation["security"] == [{"bearerAuth": []}]
    layers, view = 0, app.view_functions["tasks.complete"]
    while hasattr(view, "__wrapped__"):
        layers, view = layers + 1, view.__wrapped__
    assert view.__module__ == "api.v1.tasks"
    # webargs' parser, flask-smorest's arguments and response wrappers (ten before).
    assert layers == 3
