"""Serve a WSGI app (Flask) through granian's RSGI interface, body first.

granian's own WSGI interface hands a request to a Python thread as soon as its
headers are in, and that thread then waits on the client for the body: one slow
upload holds a thread, and with one thread it holds every other request (seen:
a client dribbling a 100 kB body stopped ``/healthz`` for as long as it liked).
Here the worker's event loop awaits the whole body, which holds no thread,
answers 413 without reading a body longer than the limit, and only then calls
the app, either

- in the event loop's own thread (``threads=1``, the default): a process then runs
  Python in one thread only, and no time goes to handing the GIL between threads.
  With SQLite, whose writes take turns anyway, this serves the most requests; with
  PostgreSQL too, when a node runs one such process per core (on two cores, one
  process in the loop spent 18-20 ms of CPU per bench instance against 22-24 with
  8 threads, and two processes served more than either). A request that would wait
  longer than :data:`LOOP_PATIENCE` there (a script running to its time limit, the
  writer held by another command, a row another PostgreSQL transaction has locked)
  rolls back and is run again in a thread of its own (:mod:`engine.runtime.waits`),
  so the loop goes on serving. With SQLite, while such a request runs, other
  commands queue behind it in that thread (they would wait for the same writer)
  and reads stay in the loop; with PostgreSQL (``writes_take_turns=False``) other
  commands go on in the loop, and up to :data:`HANDOVER_THREADS` handed-over
  requests wait at once. Multipart writes (uploads) go to the pool straight away:
  an upload always waits on the disk, so in the loop it would only parse its
  body and check its target to be handed over and do it all again; or
- in a pool of ``threads`` threads (``--threads``), where a request's waits on the
  database overlap other requests' Python at the price of the GIL's hand-overs.

Responses up to :data:`STREAM_ABOVE` bytes go out in one piece; longer ones
(document downloads) are streamed as the app yields them.
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from granian.rsgi import ProtocolClosed

from engine.runtime.waits import HandOver, impatient

from .errors import PROBLEM, problem_document

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# A response body collected up to this size is sent whole; past it, streamed.
STREAM_ABOVE = 256 * 1024

# How long a request may wait in the event loop's thread before it is handed over.
LOOP_PATIENCE = 0.1
# Threads for the requests handed over from the loop, when writes do not take turns
# (PostgreSQL): each may wait on a different row's lock.
HANDOVER_THREADS = 4
# Methods that only read: they stay in the loop while a command runs in the pool.
_READS = frozenset({"GET", "HEAD", "OPTIONS"})
# The body of an upload: a write with it starts in the pool (see the module's docstring).
_MULTIPART = "multipart/form-data"

# Headers that the WSGI environ carries without the HTTP_ prefix.
_UNPREFIXED = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}


class BodyTooLarge(Exception):
    """The client sends more than the server accepts."""


class WsgiBridge:
    """An RSGI application that runs a WSGI application, one request at a time per thread."""

    def __init__(self, app: WsgiApp, *, max_body: int, threads: int = 1,
                 writes_take_turns: bool = True) -> None:
        self.app = app
        self.max_body = max_body
        self.threads = threads
        # With one thread requests run in the event loop; the pool takes the long ones.
        self.in_loop = threads == 1
        # Whether one write at a time can run (SQLite): then a write handed over holds
        # up the others, and one thread for them is all they could use.
        self.writes_take_turns = writes_take_turns
        size = threads if not self.in_loop or writes_take_turns else HANDOVER_THREADS
        self.pool = ThreadPoolExecutor(size, thread_name_prefix="sertiflow-app")
        self._handed_over = 0  # requests running in the pool for want of patience
        self._constant: dict[str, Any] = {
            "SCRIPT_NAME": "",
            "SERVER_SOFTWARE": "sertiflow (granian)",
            "wsgi.version": (1, 0),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            # The body is complete and wsgi.input ends where it ends.
            "wsgi.input_terminated": True,
        }

    # -- RSGI ------------------------------------------------------------------------

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        try:
            body = await self._body(scope, proto)
        except BodyTooLarge:
            self._refuse_too_large(scope, proto)
            return
        except ProtocolClosed:
            return  # the client went away before its body was complete: nothing to run
        in_loop = self.in_loop and _fits_the_loop(
            scope, handed_over=self._handed_over if self.writes_take_turns else 0)
        if in_loop:
            try:
                with impatient(LOOP_PATIENCE):
                    answer = self._call(self.environ(scope, body))
            except HandOver:  # rolled back: run it again where it may wait
                in_loop = False
        if not in_loop:
            answer = await self._in_pool(self.environ(scope, body))
        await self._send(proto, answer, in_loop=in_loop)

    async def _in_pool(self, environ: dict[str, Any]) -> _Answer:
        self._handed_over += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self.pool, self._call, environ)
        finally:
            self._handed_over -= 1

    def __rsgi_del__(self, loop: Any) -> None:
        self.pool.shutdown(wait=False)

    # -- request -----------------------------------------------------------------------

    async def _body(self, scope: Any, proto: Any) -> bytes:
        """Read the whole body, or raise :class:`BodyTooLarge` past ``max_body``."""
        headers = scope.headers
        declared = headers.get("content-length")
        if declared is not None:
            # hyper has checked it is a number; only its size is ours to judge.
            if int(declared) > self.max_body:
                raise BodyTooLarge
            return await proto() if declared != "0" else b""
        if scope.http_version.startswith("1") and "transfer-encoding" not in headers:
            return b""  # HTTP/1 without a length or chunks: no body
        parts, size = [], 0
        async for chunk in proto:
            size += len(chunk)
            if size > self.max_body:
                raise BodyTooLarge
            parts.append(chunk)
        return b"".join(parts)

    def environ(self, scope: Any, body: bytes) -> dict[str, Any]:
        """The WSGI environ (PEP 3333) of an RSGI request scope and its body."""
        server_host, _, server_port = scope.server.rpartition(":")
        client_host, _, client_port = scope.client.rpartition(":")
        environ = dict(self._constant)
        environ.update({
            "REQUEST_METHOD": scope.method,
            # WSGI carries the decoded path's bytes as a latin-1 string.
            "PATH_INFO": scope.path.encode("utf-8", "surrogateescape").decode("latin-1"),
            "QUERY_STRING": scope.query_string,
            "SERVER_NAME": server_host.strip("[]"),
            "SERVER_PORT": server_port,
            "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
            "REMOTE_ADDR": client_host.strip("[]"),
            "REMOTE_PORT": client_port,
            "wsgi.url_scheme": scope.scheme,
            "wsgi.input": io.BytesIO(body),
        })
        for name, value in scope.headers.items():
            key = _UNPREFIXED.get(name) or "HTTP_" + name.upper().replace("-", "_")
            if key in environ:
                # Repeated headers become one, as RFC 9110 allows (cookies by "; ").
                value = environ[key] + ("; " if key == "HTTP_COOKIE" else ", ") + value
            environ[key] = value
        if "HTTP_HOST" not in environ and scope.authority:
            environ["HTTP_HOST"] = scope.authority  # HTTP/2 names the host in :authority
        return environ

    # -- response ----------------------------------------------------------------------

    def _call(self, environ: dict[str, Any]) -> _Answer:
        """Run the app; collect its status, headers and the first part of its body."""
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Callable[[bytes], None]:
            started[:] = [status, headers]  # nothing is sent before the app returns
            return _no_write

        result = self.app(environ, start_response)
        rest: Iterator[bytes] = iter(result)
        head: list[bytes] = []
        size = 0
        try:
            for chunk in rest:
                head.append(chunk)
                size += len(chunk)
                if size >= STREAM_ABOVE:
                    return _Answer(int(started[0][:3]), started[1], head, rest, result)
        except BaseException:
            _close(result)
            raise
        _close(result)
        return _Answer(int(started[0][:3]), started[1], head, None, None)

    async def _send(self, proto: Any, answer: _Answer, *, in_loop: bool) -> None:
        if answer.rest is None:
            proto.response_bytes(answer.status, answer.headers, b"".join(answer.head))
            return
        try:
            transport = proto.response_stream(answer.status, answer.headers)
            for chunk in answer.head:
                await transport.send_bytes(chunk)
            while True:
                if in_loop:
                    more = _next_chunk(answer.rest)
                else:
                    loop = asyncio.get_running_loop()
                    more = await loop.run_in_executor(self.pool, _next_chunk, answer.rest)
                if more is None:
                    break
                await transport.send_bytes(more)
        finally:
            _close(answer.result)

    def _refuse_too_large(self, scope: Any, proto: Any) -> None:
        document = problem_document(
            413, "Request Entity Too Large",
            f"the request body is larger than the {self.max_body} bytes accepted",
            instance=scope.path)
        proto.response_bytes(413, [("content-type", PROBLEM), ("connection", "close")],
                             json.dumps(document).encode())


def _fits_the_loop(scope: Any, *, handed_over: int) -> bool:
    """Whether the request may start in the event loop (of a one-thread bridge).

    Reads may, always; a write may not while another request runs in the pool and
    writes take turns (it would queue behind it for the writer; ``handed_over`` is
    0 when they do not), nor when it carries a multipart body:
    a file to write, which :meth:`~engine.documents.service.DocumentService.upload`
    never does in the loop.
    """
    if scope.method in _READS:
        return True
    if handed_over:
        return False
    return not scope.headers.get("content-type", "").lower().startswith(_MULTIPART)


class _Answer:
    __slots__ = ("head", "headers", "rest", "result", "status")

    def __init__(self, status: int, headers: list[tuple[str, str]], head: list[bytes],
                 rest: Iterator[bytes] | None, result: Iterable[bytes] | None) -> None:
        self.status = status
        self.headers = headers
        self.head = head
        self.rest = rest
        self.result = result


def _no_write(data: bytes) -> None:
    raise NotImplementedError("write() of start_response is not supported; return the body")


def _next_chunk(chunks: Iterator[bytes]) -> bytes | None:
    return next(chunks, None)


def _close(result: Any) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()
