"""Benchmark: drive the real production server (``sertiflow serve``) over HTTP.

Run: ``.venv/bin/python bench/api.py [--instances 300] [--concurrency 4]
[--database sqlite|postgresql] [--nodes N] [--threads N]``, or
``.venv/bin/python bench/api.py --compare [--instances 300] [--rounds 6]``.

The servers run as subprocesses, exactly as in production (granian, the timer
sweep on), on a fresh database: an SQLite file in WAL mode in a temporary
folder, or a database on a throw-away PostgreSQL cluster the script starts (as
the tests do). ``--nodes N`` starts N ``sertiflow serve`` processes on their own
ports sharing that database, as N machines would (each its own instance folder
and timer sweep, and its share of this machine's cores: without ``--workers``, one
node runs the server's default number of processes, 1 with SQLite and one per core
with PostgreSQL, and N nodes each cores / N); the client threads spread over them
round-robin. This script
is a separate client process. Before the servers start, the bench users are
created: an analyst who deploys, a customer (``pelanggan``) of a company who
starts the instances and does the customer's step, and one staff user per
staff role of the process.

The analyst deploys a linear process of five user tasks, each task for another
role, through ``POST /api/v1/deployments``. Then ``--concurrency`` client
threads take instances from a common counter; per instance the customer starts
it (``POST /api/v1/process-definitions/{key}/start``) and, for each of the five
steps, the user of that step's role lists the instance's tasks
(``GET /api/v1/tasks?instance_id=…``) and completes the one it finds
(``POST /api/v1/tasks/{id}/complete``). Each thread keeps one keep-alive
connection per user (plain ``http.client``), with the bearer token that user
got once from ``POST /api/v1/auth/token``. A few instances per configuration
(``--warmup``) run first and are not counted.

Prints, per database and node count: instances/s and requests/s, p50/p95/p99
latency per call kind as the client sees it (client time included: client and
servers share this machine's cores), the error count (any non-2xx answer or
failed request; the script exits 1 if there is one), the servers' CPU per
instance, each node's peak RSS (VmHWM of its process tree) and the database
bytes per completed instance, next to the targets of the issue.

``--compare`` runs SQLite with one node, PostgreSQL with one node and
PostgreSQL with two nodes (three servers on one database, each node with its
processes as above; the nodes not driven idle) in alternating rounds (the order rotated
every round), so that a noisy machine slows all three alike, and prints
the ratios PostgreSQL/SQLite and two nodes/one node, per round and overall.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

# Other benches import these from here (bench/tasklist.py, bench/sop.py): re-exported.
from api.server import usable_cores  # noqa: E402
from bench.client import (  # noqa: E402
    CallFailed,
    Tally,
    UserConnection,
    latency_line,
    machine_line,
    percentile,
    run_clients,
    sign_in,
    timed,
    verdict,
)
from bench.harness import (  # noqa: E402
    PASSWORD,
    Databases,
    Server,
    add_user,
    add_users,
    cpu_seconds,
    database_size,
    free_port,
    proc_status_kib,
    process_tree,
    running_nodes,
    running_server,
    server_env,
    tree_cpu_seconds,
    tree_kib,
    wait_healthy,
)
from tests.builders import linear_user_tasks  # noqa: E402

__all__ = [
    "PASSWORD", "CallFailed", "Server", "Tally", "UserConnection", "add_user", "cpu_seconds",
    "free_port", "machine_line", "percentile", "proc_status_kib", "process_tree",
    "run_clients", "running_server", "server_env", "sign_in", "timed", "tree_cpu_seconds",
    "tree_kib",
    "verdict", "wait_healthy",
]

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
KINDS = ("start", "list", "complete")

TARGET_INSTANCES_PER_S = 50.0
# Completion p95 with 4 clients, per database (issue 20).
TARGET_COMPLETE_P95_MS = {"sqlite": 10.0, "postgresql": 20.0}
TARGET_RSS_MB = 150.0
TARGET_PG_SHARE = 0.80  # PostgreSQL's instances/s at least this share of SQLite's
TARGET_NODES_SHARE = 1.0  # two nodes no slower than one
PEER = ("spiff-arena's backend on this machine: 2.6 instances/s, completion median 45 ms, "
        "task list median 12 ms, 150 MB")


# -- the drive ---------------------------------------------------------------------------


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


def drive(base_urls: str | Sequence[str], tokens: dict[str, str], instances: int,
          concurrency: int, first: int = 0) -> tuple[Tally, float]:
    """Run ``instances`` instances from ``concurrency`` threads; return the tally and seconds.

    Thread i talks to ``base_urls[i % len(base_urls)]``; instance numbers (their
    business keys) start at ``first``, so that drives on one database differ.
    """
    urls = [base_urls] if isinstance(base_urls, str) else list(base_urls)
    numbers, lock = itertools.count(first), threading.Lock()
    tallies = [Tally() for _ in range(concurrency)]
    elapsed = run_clients([
        functools.partial(client_thread, numbers, lock, first + instances, urls[i % len(urls)],
                          tokens, t)
        for i, t in enumerate(tallies)])
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    return total, elapsed


# -- a database with its nodes ------------------------------------------------------------


@dataclass
class Cluster:
    """One database, the nodes serving it, the users' tokens, instances run on it."""

    kind: str
    url: str
    servers: list[Server]
    tokens: dict[str, str]
    bytes_before: int
    databases: Databases
    driven: int = 0  # instance numbers used so far (warm-up included)
    completed: int = 0  # instances completed so far (warm-up included)


