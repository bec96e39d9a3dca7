"""Benchmark: what grows with load: rows and bytes per instance, and the key queries as it grows.

Run: ``.venv/bin/python bench/growth.py [--seed sop|plain] [--sizes 1000,10000]
[--database sqlite|postgresql] [--companies 200] [--running-share 0.02] [--repeat 50]``

First a real instance, run to its end: ``sop`` (the default) is the LSPro's
whole procedure over HTTP against ``sertiflow serve``, as ``bench/sop.py``
drives it (one customer); ``plain`` is the 17-user-task process of
``bench/engine.py`` run by the engine in this process (seconds, for a quick look).
Every row that instance left in a table that belongs to an instance (a column
``instance_id``, or a key to such a row: the task's candidates) is then the
template of the bulk rows, inserted with Core in transactions of
``--chunk`` instances until the database holds each of ``--sizes`` instances:

* ids (string keys of the copied rows, and every column that holds one) are
  new for each copy; integer keys are left to the database; columns under a
  unique constraint that hold no id get a number of the copy in their tail;
* each copy belongs to one of ``--companies`` companies and is moved back in
  time by up to a year (all its moments alike);
* ``--running-share`` of the copies are still running: the instance is
  ``running`` and its last task ``ready`` again, so task lists have open tasks
  that grow with the rest.

At each size it prints, per completed instance: rows and bytes per table, the
largest indexes, history events, and the whole (compacted, documents' files
not counted: ``bench.harness.database_size``); then the p50/p95 of the key
queries in the engine (``Queries`` in a read transaction, as the API calls
them): a staff user's task list (every staff role), a customer's task list, the
instance list as an admin sees it, a customer's instance list, an instance
search by a word every instance has and by a business key, and one instance's
history. Prints figures only; asserts nothing about them.
"""

from __future__ import annotations

import argparse
import random
import statistics
import string
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

import engine.models  # noqa: E402, F401  (every engine table on Base.metadata)
from bench.client import machine_line, percentile  # noqa: E402
from bench.harness import (  # noqa: E402
    Databases,
    DatabaseSize,
    add_users,
    database_size,
    running_server,
    server_env,
)
from engine.persistence.db import Base, create_db_engine  # noqa: E402

CUSTOMER_ROLE = "pelanggan"
ADMIN_ROLE = "admin"


# -- the seed: one real instance ----------------------------------------------------------


def plain_seed(env: dict[str, str]) -> str:
    """Run one plain instance to its end in this process; return the customer's company."""
    from api.extensions import default_extensions
    from bench.breakdown import plain_instances, plain_xml
    from engine.composition import Engine
    from engine.config import load_settings

    engine = Engine(load_settings(env), extensions=default_extensions(env))
    try:
        engine.migrate()
        with engine.write() as s:
            s.deployments.deploy([("plain.bpmn", plain_xml())])
        plain_instances(engine, 1)
    finally:
        engine.close()
    return ""


def sop_seed(env: dict[str, str], folder: Path) -> str:
    """Run one SOP instance over HTTP to the certificate handed over; return its company."""
    from bench import sop
    from bench.client import CallFailed, sign_in

    customer = sop.customer_names(1)[0]
    company = "PT Bench Pangan 1"
    people: dict[str, tuple[list[str], str | None]] = {
        name: (roles, None) for name, roles in sop.staff().items()}
    people[customer] = ([CUSTOMER_ROLE], company)
    add_users(env, people)
    env = {**env, "SERTIFLOW_PROCESSES": str(ROOT / "processes"),
           "SERTIFLOW_FORMS": str(ROOT / "forms")}
    with running_server(env, folder, threads=None) as server:
        tokens = {name: sign_in(server.base_url, name) for name in people}
        with sop.connections(server.base_url, tokens) as users:
            status, body = users[customer].call("PUT", f"{sop.API}/company-profile",
                                                sop.profile(1))
            if status != 200:
                raise SystemExit(f"company profile: {status} {body[:300]!r}")
            tally = sop.SopTally()
            try:
                sop.run_instance(customer, users, tally)
            except CallFailed:
                raise SystemExit("the seed instance failed: " + "; ".join(tally.errors)) from None
        rendered(env["DATABASE_URL"])
    return company


