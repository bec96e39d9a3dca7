"""Rendering generated documents in a child process: the server's interpreter stays free.

A PDF costs WeasyPrint hundreds of milliseconds of pure Python. Made by a thread of
the server process, it holds the interpreter lock that every request needs, so the
requests of the same moment wait for it. :class:`RenderProcess` hands each render to
a child process instead, over a pair of pipes: the thread that asked waits on the
pipe (without the lock) and the child's CPU is a second core's.

The protocol is small and private to this module: a request is two frames (the
renderer's name, its frozen input), an answer a status byte and one frame (the
file's bytes, or the error's words). A frame is a 4-byte big-endian length and the
bytes.

Ending cleanly matters more than anything here (an earlier process pool made
``sertiflow serve`` hang on SIGTERM, its manager joining children that held a pipe):

- the parent never waits for the child at exit: its end of the request pipe closes
  with the process, the child reads end-of-file and leaves;
- the child also watches its parent (``getppid`` every :data:`WATCH_S` seconds), so a
  parent killed with SIGKILL in the middle of a render leaves no orphan behind;
- the child ignores SIGINT (a Ctrl-C in a terminal is the server's to handle) and
  never writes to the standard output it inherited.

A child that died or stopped answering is killed and replaced at the next render;
the render it was doing fails like any renderer failure (the queue retries it).
"""

from __future__ import annotations

import importlib
import logging
import os
import select
import signal
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Final

log = logging.getLogger(__name__)

#: The environment variable that tells the child which descriptors are its pipes.
FDS_ENV: Final = "SERTIFLOW_RENDER_FDS"
#: The one that tells it its renderers: ``name=module:function`` separated by commas.
RENDERERS_ENV: Final = "SERTIFLOW_RENDERERS"
#: How often the child checks that its parent is still there.
WATCH_S: Final = 1.0
#: The longest one render may take before the child is deemed stuck and killed.
RENDER_TIMEOUT_S: Final = 120.0
#: The longest the child may take to start (import its renderers) before it says ready.
START_TIMEOUT_S: Final = 120.0
_LENGTH = struct.Struct("!I")
_OK, _FAILED, _READY = b"\x00", b"\x01", b"R"


class RenderProcessError(RuntimeError):
    """The render child failed to make a file (its renderer's error, or its own death)."""


# -- framing ---------------------------------------------------------------------------------


def _write_frames(fd: int, *frames: bytes, head: bytes = b"") -> None:
    payload = head + b"".join(_LENGTH.pack(len(frame)) + frame for frame in frames)
    view = memoryview(payload)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes:
    """``size`` bytes from ``fd``; EOFError at end of file, TimeoutError past ``deadline``."""
    chunks: list[bytes] = []
    left = size
    while left:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError("the render process did not answer in time")
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other end of the render pipe closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_frame(fd: int, deadline: float | None = None) -> bytes:
    (length,) = _LENGTH.unpack(_read_exact(fd, _LENGTH.size, deadline))
    return _read_exact(fd, length, deadline)


# -- renderers by name ----------------------------------------------------------------------


def importable_name(function: Callable[..., object]) -> str | None:
    """``module:function`` naming ``function`` for another process, or None when it
    cannot be found by that name (a closure, a lambda, a bound method)."""
    module = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", "")
    if not module or not qualname or "<" in qualname or "." in qualname:
        return None
    try:
        found = getattr(importlib.import_module(module), qualname)
    except (ImportError, AttributeError):
        return None
    return f"{module}:{qualname}" if found is function else None


def import_renderers(spec: str) -> dict[str, Callable[[bytes], bytes]]:
    """The renderers ``name=module:function,...`` names, imported."""
    renderers: dict[str, Callable[[bytes], bytes]] = {}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        name, _, reference = entry.partition("=")
        module, _, attribute = reference.partition(":")
        renderers[name] = getattr(importlib.import_module(module), attribute)
    return renderers


# -- the parent's side -----------------------------------------------------------------------


