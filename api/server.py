"""The production server: granian's HTTP (Rust) in front of the Flask app.

``sertiflow serve`` and ``sertiflow run`` migrate and deploy in their own
process, then replace it (exec) with ``python -m api.server``. That master
imports granian and nothing of the engine (about 27 MiB instead of 80), binds
the port and forks the workers; each worker builds its own engine (connection
pools must not cross a fork) and serves the app through
:class:`api.bridge.WsgiBridge`, which reads each request's body before the app
sees it.

The timer sweep runs in exactly one process at a time: whoever holds the lock
file in the instance folder, so another worker takes over when that one ends.
This module imports nothing heavy at the top: it is the master's whole program.
"""

from __future__ import annotations

import argparse
import ctypes
import fcntl
import gc
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.composition import Engine

    from .bridge import WsgiBridge

log = logging.getLogger(__name__)

# What the master tells its workers; they read every other setting from the
# environment themselves, as the master did.
THREADS_ENV = "SERTIFLOW_APP_THREADS"
SCHEDULER_ENV = "SERTIFLOW_APP_SCHEDULER"
# Threads per process that run requests, when not given: one, the event loop's own
# (:mod:`api.bridge`), which spends nothing on handing the GIL between threads. With
# SQLite the writes take turns anyway; with PostgreSQL a process then waits on the
# server's answers instead of running another request, so a node runs one process
# per core there (:func:`default_workers`) and those processes overlap the waits.
# bench/api.py, PostgreSQL, 1 process: 8 threads 37.6-38.0 instances/s at 22.4-24.2
# ms of node CPU each, 1 thread 39.5-43.1 at 17.9-19.6; 2 processes of 1 thread 54-65.
APP_THREADS = 1
# Seconds a worker has to end after a stop before the master kills it.
WORKERS_KILL_TIMEOUT_S = 30


def configure_logging() -> None:
    """INFO to standard error, without the chatter of the sweep and of SpiffWorkflow."""
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The timer sweep runs every second; its executor would log each run.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # SpiffWorkflow logs every task state change at INFO: three lines per step.
    logging.getLogger("spiff").setLevel(logging.WARNING)


def return_memory_to_the_system() -> None:
    """Have glibc hand large freed blocks back instead of keeping them per thread.

    Signing in hashes with scrypt, which takes 16 MiB; glibc raises its mmap
    threshold after freeing such a block, and each server thread then keeps its
    own copy resident. A fixed threshold keeps the server's RSS flat.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return  # not glibc: nothing to tune
    m_mmap_threshold = -3
    libc.mallopt(m_mmap_threshold, 128 * 1024)


def start_scheduler(engine: Engine) -> Any:
    """Run the timer sweep every second in a background thread of this process."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from engine.time.timers import TimerSweep

    sweep = TimerSweep(engine)
    scheduler = BackgroundScheduler(daemon=True)
    scheduler.add_job(sweep.tick, "interval", seconds=1, max_instances=1, coalesce=True,
                      id="timer-sweep")
    scheduler.start()
    return scheduler


_HELD_LOCKS: list[Any] = []


def start_scheduler_when_first(engine: Engine, lock_path: Path, retry: float = 15.0) -> None:
    """Start the sweep in this process once it holds ``lock_path`` (kept until exit)."""

    def wait_for_lock() -> None:
        handle = open(lock_path, "a+")  # noqa: SIM115 - held for the life of the process
        # Closing the file would release the lock: keep it referenced until exit.
        _HELD_LOCKS.append(handle)
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                threading.Event().wait(retry)
                continue
            log.info("this process runs the timer sweep")
            start_scheduler(engine)
            return

    threading.Thread(target=wait_for_lock, name="scheduler-lock", daemon=True).start()


def app_threads(given: str | None) -> int:
    """Threads per process: as given, or :data:`APP_THREADS`."""
    return max(1, int(given)) if given else APP_THREADS


