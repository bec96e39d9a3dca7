"""The benches' HTTP client side, and the figures they print.

Not a script of its own (see ``bench/harness.py`` for the servers):
:class:`UserConnection` (a keep-alive connection with a bearer token),
:func:`sign_in`, :func:`timed`, and :class:`Tally` with :func:`percentile` and
:func:`latency_line` for the latencies.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import platform
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from bench.harness import PASSWORD

# -- the client --------------------------------------------------------------------------


class CallFailed(Exception):
    """An HTTP call answered with a non-2xx status or did not answer."""


@dataclass
class Tally:
    """Latencies per call kind (seconds), errors, and instances done, of one client thread."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    instances: int = 0

    def merge(self, other: Tally) -> None:
        for kind, values in other.latencies.items():
            self.latencies.setdefault(kind, []).extend(values)
        self.errors += other.errors
        self.instances += other.instances

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())


def sign_in(base_url: str, name: str, password: str = PASSWORD) -> str:
    """Return a bearer token for ``name``."""
    answer = requests.post(f"{base_url}/api/v1/auth/token",
                           json={"username": name, "password": password}, timeout=30)
    if answer.status_code != 201:
        raise SystemExit(f"sign-in of {name} failed: {answer.status_code} {answer.text}")
    return str(answer.json()["token"])


class UserConnection:
    """One user's keep-alive HTTP/1.1 connection, sending its bearer token.

    Plain ``http.client``: the client shares this machine's two cores with the
    server, and ``requests`` spent several times more CPU per call than this.
    """

    def __init__(self, base_url: str, token: str) -> None:
        address = urlsplit(base_url)
        self.host, self.port = address.hostname or "127.0.0.1", address.port or 80
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.connection: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        """Send one request; return the status and the body. Reconnects after a failure."""
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        headers = self.headers
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers = {**headers, "Content-Type": "application/json"}
        try:
            self.connection.request(method, path, body=data, headers=headers)
            answer = self.connection.getresponse()
            return answer.status, answer.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def timed(tally: Tally, kind: str, user: UserConnection, method: str, path: str,
          body: Any = None) -> Any:
    """Make one call, note its latency under ``kind``, return its JSON body.

    :raises CallFailed: on a non-2xx answer or a failed request (noted as an error).
    """
    started = time.perf_counter()
    try:
        status, content = user.call(method, path, body)
    except (OSError, http.client.HTTPException) as exc:
        tally.errors.append(f"{kind}: {exc!r}")
        raise CallFailed(kind) from exc
    tally.latencies.setdefault(kind, []).append(time.perf_counter() - started)
    if not 200 <= status < 300:
        tally.errors.append(f"{kind}: {status} {content[:300]!r}")
        raise CallFailed(kind)
    return json.loads(content)


# -- figures -----------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Return the nearest-rank ``p``-th percentile of ``values`` (sorted or not)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def latency_line(kind: str, values: Sequence[float], width: int = 9) -> str:
    """``kind n=… p50 … p95 … p99 … max …`` in milliseconds, for seconds given."""
    if not values:
        return f"{kind:<{width}} no calls"
    return (f"{kind:<{width}} n={len(values):<5} p50 {1000 * percentile(values, 50):6.2f}  "
            f"p95 {1000 * percentile(values, 95):6.2f}  "
            f"p99 {1000 * percentile(values, 99):6.2f}  max {1000 * max(values):6.2f}")


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def machine_line() -> str:
    """Describe the interpreter, SQLite and the cores this runs on."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    return (f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
            f"{os.cpu_count()} cores ({usable} usable), {platform.machine()}")


def run_clients(jobs: Sequence[Callable[[], None]]) -> float:
    """Run each job in a thread of its own, all at once; return the seconds until the
    last one ended."""
    threads = [threading.Thread(target=job) for job in jobs]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began
