"""The script process: runs every script and expression in a child forked for it.

The engine starts this program (``python -m engine.scripting.zygote``) and
sends it requests on standard input; it answers each on standard output. It
never runs analysts' code itself. For each request it forks a child, which

- sets its CPU-time limit, decodes the variables it is given, then limits its
  address space to what it uses now plus the memory budget, so any allocation
  past the budget, in Python or C, fails with MemoryError;
- runs the code with :class:`engine.scripting.local.LocalSandbox`;
- answers with the variables the script changed, each checked to be process
  data (:mod:`engine.scripting.values`), or with the error; and exits.

The parent kills the child at its deadline, whatever it is doing (work inside
one C call such as ``sum`` over a long list included), and answers with a
timeout. A child is used once: whatever a script leaves behind in module,
class or function state dies with it, so no script ever sees another's.

Frames (:mod:`engine.scripting.frames`): a request's JSON header has ``mode``,
``source``, ``timeout`` in seconds and ``memory`` in bytes; its body
``variables`` and ``extra``.
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import os
import resource
import select
import signal
import time
from typing import Any

from .context import Context
from .errors import (
    ScriptError,
    ScriptMemoryError,
    UnstorableValue,
    kind_of,
)
from .frames import ANSWER, READY, REQUEST, read_exactly, write_all
from .local import LocalSandbox, compile_source, timeout_error
from .values import RESULT, dumps, encode_inputs, encode_storable, loads_inputs

# Time the child has past its deadline to report a timeout its checkpoints
# noticed (with the line) before it is killed.
GRACE = 0.25
MAX_ANSWER = 256 * 1024 * 1024


def _error(exc: BaseException, memory: int) -> dict[str, Any]:
    kind = kind_of(exc)
    if isinstance(exc, ScriptError):
        message = exc.message
        if kind == "memory":
            message = (f"{message.split(' needed ')[0]} needed more than the "
                       f"{memory // (1024 * 1024)} MB of memory a script may use")
    else:  # not the script's doing: say what, without a traceback
        message = f"{type(exc).__name__}: {exc}"
    answer: dict[str, Any] = {"ok": False, "kind": kind, "message": message,
                              "line": getattr(exc, "line", None),
                              "variable": getattr(exc, "variable", None)}
    cause = exc.__cause__
    if cause is not None:
        answer["cause"] = type(cause).__name__
        if isinstance(cause, NameError):
            answer["name"] = cause.name
    return answer


# -- the child -----------------------------------------------------------------------

def _address_space() -> int:
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def _run(header: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    sandbox = LocalSandbox(timeout=float(header["timeout"]))
    variables: dict[str, Any] = request["variables"]
    extra = request["extra"] or None
    context = None
    if header.get("context") is not None:
        # Camunda's execution and task objects (listeners, mappings), over the variables.
        context = Context(variables, header["context"])
        extra = {**(extra or {}), **context.names()}
    before = None
    if header["mode"] == "exec" or context is not None:
        before = {name: dumps(encoded) for name, encoded in
                  encode_inputs(variables, list(variables)).items()}
    answer: dict[str, Any] = {"ok": True}
    if header["mode"] == "eval":
        value = sandbox.evaluate(header["source"], variables, extra=extra)
        answer["value"] = encode_storable(RESULT, value)
    else:
        sandbox.run(header["source"], variables, extra=extra)
    if before is not None:
        answer["changes"], answer["deleted"] = _changes(before, variables)
    if context is not None:
        answer["effects"] = context.effects()
    return answer


def _changes(before: dict[str, bytes], variables: dict[str, Any]
             ) -> tuple[dict[str, Any], list[str]]:
    """The variables a run set or changed (each checked to be process data), and those removed."""
    changes = {}
    for name, value in variables.items():
        try:
            now = dumps(encode_inputs(variables, [name])[name])
        except ScriptError:
            now = None
        if now is None or before.get(name) != now:
            changes[name] = encode_storable(name, value)
    deleted = [name for name in before if name not in variables]
    return changes, deleted


def _child(header: dict[str, Any], body: bytes, answer_fd: int) -> None:
    """Run one request and write the answer (in the forked child; never returns)."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # the parent's pipes are not the script's to write to
        os.dup2(devnull, fd)
    timeout, memory = float(header["timeout"]), int(header["memory"])
    # A backstop for the parent's kill: the kernel ends a child that computes too long.
    cpu = math.ceil(timeout + GRACE) + 1
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    resource.setrlimit(resource.RLIMIT_CPU,
                       (cpu if hard == resource.RLIM_INFINITY else min(cpu, hard), hard))
    memory_error = dumps(_error(ScriptMemoryError("the script needed more memory"), memory))
    try:
        request = loads_inputs(body)
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        limit = _address_space() + memory
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        answer = dumps(_run(header, request))
    except MemoryError:
        answer = memory_error
    except BaseException as exc:
        try:
            answer = dumps(_error(exc, memory))
        except MemoryError:
            answer = memory_error
    write_all(answer_fd, answer)
    os._exit(0)