def default_workers(database_url: str) -> int:
    """Processes of a node when not given: one with SQLite, whose one writer the
    processes would only queue for (and each costs its memory); with PostgreSQL one
    per core this process may run on."""
    return 1 if database_url.startswith("sqlite") else usable_cores()


def usable_cores() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def end_on_signals_while_starting() -> None:
    """Let SIGTERM and SIGINT end a worker that is still building its app.

    A worker is forked with the master's handlers, which only note a signal for the
    master: one that reached a worker before it served was lost, and the master
    waited for that worker for good (a server of several workers stopped right
    after its start never ended). granian gives the worker its own handlers once
    the app is built.
    """
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, signal.SIG_DFL)


def worker_app() -> WsgiBridge:
    """Build one worker's engine and app (granian calls this in each worker)."""
    end_on_signals_while_starting()
    from engine.composition import Engine
    from engine.config import load_settings

    from . import create_app
    from .bridge import WsgiBridge
    from .extensions import default_extensions
    from .profiling import profiled

    return_memory_to_the_system()
    settings = load_settings()
    engine = Engine(settings, extensions=default_extensions())
    if os.environ.get(SCHEDULER_ENV, "1") == "1":
        start_scheduler_when_first(engine, settings.instance_path / "scheduler.lock")
    # The documents this worker's commands queue are made by its own thread, woken
    # when each such command commits (engine.documents.rendering); the rendering
    # itself (WeasyPrint: pure Python, hundreds of ms a PDF) is done by a child
    # process, so that it holds no request up for the interpreter lock. The child
    # leaves by itself when this worker ends, however it ends.
    engine.renders.render_in_child()
    engine.renders.start_worker()
    app = create_app(settings, engine=engine)
    # What the start built (modules, the app, the schemas: about 150,000 objects)
    # lives as long as the process. Frozen, it is left out of the collector's
    # full passes, which otherwise walk it all and paused a request for about
    # 90 ms now and then (the maximum of bench/api.py's completions).
    gc.collect()
    gc.freeze()
    return WsgiBridge(profiled(app), max_body=app.config["MAX_CONTENT_LENGTH"],
                      threads=app_threads(os.environ.get(THREADS_ENV)),
                      writes_take_turns=settings.database_url.startswith("sqlite"))


def serve(*, host: str, port: int, workers: int, threads: int | None, scheduler: bool) -> None:
    """Listen on ``host:port`` with ``workers`` processes until SIGTERM or SIGINT."""
    from granian.constants import HTTPModes, Interfaces
    from granian.server import Server

    os.environ[SCHEDULER_ENV] = "1" if scheduler else "0"
    if threads:
        os.environ[THREADS_ENV] = str(threads)
    print(f"sertiflow is listening on http://{host}:{port}/ ({workers} process"
          f"{'es' if workers > 1 else ''})", flush=True)
    Server(
        "api.server:worker_app", factory=True, interface=Interfaces.RSGI,
        address=host, port=port, workers=workers, http=HTTPModes.auto, websockets=False,
        # No access log: a line per request would cost more than some requests.
        log_access=False,
        # A worker still running this long after a stop is killed: nothing it holds
        # outlives it (a command's transaction rolls back, its render child leaves).
        workers_kill_timeout=WORKERS_KILL_TIMEOUT_S,
    ).serve()


def exec_server(*, host: str, port: int, workers: int, threads: int | None,
                scheduler: bool) -> None:
    """Replace this process with the lean server master (never returns)."""
    command = [sys.executable, "-m", "api.server", "--host", host, "--port", str(port),
               "--workers", str(workers),
               "--scheduler" if scheduler else "--no-scheduler"]
    if threads:
        command += ["--threads", str(threads)]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, command)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m api.server",
                                     description="sertiflow's server master (see sertiflow serve)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--scheduler", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args(argv)
    configure_logging()
    serve(host=args.host, port=args.port, workers=args.workers, threads=args.threads,
          scheduler=args.scheduler)


if __name__ == "__main__":
    main()
