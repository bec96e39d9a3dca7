"""A real HTTP server (Werkzeug's, in a thread) around a fresh engine, and HTTP clients.

The production server (granian and api/bridge.py) runs as a process in test_server.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from api import create_app
from engine.composition import Engine
from tests.people import COMPANY, OTHER_COMPANY, PASSWORD, add_users, serving

# user name -> (roles, company)
USERS: dict[str, tuple[list[str], str | None]] = {
    "upp1": (["upp"], None),
    "auditor1": (["auditor"], None),
    "auditor2": (["auditor"], None),
    "ppc1": (["ppc"], None),
    "teknis1": (["tim-teknis"], None),
    "admin1": (["admin"], None),
    "analyst1": (["analyst"], None),
    "cust1": (["pelanggan"], COMPANY),
    "cust2": (["pelanggan"], OTHER_COMPANY),
}


class Client:
    """A signed-in HTTP client of the API."""

    def __init__(self, base: str, username: str | None = None) -> None:
        self.base = base
        self.http = requests.Session()
        self.username = username
        if username is not None:
            answer = self.http.post(f"{base}/api/v1/auth/token",
                                    json={"username": username, "password": PASSWORD})
            assert answer.status_code == 201, answer.text
            self.http.headers["Authorization"] = f"Bearer {answer.json()['token']}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self.base + path, timeout=30, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.post(self.base + path, timeout=30, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.delete(self.base + path, timeout=30, **kwargs)


@pytest.fixture
def server(engine: Engine) -> Iterator[str]:
    add_users(engine, USERS)
    with serving(create_app(engine.settings, engine=engine)) as base:
        yield base


@pytest.fixture
def as_user(server: str) -> Any:
    """``as_user("auditor1")`` gives a signed-in client (cached per user)."""
    clients: dict[str, Client] = {}

    def make(username: str) -> Client:
        if username not in clients:
            clients[username] = Client(server, username)
        return clients[username]

    return make


@pytest.fixture
def anonymous(server: str) -> Client:
    return Client(server)
