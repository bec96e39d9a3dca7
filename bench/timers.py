"""Benchmark: 10,000 timers falling due at the same moment, fired by scheduler processes.

Run: ``.venv/bin/python bench/timers.py [--instances N] [--skip-postgres] [--no-analyze]``

Seeds N instances of start → intermediate timer (``timeDate`` = D) → user
task → end, so that every timer has the same due moment D, a little after
seeding ends on the wall clock. Scheduler processes (``sertiflow scheduler
--interval 0.2``, the wall clock) are started before D; this process only
reads the database until nothing is left to fire. Figures come from the
``timer_fired`` history events, whose ``at`` is the scheduler's clock at the
moment it fired each timer:

* the time from D until the last timer fired, and the lateness (at - D) p50,
  p95, p99 and max;
* how many instances fired exactly once, more than once, not at all; the
  timers left and the user tasks created;
* the firing rate (ms per instance), the pauses between fires, the CPU
  time of the scheduler processes and what their logs say.

Runs on SQLite (one scheduler) and on a throw-away PostgreSQL server (two
schedulers; each fire is attributed to its process by a trigger reading the
connection's ``application_name``; the database is ANALYZEd after seeding, as
autovacuum would have done in a running one, unless ``--no-analyze``). Target:
all within 60 s of D, none twice, none lost. Exits with status 1 if a timer
fired twice or was lost (or its user task is missing).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from engine.composition import Engine  # noqa: E402
from engine.config import load_settings  # noqa: E402
from engine.models import HistoryEvent, ProcessInstance, Task  # noqa: E402
from engine.persistence.migrate import upgrade  # noqa: E402
from tests.builders import definitions, process  # noqa: E402

TARGET_S = 60.0
LIMIT_S = 120.0  # give up waiting this long after D
INTERVAL = "0.2"  # seconds between sweeps of each scheduler process
BATCH = 500  # instances started per seeding transaction
CALIBRATION = 300  # instances started to estimate the seeding time
MARGIN_S = 15.0  # at least this long between the end of seeding and D


def wait_process(due: datetime) -> bytes:
    """Return the BPMN of the benchmark process, its timer due at ``due``."""
    body = process("wait", f"""\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="pause" />
    <bpmn:intermediateCatchEvent id="pause">
      <bpmn:timerEventDefinition id="t">
        <bpmn:timeDate>{due.isoformat()}</bpmn:timeDate>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="pause" targetRef="next" />
    <bpmn:userTask id="next" camunda:candidateGroups="upp" />
    <bpmn:sequenceFlow id="f3" sourceRef="next" targetRef="end" />
    <bpmn:endEvent id="end" />
