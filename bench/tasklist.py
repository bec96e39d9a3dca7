"""Benchmark: the task-list query from 100 to 1,000,000 open tasks, in the engine and over HTTP.

Run: ``.venv/bin/python bench/tasklist.py [--sizes 100,1000,2000,10000,100000,1000000]
[--repeat 200] [--budget 12] [--database sqlite|postgresql] [--finished N] [--analyze]
[--explain]``

The database grows from one size to the next (each size adds bulk instances to
the rows already there, five open tasks each), and every size is measured in
the engine and over HTTP (a fresh ``sertiflow serve`` per size) before the next
rows are added.

What is measured: the first page of a user's task list (``state=ready``, 50 per
page, sorted by due date) — ``Queries.tasks(actor)`` in a read transaction,
and ``GET /api/v1/tasks?per_page=50&sort=due`` against ``sertiflow serve`` (a
subprocess, as in production) on the same database — for four actors: a staff
user with one role, a staff user with three roles, a customer (the company
filter) and an admin (who sees every task). For the staff user with one role and
the customer it prints, with ``--explain``, the statements the list ran at each
size and the database's plan of each (SQLite's EXPLAIN QUERY PLAN, PostgreSQL's
EXPLAIN).

The database is an SQLite file, or with ``--database postgresql`` a database on a
throw-away cluster the script starts (bench/harness.py), analysed after each
growth as autovacuum would have.

What is real and what is bulk-generated:

* real, through the engine: the schema (migrations), the deployment of a
  process whose start forks into five parallel user tasks, one per role (upp,
  auditor, ppc, tim-teknis, pelanggan), and ONE instance started by the
  runtime, which projects its five task rows and their candidate rows; the
  users are created by the identity service;
* bulk-generated, with Core INSERTs in transactions of 2,000 instances: the
  other process_instance rows, each with the real instance's
  definition_id, status ``running`` and its (compressed) state blob and waits
  digest, a business key and one of ``--companies`` companies; and five task
  rows per instance copied from the real instance's rows (definition key,
  element, title, lane, priority, form key, properties, the one candidate group
  of each task), with fresh ids, the instance's company, ``state=ready``,
  created at the instance's start (up to 60 days ago), due at a random moment
  within 30 days either side of now, and about 5% claimed by a staff user of
  the task's role.

Building 20,000 instances through the runtime one by one would take minutes,
and it would not change what the list query reads: ``Queries.tasks`` reads only
the projected tables ``task`` and ``task_candidate`` (the instance's state is
never loaded to list tasks), so their rows, indexes and value distribution are
what matters, and they are shaped exactly as the runtime writes them. The
copied state blob only makes the instance rows (and so the file) as large as
real ones; its task ids are the real instance's, so the bulk instances can be
listed but not completed. With ``--finished N``, N finished instances come
first: completed, their five tasks completed by a staff user, their candidate
rows kept (as the runtime keeps them), so that a role's candidate rows are
mostly finished tasks' as in a database that has run for a while. Not
generated: history events. ``--analyze`` gives SQLite the statistics ANALYZE
gathers, with which its planner chooses differently.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from api.extensions import default_extensions  # noqa: E402
from bench.api import (  # noqa: E402
    PASSWORD,
    UserConnection,
    machine_line,
    percentile,
    running_server,
    server_env,
    sign_in,
    verdict,
)
from bench.harness import Databases  # noqa: E402
from engine.composition import Engine  # noqa: E402
from engine.config import load_settings  # noqa: E402
from engine.identity.access import Actor  # noqa: E402
from engine.models import ProcessInstance, SlaBreach, Task, TaskCandidate  # noqa: E402
from engine.persistence.db import Base  # noqa: E402
from engine.persistence.migrate import upgrade  # noqa: E402
from tests.builders import definitions, process  # noqa: E402

PROCESS_KEY = "bench_paralel"
ROLES = ["upp", "auditor", "ppc", "tim-teknis", "pelanggan"]
TARGET_P95_MS = 15.0
PER_PAGE = 50
CLAIMED_SHARE = 0.05
MIN_CALLS = 30


@dataclass(frozen=True)
class BenchUser:
    """A user whose task list is measured."""

    label: str
    name: str
    roles: tuple[str, ...]
    company: str | None = None

    @property
    def actor(self) -> Actor:
        return Actor.of(self.name, self.roles, self.company)


def company_name(n: int) -> str:
    return f"PT Perusahaan Bench {n:03d}"


def parallel_user_tasks(key: str, roles: Sequence[str]) -> str:
    """Return a process whose start forks into one user task per role, joined before the end."""
    nodes = ['    <bpmn:startEvent id="start" />',
             '    <bpmn:parallelGateway id="fork" />',
             '    <bpmn:parallelGateway id="join" />',
             '    <bpmn:endEvent id="end" />']
    flows = [('start', 'fork'), ('join', 'end')]
    for i, role in enumerate(roles, start=1):
        nodes.append(f'    <bpmn:userTask id="review_{i}" name="Review {role}" '
                     f'camunda:candidateGroups="{role}" camunda:priority="{40 + 5 * i}" />')
        flows += [("fork", f"review_{i}"), (f"review_{i}", "join")]
    edges = [f'    <bpmn:sequenceFlow id="flow_{n}" sourceRef="{a}" targetRef="{b}" />'
             for n, (a, b) in enumerate(flows)]
    ids = ["start", "fork", *[f"review_{i}" for i in range(1, len(roles) + 1)], "join", "end"]
    shapes = "".join(
        f'      <bpmndi:BPMNShape id="{n}_di" bpmnElement="{n}">'
        f'<dc:Bounds x="{100 + 150 * i}" y="100" width="100" height="80" /></bpmndi:BPMNShape>\n'
        for i, n in enumerate(ids))
    body = process(key, "\n".join(nodes + edges) + "\n", name="Parallel review")
    return definitions(key, body, shapes)


# -- building the data ----------------------------------------------------------------


def real_instance(engine: Engine) -> tuple[dict[str, Any], list[dict[str, Any]],
                                           dict[str, list[str]]]:
    """Deploy the process, start one instance; return its row, its task rows, their groups."""
    with engine.write() as s:
        s.deployments.deploy([(f"{PROCESS_KEY}.bpmn",
                               parallel_user_tasks(PROCESS_KEY, ROLES).encode())])
    with engine.write() as s:
        started = s.runtime.start_instance(PROCESS_KEY, business_key="SPPT-000000",
                                           actor="pelanggan-000", company=company_name(0))
    instances = ProcessInstance.__table__
    tasks = Task.__table__
    candidates = TaskCandidate.__table__
    with engine.read() as s:
        instance = dict(s.session.execute(
            sa.select(instances).where(instances.c.id == started.id)).mappings().one())
        task_rows = [dict(r) for r in s.session.execute(
            sa.select(tasks).where(tasks.c.instance_id == started.id)
            .order_by(tasks.c.element_id)).mappings()]
        groups: dict[str, list[str]] = {}
        for task_id, value in s.session.execute(
                sa.select(candidates.c.task_id, candidates.c.value)
                .where(candidates.c.kind == "group")):
            groups.setdefault(task_id, []).append(value)
    if len(task_rows) != len(ROLES):
        raise SystemExit(f"the real instance has {len(task_rows)} ready tasks, "
                         f"not {len(ROLES)}")
    return instance, task_rows, groups


def bulk_rows(instance: dict[str, Any], task_rows: list[dict[str, Any]],
              groups: dict[str, list[str]], numbers: range, companies: int, rng: random.Random,
              *, finished: bool = False) -> tuple[list[dict[str, Any]], ...]:
    """Return the instance rows numbered ``numbers``, their task, candidate and SLA breach rows.

    Shaped like the real ones. A task already past due has its breach recorded,
    as the server's SLA sweep would have recorded it when the task fell due;
    without them the server would spend the measurement catching up tens of
    thousands of breaches at once. A ``finished`` instance is completed, its
    tasks completed by a staff user of their role (and its candidate rows say
    so), with no breach: only open tasks are swept.
    """
    now = instance["started_at"]
    instance_rows: list[dict[str, Any]] = []
    tasks: list[dict[str, Any]] = []
    candidates: list[dict[str, Any]] = []
    breaches: list[dict[str, Any]] = []
    for n in numbers:
        company = company_name(rng.randrange(companies))
        started = now - timedelta(seconds=rng.uniform(0, 60 * 86400))
        instance_id = str(uuid.uuid4())
        ended = started + timedelta(days=5) if finished else None
        instance_rows.append({
            **instance, "id": instance_id, "business_key": f"SPPT-{'F' if finished else ''}{n:07d}",
            "company": company, "started_by": f"pelanggan-{company[-3:]}",
            "started_at": started, "updated_at": ended or started, "ended_at": ended,
            "status": "completed" if finished else instance["status"],
        })
        for template in task_rows:
            task_id = str(uuid.uuid4())
            roles = groups[template["id"]]
            claimed = roles[0] != "pelanggan" and rng.random() < CLAIMED_SHARE
            due = now + timedelta(seconds=rng.uniform(-30 * 86400, 30 * 86400))
            tasks.append({
                **template, "id": task_id, "instance_id": instance_id, "company": company,
                "assignee": f"staf-{roles[0]}-{rng.randrange(10)}" if claimed else None,
                "created_at": started, "due_at": due, "due_order": due,
            })
            state = "completed" if finished else "ready"
            if finished:
                staff = f"staf-{roles[0]}-{rng.randrange(10)}"
                tasks[-1].update(state=state, assignee=staff, completed_at=ended,
                                 completed_by=staff)
            candidates += [{"task_id": task_id, "kind": "group", "value": r, "company": company,
                            "state": state} for r in roles]
            if due <= now and not finished:
                breaches.append({
                    "task_id": task_id, "instance_id": instance_id,
                    "definition_key": template["definition_key"],
                    "element_id": template["element_id"], "title": template["title"],
                    "roles": ",".join(roles), "assignee": tasks[-1]["assignee"],
                    "due_at": due, "detected_at": due, "completed_at": None,
                    "completed_by": None, "escalated_to": None})
    return instance_rows, tasks, candidates, breaches


@dataclass
class Seed:
    """The real instance the bulk rows copy, and how many instances the database holds."""

    instance: dict[str, Any]
    task_rows: list[dict[str, Any]]
    groups: dict[str, list[str]]
    rng: random.Random
    instances: int = 1
    finished: int = 0


# Instances generated and inserted per transaction: 10,000 tasks, so that a
# million open tasks never sit in memory at once.
CHUNK = 2000


def grow(engine: Engine, seed: Seed, instances: int, companies: int, *, analyze: bool
         ) -> float:
    """Add bulk instances until the database holds ``instances``; return the seconds spent.

    Then the statistics: PostgreSQL's always (autovacuum would have gathered
    them by the time a list is read), SQLite's with ``analyze`` (ANALYZE is run
    by hand there, or never).
    """
    began = time.perf_counter()
    while seed.instances < instances:
        numbers = range(seed.instances, min(instances, seed.instances + CHUNK))
        insert(engine, bulk_rows(seed.instance, seed.task_rows, seed.groups, numbers, companies,
                                 seed.rng))
        seed.instances = numbers.stop
    with engine.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        if analyze or not sqlite:
            conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - began


def grow_finished(engine: Engine, seed: Seed, instances: int, companies: int) -> None:
    """Add ``instances`` finished bulk instances: the backlog beside the open tasks that
    a database which has run for a while holds (each finished task keeps its
    candidate rows)."""
    while seed.finished < instances:
        numbers = range(seed.finished, min(instances, seed.finished + CHUNK))
        insert(engine, bulk_rows(seed.instance, seed.task_rows, seed.groups, numbers, companies,
                                 seed.rng, finished=True))
        seed.finished = numbers.stop


def insert(engine: Engine, rows: tuple[list[dict[str, Any]], ...]) -> None:
    """Insert what :func:`bulk_rows` returned, in one transaction."""
    tables = [Base.metadata.tables[model.__tablename__]
              for model in (ProcessInstance, Task, TaskCandidate, SlaBreach)]
    with engine.write() as s:
        conn = s.session.connection()
        for table, values in zip(tables, rows, strict=True):
            if values:
                conn.execute(sa.insert(table), values)


def database_mib(engine: Engine) -> float:
    with engine.db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar() or 0
            size = conn.exec_driver_sql("PRAGMA page_size").scalar() or 0
            return float(pages * size) / 2**20
        return float(conn.exec_driver_sql(
            "SELECT pg_database_size(current_database())").scalar() or 0) / 2**20


def add_users(engine: Engine, users: Sequence[BenchUser]) -> None:
    with engine.write() as s:
        for user in users:
            s.identity.add_user(user.name, PASSWORD, roles=user.roles, company=user.company)


# -- measuring -----------------------------------------------------------------------------


def timings(call: Callable[[], Any], repeat: int, budget: float, warmup: int = 3
            ) -> list[float]:
    """Return the seconds each timed call took, after ``warmup`` untimed ones.

    Stops after ``repeat`` calls, or earlier once ``budget`` seconds are spent and
    at least ``MIN_CALLS`` calls are timed, so slow queries keep the run short.
    """
    for _ in range(warmup):
        call()
    spent: list[float] = []
    began = time.perf_counter()
    while len(spent) < repeat and (len(spent) < MIN_CALLS
                                   or time.perf_counter() - began < budget):
        started = time.perf_counter()
        call()
        spent.append(time.perf_counter() - started)
    return spent


def engine_list(engine: Engine, actor: Actor) -> tuple[int, int]:
    """Run the task list as the API does; return (items on the page, total)."""
    with engine.read() as s:
        page = s.queries.tasks(actor, sort="due", per_page=PER_PAGE)
        return len(page.items), page.total


@contextmanager
def captured(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Collect the SQL statements (with their parameters) run inside the block."""
    found: list[tuple[str, Any]] = []

    def note(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
             executemany: bool) -> None:
        found.append((statement, parameters))

    sa.event.listen(engine.db.engine, "before_cursor_execute", note)
    try:
        yield found
    finally:
        sa.event.remove(engine.db.engine, "before_cursor_execute", note)


