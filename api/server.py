"""The production server: gunicorn workers (one per core), each with its own engine.

Migrations and deployment run once in the master before it forks; each worker
then builds its engine (connection pools must not cross a fork). The timer
sweep runs in exactly one process at a time: whoever holds the lock file in the
instance folder, so another worker takes over when that one ends.
"""

from __future__ import annotations

import ctypes
import fcntl
import logging
import threading
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from engine.config import Settings
from engine.engine import Engine

log = logging.getLogger(__name__)


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

    from engine.timers import TimerSweep

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


class Server(BaseApplication):
    def __init__(self, settings: Settings, options: dict[str, Any], *, scheduler: bool) -> None:
        self.settings = settings
        self.options = options
        self.scheduler = scheduler
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from . import create_app

        return_memory_to_the_system()
        engine = Engine(self.settings)
        if self.scheduler:
            start_scheduler_when_first(engine, self.settings.instance_path / "scheduler.lock")
        return create_app(self.settings, engine=engine)


def serve(settings: Settings, *, host: str, port: int, workers: int, threads: int,
          scheduler: bool) -> None:
    Server(settings, {
        "bind": f"{host}:{port}", "workers": workers, "threads": threads,
        "worker_class": "gthread", "accesslog": None, "timeout": 60,
        "graceful_timeout": 20, "proc_name": "sertiflow",
    }, scheduler=scheduler).run()
