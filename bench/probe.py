"""Where the time goes: timers wrapped around each layer's functions, in a bench or a server.

Not a script of its own: ``bench/breakdown.py`` imports it, and starts a server
whose worker installs it (``python -m bench.probe``: granian serving
:func:`probed_app`, the production worker with the probe in it).

A :class:`Probe` keeps, per layer, the wall and CPU time spent in that layer's
own code (exclusive: the time of a layer called from inside another is taken
out of the outer one), and how many calls. What counts as which layer:

* ``parse``: BPMN parsing (the parser's entry points) and a spec rebuilt from
  its stored form (``spec_from_dict``);
* ``sandbox``: scripts and expressions run by the sandbox, their compiling and
  JUEL translation;
* ``spiff``: SpiffWorkflow's own steps (``do_engine_steps``, ``Task.run``, task
  look-ups, events) with the engine's hooks it calls;
* ``state``: the workflow state and values encoded and decoded, and every
  ``json.dumps``/``json.loads`` (the responses' JSON included);
* ``driver``: time inside the database driver, from SQLAlchemy's
  ``before_cursor_execute`` to ``after_cursor_execute``, and its commits and
  rollbacks (``do_commit``, ``do_rollback``: the commit is where SQLite syncs
  its log and PostgreSQL waits for the server);
* ``sqlalchemy``: SQLAlchemy's Python around it (sessions, Core executes, the
  ORM's flush and commit);
* ``marshmallow``: schemas' ``load``, ``dump`` and ``validate``;
* ``pdf``: WeasyPrint writing a PDF;
* ``engine``: sertiflow's own code in its services (runtime, queries,
  documents, identity, deployments) that is none of the above;
* ``web``: the rest of a request inside the WSGI app: Flask, Werkzeug, the
  ``api`` package's views, access checks and error handling.

Each timing is kept apart by where it ran: in a request (the WSGI app's thread
while it handles one) or in the background (the renderer thread that makes
documents after their command commits, a bench's own loop).
The wrappers cost about a microsecond a call; ``breakdown.py`` prints the time
with and without them for the in-process run so that cost can be seen.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import importlib
import io
import json
import os
import pstats
import sys
import threading
import time
import types
from collections.abc import Callable, Iterable
from typing import Any

LAYERS = ("parse", "sandbox", "spiff", "state", "driver", "sqlalchemy", "marshmallow", "pdf",
          "engine", "web")
LABELS = {
    "parse": "BPMN parsing, specs rebuilt",
    "sandbox": "script sandbox, expressions",
    "spiff": "SpiffWorkflow",
    "state": "JSON, state encoding",
    "driver": "SQL in the driver",
    "sqlalchemy": "SQLAlchemy (Python)",
    "marshmallow": "marshmallow",
    "pdf": "PDF (WeasyPrint)",
    "engine": "sertiflow services (own code)",
    "web": "Flask, Werkzeug, api views",
}
PATH = "/__probe__"

# The functions and methods each layer is made of: (module, attribute) for a
# function (rebound in every module that imported it by name), (module, class,
# methods) for methods (wrapped on the class).
FUNCTIONS: dict[str, list[tuple[str, str]]] = {
    "parse": [("engine.bpmn.serializer", "spec_from_dict")],
    "sandbox": [("engine.scripting.expressions", "compile_expression"),
                ("engine.scripting.expressions", "compile_template"),
                ("engine.scripting.expressions", "translate"),
                ("engine.scripting.expressions", "translate_template")],
    "state": [("engine.bpmn.serializer", name) for name in (
        "dump_state", "load_state", "encode_value", "decode_value", "spec_to_dict",
        "escape_data")]
    + [("engine.bpmn.state_codec", name) for name in (
        "compress_state", "state_dict", "read_state", "seed_memo")]
    + [("engine.bpmn.workflow.finished", "dump_finished"), ("json", "dumps"),
       ("json", "loads")],
}
METHODS: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "parse": [("engine.bpmn.parser", "SertiflowParser",
               ("add_bpmn_str", "add_bpmn_io", "add_bpmn_xml", "get_spec",
                "get_subprocess_specs"))],
    "sandbox": [("engine.scripting.isolation", "Sandbox",
                 ("run", "evaluate", "evaluate_in_context"))],
    "spiff": [("SpiffWorkflow.bpmn.workflow", "BpmnWorkflow",
               ("__init__", "do_engine_steps", "refresh_waiting_tasks", "catch", "send_event",
                "get_task_from_id")),
              ("SpiffWorkflow.workflow", "Workflow",
               ("get_tasks", "get_next_task", "run_task_from_id", "is_completed")),
              ("SpiffWorkflow.task", "Task", ("run", "complete"))],
    "sqlalchemy": [("sqlalchemy.orm", "Session",
                    ("execute", "scalars", "scalar", "get", "flush", "commit", "rollback",
                     "close", "add", "add_all", "merge", "delete")),
                   ("sqlalchemy.engine", "Connection",
                    ("execute", "exec_driver_sql", "scalar", "scalars", "commit",
                     "rollback", "close"))],
    "driver": [("sqlalchemy.engine.default", "DefaultDialect", ("do_commit", "do_rollback"))],
    "marshmallow": [("marshmallow", "Schema", ("load", "dump", "validate", "loads",
                                               "dumps"))],
    "pdf": [("weasyprint", "HTML", ("write_pdf",))],
    "engine": [(module, name, ()) for module, name in (
        ("engine.composition", "Services"), ("engine.runtime.commands", "Runtime"),
        ("engine.queries.lists", "Queries"), ("engine.documents.service", "DocumentService"),
        ("engine.identity.users", "IdentityService"), ("engine.queries.awaited", "AwaitedWork"),
        ("engine.deployment.service", "DeploymentService"),
        ("engine.documents.rendering", "RenderQueue"))],
}


class Probe:
    """Exclusive wall and CPU time and calls per (context, layer), from every thread."""

    # The clocks: wall time, and the CPU time of the calling thread.
    wall: Callable[[], float] = staticmethod(time.perf_counter)
    cpu: Callable[[], float] = staticmethod(time.thread_time)

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self.totals: dict[tuple[str, str], list[float]] = {}
        # The same, per function or statement kind within each layer.
        self.details: dict[tuple[str, str, str], list[float]] = {}
        self.profiler: cProfile.Profile | None = None
        self.skipped: list[str] = []
        self.installed = False

    def reset(self) -> None:
        with self._lock:
            self.totals = {}
            self.details = {}

    def snapshot(self) -> dict[str, dict[str, list[float]]]:
        """context -> layer -> [wall s, CPU s, calls]."""
        with self._lock:
            found: dict[str, dict[str, list[float]]] = {}
            for (context, layer), values in self.totals.items():
                found.setdefault(context, {})[layer] = list(values)
            return found

    def functions(self) -> dict[str, dict[str, dict[str, list[float]]]]:
        """context -> layer -> function -> [wall s, CPU s, calls] (own time, as above)."""
        with self._lock:
            found: dict[str, dict[str, dict[str, list[float]]]] = {}
            for (context, layer, what), values in self.details.items():
                found.setdefault(context, {}).setdefault(layer, {})[what] = list(values)
            return found

    # -- frames ---------------------------------------------------------------------------

    def _stack(self) -> list[list[Any]]:
        stack: list[list[Any]] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def enter(self, layer: str, what: str = "") -> None:
        if self.profiler is not None:
            return  # the profile is the last thing measured: its figures stay clean
        self._stack().append([layer, self.wall(), self.cpu(), 0.0, 0.0, what or layer])

    def leave(self, layer: str | None = None) -> None:
        """Close the innermost frame (if ``layer`` is given, only a frame of that layer)."""
        if self.profiler is not None:
            return
        wall_now, cpu_now = self.wall(), self.cpu()
        stack = self._stack()
        if not stack or (layer is not None and stack[-1][0] != layer):
            return
        name, wall0, cpu0, child_wall, child_cpu, what = stack.pop()
        wall, cpu = wall_now - wall0, cpu_now - cpu0
        if stack:
            stack[-1][3] += wall
            stack[-1][4] += cpu
        context = getattr(self._local, "context", "background")
        with self._lock:
            for values in (self.totals.setdefault((context, name), [0.0, 0.0, 0.0]),
                           self.details.setdefault((context, name, what), [0.0, 0.0, 0.0])):
                values[0] += wall - child_wall
                values[1] += cpu - child_cpu
                values[2] += 1

    def wrap(self, layer: str, function: Callable[..., Any]) -> Callable[..., Any]:
        if getattr(function, "__probed__", False):
            return function

        what = f"{function.__module__.rsplit('.', 1)[-1]}.{function.__qualname__}"

        @functools.wraps(function)
        def probed(*args: Any, **kwargs: Any) -> Any:
            self.enter(layer, what)
            try:
                return function(*args, **kwargs)
            finally:
                self.leave()

        probed.__probed__ = True  # type: ignore[attr-defined]
        return probed

    # -- a request's context -----------------------------------------------------------

    def request(self, call: Callable[[], Any]) -> Any:
        """Run ``call`` as one request: its frames count as ``request``, under ``web``."""
        self._local.context = "request"
        profiler = self.profiler
        self.enter("web")
        try:
            if profiler is None:
                return call()
            profiler.enable()
            try:
                return call()
            finally:
                profiler.disable()
        finally:
            self.leave()
            self._local.context = "background"


def install(probe: Probe) -> None:
    """Wrap every layer's functions and methods, and listen to the driver's statements.

    Once per process: a second call changes nothing.
    """
    if probe.installed:
        return
    probe.installed = True
    for layer, functions in FUNCTIONS.items():
        for module_name, attribute in functions:
            _patch_function(probe, layer, module_name, attribute)
    for layer, classes in METHODS.items():
        for module_name, class_name, names in classes:
            _patch_methods(probe, layer, module_name, class_name, names)
    import sqlalchemy as sa

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        probe.enter("driver", statement.lstrip()[:6].upper())

    def after(*_: Any) -> None:
        probe.leave("driver")

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", before)
    sa.event.listen(sa.engine.Engine, "after_cursor_execute", after)
    sa.event.listen(sa.engine.Engine, "handle_error", after)


def _import(probe: Probe, module_name: str) -> types.ModuleType | None:
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        probe.skipped.append(f"{module_name}: {exc}")
        return None


def _patch_function(probe: Probe, layer: str, module_name: str, attribute: str) -> None:
    module = _import(probe, module_name)
    original = getattr(module, attribute, None) if module is not None else None
    if not callable(original):
        probe.skipped.append(f"{module_name}.{attribute}")
        return
    wrapped = probe.wrap(layer, original)
    # Rebind it wherever it was imported by name (``from json import dumps``).
    for loaded in list(sys.modules.values()):
        namespace = getattr(loaded, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for name, value in list(namespace.items()):
            if value is original:
                namespace[name] = wrapped


def _patch_methods(probe: Probe, layer: str, module_name: str, class_name: str,
                   names: Iterable[str]) -> None:
    module = _import(probe, module_name)
    cls = getattr(module, class_name, None) if module is not None else None
    if not isinstance(cls, type):
        probe.skipped.append(f"{module_name}.{class_name}")
        return
    # No names: every public method the class itself defines (its services' commands).
    chosen = list(names) or [name for name, value in vars(cls).items()
                             if not name.startswith("_") and isinstance(value, types.FunctionType)]
    for name in chosen:
        if isinstance(cls.__dict__.get(name), (staticmethod, classmethod)):
            continue
        function = getattr(cls, name, None)
        if isinstance(function, types.FunctionType):
            setattr(cls, name, probe.wrap(layer, function))


# -- the profile's summary -----------------------------------------------------------------------


def group_of(filename: str, function: str) -> str:
    """Which package a profiled function belongs to (C built-ins by what they are)."""
    if filename == "~":
        for word, group in (("sqlite3", "driver (C)"), ("psycopg", "driver (C)"),
                            ("zlib", "zlib (C)"), ("json", "json (C)"), ("lxml", "lxml (C)"),
                            ("hashlib", "hashlib (C)")):
            if word in function:
                return group
        return "other built-ins (C)"
    path = filename.replace("\\", "/")
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    for package in ("engine", "lspro", "api", "bench", "tests"):
        if f"/{package}/" in path:
            return f"sertiflow {package}/"
    if "/lib/python" in path:
        return "standard library"
    return "other"


def profile_summary(profiler: cProfile.Profile, top: int = 15) -> dict[str, Any]:
    """Own time per package and the ``top`` functions by own time, from ``profiler``."""
    stats = pstats.Stats(profiler, stream=io.StringIO())
    groups: dict[str, float] = {}
    functions: list[tuple[float, int, str]] = []
    for (filename, line, name), (_, calls, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        group = group_of(filename, name)
        groups[group] = groups.get(group, 0.0) + own
        where = name if filename == "~" else f"{filename.rsplit('/', 1)[-1]}:{line} {name}"
        functions.append((own, calls, where))
    functions.sort(reverse=True)
    return {"groups": groups, "top": functions[:top]}


# -- the probed server ---------------------------------------------------------------------------


class Middleware:
    """The WSGI app with the probe around each request, and ``/__probe__`` to read it."""

    def __init__(self, probe: Probe, app: Callable[..., Any]) -> None:
        self.probe = probe
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PATH):
            return self.probe.request(lambda: self.app(environ, start_response))
        answer: Any = {}
        if path == f"{PATH}/reset":
            self.probe.reset()
        elif path == f"{PATH}/profile/on":
            self.probe.profiler = cProfile.Profile()
        elif path == f"{PATH}/profile/off":
            profiler, self.probe.profiler = self.probe.profiler, None
            answer = profile_summary(profiler) if profiler is not None else {}
        else:
            answer = {"layers": self.probe.snapshot(), "functions": self.probe.functions(),
                      "skipped": self.probe.skipped,
                      "pid": os.getpid()}
        body = json.dumps(answer).encode()
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(body)))])
        return [body]


def probed_app() -> Any:
    """The production worker's app (``api.server.worker_app``) with the probe installed."""
    from api.server import worker_app

    bridge = worker_app()
    probe = Probe()
    install(probe)
    flask_app = bridge.app
    flask_app.wsgi_app = Middleware(probe, flask_app.wsgi_app)  # type: ignore[attr-defined]
    return bridge


def main() -> None:
    """The server master, as ``api.server`` is, serving :func:`probed_app` (no timer sweep)."""
    from granian.constants import HTTPModes, Interfaces
    from granian.server import Server

    from api.server import SCHEDULER_ENV, THREADS_ENV, configure_logging

    parser = argparse.ArgumentParser(prog="python -m bench.probe",
                                     description="sertiflow's server with the probe in it")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    configure_logging()
    # One thread (the profile follows one thread) and no sweep: only the requests'
    # work, and what they leave to the renderer thread, is measured.
    os.environ[THREADS_ENV] = "1"
    os.environ[SCHEDULER_ENV] = "0"
    Server("bench.probe:probed_app", factory=True, interface=Interfaces.RSGI,
           address=args.host, port=args.port, workers=1, http=HTTPModes.auto,
           websockets=False, log_access=False).serve()


if __name__ == "__main__":
    main()