def explain(engine: Engine, actor: Actor) -> list[str]:
    """The statements one list runs for ``actor``, each with the database's plan."""
    with captured(engine) as found:
        engine_list(engine, actor)
    lines: list[str] = []
    with engine.db.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        for statement, parameters in found:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            lines.append("  " + " ".join(statement.split())[:400])
            if not sqlite:
                rows = conn.exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars()
                lines += ["    " + row for row in rows]
                continue
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            depth: dict[int, int] = {0: 1}
            for node, parent, _, detail in plan:
                depth[node] = depth.get(parent, 1) + 1
                lines.append("  " * depth[node] + detail)
    return lines


def http_list(user: UserConnection) -> tuple[int, int, bool]:
    """Run the list over HTTP; return (items on the page, total)."""
    status, content = user.call("GET", f"/api/v1/tasks?per_page={PER_PAGE}&sort=due")
    if status != 200:
        raise SystemExit(f"GET /api/v1/tasks answered {status}: {content[:300]!r}")
    body = json.loads(content)
    return len(body["items"]), int(body["total"]), bool(body["total_exact"])


def figures(values: Sequence[float]) -> str:
    return (f"n={len(values):<3} p50 {1000 * percentile(values, 50):7.2f}  "
            f"p95 {1000 * percentile(values, 95):7.2f}  "
            f"p99 {1000 * percentile(values, 99):7.2f}  "
            f"mean {1000 * statistics.fmean(values):7.2f} ms")