@contextmanager
def cluster(kind: str, nodes: int, databases: Databases, folder: Path, *,
            threads: int | None, workers: int | Sequence[int | None] | None
            ) -> Iterator[Cluster]:
    """Create a ``kind`` database with the bench users, start ``nodes`` nodes, deploy."""
    url = databases.url(kind)
    folder.mkdir(parents=True)
    env = server_env(folder, url)
    add_users(env, USERS)
    with running_nodes(env, folder, nodes, threads=threads, workers=workers) as servers:
        first = servers[0].base_url
        tokens = {name: sign_in(first, name) for name in USERS}
        xml = linear_user_tasks(PROCESS_KEY, len(STEP_ROLES), lane_roles=STEP_ROLES)
        deployed = requests.post(
            f"{first}/api/v1/deployments",
            headers={"Authorization": f"Bearer {tokens['analis']}"},
            files=[("files", (f"{PROCESS_KEY}.bpmn", xml.encode(), "application/xml"))],
            timeout=60)
        if deployed.status_code != 201:
            raise SystemExit(f"deployment failed: {deployed.status_code} {deployed.text}")
        yield Cluster(kind, url, servers, tokens, database_size(url).total, databases)


@dataclass
class Figures:
    """What one configuration (a database, some of its nodes) did, over its rounds."""

    label: str
    cluster: Cluster
    nodes: list[Server]
    tally: Tally = field(default_factory=Tally)
    elapsed: float = 0.0
    server_cpu: float = 0.0
    database_cpu: float = 0.0  # PostgreSQL's processes; SQLite works inside the servers
    client_cpu: float = 0.0
    per_round: list[float] = field(default_factory=list)  # instances/s of each round

    @property
    def per_s(self) -> float:
        return self.tally.instances / self.elapsed if self.elapsed else 0.0


def client_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_round(figures: Figures, instances: int, concurrency: int, *, counted: bool = True
              ) -> None:
    """Drive ``instances`` instances on the configuration's nodes; add to its figures."""
    where = figures.cluster
    pids = [server.process.pid for server in figures.nodes]
    cpu_before = sum(tree_cpu_seconds(pid) for pid in pids)
    database_before = where.databases.server_cpu_seconds()
    client_before = client_cpu_seconds()
    tally, elapsed = drive([s.base_url for s in figures.nodes], where.tokens, instances,
                           concurrency, first=where.driven)
    server_cpu = sum(tree_cpu_seconds(pid) for pid in pids) - cpu_before
    database_cpu = where.databases.server_cpu_seconds() - database_before
    client_cpu = client_cpu_seconds() - client_before
    where.driven += instances
    where.completed += tally.instances
    if not counted:
        figures.tally.errors += tally.errors
        return
    figures.tally.merge(tally)
    figures.elapsed += elapsed
    figures.server_cpu += server_cpu
    figures.database_cpu += database_cpu if where.kind == "postgresql" else 0.0
    figures.client_cpu += client_cpu
    figures.per_round.append(tally.instances / elapsed)


# -- report ------------------------------------------------------------------------------