""")
    return definitions("wait", body).encode()


def environment(url: str, folder: Path) -> dict[str, str]:
    """Return the configuration shared by this process and the schedulers."""
    return {"DATABASE_URL": url, "SERTIFLOW_INSTANCE_PATH": str(folder),
            "SERTIFLOW_SECRET_KEY": "bench", "SERTIFLOW_CALENDAR": "calendar-days"}


def open_engine(url: str, folder: Path) -> Engine:
    """Open (and migrate) the database at ``url``."""
    engine = Engine(load_settings(environment(url, folder)))
    upgrade(engine.db.engine)
    return engine


def seed(engine: Engine, count: int, due: datetime) -> float:
    """Deploy the process and start ``count`` instances, BATCH per transaction; return seconds."""
    began = time.perf_counter()
    with engine.write() as s:
        s.deployments.deploy([("wait.bpmn", wait_process(due))])
    for start in range(0, count, BATCH):
        with engine.write() as s:
            for n in range(start, min(start + BATCH, count)):
                s.runtime.start_instance("wait", business_key=f"T-{n}")
    return time.perf_counter() - began


def calibrate(url: str, folder: Path) -> float:
    """Return the seconds one start takes, measured on a scratch database of the same kind."""
    engine = open_engine(url, folder)
    try:
        far = datetime(2099, 1, 1, tzinfo=UTC)
        return seed(engine, CALIBRATION, far) / CALIBRATION
    finally:
        engine.close()


def start_scheduler(url: str, folder: Path, log: Path) -> subprocess.Popen[bytes]:
    """Start ``sertiflow scheduler`` on the wall clock, its output going to ``log``."""
    env = dict(os.environ, **environment(url, folder), PYTHONPATH=str(ROOT))
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "api.cli", "scheduler", "--interval", INTERVAL],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_until_ready(schedulers: list[subprocess.Popen[bytes]], logs: list[Path],
                     deadline: float) -> float:
    """Wait until every scheduler has announced its sweep; return the seconds waited."""
    began = time.monotonic()
    while time.monotonic() < deadline:
        for proc, log in zip(schedulers, logs, strict=True):
            if proc.poll() is not None:
                raise SystemExit(f"scheduler exited early:\n{log.read_text()}")
        if all(b"timer sweep every" in log.read_bytes() for log in logs):
            return time.monotonic() - began
        time.sleep(0.05)
    raise SystemExit("a scheduler did not start in time:\n"
                     + "\n".join(log.read_text() for log in logs))


def stop(schedulers: list[subprocess.Popen[bytes]]) -> None:
    """Stop the scheduler processes (Ctrl+C, then kill)."""
    for proc in schedulers:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    for proc in schedulers:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def sleep_until(moment: datetime) -> None:
    """Sleep until the wall clock reaches ``moment``."""
    left = (moment - datetime.now(UTC)).total_seconds()
    if left > 0:
        time.sleep(left)


def timers_left(engine: Engine) -> int:
    """Return how many timer rows are left (read-only)."""
    with engine.read() as s:
        return int(s.session.scalar(sa.text("SELECT count(*) FROM timer")) or 0)


def wait_for_sweep(engine: Engine, due: datetime) -> tuple[float, bool]:
    """Poll until no timer is left or LIMIT_S has passed since D; return (seconds, done)."""
    sleep_until(due)
    while True:
        seen = (datetime.now(UTC) - due).total_seconds()
        if timers_left(engine) == 0:
            return seen, True
        if seen > LIMIT_S:
            return seen, False
        time.sleep(0.25)


@dataclass
class Outcome:
    """What the database says happened to the N timers."""

    count: int
    lateness: list[float] = field(default_factory=list)  # seconds after D, sorted
    once: int = 0
    twice: int = 0
    none: int = 0
    left: int = 0
    tasks: int = 0
    # Per scheduler process: (fired, seconds after D of its first and last fire).
    by_process: dict[str, tuple[int, float, float]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (self.once == self.count and self.twice == 0 and self.none == 0
                and self.left == 0 and self.tasks == self.count)


def outcome(engine: Engine, count: int, due: datetime) -> Outcome:
    """Read the timer_fired history, the timers left and the user tasks created."""
    with engine.read() as s:
        conn = s.session.connection()
        fired = conn.execute(sa.select(HistoryEvent.instance_id, HistoryEvent.at).where(
            HistoryEvent.kind == "timer_fired")).all()
        # Typed: SQLite holds the ids as bytes, the history's are read as text.
        instances = list(conn.scalars(sa.select(ProcessInstance.id).where(
            ProcessInstance.definition_key == "wait")))
        left = conn.execute(sa.text("SELECT count(*) FROM timer")).scalar()
        # Typed too: SQLite holds a task's state as a byte (engine.persistence.packing).
        tasks = conn.scalar(sa.select(sa.func.count(sa.distinct(Task.instance_id))).where(
            Task.element_id == "next", Task.state == "ready"))
        by_process = {}
        if conn.dialect.name == "postgresql":
            for app, n, first, last in conn.execute(sa.text(
                    "SELECT b.app, count(*), min(h.at), max(h.at) FROM bench_fired b "
                    "JOIN history_event h ON h.id = b.history_id GROUP BY b.app ORDER BY b.app")):
                by_process[app] = (int(n), (first - due).total_seconds(),
                                   (last - due).total_seconds())
    per_instance = Counter(r[0] for r in fired)
    return Outcome(
        count=count,
        lateness=sorted((r[1] - due).total_seconds() for r in fired),
        once=sum(1 for i in instances if per_instance[i] == 1),
        twice=sum(1 for i in instances if per_instance[i] > 1),
        none=sum(1 for i in instances if per_instance[i] == 0),
        left=int(left or 0), tasks=int(tasks or 0), by_process=by_process,
    )


def quantile(values: list[float], q: float) -> float:
    """Return the ``q`` quantile of sorted ``values`` (nearest rank)."""
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def report(title: str, result: Outcome, seen_s: float, done: bool) -> None:
    """Print the figures of one run, the target next to them."""
    late = result.lateness
    last = late[-1] if late else float("nan")
    verdict = "met" if done and last <= TARGET_S else "MISSED"
    print(f"  last timer fired {last:7.2f} s after D (target <= {TARGET_S:.0f} s: {verdict}); "
          f"seen from outside after {seen_s:.2f} s" + ("" if done else " (gave up)"))
    if late:
        print(f"  lateness after D: p50 {statistics.median(late):.2f} s, "
              f"p95 {quantile(late, 0.95):.2f} s, p99 {quantile(late, 0.99):.2f} s, "
              f"max {last:.2f} s; first {late[0] * 1000:.0f} ms")
        span = late[-1] - late[0]
        rate = len(late) / span if span > 0 else float("inf")
        gaps = [b - a for a, b in pairwise(late)]
        pauses = [g for g in gaps if g >= 0.1]
        print(f"  firing: {rate:.0f} instances/s overall, {1000 * span / len(late):.2f} ms "
              f"per instance; {len(pauses)} pauses >= 100 ms totalling {sum(pauses):.2f} s")
        longest = sorted(range(len(gaps)), key=gaps.__getitem__, reverse=True)[:5]
        print("  longest pauses: " + ", ".join(
            f"{gaps[i]:.2f} s after fire #{i + 1}" for i in sorted(longest)))
        tenths = [quantile(late, q / 10) for q in range(11)]
        rates = [len(late) / 10 / (b - a) if b > a else float("inf")
                 for a, b in pairwise(tenths)]
        print("  rate per tenth of the timers (instances/s): "
              + " ".join(f"{r:.0f}" for r in rates))
    print(f"  fired exactly once: {result.once} of {result.count} (target all); "
          f"more than once: {result.twice} (target 0); never: {result.none} (target 0)")
    print(f"  timers left: {result.left} (target 0); user tasks created: "
          f"{result.tasks} of {result.count}")
    for name, (n, first, last) in result.by_process.items():
        print(f"  fired by {name}: {n} instances, from {first:.2f} s to {last:.2f} s after D "
              f"({1000 * (last - first) / max(n, 1):.2f} ms per instance in that process)")
    print(f"  {title}: " + ("OK" if result.ok else "FAILED"))


def run(title: str, url: str, calibration_url: str, folder: Path, count: int,
        sweepers: int, *, analyze: bool = True) -> Outcome:
    """Seed ``count`` instances, let ``sweepers`` scheduler processes fire them, report."""
    print(f"{title}: {count} instances, {sweepers} scheduler process(es), "
          f"sweep every {INTERVAL} s")
    per_start = calibrate(calibration_url, folder / "calibration")
    engine = open_engine(url, folder)
    if engine.db.engine.dialect.name == "postgresql":
        attribute_fires(engine)
    estimate = per_start * count
    due = (datetime.now(UTC) + timedelta(seconds=1.5 * estimate + MARGIN_S)).replace(
        microsecond=0)
    seeding = seed(engine, count, due)
    ahead = (due - datetime.now(UTC)).total_seconds()
    print(f"  seeded in {seeding:.1f} s ({1000 * seeding / count:.2f} ms per start, "
          f"{BATCH} per transaction; calibration said {1000 * per_start:.2f} ms); "
          f"D is {ahead:.1f} s later")
    if analyze and engine.db.engine.dialect.name == "postgresql":
        # What autovacuum does within a minute in a running database. Without
        # statistics the claim query joins and sorts every due timer (--no-analyze).
        with engine.db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        print("  ANALYZE after seeding (--no-analyze: planner statistics as left by seeding)")
    logs = [folder / f"scheduler-{n}.log" for n in range(1, sweepers + 1)]
    schedulers = []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        for n, log in enumerate(logs, start=1):
            named = url if sweepers == 1 else f"{url}?application_name=scheduler-{n}"
            schedulers.append(start_scheduler(named, folder, log))
        deadline = time.monotonic() + max(ahead, 30.0)
        ready = wait_until_ready(schedulers, logs, deadline)
        print(f"  scheduler(s) ready after {ready:.1f} s; "
              f"{(due - datetime.now(UTC)).total_seconds():.1f} s before D")
        if datetime.now(UTC) > due:
            print("  WARNING: D passed before the schedulers were ready; lateness includes it")
        seen, done = wait_for_sweep(engine, due)
    finally:
        stop(schedulers)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = outcome(engine, count, due)
    engine.close()
    report(title, result, seen, done)
    print(f"  CPU of the scheduler process(es), start to stop: {cpu:.1f} s "
          f"({1000 * cpu / count:.2f} ms per instance)")
    for log in logs:
        lines = log.read_text(errors="replace").splitlines()
        errors = [line for line in lines if "Traceback" in line or " ERROR " in line]
        skipped = sum("timer sweep skipped an instance" in line for line in lines)
        print(f"  {log.name}: {len(lines)} lines, {skipped} instance(s) skipped on a conflict, "
              f"{len(errors)} error line(s)" + (f", first: {errors[0]}" if errors else ""))
    return result


def attribute_fires(engine: Engine) -> None:
    """Record, per timer_fired row, the application_name of the connection that wrote it."""
    with engine.db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE bench_fired (history_id bigint, app text)")
        conn.exec_driver_sql("""
            CREATE FUNCTION bench_note_fired() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO bench_fired VALUES (NEW.id, current_setting('application_name'));
                RETURN NULL;
            END $$""")
        conn.exec_driver_sql(
            "CREATE TRIGGER bench_fired AFTER INSERT ON history_event FOR EACH ROW "
            "WHEN (NEW.kind = 'timer_fired') EXECUTE FUNCTION bench_note_fired()")


def sqlite_run(count: int) -> Outcome:
    """Run the benchmark on a fresh SQLite file with one scheduler."""
    with tempfile.TemporaryDirectory(prefix="sertiflow-timers-") as tmp:
        folder = Path(tmp)
        (folder / "calibration").mkdir()
        return run("SQLite", f"sqlite:///{folder / 'bench.db'}",
                   f"sqlite:///{folder / 'calibration' / 'bench.db'}", folder, count, 1)


def postgres_run(count: int, *, analyze: bool) -> Outcome | None:
    """Run the benchmark on a throw-away PostgreSQL server with two schedulers."""
    from tests.postgres import PostgresServer, _bin_dir

    bin_dir = _bin_dir()
    if bin_dir is None:
        print("PostgreSQL: skipped, no binaries in /usr/lib/postgresql/*/bin "
              "(apt-get install postgresql)")
        return None
    # Not a private temporary folder: as root the server runs as the postgres user.
    base = Path(tempfile.mkdtemp(prefix="sertiflow-pg-"))
    server = PostgresServer(bin_dir, base)
    try:
        server.start()
        print(f"PostgreSQL server from {bin_dir} on port {server.port}")
        with tempfile.TemporaryDirectory(prefix="sertiflow-timers-") as tmp:
            folder = Path(tmp)
            (folder / "calibration").mkdir()
            return run("PostgreSQL", server.create_database(), server.create_database(),
                       folder, count, 2, analyze=analyze)
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    """Run the benchmark on SQLite and PostgreSQL; exit 1 if a timer was doubled or lost."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--no-analyze", action="store_true",
                        help="on PostgreSQL, do not ANALYZE after seeding")
    args = parser.parse_args()

    began = time.perf_counter()
    results: list[Outcome | None] = [sqlite_run(args.instances)]
    if not args.skip_postgres:
        results.append(postgres_run(args.instances, analyze=not args.no_analyze))
    print(f"whole run: {time.perf_counter() - began:.0f} s")
    if any(r is not None and not r.ok for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
