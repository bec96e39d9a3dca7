"""Users and live servers shared by the API, page and browser tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from flask import Flask
from werkzeug.serving import make_server

from engine.composition import Engine

ROOT = Path(__file__).resolve().parent.parent
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


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class CliServer:
    """A ``sertiflow`` command serving HTTP as its own process."""

    process: subprocess.Popen[str]
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> str:
        """Terminate the server (SIGTERM) and return everything it printed.

        One still running a minute later fails the test, killed first with its
        whole process group (workers, render children): left running, it went on
        for hours after the test run, with its timer sweep.
        """
        self.process.terminate()
        try:
            output, _ = self.process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            try:
                output, _ = self.process.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                output = "(its output was not closed)"
            raise AssertionError(
                f"the server did not end within 60 s of SIGTERM:\n{output}") from None
        return output


def start_cli_server(command: Sequence[str], env: Mapping[str, str],
                     timeout: float = 60) -> CliServer:
    """Run ``python -m api.cli <command> --port P``; return once ``/healthz`` answers 200.

    If it does not, the server is stopped and the test fails with its output.
    """
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", *command, "--port", str(port)], cwd=ROOT,
        env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)  # its own group, which stop() can kill whole
    server = CliServer(process, port)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(f"{server.base}/healthz", timeout=2).status_code == 200:
                return server
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server did not answer /healthz:\n{server.stop()}")