def rendered(url: str, timeout: float = 120.0) -> None:
    """Wait until the renderer has made every queued document (its rows are then gone)."""
    db = sa.create_engine(url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with db.connect() as conn:
                if not conn.scalar(sa.text("SELECT count(*) FROM document_render")):
                    return
            time.sleep(0.5)
        raise SystemExit(f"documents of the seed instance still queued after {timeout:.0f} s")
    finally:
        db.dispose()


# -- the template and its copies ----------------------------------------------------------


@dataclass
class Template:
    """The seed's rows per instance-scoped table, in the order they can be inserted."""

    tables: list[sa.Table]
    rows: dict[str, list[dict[str, Any]]]
    ids: set[str]  # the string keys that each copy replaces
    unique: dict[str, list[str]]  # table -> columns to number per copy
    dropped: dict[str, str]  # table -> integer key left to the database
    last_task: str | None  # the task that is ready again in a running copy
    company: str
    words: list[str] = field(default_factory=list)


def read_template(db: sa.Engine, company: str) -> Template:
    """Read every row the seed instance(s) left in the instance-scoped tables."""
    metadata = sa.MetaData()
    metadata.reflect(db)
    for table in metadata.tables.values():
        model = Base.metadata.tables.get(table.name)
        if model is None:
            continue
        for column in table.columns:
            if column.name in model.c:
                # The model's type reads what the reflected one cannot: SQLite's moments
                # stored as integers (engine.persistence.db.CompactUTCDateTime).
                column.type = model.c[column.name].type
    inspector = sa.inspect(db)
    instance_table = metadata.tables["process_instance"]
    with db.connect() as conn:
        instance_ids = set(conn.scalars(sa.select(instance_table.c.id)))
        scoped: list[sa.Table] = []
        rows: dict[str, list[dict[str, Any]]] = {}
        for table in metadata.sorted_tables:
            if table.name == "process_instance":
                where = table.c.id.in_(instance_ids)
            elif "instance_id" in table.c:
                where = table.c.instance_id.in_(instance_ids)
            elif any(fk.column.table.name in rows for fk in table.foreign_keys):
                fk = next(fk for fk in table.foreign_keys if fk.column.table.name in rows)
                parent = [r[fk.column.name] for r in rows[fk.column.table.name]]
                where = fk.parent.in_(parent)
            else:
                continue
            found = [dict(r) for r in conn.execute(sa.select(table).where(where)).mappings()]
            if found:
                scoped.append(table)
                rows[table.name] = found
    ids: set[str] = set()
    unique: dict[str, list[str]] = {}
    dropped: dict[str, str] = {}
    for table in scoped:
        keys = list(table.primary_key.columns)
        if len(keys) == 1 and isinstance(keys[0].type, sa.Integer):
            dropped[table.name] = keys[0].name
        elif len(keys) == 1:
            ids.update(str(r[keys[0].name]) for r in rows[table.name])
    for table in scoped:
        groups: list[list[str]] = [list(c["column_names"])
                                   for c in inspector.get_unique_constraints(table.name)]
        groups += [[c for c in i["column_names"] if c is not None]
                   for i in inspector.get_indexes(table.name) if i["unique"]]
        # A business key names one application: each copy gets its own too.
        numbered: list[str] = ["business_key"] if "business_key" in table.c else []
        for columns in groups:
            values = [r.get(c) for r in rows[table.name] for c in columns]
            if any(isinstance(v, str) and v in ids for v in values) or "instance_id" in columns:
                continue  # a copy's new ids keep it unique already
            # One numbered column makes the group unique; the others keep their meaning.
            numbered += [c for c in columns if c and c != dropped.get(table.name)][:1]
        if numbered:
            unique[table.name] = sorted(set(numbered))
    tasks = rows.get("task", [])
    last = max(tasks, key=lambda r: (r["created_at"], r["id"]))["id"] if tasks else None
    words = sorted({r["word"] for r in rows.get("instance_search_word", [])})
    return Template(scoped, rows, ids, unique, dropped, last, company, words)


BASE36 = string.digits + string.ascii_lowercase


def numbered(value: Any, n: int) -> Any:
    """``value`` with copy number ``n`` in its tail, its length kept (a unique column's)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value + 1_000_003 * n
    if isinstance(value, str):
        tail = ""
        while True:
            n, digit = divmod(n, 36)
            tail = BASE36[digit] + tail
            if n == 0:
                break
        tail = "x" + tail  # not the seed's own tail, whatever digits that ends in
        return value[:max(len(value) - len(tail), 0)] + tail
    return value


def copies(template: Template, numbers: Iterable[int], companies: int, running_share: float,
           rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    """The rows of copies ``numbers`` of the template, table by table."""
    out: dict[str, list[dict[str, Any]]] = {t.name: [] for t in template.tables}
    for n in numbers:
        new_ids = {old: str(uuid.uuid4()) for old in template.ids}
        company = f"PT Bench Pangan {n % companies + 1}"
        shift = timedelta(seconds=rng.uniform(0, 365 * 86400))
        running = rng.random() < running_share
        for table in template.tables:
            drop = template.dropped.get(table.name)
            unique = template.unique.get(table.name, [])
            for row in template.rows[table.name]:
                copy: dict[str, Any] = {}
                for name, value in row.items():
                    if name == drop:
                        continue
                    if isinstance(value, str) and value in new_ids:
                        value = new_ids[value]
                    elif name in unique:
                        value = numbered(value, n)
                    elif name == "company" and value == template.company and value:
                        value = company
                    elif isinstance(value, datetime | date):
                        value = value - shift
                    copy[name] = value
                if running:
                    running_row(table.name, row, copy, template.last_task)
                out[table.name].append(copy)
    return out


def running_row(table: str, row: dict[str, Any], copy: dict[str, Any], last: str | None
                ) -> None:
    """Turn a completed copy's row into a running one's: the instance, its last task."""
    if table == "process_instance":
        copy.update(status="running", ended_at=None)
    elif table == "task" and row["id"] == last:
        copy.update(state="ready", completed_at=None, completed_by=None)
    elif table == "task_candidate" and row["task_id"] == last and "state" in copy:
        copy["state"] = "ready"


def grow(db: sa.Engine, template: Template, have: int, want: int, chunk: int, companies: int,
         running_share: float, rng: random.Random) -> float:
    """Insert copies until ``want`` instances are there; return the seconds spent."""
    began = time.perf_counter()
    while have < want:
        numbers = range(have, min(want, have + chunk))
        rows = copies(template, numbers, companies, running_share, rng)
        with db.begin() as conn:
            for table in template.tables:
                if rows[table.name]:
                    conn.execute(sa.insert(table), rows[table.name])
        have = numbers.stop
    if db.dialect.name == "postgresql":
        with db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - began


# -- the queries ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    label: str
    run: Callable[[Any], Any]


def key_queries(template: Template, db: sa.Engine) -> list[Query]:
    """The queries a growing database must keep answering quickly."""
    from engine.identity.access import Actor

    groups = sorted({r["value"] for r in template.rows.get("task_candidate", [])
                     if r.get("kind") == "group" and r["value"] != CUSTOMER_ROLE})
    staff = Actor.of("staf-growth", groups or ["upp"])
    customer = Actor.of("pelanggan-growth", [CUSTOMER_ROLE], "PT Bench Pangan 7")
    admin = Actor.of("admin-growth", [ADMIN_ROLE])
    with db.connect() as conn:
        # Typed: SQLite holds the id as bytes (engine.persistence.db.CompactUUID).
        instances = Base.metadata.tables["process_instance"]
        one = conn.execute(sa.select(instances.c.id, instances.c.business_key)
                           .order_by(instances.c.started_at.desc()).limit(1)).one()
    # A word every instance has, long enough to be one a person would type.
    word = next((w for w in template.words if len(w) >= 6), "biskuit")
    return [
        Query(f"task list, staff with {len(groups)} roles",
              lambda s: s.queries.tasks(staff, sort="due", per_page=50)),
        Query("task list, a customer", lambda s: s.queries.tasks(customer, sort="due",
                                                                 per_page=50)),
        Query("instance list, admin (newest first, counted)",
              lambda s: s.queries.instances(admin, per_page=50)),
        Query("instance list, a customer", lambda s: s.queries.instances(customer,
                                                                         per_page=50)),
        Query(f"instance search, a word of every instance ({word!r})",
              lambda s: s.queries.instances(admin, search=word, per_page=50)),
        Query("instance search, one business key",
              lambda s: s.queries.instances(admin, business_key=one.business_key)),
        Query("history of one instance (first 100 events)",
              lambda s: s.queries.history(admin, one.id)),
    ]


def timings(engine: Any, query: Query, repeat: int, budget: float = 5.0) -> list[float]:
    def once() -> None:
        with engine.read() as s:
            page = query.run(s)
            list(page.items)

    once()
    spent: list[float] = []
    began = time.perf_counter()
    while len(spent) < repeat and (len(spent) < 5 or time.perf_counter() - began < budget):
        t0 = time.perf_counter()
        once()
        spent.append(time.perf_counter() - t0)
    return spent


# -- the report ----------------------------------------------------------------------------


def size_lines(size: DatabaseSize, base: DatabaseSize, instances: int, top: int = 10
               ) -> list[str]:
    """Per completed instance: the whole, each table that grew, the largest indexes."""
    grown = size.grown(base)
    per = max(instances, 1)
    lines = [f"  database {size.total / 2**20:.1f} MiB compacted; per instance "
             f"{(size.total - base.total) / per / 1000:.1f} KB"]
    lines.append(f"  {'table':<24} {'rows/inst':>9} {'KB/inst':>8}  of it indexes (KB/inst)")
    for table, (grew, rows) in list(grown.items())[:top]:
        if grew <= 0 and rows <= 0:
            continue
        before = base.tables.get(table)
        indexes = {name: b - (before.indexes.get(name, 0) if before else 0)
                   for name, b in size.tables[table].indexes.items()}
        shown = ", ".join(f"{name} {b / per / 1000:.2f}" for name, b in
                          sorted(indexes.items(), key=lambda i: -i[1]) if b > 0)
        lines.append(f"  {table:<24} {rows / per:9.1f} {grew / per / 1000:8.2f}  {shown}")
    return lines


def query_lines(engine: Any, queries: Sequence[Query], repeat: int) -> list[str]:
    lines = []
    for query in queries:
        spent = timings(engine, query, repeat)
        lines.append(f"  {query.label:<58} p50 {1000 * percentile(spent, 50):8.2f}  "
                     f"p95 {1000 * percentile(spent, 95):8.2f}  mean "
                     f"{1000 * statistics.fmean(spent):8.2f} ms  (n={len(spent)})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", choices=("sop", "plain"), default="sop")
    parser.add_argument("--sizes", default="1000,10000",
                        help="completed instances in the database at each measurement")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--companies", type=int, default=200)
    parser.add_argument("--running-share", type=float, default=0.02,
                        help="share of the copies still running (their last task open)")
    parser.add_argument("--chunk", type=int, default=500, help="copies per transaction")
    parser.add_argument("--repeat", type=int, default=50, help="timed runs per query, at most")
    parser.add_argument("--rng-seed", type=int, default=20)
    args = parser.parse_args()
    try:
        sizes = [int(v) for v in args.sizes.split(",")]
    except ValueError:
        raise SystemExit(f"--sizes: numbers separated by commas, not {args.sizes!r}") from None
    if sizes != sorted(sizes) or sizes[0] < 1:
        raise SystemExit("--sizes must ascend, from 1 up")
    from api.extensions import default_extensions
    from engine.composition import Engine
    from engine.config import load_settings

    print(f"what grows with load: {args.seed} instances copied from one real one, "
          f"sizes {', '.join(map(str, sizes))}; {args.companies} companies, "
          f"{100 * args.running_share:.0f} % still running")
    print(machine_line())
    rng = random.Random(args.rng_seed)
    with tempfile.TemporaryDirectory(prefix="sertiflow-growth-") as tmp, \
            Databases(Path(tmp)) as databases:
        folder = Path(tmp)
        url = databases.url(args.database)
        env = server_env(folder / "seed", url)
        began = time.perf_counter()
        company = (sop_seed(env, folder / "seed") if args.seed == "sop" else plain_seed(env))
        print(f"{Databases.describe(args.database)}; the seed instance ran in "
              f"{time.perf_counter() - began:.0f} s")
        # The engine's own settings, so the copies' JSON is written as the engine writes it.
        db = create_db_engine(url)
        template = read_template(db, company)
        base = database_size(url)
        print(f"one instance: {sum(len(r) for r in template.rows.values())} rows in "
              f"{len(template.tables)} tables: " + ", ".join(
                  f"{t.name} {len(template.rows[t.name])}" for t in template.tables))
        have = last = 1
        engine = Engine(load_settings(env), extensions=default_extensions(env))
        queries: list[Query] = []
        for size in sizes:
            grown_s = grow(db, template, have, size, args.chunk, args.companies,
                           args.running_share, rng)
            have = max(have, size)
            engine.db.dispose()
            now = database_size(url)
            print(f"\n== {have} instances (copies inserted in {grown_s:.1f} s); "
                  f"what the {have - last} added take:")
            print("\n".join(size_lines(now, base, have - last)))
            queries = queries or key_queries(template, db)
            print("  key queries in the engine (Queries in a read transaction):")
            print("\n".join(query_lines(engine, queries, args.repeat)))
            base, last = now, have
        engine.close()
        db.dispose()


if __name__ == "__main__":
    main()
