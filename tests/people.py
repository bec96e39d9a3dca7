"""Users and a live server shared by the API, page and browser tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import make_server

from engine.engine import Engine

PASSWORD = "correct-horse-battery"
COMPANY = "PT Maju Jaya"
OTHER_COMPANY = "PT Lain Sekali"

# user name -> (roles, company)
Users = Mapping[str, tuple[list[str], str | None]]


def add_users(engine: Engine, users: Users) -> None:
    """Create each user with the shared password, their roles and company."""
    with engine.write() as s:
        for name, (roles, company) in users.items():
            s.identity.add_user(name, PASSWORD, roles=roles, company=company)


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port) in a thread; yield its base address.

    The tests share an engine with the app, so the app runs in this process,
    under Werkzeug's threaded server. The production server (granian, whose
    workers are processes) is exercised by tests/api/test_server.py and
    bench/api.py.
    """
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
        thread.join(timeout=10)