def report(figures: Figures, concurrency: int) -> None:
    """Print one configuration's figures."""
    tally, kind = figures.tally, figures.cluster.kind
    done = max(tally.instances, 1)
    print(f"\n== {figures.label}: {tally.instances} instances in {figures.elapsed:.1f} s "
          f"({concurrency} client threads over {len(figures.nodes)} node(s))")
    print(f"instances/s: {figures.per_s:8.1f}   target >= {TARGET_INSTANCES_PER_S:.0f}: "
          f"{verdict(figures.per_s >= TARGET_INSTANCES_PER_S)}"
          + (f"   per round: {', '.join(f'{r:.1f}' for r in figures.per_round)}"
             if len(figures.per_round) > 1 else ""))
    print(f"requests/s:  {tally.requests / max(figures.elapsed, 1e-9):8.1f}   "
          f"({tally.requests} requests: {1 + 2 * len(STEP_ROLES)} per instance)")
    print("latency as the client sees it (ms):")
    target = TARGET_COMPLETE_P95_MS[kind]
    for call in KINDS:
        values = tally.latencies.get(call, [])
        line = "  " + latency_line(call, values)
        if call == "complete" and values:
            p95 = 1000 * percentile(values, 95)
            line += f"   target p95 <= {target:.0f}: {verdict(p95 <= target)}"
        print(line)
    print(f"errors: {len(tally.errors)}")
    for error in tally.errors[:10]:
        print(f"  {error}")
    database = ""
    if kind == "postgresql":
        database = (f"PostgreSQL {figures.database_cpu:.1f} s "
                    f"({1000 * figures.database_cpu / done:.1f} ms per instance), ")
    print(f"CPU during the drives: servers {figures.server_cpu:.1f} s "
          f"({1000 * figures.server_cpu / done:.1f} ms per instance), {database}client "
          f"{figures.client_cpu:.1f} s ({1000 * figures.client_cpu / done:.1f} ms per instance)")


def report_nodes(where: Cluster, label: str) -> None:
    """Print each node's peak RSS and the database's bytes per completed instance."""
    print(f"\n== {label}: nodes and database")
    for n, server in enumerate(where.servers, start=1):
        tree = process_tree(server.process.pid)
        peaks = [proc_status_kib(pid, "VmHWM") for pid in tree]
        peak_mb = sum(peaks) / 1024
        print(f"node {n}: peak RSS (VmHWM, {len(tree)} processes) {peak_mb:.0f} MiB "
              f"(master first: {', '.join(f'{kib / 1024:.0f}' for kib in peaks)})   "
              f"target <= {TARGET_RSS_MB:.0f}: {verdict(peak_mb <= TARGET_RSS_MB)}; "
              f"RSS now {tree_kib(server.process.pid, 'VmRSS') / 1024:.0f} MiB")
    grown = database_size(where.url).total - where.bytes_before
    print(f"database: {grown / 1024:.0f} KiB more for {where.completed} completed instances "
          f"({grown / max(where.completed, 1) / 1024:.2f} KiB per instance; "
          f"warm-up included)")


def ratio_line(name: str, top: Figures, bottom: Figures, target: float) -> str:
    """``name: overall ratio (per round: …, median …) target …`` of instances/s."""
    overall = top.per_s / bottom.per_s if bottom.per_s else float("nan")
    rounds = [a / b for a, b in zip(top.per_round, bottom.per_round, strict=True) if b]
    median = statistics.median(rounds) if rounds else float("nan")
    return (f"{name}: {overall:.2f} (per round: {', '.join(f'{r:.2f}' for r in rounds)}; "
            f"median {median:.2f})   target >= {target:.2f} (median): {verdict(median >= target)}")


def header(args: argparse.Namespace, kinds: Sequence[str]) -> None:
    print(f"sertiflow serve over HTTP: linear process of {len(STEP_ROLES)} user tasks "
          f"({', '.join(STEP_ROLES)}); {args.concurrency} client threads")
    processes = args.workers or "the default number of"
    print(f"{machine_line()}; each node: granian, {processes} worker process(es) "
          "(1 with SQLite, one per core with PostgreSQL) x "
          f"{args.threads or 'the default'} thread(s) (1: the event loop's)")
    for kind in kinds:
        print(f"  {kind}: {Databases.describe(kind)}")