class RenderProcess:
    """One child process that renders documents, started on first use, one render at a time.

    :param command: the child's command line; the child calls :func:`serve_child` with
        the renderers it builds (``python -m api.render_process`` for the server).
    :param env: its environment (this process's when None).
    """

    def __init__(self, command: Sequence[str], env: Mapping[str, str] | None = None,
                 *, timeout: float = RENDER_TIMEOUT_S) -> None:
        self.command = list(command)
        self.env = dict(os.environ if env is None else env)
        self.timeout = timeout
        self._lock = threading.Lock()
        self._child: subprocess.Popen[bytes] | None = None
        self._to_child = self._from_child = -1

    @property
    def pid(self) -> int | None:
        """The running child's process id, if one is running."""
        child = self._child
        return child.pid if child is not None and child.poll() is None else None

    def renderer(self, name: str) -> Callable[[bytes], bytes]:
        """A renderer (input in, bytes out) that has the child's ``name`` do the work."""

        def render(frozen: bytes) -> bytes:
            return self.render(name, frozen)

        return render

    def render(self, name: str, frozen: bytes) -> bytes:
        """The file the child's renderer ``name`` makes of ``frozen``.

        :raises RenderProcessError: when the renderer failed, or the child died or hung
            (it is then replaced at the next call).
        """
        with self._lock:
            try:
                self._ensure_child()
                _write_frames(self._to_child, name.encode(), frozen)
                deadline = time.monotonic() + self.timeout
                status = _read_exact(self._from_child, 1, deadline)
                body = _read_frame(self._from_child, deadline)
            except (OSError, EOFError, TimeoutError) as exc:
                self._discard_child()
                raise RenderProcessError(f"the render process failed: {exc}") from exc
        if status != _OK:
            raise RenderProcessError(body.decode("utf-8", "replace"))
        return body

    def close(self) -> None:
        """End the child (it leaves on its own when this process ends, too)."""
        with self._lock:
            self._discard_child()

    def _ensure_child(self) -> None:
        if self._child is not None and self._child.poll() is None:
            return
        self._discard_child()
        requests_r, requests_w = os.pipe()
        answers_r, answers_w = os.pipe()
        try:
            env = {**self.env, FDS_ENV: f"{requests_r},{answers_w}"}
            self._child = subprocess.Popen(
                self.command, env=env, pass_fds=(requests_r, answers_w),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        except BaseException:
            for fd in (requests_r, requests_w, answers_r, answers_w):
                os.close(fd)
            raise
        os.close(requests_r)  # the child's ends: ours must go, or no end-of-file reaches it
        os.close(answers_w)
        # Our ends must not leak into other children this process starts (they would
        # keep the pipe open after we are gone).
        os.set_inheritable(requests_w, False)
        os.set_inheritable(answers_r, False)
        self._to_child, self._from_child = requests_w, answers_r
        # It says when its renderers are imported: a slow start is not a slow render.
        if _read_exact(answers_r, 1, time.monotonic() + START_TIMEOUT_S) != _READY:
            raise EOFError("the render process did not start")
        log.info("document render process %d started", self._child.pid)

    def _discard_child(self) -> None:
        child, self._child = self._child, None
        for fd in (self._to_child, self._from_child):
            if fd >= 0:
                os.close(fd)
        self._to_child = self._from_child = -1
        if child is not None:
            if child.poll() is None:
                child.kill()
            child.wait()


# -- the child's side ------------------------------------------------------------------------


def serve_child(renderers: Mapping[str, Callable[[bytes], bytes]]) -> None:
    """Answer render requests on the pipes :data:`FDS_ENV` names until the parent is gone."""
    requests_fd, answers_fd = (int(fd) for fd in os.environ[FDS_ENV].split(","))
    os.write(answers_fd, _READY)
    while True:
        try:
            name = _read_frame(requests_fd).decode()
            frozen = _read_frame(requests_fd)
        except EOFError:
            return  # the parent closed its end: it ended, or closed us
        renderer = renderers.get(name)
        try:
            if renderer is None:
                raise LookupError(f"no renderer named {name!r} is installed")
            content = renderer(frozen)
        except Exception as exc:  # the renderer's failure is the document's, told back
            _write_frames(answers_fd, f"{type(exc).__name__}: {exc}".encode(), head=_FAILED)
            continue
        try:
            _write_frames(answers_fd, content, head=_OK)
        except BrokenPipeError:
            return


def _watch_parent(parent: int) -> None:
    """Leave at once when the parent is gone (killed in the middle of a render, say)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_S)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main() -> None:
    """The child's program: ``python -m engine.documents.render_process``, started by
    :class:`RenderProcess` with :data:`FDS_ENV` and :data:`RENDERERS_ENV` set."""
    # First of all: a Ctrl-C is the server's to handle, and a parent gone while the
    # renderers are still being imported (seconds on a loaded machine) ends us too.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _watch_parent(os.getppid())
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve_child(import_renderers(os.environ.get(RENDERERS_ENV, "")))


if __name__ == "__main__":
    main()
