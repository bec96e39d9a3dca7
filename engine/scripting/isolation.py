"""The engine's side of the sandbox: where each piece of analysts' code runs.

A *plain* expression (comparisons, lookups, a few bounded builtins: what
gateway conditions are made of; see :func:`engine.scripting.restricted.facts`)
costs at most a pass over the data it reads and is evaluated here, in the
engine's process. Everything else, every script task and every expression that
calls, loops or builds values, runs in a child process forked for that one run
by a script process (:mod:`engine.scripting.zygote`), with a hard time limit
(the child is killed at its deadline, whatever it is doing), a memory budget
(an address-space limit), and nothing shared with any other run.

A script is given only the variables it names (it has no way to reach others)
and answers with those it changed; both travel as JSON
(:mod:`engine.scripting.values`), so nothing but process data comes back.

Each engine process keeps a few script processes (one per thread that runs
code at the same time, up to :data:`MAX_PROCESSES`); they start on first use
and end when the engine's process does.
"""

from __future__ import annotations

import atexit
import builtins
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import CodeType
from typing import Any

from engine.runtime.waits import HandOver, patience

from .errors import (
    KINDS,
    ScriptError,
    UnstorableValue,
)
from .frames import ANSWER, READY, REQUEST, read_exactly, write_all
from .local import DEFAULT_TIMEOUT, LocalSandbox, compile_source
from .restricted import CodeFacts, facts
from .values import dumps, encode_inputs, loads_storable

DEFAULT_MEMORY_MB = 64
MAX_PROCESSES = 4
# How long past a script's own deadline the engine waits for the script
# process's answer before it takes that process for stuck and kills it.
PATIENCE = 5.0

# How long the script process may take to say it is ready.
STARTUP = 30.0
_ROOT = Path(__file__).resolve().parents[2]


class ScriptProcess:
    """One script process (a zygote) and the pipes to it."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-s", "-m", "engine.scripting.zygote"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=_ROOT, close_fds=True,
            # Its own session: a Ctrl-C meant for the server does not reach it.
            start_new_session=True,
            # Nothing of the engine's environment (database URL, secrets) goes along.
            env={"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8",
                 "PYTHONDONTWRITEBYTECODE": "1"},
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self._to = self.process.stdin.fileno()
        self._from = self.process.stdout.fileno()
        # It says it is ready once it has imported what its children need: the
        # wait for a script's answer then counts the script alone.
        try:
            if read_exactly(self._from, len(READY), time.monotonic() + STARTUP) != READY:
                raise EOFError("the script process said something else than ready")
        except (TimeoutError, EOFError):
            self.kill()
            raise

    def call(self, header: bytes, body: bytes, wait: float) -> bytes:
        """Send one request and return its answer; OSError when the process failed."""
        write_all(self._to, REQUEST.pack(len(header), len(body)) + header + body)
        deadline = time.monotonic() + wait
        (size,) = ANSWER.unpack(read_exactly(self._from, ANSWER.size, deadline))
        return read_exactly(self._from, size, deadline)

    def kill(self) -> None:
        """End the process and the child running a script now, whatever they do."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # its own group (new session)
        self.close()

    def close(self) -> None:
        """Stop the process: it ends when its input closes; kill it if it does not."""
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
            if self.process.stdout is not None:
                self.process.stdout.close()
            self.process.wait(timeout=1)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()


class ScriptHost:
    """The script processes of this engine process, shared by its threads."""

    def __init__(self, size: int = MAX_PROCESSES) -> None:
        self.size = size
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._idle: list[ScriptProcess] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(self.size)

    def call(self, header: bytes, body: bytes, wait: float) -> bytes:
        """Run one request in an idle script process (started if none is idle).

        :raises HandOver: when the caller's patience (:mod:`engine.runtime.waits`) ran
            out first; the script and its process are killed.
        """
        limit = patience()
        if os.getpid() != self._pid:
            self._reset()  # forked: the parent's processes are not ours to use
        if not self._slots.acquire(timeout=-1 if limit is None else limit):
            raise HandOver("every script process is busy")
        try:
            return self._call(header, body, wait, limit)
        finally:
            self._slots.release()

    def _call(self, header: bytes, body: bytes, wait: float, limit: float | None) -> bytes:
        with self._lock:
            process = self._idle.pop() if self._idle else None
        for attempt in (1, 2):
            if process is None:
                try:
                    process = ScriptProcess()
                except (OSError, EOFError, TimeoutError) as exc:
                    if attempt == 2:
                        raise ScriptError("the script could not be run: its process did "
                                          f"not start ({exc})") from exc
                    continue
            try:
                answer = process.call(header, body, wait if limit is None else min(wait, limit))
            except TimeoutError as exc:
                process.kill()
                if limit is not None and limit < wait:
                    raise HandOver("the script runs longer than the caller can wait") from exc
                raise ScriptError(
                    "the script could not be run: its process stopped answering") from exc
            except (OSError, EOFError) as exc:
                process.close()
                process = None
                # A process that died between requests gets one successor.
                if attempt == 2:
                    raise ScriptError(
                        "the script could not be run: its process stopped answering") from exc
                continue
            with self._lock:
                self._idle.append(process)
            return answer
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for process in idle:
            process.close()


HOST = ScriptHost()
atexit.register(HOST.close)