def node_workers(args: argparse.Namespace, nodes: int) -> int | None:
    """The processes of each of ``nodes`` nodes run on this one machine: as given, or
    the server's own choice for one node; several nodes share the machine's cores out
    (on two cores, two nodes of one process each), as nodes on machines of their own
    would each have theirs. None: the server's default."""
    if args.workers or nodes == 1:
        return args.workers
    return max(1, usable_cores() // nodes)


def single(args: argparse.Namespace, folder: Path) -> bool:
    """One database, one node count. Returns whether everything went right."""
    header(args, [args.database])
    label = f"{args.database}, {args.nodes} node{'s' if args.nodes > 1 else ''}"
    with Databases(folder) as databases, cluster(
            args.database, args.nodes, databases, folder / args.database,
            threads=args.threads, workers=node_workers(args, args.nodes)) as where:
        figures = Figures(label, where, where.servers)
        if args.warmup:
            run_round(figures, args.warmup, args.concurrency, counted=False)
        run_round(figures, args.instances, args.concurrency)
        report(figures, args.concurrency)
        report_nodes(where, label)
        crashed = any(s.process.poll() is not None for s in where.servers)
    print(f"nearest peer, {PEER}")
    return not (figures.tally.errors or crashed or figures.tally.instances != args.instances)


def compare(args: argparse.Namespace, folder: Path) -> bool:
    """SQLite 1 node, PostgreSQL 1 node, PostgreSQL 2 nodes, in alternating rounds."""
    header(args, ["sqlite", "postgresql"])
    per_round = max(1, args.instances // args.rounds)
    print(f"--compare: {args.rounds} rounds of {per_round} instances per configuration, "
          f"the order rotated every round; {args.warmup} warm-up instances each")
    # Three nodes on the PostgreSQL database: the first alone is "1 node"; the other
    # two, each with its share of the cores (node_workers), are "2 nodes".
    shared = node_workers(args, 2)
    with Databases(folder) as databases, cluster(
            "sqlite", 1, databases, folder / "sqlite", threads=args.threads,
            workers=[args.workers]) as lite, cluster(
            "postgresql", 3, databases, folder / "postgresql", threads=args.threads,
            workers=[args.workers, shared, shared]) as pg:
        configs = [Figures("SQLite, 1 node", lite, lite.servers),
                   Figures("PostgreSQL, 1 node", pg, pg.servers[:1]),
                   Figures("PostgreSQL, 2 nodes", pg, pg.servers[1:])]
        for figures in configs:
            if args.warmup:
                run_round(figures, args.warmup, args.concurrency, counted=False)
        for n in range(args.rounds):
            # Rotated, not reversed: each configuration takes each place in turn, and
            # none runs twice in a row across the end of a round.
            shift = n % len(configs)
            for figures in configs[shift:] + configs[:shift]:
                run_round(figures, per_round, args.concurrency)
        for figures in configs:
            report(figures, args.concurrency)
        report_nodes(lite, "SQLite")
        report_nodes(pg, "PostgreSQL")
        crashed = any(s.process.poll() is not None for s in lite.servers + pg.servers)
    sqlite1, pg1, pg2 = configs
    print("\n== ratios of instances/s, measured in the same rounds")
    print(ratio_line("PostgreSQL 1 node / SQLite 1 node", pg1, sqlite1, TARGET_PG_SHARE))
    print(ratio_line("PostgreSQL 2 nodes / 1 node      ", pg2, pg1, TARGET_NODES_SHARE))
    complete = {f.label: 1000 * percentile(f.tally.latencies.get("complete", []), 95)
                for f in configs}
    print("completion p95 (ms): " + ", ".join(f"{k} {v:.1f}" for k, v in complete.items()))
    expected = per_round * args.rounds
    return not (crashed or any(f.tally.errors or f.tally.instances != expected
                               for f in configs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=300,
                        help="instances measured (per configuration with --compare)")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--nodes", type=int, default=1,
                        help="sertiflow serve processes sharing the database")
    parser.add_argument("--compare", action="store_true",
                        help="SQLite 1 node, PostgreSQL 1 and 2 nodes, in alternating rounds")
    parser.add_argument("--rounds", type=int, default=6,
                        help="rounds of --compare (a multiple of 3 puts each configuration "
                             "in each place as often)")
    parser.add_argument("--warmup", type=int, default=8,
                        help="instances run first on each configuration, not counted")
    parser.add_argument("--threads", type=int, default=None,
                        help="the server's threads per process (default: the server's own, "
                             "1, its event loop's)")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes per node (default: the server's own, 1 with SQLite "
                             "and one per core with PostgreSQL)")
    args = parser.parse_args()
    if min(args.instances, args.concurrency, args.nodes, args.rounds) < 1 or (
            args.workers is not None and args.workers < 1):
        parser.error("--instances, --concurrency, --nodes, --rounds and --workers must be >= 1")

    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sertiflow-bench-") as tmp:
        ok = compare(args, Path(tmp)) if args.compare else single(args, Path(tmp))
    print(f"whole run: {time.perf_counter() - began:.0f} s")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
