"""Where the body-first bridge (api/bridge.py) runs a request: the event loop or the pool.

Driven in-process with a stand-in for granian's RSGI scope and protocol, so that
the app can tell which thread runs it and how often it is called.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from api.bridge import WsgiBridge
from engine.runtime.waits import HandOver, patience


@dataclass
class Scope:
    method: str
    headers: dict[str, str]
    path: str = "/api/v1/tasks/t1/documents"
    query_string: str = ""
    server: str = "127.0.0.1:8000"
    client: str = "127.0.0.1:50000"
    http_version: str = "1.1"
    scheme: str = "http"
    authority: str = ""


@dataclass
class Proto:
    body: bytes
    answers: list[tuple[int, bytes]] = field(default_factory=list)

    async def __call__(self) -> bytes:
        return self.body

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.answers.append((status, body))


class RecordingApp:
    """A WSGI app that notes, per call, its thread and whether it may wait; like an
    upload, it hands over when it may not wait (after reading its whole body)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bool]] = []

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = environ["wsgi.input"].read()
        impatient = patience() is not None
        self.calls.append((threading.current_thread().name, impatient))
        upload = (environ["REQUEST_METHOD"] == "POST"
                  and environ.get("CONTENT_TYPE", "").startswith("multipart/"))
        if impatient and upload:
            raise HandOver("a file is to be written to disk")
        start_response("200 OK", [("content-type", "text/plain")])
        return [body]


def serve(scope: Scope, body: bytes = b"x") -> tuple[RecordingApp, Proto]:
    app = RecordingApp()
    bridge = WsgiBridge(app, max_body=1024, threads=1)
    proto = Proto(body)
    try:
        asyncio.run(bridge.__rsgi__(scope, proto))
    finally:
        bridge.pool.shutdown(wait=True)
    return app, proto


def test_an_upload_runs_once_and_in_the_pool() -> None:
    app, proto = serve(Scope("POST", {"content-type": "Multipart/Form-Data; boundary=b",
                                      "content-length": "1"}))
    assert proto.answers == [(200, b"x")]
    [(thread, impatient)] = app.calls  # not first in the loop, only to be handed over
    assert thread.startswith("sertiflow-app") and not impatient


def test_a_json_command_and_a_multipart_read_run_in_the_loop() -> None:
    json_post = Scope("POST", {"content-type": "application/json", "content-length": "1"})
    multipart_get = Scope("GET", {"content-type": "multipart/form-data; boundary=b"})
    for scope in (json_post, multipart_get):
        app, proto = serve(scope)
        assert proto.answers and proto.answers[0][0] == 200
        [(thread, impatient)] = app.calls
        assert thread == threading.current_thread().name and impatient


class LockWaitingApp(RecordingApp):
    """Like :class:`RecordingApp`; a request to ``/held`` meets a row lock: it hands
    over when it may not wait, and in the pool waits until ``released`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = threading.Event()
        self.released = threading.Event()

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/held":
            self.calls.append((threading.current_thread().name, patience() is not None))
            if patience() is not None:
                raise HandOver("another transaction holds a row this command must lock")
            self.waiting.set()
            assert self.released.wait(10)
            start_response("200 OK", [("content-type", "text/plain")])
            return [b"done"]
        return super().__call__(environ, start_response)


def _a_write_beside_a_held_one(*, writes_take_turns: bool) -> list[tuple[str, bool]]:
    """Where a JSON command runs while another, handed over, waits in the pool."""
    app = LockWaitingApp()
    bridge = WsgiBridge(app, max_body=1024, threads=1, writes_take_turns=writes_take_turns)
    command = {"content-type": "application/json", "content-length": "1"}

    async def both() -> None:
        held = asyncio.ensure_future(
            bridge.__rsgi__(Scope("POST", command, path="/held"), Proto(b"x")))
        while not app.waiting.is_set():
            await asyncio.sleep(0.01)
        second = asyncio.ensure_future(bridge.__rsgi__(Scope("POST", command), Proto(b"y")))
        await asyncio.sleep(0.2)  # room to run: in the loop it is done by now
        app.released.set()
        await asyncio.gather(held, second)

    try:
        asyncio.run(both())
    finally:
        app.released.set()
        bridge.pool.shutdown(wait=True)
    held_in_loop, held_in_pool, second = app.calls
    assert held_in_loop[1] and not held_in_pool[1]  # handed over, then waited
    return [held_in_pool, second]


def test_with_postgresql_a_write_runs_in_the_loop_while_another_waits_for_a_lock() -> None:
    held, second = _a_write_beside_a_held_one(writes_take_turns=False)
    assert second == (threading.current_thread().name, True)
    assert held[0].startswith("sertiflow-app")


def test_with_sqlite_a_write_queues_behind_the_one_handed_over() -> None:
    _, second = _a_write_beside_a_held_one(writes_take_turns=True)
    assert second[0].startswith("sertiflow-app") and not second[1]