class Sandbox:
    """Runs scripts and evaluates expressions with one time limit and one memory budget."""

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT,
                 memory_mb: int = DEFAULT_MEMORY_MB, host: ScriptHost | None = None) -> None:
        self.timeout = timeout
        self.memory_mb = memory_mb
        self._local = LocalSandbox(timeout=timeout)
        self._host = host or HOST

    def run(self, source: str, variables: dict[str, Any], *,
            extra: Mapping[str, Any] | None = None,
            context: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run a script on ``variables``, updating them with what it changed.

        Top-level assignments and deletions reach ``variables``; functions and
        new names starting with "_" do not. ``extra`` adds read-only names.
        ``context`` describes the instance and element for Camunda's
        ``execution`` and ``task`` objects (:mod:`engine.scripting.context`);
        the code then sees every variable. Returns what the code asked beyond
        its variables (:meth:`~engine.scripting.context.Context.effects`).
        Nothing changes when the script fails.
        """
        found = _facts(compile_source(source, "exec"))
        answer = self._isolated("exec", source, found, variables, extra, context)
        _apply(answer, variables)
        return dict(answer.get("effects") or {})

    def evaluate(self, expression: str | CodeType, variables: Mapping[str, Any], *,
                 extra: Mapping[str, Any] | None = None) -> Any:
        """Evaluate a Python expression (source text or code from compile_restricted)."""
        code = (expression if isinstance(expression, CodeType)
                else compile_source(expression.strip(), "eval"))
        found = _facts(code)
        if found.plain:
            return self._local.evaluate(code, variables, extra=extra)
        return self._isolated("eval", found.source, found, variables, extra)["value"]

    def evaluate_in_context(self, code: CodeType, variables: dict[str, Any],
                            context: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        """Evaluate an expression that may use ``execution``/``task``/``now()``.

        Such an expression may change variables (``execution.setVariable``):
        ``variables`` is updated. Returns the value and the effects, as :meth:`run`.
        """
        found = _facts(code)
        answer = self._isolated("eval", found.source, found, variables, None, context)
        _apply(answer, variables)
        return answer["value"], dict(answer.get("effects") or {})

    def _isolated(self, mode: str, source: str, found: CodeFacts,
                  variables: Mapping[str, Any], extra: Mapping[str, Any] | None,
                  context: Mapping[str, Any] | None = None) -> Any:
        header: dict[str, Any] = {"mode": mode, "source": source, "timeout": self.timeout,
                                  "memory": self.memory_mb * 1024 * 1024}
        names: Any = found.names
        if context is not None:
            # execution.getVariable('x') names x only in a string: send them all.
            header["context"] = context
            names = list(variables)
        body = dumps({
            "variables": encode_inputs(variables, names),
            "extra": encode_inputs(extra, set(names) - variables.keys()) if extra else {},
        })
        raw = self._host.call(dumps(header), body, self.timeout + PATIENCE)
        try:
            answer = loads_storable(raw)
        except (ValueError, RecursionError) as exc:
            raise ScriptError("the script's process answered with something that is not "
                              "process data") from exc
        if not answer.get("ok"):
            raise _error(answer)
        return answer


def _apply(answer: Mapping[str, Any], variables: dict[str, Any]) -> None:
    """Apply the variables a run changed and removed."""
    for name in answer.get("deleted") or ():
        variables.pop(name, None)
    variables.update(answer.get("changes") or {})


def _facts(code: CodeType) -> CodeFacts:
    found = facts(code)
    if found is None:
        raise ValueError("code to run in the sandbox must come from compile_restricted")
    return found


def _error(answer: Mapping[str, Any]) -> ScriptError:
    """The exception a script process reported, as the engine's own type."""
    message, line = str(answer.get("message")), answer.get("line")
    if answer.get("kind") == "data":
        error: ScriptError = UnstorableValue(message, str(answer.get("variable") or ""))
    else:
        error = KINDS.get(str(answer.get("kind")), ScriptError)(
            message, line if isinstance(line, int) else None)
    cause = getattr(builtins, str(answer.get("cause")), None)
    if isinstance(cause, type) and issubclass(cause, Exception):
        # The script's own exception type, for SpiffWorkflow's "did you mean" hints.
        if cause is NameError and answer.get("name"):
            error.__cause__ = NameError(f"name '{answer['name']}' is not defined",
                                        name=str(answer["name"]))
        else:
            # An exception type that wants more arguments is left out.
            with contextlib.suppress(TypeError):
                error.__cause__ = cause(message.split(": ", 1)[-1])
    return error


_DEFAULT = Sandbox()


def _sandbox(timeout: float, memory_mb: int) -> Sandbox:
    if timeout == DEFAULT_TIMEOUT and memory_mb == DEFAULT_MEMORY_MB:
        return _DEFAULT
    return Sandbox(timeout=timeout, memory_mb=memory_mb)


def run_script(source: str, variables: dict[str, Any], *, timeout: float = DEFAULT_TIMEOUT,
               memory_mb: int = DEFAULT_MEMORY_MB) -> None:
    """Run a script task's source on ``variables``; see :meth:`Sandbox.run`."""
    _sandbox(timeout, memory_mb).run(source, variables)


def evaluate(expression: str | CodeType, variables: Mapping[str, Any], *,
             timeout: float = DEFAULT_TIMEOUT, memory_mb: int = DEFAULT_MEMORY_MB) -> Any:
    """Evaluate a Python expression on ``variables``; see :meth:`Sandbox.evaluate`."""
    return _sandbox(timeout, memory_mb).evaluate(expression, variables)
