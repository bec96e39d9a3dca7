"""Benchmark: what archiving, partitioning by year and a read replica buy a growing database.

Run: ``.venv/bin/python bench/past_one_database.py [--database sqlite|postgresql|both]
[--completed 5000] [--running 500] [--repeat 100] [--no-partitions] [--no-replica]``

1. **Archiving** (each database): ``--completed`` finished instances spread over three
   past years and ``--running`` open ones (copies of one real instance of an 8-task
   process, see ``bench/clones.py``). Measured before and after ``sertiflow archive``'s
   run (:class:`engine.archive.Archiver`) moves the finished ones out: database bytes,
   a staff user's task list, the monitor's instance list (it counts its matches exactly),
   a search by business key, one instance's history; and the run itself (instances/s,
   archive bytes per instance).
2. **History partitioned by year** (PostgreSQL): the same history rows copied into a
   plain table and into one partitioned by ``RANGE (at)`` with one partition per year;
   one instance's history and one year's events read from each; then one year removed
   from each, by ``DELETE`` and by ``DETACH`` + ``DROP`` of its partition.
3. **A read replica** (PostgreSQL): a streaming standby of the throw-away cluster made
   with ``pg_basebackup -R``; the task list on the standby and on the primary while a
   writer thread runs real commands on the primary, and the replica's lag (a row
   committed on the primary, polled on the standby until it is there).

It prints figures, it asserts none. A 2-core machine shared with other work: compare
the before and after of one run, not absolute figures across runs.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench import clones  # noqa: E402
from bench.client import percentile  # noqa: E402
from bench.harness import (  # noqa: E402
    Databases,
    chosen_databases,
    database_size,
    free_port,
    server_env,
)
from engine.archive import Archiver  # noqa: E402
from engine.composition import Engine  # noqa: E402
from engine.config import load_settings  # noqa: E402
from engine.identity.access import ADMIN, Actor  # noqa: E402
from engine.models import HistoryEvent, ProcessInstance  # noqa: E402

STAFF = Actor.of("budi", [clones.ROLE])
ADMIN_ACTOR = Actor.of("admin", [ADMIN])
YEARS = (2023, 2024, 2025)
BATCH = 500


def ms(values: Sequence[float]) -> str:
    return (f"p50 {1000 * percentile(values, 50):7.2f}  p95 {1000 * percentile(values, 95):7.2f}"
            " ms")


def timed(call: Callable[[], Any], repeat: int) -> list[float]:
    for _ in range(3):
        call()
    spent = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        spent.append(time.perf_counter() - began)
    return spent


def in_years(count: int, rng: random.Random) -> list[datetime]:
    # A day inside each end: an instance's earlier events stay in its end's years.
    start = datetime(YEARS[0], 1, 2, tzinfo=UTC)
    span = datetime(YEARS[-1], 12, 31, tzinfo=UTC) - start
    return sorted(start + span * rng.random() for _ in range(count))


def grow(engine: Engine, template: clones.Template, ends: Sequence[datetime], prefix: str
         ) -> float:
    began = time.perf_counter()
    batch = []
    for copy in clones.copies(template, ends, prefix):
        batch.append(copy)
        if len(batch) == BATCH:
            clones.insert(engine, batch)
            batch = []
    if batch:
        clones.insert(engine, batch)
    return time.perf_counter() - began


def read_calls(engine: Engine, probe: str) -> dict[str, Callable[[], Any]]:
    """The timed reads: a task list, the instance list, a search, one history."""
    def task_list() -> None:
        with engine.read() as s:
            s.queries.tasks(STAFF, sort="due", per_page=50)

    def instance_list() -> None:
        with engine.read() as s:
            s.queries.instances(ADMIN_ACTOR, per_page=50)

    def search() -> None:
        with engine.read() as s:
            s.queries.instances(ADMIN_ACTOR, search="open-00001", per_page=50)

    def history() -> None:
        with engine.read() as s:
            s.queries.history(ADMIN_ACTOR, probe, per_page=100)

    return {"task list (staff, 50)": task_list,
            "instance list (admin, counted)": instance_list,
            "search by business key": search,
            "one instance's history": history}


def interleaved(sides: dict[str, dict[str, Callable[[], Any]]], repeat: int, rounds: int = 5
                ) -> dict[str, dict[str, list[float]]]:
    """Each read timed on each side in alternating chunks, so load falls on both alike."""
    spent: dict[str, dict[str, list[float]]] = {side: {} for side in sides}
    for _ in range(rounds):
        for side, calls in sides.items():
            for name, call in calls.items():
                spent[side].setdefault(name, []).extend(timed(call, max(repeat // rounds, 1)))
    return spent


def twin(dbs: Databases, kind: str, url: str, engine: Engine) -> str:
    """A copy of the database at ``url``, to archive while the original stays as it is."""
    engine.db.engine.dispose()
    if kind == "sqlite":
        path = Path(sa.make_url(url).database or "")
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        copy = path.with_name(path.stem + "-archived.db")
        shutil.copyfile(path, copy)
        return f"sqlite:///{copy}"
    assert dbs.postgres is not None
    return dbs.postgres.create_database(template=sa.make_url(url).database)


def analyze(url: str) -> None:
    db = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with db.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    db.dispose()


def counts(engine: Engine) -> str:
    with engine.read() as s:
        instances = s.session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance))
        events = s.session.scalar(sa.select(sa.func.count()).select_from(HistoryEvent))
    return f"{instances:,} instances, {events:,} history events"


def archiving(kind: str, dbs: Databases, folder: Path, args: argparse.Namespace) -> Engine:
    """Two equal databases, one archived; their reads timed side by side. Returns the other."""
    url = dbs.url(kind)
    engine = Engine(load_settings(server_env(folder / "full", url)), extensions=[],
                    workflow_cache_size=0)
    engine.migrate()
    clones.deploy(engine)
    done = clones.run_template(engine, finish=True)
    running = clones.run_template(engine, finish=False)
    rng = random.Random(20)
    spent = grow(engine, done, in_years(args.completed, rng), "DONE")
    now = datetime.now(UTC)
    spent += grow(engine, running, [now - timedelta(days=rng.random() * 60)
                                    for _ in range(args.running)], "OPEN")
    print(f"\n== {kind}: archiving {args.completed:,} finished instances "
          f"({YEARS[0]}-{YEARS[-1]}) beside {args.running:,} running ones")
    print(f"  made by copying one real instance's rows: {spent:.1f} s; {counts(engine)}")
    archived_url = twin(dbs, kind, url, engine)
    archived = Engine(load_settings(server_env(folder / "archived", archived_url)),
                      extensions=[], workflow_cache_size=0)
    archiver = Archiver(archived.db, archived.clock, folder / "archive")
    began = time.perf_counter()
    run = archiver.run(datetime(YEARS[-1] + 1, 1, 1, tzinfo=UTC), batch_size=args.batch)
    took = time.perf_counter() - began
    rate = run.instances / took if took else 0.0
    print(f"  archive run: {run.instances:,} instances in {took:.1f} s ({rate:,.0f}/s, "
          f"batches of {args.batch}); {run.json_bytes / max(run.instances, 1):,.0f} bytes "
          f"of JSON per instance, {run.file_bytes / max(run.instances, 1):,.0f} gzipped (copies "
          f"of one instance compress better than real ones); left {counts(archived)}")
    size_full, size_archived = database_size(url).total, database_size(archived_url).total
    print(f"  database: {size_full / 1e6:,.1f} MB with them, {size_archived / 1e6:,.1f} MB "
          f"after archiving ({size_full / max(size_archived, 1):.1f}x smaller)")
    if kind == "postgresql":
        # As autovacuum would after so many deletions. Not on SQLite: a deployment
        # there never runs ANALYZE, and its statistics change the plans.
        for each in (url, archived_url):
            analyze(each)
    times = interleaved({"full": read_calls(engine, running.instance_id),
                         "archived": read_calls(archived, running.instance_id)}, args.repeat)
    for name in times["full"]:
        print(f"  {name:<32} with them {ms(times['full'][name])}   archived "
              f"{ms(times['archived'][name])}")
    one = next(archiver.files()[0].records())["instance"]
    began = time.perf_counter()
    archiver.restore(one)
    print(f"  restore of one instance for an audit: "
          f"{1000 * (time.perf_counter() - began):.0f} ms (reading the whole file included)")
    archived.close()
    return engine


def partitions(url: str, repeat: int) -> None:
    """The history copied into a plain and a year-partitioned table, read and trimmed."""
    db = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with db.connect() as c:
        x = c.exec_driver_sql
        x("CREATE TABLE h_plain (LIKE history_event INCLUDING DEFAULTS)")
        x("CREATE TABLE h_year (LIKE history_event INCLUDING DEFAULTS) PARTITION BY RANGE (at)")
        for year in (*YEARS, YEARS[-1] + 1):
            x(f"CREATE TABLE h_year_{year} PARTITION OF h_year "
              f"FOR VALUES FROM ('{year}-01-01') TO ('{year + 1}-01-01')")
        for table in ("h_plain", "h_year"):
            x(f"INSERT INTO {table} SELECT h.* FROM history_event h JOIN process_instance p "
              "ON p.id = h.instance_id WHERE p.status = 'completed' AND p.ended_at < "
              f"'{YEARS[-1] + 1}-01-01'")
            x(f"CREATE INDEX ON {table} (instance_id)")
            x(f"CREATE INDEX ON {table} (at)")
            x(f"ANALYZE {table}")
        rows = x("SELECT count(*) FROM h_plain").scalar()
        ids = [r[0] for r in x("SELECT DISTINCT instance_id FROM h_plain LIMIT 500")]
        print(f"\n== PostgreSQL: the history by year, {rows:,} events "
              f"({len(YEARS)} years, one partition each)")
        def one_history(table: str) -> None:
            x(f"SELECT * FROM {table} WHERE instance_id = %(i)s ORDER BY id",
              {"i": random.choice(ids)}).all()

        def one_year(table: str) -> None:
            x(f"SELECT count(*), max(id) FROM {table} WHERE at >= '2024-01-01' "
              "AND at < '2025-01-01'").all()

        for table in ("h_plain", "h_year"):
            history = timed(partial(one_history, table), repeat)
            events = timed(partial(one_year, table), max(repeat // 5, 5))
            print(f"  {table:<8} one instance's history {ms(history)}   one year's events "
                  f"{ms(events)}")
        began = time.perf_counter()
        deleted = x(f"DELETE FROM h_plain WHERE at < '{YEARS[0] + 1}-01-01'").rowcount
        delete_s = time.perf_counter() - began
        began = time.perf_counter()
        x(f"ALTER TABLE h_year DETACH PARTITION h_year_{YEARS[0]}")
        x(f"DROP TABLE h_year_{YEARS[0]}")
        drop_s = time.perf_counter() - began
        plain = int(x("SELECT pg_total_relation_size('h_plain')").scalar() or 0)
        print(f"  removing {YEARS[0]} ({deleted:,} events): DELETE {1000 * delete_s:,.0f} ms "
              f"(and the table keeps its {plain / 1e6:,.1f} MB until VACUUM), DETACH + DROP "
              f"of its partition {1000 * drop_s:,.0f} ms (its space given back at once)")
        for table in ("h_plain", "h_year"):
            x(f"DROP TABLE {table}")
    db.dispose()


def replica(databases: Databases, engine: Engine, repeat: int, seconds: float) -> None:
    """A streaming standby: the task list on it, and its lag under the writer's load."""
    server = databases.postgres
    assert server is not None
    standby = server.data.parent / "standby"
    port = free_port()
    runner = ["runuser", "-u", "postgres", "--"] if server.as_root else []
    subprocess.run([*runner, str(server.bin_dir / "pg_basebackup"), "-h", "127.0.0.1",
                    "-p", str(server.port), "-U", "postgres", "-D", str(standby), "-R",
                    "-X", "stream", "--no-sync"], check=True, capture_output=True, timeout=600)
    options = (f"-p {port} -k {server.sockets} -c listen_addresses=127.0.0.1 "
               "-c fsync=off -c max_connections=200 -c hot_standby=on")
    subprocess.run([*runner, str(server.bin_dir / "pg_ctl"), "-D", str(standby), "-o",
                    options, "-w", "-l", str(standby / "server.log"), "start"],
                   check=True, capture_output=True, timeout=120)
    try:
        replica_url = engine.db.url.replace(f":{server.port}/", f":{port}/")
        folder = Path(tempfile.mkdtemp(prefix="replica-"))
        on_replica = Engine(load_settings(server_env(folder, replica_url)), extensions=[],
                            workflow_cache_size=0)
        primary = sa.create_engine(engine.db.url, isolation_level="AUTOCOMMIT")
        standby_db = sa.create_engine(replica_url, isolation_level="AUTOCOMMIT")
        with primary.connect() as c:
            c.exec_driver_sql("CREATE TABLE lag_probe (n int PRIMARY KEY)")
        with standby_db.connect() as c:
            deadline = time.monotonic() + 60
            while c.exec_driver_sql("SELECT to_regclass('lag_probe')").scalar() is None:
                if time.monotonic() > deadline:
                    raise SystemExit("the standby did not catch up within 60 s")
                time.sleep(0.01)
        stop = threading.Event()
        commands = [0]

        def writer() -> None:
            while not stop.is_set():
                clones.drive(engine, finish=False)
                commands[0] += 2  # a start and a completion

        def task_list(target: Engine) -> Callable[[], None]:
            def call() -> None:
                with target.read() as s:
                    s.queries.tasks(STAFF, sort="due", per_page=50)
            return call

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        began = time.perf_counter()
        lags = []
        n = 0
        with primary.connect() as p, standby_db.connect() as r:
            while time.perf_counter() - began < seconds:
                n += 1
                p.exec_driver_sql(f"INSERT INTO lag_probe VALUES ({n})")
                sent = time.perf_counter()
                while r.exec_driver_sql(f"SELECT 1 FROM lag_probe WHERE n = {n}").first() is None:
                    time.sleep(0.0005)
                lags.append(time.perf_counter() - sent)
                time.sleep(0.05)
        lists = interleaved({"standby": {"list": task_list(on_replica)},
                             "primary": {"list": task_list(engine)}}, repeat)
        on_standby, on_primary = lists["standby"]["list"], lists["primary"]["list"]
        stop.set()
        thread.join()
        rate = commands[0] / (time.perf_counter() - began)
        print(f"\n== PostgreSQL: a streaming read replica (pg_basebackup -R, hot standby), "
              f"writer on the primary at {rate:.0f} commands/s")
        print(f"  replica lag (commit on primary -> visible on standby), {len(lags)} probes: "
              f"{ms(lags)}, max {1000 * max(lags):.1f} ms")
        print(f"  task list (staff, 50) on the standby {ms(on_standby)}   "
              f"on the primary {ms(on_primary)}")
        on_replica.close()
        primary.dispose()
        standby_db.dispose()
    finally:
        subprocess.run([*runner, str(server.bin_dir / "pg_ctl"), "-D", str(standby), "-m",
                        "fast", "-w", "stop"], capture_output=True, timeout=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--completed", type=int, default=5000,
                        help="finished instances to archive (default 5000)")
    parser.add_argument("--running", type=int, default=500, help="running instances (500)")
    parser.add_argument("--repeat", type=int, default=100, help="timed calls per read (100)")
    parser.add_argument("--batch", type=int, default=200, help="archive batch size (200)")
    parser.add_argument("--replica-seconds", type=float, default=10.0,
                        help="how long the replica's lag is probed (10)")
    parser.add_argument("--no-partitions", action="store_true")
    parser.add_argument("--no-replica", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pastone-") as tmp, Databases(Path(tmp)) as dbs:
        for kind in chosen_databases(args.database):
            print(f"\n{Databases.describe(kind)}")
            engine = archiving(kind, dbs, Path(tmp) / kind, args)
            if kind == "postgresql":
                if not args.no_partitions:
                    partitions(engine.db.url, args.repeat)
                if not args.no_replica:
                    replica(dbs, engine, args.repeat, args.replica_seconds)
            engine.close()


if __name__ == "__main__":
    main()
