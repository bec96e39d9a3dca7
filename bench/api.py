"""Benchmark: drive the real production server (``sertiflow serve``) over HTTP.

Run: ``.venv/bin/python bench/api.py [--instances 300] [--concurrency 4] [--threads N]``

The server runs as a subprocess, exactly as in production (granian, the timer
sweep on, a fresh SQLite database in WAL mode in a temporary folder); this
script is a separate client process. Before the server starts, the bench users
are created with ``sertiflow users add``: an analyst who deploys, a customer
(``pelanggan``) of a company who starts the instances and does the customer's
step, and one staff user per staff role of the process.

The analyst deploys a linear process of five user tasks, each task for another
role, through ``POST /api/v1/deployments``. Then ``--concurrency`` client
threads take instances from a common counter; per instance the customer starts
it (``POST /api/v1/process-definitions/{key}/start``) and, for each of the five
steps, the user of that step's role lists the instance's tasks
(``GET /api/v1/tasks?instance_id=…``) and completes the one it finds
(``POST /api/v1/tasks/{id}/complete``). Each thread keeps one keep-alive
connection per user (plain ``http.client``), with the bearer token that user
got once from ``POST /api/v1/auth/token``.

Prints instances/s and requests/s over the whole drive, p50/p95/p99 latency
per call type as the client sees it (client time included: client and server
share this machine's cores), the error count (any non-2xx answer or failed
request; the script exits 1 if there is one), the server's peak RSS (VmHWM of
the server process and of any children it has) and CPU time, next to the
targets of the issue.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import math
import os
import platform
import resource
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from tests.builders import linear_user_tasks  # noqa: E402

PASSWORD = "bench-kata-sandi"
PROCESS_KEY = "bench_sop"
COMPANY = "PT Bench Sejahtera"
# The step roles, in order; the customer's own step sits in the middle of the staff's.
STEP_ROLES = ["upp", "auditor", "pelanggan", "ppc", "tim-teknis"]
# User name -> (roles, company).
USERS: dict[str, tuple[list[str], str | None]] = {
    "analis": (["analyst"], None),
    "pelanggan": (["pelanggan"], COMPANY),
    "petugas-upp": (["upp"], None),
    "auditor": (["auditor"], None),
    "petugas-ppc": (["ppc"], None),
    "tim-teknis": (["tim-teknis"], None),
}
USER_OF_ROLE = {"upp": "petugas-upp", "auditor": "auditor", "pelanggan": "pelanggan",
                "ppc": "petugas-ppc", "tim-teknis": "tim-teknis"}

TARGET_INSTANCES_PER_S = 50.0
TARGET_COMPLETE_P95_MS = 15.0
TARGET_RSS_MB = 150.0
PEER = ("spiff-arena's backend on this machine: 2.6 instances/s, completion median 45 ms, "
        "task list median 12 ms, 150 MB")


# -- the server ------------------------------------------------------------------------


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(folder: Path, database: Path) -> dict[str, str]:
    """Return the environment of a server (and CLI) on ``database``, with no processes."""
    for name in ("processes", "forms"):
        (folder / name).mkdir(exist_ok=True)
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": f"sqlite:///{database}",
        "SERTIFLOW_INSTANCE_PATH": str(folder),
        "SERTIFLOW_SECRET_KEY": "bench",
        "SERTIFLOW_PROCESSES": str(folder / "processes"),
        "SERTIFLOW_FORMS": str(folder / "forms"),
        "PYTHONPATH": str(ROOT),
    })
    return env


def add_user(env: dict[str, str], name: str, roles: Sequence[str],
             company: str | None = None) -> None:
    """Create a user with ``sertiflow users add``, the way an operator would."""
    command = [sys.executable, "-m", "api.cli", "users", "add", name, "--password-stdin"]
    for role in roles:
        command += ["--role", role]
    if company:
        command += ["--company", company]
    done = subprocess.run(command, cwd=ROOT, env=env, input=PASSWORD + "\n",
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise SystemExit(f"users add {name} failed:\n{done.stdout}{done.stderr}")


@dataclass
class Server:
    """A ``sertiflow serve`` subprocess and where it answers."""

    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def running_server(env: dict[str, str], folder: Path, *, threads: int | None, workers: int = 1
                   ) -> Iterator[Server]:
    """Start ``sertiflow serve``, wait for ``/healthz``; terminate and reap it at the end."""
    port = free_port()
    log = folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(workers),
             *(["--threads", str(threads)] if threads else [])],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        wait_healthy(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_healthy(server: Server, timeout: float = 60.0) -> None:
    """Poll ``/healthz`` until it answers 200; give up on exit or after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"the server exited with {server.process.returncode}:\n"
                             f"{server.log_tail()}")
        try:
            if requests.get(f"{server.base_url}/healthz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the server did not become healthy in {timeout:.0f} s:\n"
                     f"{server.log_tail()}")