def measure_engine(engine: Engine, users: Sequence[BenchUser], args: argparse.Namespace
                   ) -> tuple[dict[str, list[float]], dict[str, tuple[int, int]]]:
    times: dict[str, list[float]] = {}
    seen: dict[str, tuple[int, int]] = {}
    print("  engine: Queries.tasks(actor) in a read transaction")
    for user in users:
        seen[user.name] = engine_list(engine, user.actor)
        times[user.name] = timings(partial(engine_list, engine, user.actor),
                                   args.repeat, args.budget)
        items, total = seen[user.name]
        print(f"    {user.label:<47} {total_text(engine_total(engine, user.actor), total)}, "
              f"page {items:2d}: {figures(times[user.name])}  "
              f"{verdict(1000 * percentile(times[user.name], 95) <= TARGET_P95_MS)}")
    return times, seen


def engine_total(engine: Engine, actor: Actor) -> bool:
    with engine.read() as s:
        return s.queries.tasks(actor, sort="due", per_page=PER_PAGE).total_exact


def total_text(exact: bool, total: int) -> str:
    return f"total {total:6d}{' ' if exact else '+'}"


def measure_http(env: dict[str, str], folder: Path, users: Sequence[BenchUser],
                 seen: dict[str, tuple[int, int]], args: argparse.Namespace
                 ) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    print(f"  HTTP: GET /api/v1/tasks?per_page={PER_PAGE}&sort=due against sertiflow serve "
          "(1 client thread, keep-alive)")
    with running_server(env, folder, threads=None) as server:
        for user in users:
            connection = UserConnection(server.base_url, sign_in(server.base_url, user.name))
            answer = http_list(connection)
            if answer[:2] != seen[user.name]:
                raise SystemExit(f"{user.name}: HTTP listed {answer}, the engine "
                                 f"{seen[user.name]}")
            times[user.name] = timings(partial(http_list, connection), args.repeat, args.budget)
            connection.close()
            print(f"    {user.label:<47} {total_text(answer[2], answer[1])}, page {answer[0]:2d}: "
                  f"{figures(times[user.name])}  "
                  f"{verdict(1000 * percentile(times[user.name], 95) <= TARGET_P95_MS)}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,2000,10000,100000,1000000",
                        help="open tasks in the database at each measurement, ascending "
                             "(five per instance)")
    parser.add_argument("--companies", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=200,
                        help="timed calls per actor and path, at most")
    parser.add_argument("--budget", type=float, default=12.0,
                        help=f"seconds per actor and path after which timing stops "
                             f"(at least {MIN_CALLS} calls)")
    parser.add_argument("--seed", type=int, default=17065)
    parser.add_argument("--skip-http", action="store_true", help="measure the engine only")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--finished", type=int, default=0,
                        help="finished instances (five completed tasks each) bulk-inserted "
                             "before the open ones")
    parser.add_argument("--analyze", action="store_true",
                        help="run ANALYZE on SQLite after each growth (PostgreSQL is always "
                             "analysed)")
    parser.add_argument("--explain", action="store_true",
                        help="print each statement of a staff user's and a customer's list "
                             "with its query plan")
    args = parser.parse_args()
    try:
        sizes = [int(v) for v in args.sizes.split(",")]
    except ValueError:
        raise SystemExit(f"--sizes: numbers separated by commas, not {args.sizes!r}") from None
    if sizes != sorted(sizes) or sizes[0] < len(ROLES):
        raise SystemExit(f"--sizes must ascend, from {len(ROLES)} up")
    users = [
        BenchUser("staff, one role (upp)", "staf-upp", ("upp",)),
        BenchUser("staff, three roles (auditor, ppc, tim-teknis)", "staf-tiga",
                  ("auditor", "ppc", "tim-teknis")),
        BenchUser(f"customer of {company_name(7)}", "pelanggan-007", ("pelanggan",),
                  company_name(7)),
        BenchUser("admin (sees every task)", "admin-bench", ("admin",)),
    ]
    worst: dict[int, float] = {}
    with (tempfile.TemporaryDirectory(prefix="sertiflow-tasklist-") as tmp,
          Databases(Path(tmp)) as databases):
        folder = Path(tmp)
        env = server_env(folder, databases.url(args.database))
        engine = Engine(load_settings(env), extensions=default_extensions(env))
        upgrade(engine.db.engine)
        began = time.perf_counter()
        instance, task_rows, groups = real_instance(engine)
        real_s = time.perf_counter() - began
        add_users(engine, users)
        seed = Seed(instance, task_rows, groups, random.Random(args.seed))
        print(f"task list on {Databases.describe(args.database)}")
        print(f"first page ({PER_PAGE} per page, sort by due), "
              f"{args.companies} companies; sizes {', '.join(map(str, sizes))} open tasks")
        print(f"{machine_line()}; up to {args.repeat} timed calls per actor and path "
              f"(fewer, at least {MIN_CALLS}, past {args.budget:.0f} s)")
        print(f"(1 real instance through the runtime in {real_s:.2f} s; state blob "
              f"{len(instance['state'])} B; the others bulk-inserted)")
        if args.finished:
            began = time.perf_counter()
            grow_finished(engine, seed, args.finished, args.companies)
            print(f"({args.finished} finished instances, {len(ROLES) * args.finished} "
                  f"completed tasks, bulk-inserted in {time.perf_counter() - began:.1f} s)")
        if args.analyze:
            print("(SQLite analysed after each growth)")
        for size in sizes:
            grown_s = grow(engine, seed, size // len(ROLES), args.companies,
                           analyze=args.analyze)
            with engine.read() as s:
                open_tasks = int(s.session.scalar(
                    sa.select(sa.func.count()).select_from(Task)
                    .where(Task.state == "ready")) or 0)
            size_mb = database_mib(engine)
            print(f"\n== {open_tasks} open tasks in {seed.instances} instances "
                  f"(rows added in {grown_s:.1f} s; database {size_mb:.0f} MiB)")
            engine_times, seen = measure_engine(engine, users, args)
            if args.explain:
                for user in (users[0], users[2]):
                    print(f"  statements of {user.label}:")
                    print("\n".join(explain(engine, user.actor)))
            http_times: dict[str, list[float]] = {}
            if not args.skip_http:
                engine.db.dispose()
                http_times = measure_http(env, folder, users, seen, args)
            worst[size] = max(percentile(v, 95)
                              for v in [*engine_times.values(), *http_times.values()])
        engine.close()
    print(f"\ntarget: p95 <= {TARGET_P95_MS:.0f} ms at every size; worst p95 per size: "
          + ", ".join(f"{size}: {1000 * p95:.2f} ms" for size, p95 in worst.items())
          + f": {verdict(1000 * max(worst.values()) <= TARGET_P95_MS)}")


if __name__ == "__main__":
    main()
