"""The web pages through Flask's test client, around a fresh engine and database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from api import create_app
from engine.composition import Engine
from tests.people import COMPANY, OTHER_COMPANY, PASSWORD, add_users

from . import sample

# user name -> (roles, company)
USERS: dict[str, tuple[list[str], str | None]] = {
    "cust1": (["pelanggan"], COMPANY),
    "cust2": (["pelanggan"], OTHER_COMPANY),
    "upp1": (["upp"], None),
    "upp2": (["upp"], None),
    "auditor1": (["auditor"], None),
    "admin1": (["admin"], None),
    "analyst1": (["analyst"], None),
}

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def web_engine(engine: Engine) -> Engine:
    """The test engine with the users and the sample process deployed."""
    add_users(engine, USERS)
    with engine.write() as s:
        s.deployments.deploy(sample.files(), actor="analyst1", source="test")
    return engine


@pytest.fixture
def app(web_engine: Engine) -> Flask:
    return create_app(web_engine.settings, engine=web_engine, TESTING=True)


class Browser:
    """A test client that signs in through the sign-in page and sends CSRF tokens."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.csrf: str | None = None

    def page(self, path: str, **kwargs: Any) -> TestResponse:
        response = self.client.get(path, **kwargs)
        found = CSRF.search(response.get_data(as_text=True))
        if found:
            self.csrf = found.group(1)
        return response

    def token(self) -> str:
        if self.csrf is None:
            self.page("/signin")
        assert self.csrf is not None
        return self.csrf

    def post(self, path: str, data: dict[str, Any] | None = None,
             **kwargs: Any) -> TestResponse:
        data = dict(data or {})
        data.setdefault("csrf_token", self.token())
        return self.client.post(path, data=data, **kwargs)

    def post_json(self, path: str, body: Any) -> TestResponse:
        return self.client.post(path, json=body, headers={
            "X-CSRF-Token": self.token(), "Accept": "application/json"})

    def sign_in(self, username: str, password: str = PASSWORD) -> TestResponse:
        return self.post("/signin", {"username": username, "password": password})


@pytest.fixture
def browser(app: Flask) -> Iterator[Any]:
    """``browser("upp1")`` gives a signed-in test client; ``browser()`` an anonymous one."""

    def make(username: str | None = None) -> Browser:
        made = Browser(app.test_client())
        if username is not None:
            answer = made.sign_in(username)
            assert answer.status_code == 302, answer.get_data(as_text=True)
            made.csrf = None  # a fresh session has a fresh token
        return made

    yield make