def process_tree(pid: int) -> list[int]:
    """Return ``pid`` and all its descendants, read from /proc."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                queue += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
    return found


def proc_status_kib(pid: int, field_name: str) -> int:
    """Read one ``kB`` field (``VmHWM``, ``VmRSS``) of /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


def tree_kib(pid: int, field_name: str) -> int:
    """Sum one ``kB`` field of /proc/<pid>/status over ``pid`` and its descendants."""
    return sum(proc_status_kib(member, field_name) for member in process_tree(pid))


def cpu_seconds(pid: int) -> float:
    """Return user + system CPU seconds of ``pid`` so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and its children (the server's workers) so far."""
    return sum(cpu_seconds(p) for p in process_tree(pid))


# -- the client ------------------------------------------------------------------------


class CallFailed(Exception):
    """An HTTP call answered with a non-2xx status or did not answer."""


@dataclass
class Tally:
    """One client thread's latencies per call type, and its errors."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    instances: int = 0

    def merge(self, other: Tally) -> None:
        for kind, values in other.latencies.items():
            self.latencies.setdefault(kind, []).extend(values)
        self.errors += other.errors
        self.instances += other.instances


def sign_in(base_url: str, name: str) -> str:
    """Return a bearer token for ``name``."""
    answer = requests.post(f"{base_url}/api/v1/auth/token",
                           json={"username": name, "password": PASSWORD}, timeout=30)
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


def run_instance(n: int, users: dict[str, UserConnection], tally: Tally) -> None:
    """Start instance ``n`` as the customer and take it through its five steps."""
    api = "/api/v1"
    started = timed(tally, "start", users["pelanggan"], "POST",
                    f"{api}/process-definitions/{PROCESS_KEY}/start",
                    {"business_key": f"SPPT-{n:05d}", "variables": {"produk": "ban"}})
    for step, role in enumerate(STEP_ROLES, start=1):
        user = users[USER_OF_ROLE[role]]
        listed = timed(tally, "list", user, "GET", f"{api}/tasks?instance_id={started['id']}")
        items = listed["items"]
        if len(items) != 1 or items[0]["name"] != f"task_{step}":
            tally.errors.append(f"list: instance {n} step {step} found "
                                f"{[i['name'] for i in items]}")
            raise CallFailed("list")
        done = timed(tally, "complete", user, "POST",
                     f"{api}/tasks/{items[0]['id']}/complete",
                     {"variables": {f"catatan_{step}": "sesuai"}})
        expected = "completed" if step == len(STEP_ROLES) else "running"
        if done["instance_status"] != expected:
            tally.errors.append(f"complete: instance {n} step {step} left it "
                                f"{done['instance_status']}")
            raise CallFailed("complete")
    tally.instances += 1


def client_thread(numbers: Iterator[int], lock: threading.Lock, limit: int, base_url: str,
                  tokens: dict[str, str], tally: Tally) -> None:
    """Take instance numbers until ``limit`` and run each; one connection per user."""
    users = {name: UserConnection(base_url, token) for name, token in tokens.items()}
    try:
        while True:
            with lock:
                n = next(numbers)
            if n >= limit:
                return
            try:
                run_instance(n, users, tally)
            except CallFailed:
                continue
    finally:
        for user in users.values():
            user.close()


def drive(base_url: str, tokens: dict[str, str], instances: int, concurrency: int
          ) -> tuple[Tally, float]:
    """Run ``instances`` instances from ``concurrency`` threads; return the tally and seconds."""
    numbers, lock = itertools.count(), threading.Lock()
    tallies = [Tally() for _ in range(concurrency)]
    threads = [threading.Thread(target=client_thread,
                                args=(numbers, lock, instances, base_url, tokens, t))
               for t in tallies]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    return total, elapsed


# -- report ------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Return the nearest-rank ``p``-th percentile of ``values`` (sorted or not)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def machine_line() -> str:
    """Describe the interpreter, SQLite and the cores this runs on."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    return (f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
            f"{os.cpu_count()} cores ({usable} usable), {platform.machine()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=4, help="client threads")
    parser.add_argument("--threads", type=int, default=None,
                        help="the server's threads per process (default: the server's own, "
                             "1 with SQLite)")
    parser.add_argument("--workers", type=int, default=1, help="the server's processes")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="sertiflow-bench-") as tmp:
        folder = Path(tmp)
        env = server_env(folder, folder / "bench.db")
        began = time.perf_counter()
        for name, (roles, company) in USERS.items():
            add_user(env, name, roles, company)
        users_s = time.perf_counter() - began

        with running_server(env, folder, threads=args.threads, workers=args.workers) as server:
            idle_kib = tree_kib(server.process.pid, "VmRSS")
            tokens = {name: sign_in(server.base_url, name) for name in USERS}
            signed_in_kib = tree_kib(server.process.pid, "VmHWM")
            xml = linear_user_tasks(PROCESS_KEY, len(STEP_ROLES), lane_roles=STEP_ROLES)
            deployed = requests.post(
                f"{server.base_url}/api/v1/deployments",
                headers={"Authorization": f"Bearer {tokens['analis']}"},
                files=[("files", (f"{PROCESS_KEY}.bpmn", xml.encode(), "application/xml"))],
                timeout=60)
            if deployed.status_code != 201:
                raise SystemExit(f"deployment failed: {deployed.status_code} {deployed.text}")
            cpu_before = tree_cpu_seconds(server.process.pid)
            client_before = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
            tally, elapsed = drive(server.base_url, tokens, args.instances, args.concurrency)
            server_cpu = tree_cpu_seconds(server.process.pid) - cpu_before
            client_cpu = sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - client_before
            tree = process_tree(server.process.pid)
            peaks_kib = [proc_status_kib(pid, "VmHWM") for pid in tree]
            peak_kib = sum(peaks_kib)
            end_kib = tree_kib(server.process.pid, "VmRSS")
            crashed = server.process.poll() is not None
        stopped_with = server.process.returncode

    requests_done = sum(len(v) for v in tally.latencies.values())
    per_s = tally.instances / elapsed
    complete_p95 = 1000 * percentile(tally.latencies.get("complete", [0.0]), 95)
    peak_mb = peak_kib / 1024

    print(f"sertiflow serve over HTTP: linear process of {len(STEP_ROLES)} user tasks "
          f"({', '.join(STEP_ROLES)}), {args.instances} instances")
    print(f"{machine_line()}; server: granian, {args.workers} worker process(es) x "
          f"{args.threads or 1} thread(s), SQLite WAL; "
          f"client: {args.concurrency} threads")
    print(f"(setup: {len(USERS)} users added by the CLI in {users_s:.1f} s)")
    print(f"instances completed: {tally.instances} of {args.instances} in {elapsed:.1f} s")
    print(f"instances/s: {per_s:8.1f}   target >= {TARGET_INSTANCES_PER_S:.0f}: "
          f"{verdict(per_s >= TARGET_INSTANCES_PER_S)}")
    print(f"requests/s:  {requests_done / elapsed:8.1f}   ({requests_done} requests: "
          f"{1 + 2 * len(STEP_ROLES)} per instance)")
    print("latency as the client sees it (ms):")
    for kind in ("start", "list", "complete"):
        values = tally.latencies.get(kind, [])
        if not values:
            print(f"  {kind:<9} no calls")
            continue
        line = (f"  {kind:<9} n={len(values):<5} p50 {1000 * percentile(values, 50):6.2f}  "
                f"p95 {1000 * percentile(values, 95):6.2f}  "
                f"p99 {1000 * percentile(values, 99):6.2f}  "
                f"max {1000 * max(values):6.2f}")
        if kind == "complete":
            line += (f"   target p95 <= {TARGET_COMPLETE_P95_MS:.0f}: "
                     f"{verdict(complete_p95 <= TARGET_COMPLETE_P95_MS)}")
        print(line)
    print(f"errors: {len(tally.errors)}")
    for error in tally.errors[:10]:
        print(f"  {error}")
    print(f"server peak RSS (VmHWM, {len(tree)} process{'es' if len(tree) > 1 else ''}): "
          f"{peak_mb:.0f} MiB   target <= {TARGET_RSS_MB:.0f}: "
          f"{verdict(peak_mb <= TARGET_RSS_MB)}")
    print("  (per process, master first: "
          f"{', '.join(f'{kib / 1024:.0f}' for kib in peaks_kib)} MiB; pages a worker shares "
          "with the master it forked from count twice)")
    print(f"  (RSS when healthy {idle_kib / 1024:.0f} MiB; peak after the {len(USERS)} "
          f"sign-ins {signed_in_kib / 1024:.0f} MiB; RSS at the end {end_kib / 1024:.0f} MiB)")
    print(f"CPU during the drive: server {server_cpu:.1f} s "
          f"({1000 * server_cpu / max(tally.instances, 1):.1f} ms per instance), "
          f"client {client_cpu:.1f} s "
          f"({1000 * client_cpu / max(tally.instances, 1):.1f} ms per instance), "
          f"wall {elapsed:.1f} s")
    print(f"server stopped: {'SIGTERM' if stopped_with == -15 else stopped_with}")
    print(f"nearest peer, {PEER}")
    if tally.errors or crashed or tally.instances != args.instances:
        sys.exit(1)


if __name__ == "__main__":
    main()