# -- the parent of the children ---------------------------------------------------------

def _wait_for_child(pid: int, fd: int, timeout: float, mode: str) -> dict[str, Any] | bytes:
    """The child's answer, or an error answer when it overran, crashed or said too much."""
    deadline = time.monotonic() + timeout + GRACE
    parts, size, overran = [], 0, False
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            overran = True
            break
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
        if size > MAX_ANSWER:
            break
    if overran or size > MAX_ANSWER:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if overran:
        return _error(timeout_error(mode, timeout, None), 0)
    if size > MAX_ANSWER:
        return _error(UnstorableValue("the script left more data than can be kept", ""), 0)
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        if number in (signal.SIGXCPU, signal.SIGKILL):
            return _error(timeout_error(mode, timeout, None), 0)
        return {"ok": False, "kind": "crash", "line": None, "variable": None,
                "message": f"the script's process ended abruptly ({signal.Signals(number).name})"}
    return b"".join(parts)


def serve_one(header: dict[str, Any], body: bytes) -> bytes:
    """Fork a child for one request and return its answer's JSON."""
    _compile_ahead(header)
    read_fd, write_fd = os.pipe()
    try:
        pid = os.fork()
    except OSError as exc:  # out of processes or memory: the engine gets to say so
        os.close(read_fd)
        os.close(write_fd)
        return dumps({"ok": False, "kind": "crash", "line": None, "variable": None,
                      "message": f"the script could not be started ({exc.strerror})"})
    if pid == 0:
        try:
            os.close(read_fd)
            _child(header, body, write_fd)
        finally:
            os._exit(70)
    os.close(write_fd)
    try:
        answer = _wait_for_child(pid, read_fd, float(header["timeout"]), header["mode"])
    finally:
        os.close(read_fd)
    return answer if isinstance(answer, bytes) else dumps(answer)


def _compile_ahead(header: dict[str, Any]) -> None:
    """Compile the code here, so that every child inherits it from the cache.

    The engine compiled the same source before sending it, so this is known to
    end well; the children then skip the check, rewrite and compile (about half
    of a run's cost).
    """
    source = header.get("source")
    if isinstance(source, str):
        with contextlib.suppress(ScriptError):
            compile_source(source, header["mode"])


def main() -> None:
    # Ctrl-C in a terminal reaches the whole process group; the engine decides.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # What this process holds lives as long as it does; frozen, a child's
    # collections leave it alone instead of touching (and so copying) its pages.
    gc.collect()
    gc.freeze()
    requests, answers = 0, os.dup(1)
    os.dup2(2, 1)  # a stray print must not corrupt the answers
    write_all(answers, READY)
    while True:
        try:
            header_size, body_size = REQUEST.unpack(read_exactly(requests, REQUEST.size))
            header = read_exactly(requests, header_size)
            body = read_exactly(requests, body_size)
        except EOFError:
            return  # the engine closed the pipe: it is gone or done
        answer = serve_one(json.loads(header), body)
        write_all(answers, ANSWER.pack(len(answer)) + answer)


if __name__ == "__main__":
    main()
