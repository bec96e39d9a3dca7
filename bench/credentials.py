"""Benchmark: calls that send a password — HTTP Basic on /engine-rest, and sign-in.

Run: ``.venv/bin/python bench/credentials.py [--calls 200] [--rounds 1]``

Starts ``sertiflow serve`` on a fresh SQLite database (a subprocess, as in
production) with one analyst, then times, one call after another on one
keep-alive connection (plain ``http.client``):

* ``GET /engine-rest/deployment?maxResults=0`` with HTTP Basic, as Camunda
  Modeler sends every call;
* ``POST /api/v1/auth/token`` with the user name and password (sign-in).

Prints p50/p95/p99 per kind. A server that checks the password with scrypt on
every call shows the scrypt time in every figure; one that remembers a verified
password for a while (engine.identity.verified) only in the first call. To compare
two trees of the code, run this script from each, alternately.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api import PASSWORD, machine_line, percentile, running_server, server_env  # noqa: E402
from engine.composition import Engine  # noqa: E402
from engine.config import load_settings  # noqa: E402
from engine.persistence.migrate import upgrade  # noqa: E402

USER = "analis-bench"


def figures(values: list[float]) -> str:
    return (f"n={len(values):<4} p50 {1000 * percentile(values, 50):7.2f}  "
            f"p95 {1000 * percentile(values, 95):7.2f}  "
            f"p99 {1000 * percentile(values, 99):7.2f}  "
            f"mean {1000 * statistics.fmean(values):7.2f} ms")


def timed_calls(base_url: str, calls: int, method: str, path: str,
                headers: dict[str, str], body: bytes | None) -> list[float]:
    """Make ``calls`` calls on one keep-alive connection; return their seconds."""
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1",
                                            address.port or 80, timeout=60)
    spent: list[float] = []
    try:
        for _ in range(calls):
            started = time.perf_counter()
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            content = answer.read()
            spent.append(time.perf_counter() - started)
            if not 200 <= answer.status < 300:
                raise SystemExit(f"{method} {path} answered {answer.status}: {content[:200]!r}")
    finally:
        connection.close()
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="timed calls per kind")
    args = parser.parse_args()
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    with tempfile.TemporaryDirectory(prefix="sertiflow-credentials-") as tmp:
        folder = Path(tmp)
        env = server_env(folder, folder / "credentials.db")
        engine = Engine(load_settings(env))
        upgrade(engine.db.engine)
        with engine.write() as s:
            s.identity.add_user(USER, PASSWORD, roles=["analyst"])
        engine.close()
        print(f"password calls against sertiflow serve ({ROOT.name}); {machine_line()}")
        with running_server(env, folder, threads=None) as server:
            rest = timed_calls(server.base_url, args.calls, "GET",
                               "/engine-rest/deployment?maxResults=0",
                               {"Authorization": f"Basic {basic}"}, None)
            token = timed_calls(server.base_url, args.calls, "POST", "/api/v1/auth/token",
                                {"Content-Type": "application/json"},
                                json.dumps({"username": USER, "password": PASSWORD}).encode())
        print(f"  /engine-rest with HTTP Basic   {figures(rest)}")
        print(f"  POST /api/v1/auth/token        {figures(token)}")


if __name__ == "__main__":
    main()
