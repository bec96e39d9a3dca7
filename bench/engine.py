"""Benchmark: a linear 17-user-task process, raw SpiffWorkflow against sertiflow's engine.

Run: ``.venv/bin/python bench/engine.py [--instances N]``

Prints, from one process and one run:

* (a) raw SpiffWorkflow, in memory: completions per second;
* (n) a naive durable loop — SpiffWorkflow's own JSON serializer, the whole
  workflow (spec included) written and read back around every completion, in
  memory — for reference;
* (b) sertiflow's engine, each completion its own SQLite transaction (WAL)
  committed to a file: completions per second, latency percentiles, and the
  bytes the database grows by per completed instance;
* the ratio (b)/(a) and the peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.bpmn.specs.defaults import UserTask  # noqa: E402
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser  # noqa: E402
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

from engine.composition import Engine  # noqa: E402
from engine.config import load_settings  # noqa: E402
from engine.models import Task  # noqa: E402
from engine.persistence.migrate import upgrade  # noqa: E402
from tests.builders import linear_user_tasks  # noqa: E402

STEPS = 17
XML = linear_user_tasks("sop", STEPS, lane_roles=["upp", "auditor", "ppc"])


def raw_spiff(instances: int) -> float:
    parser = CamundaParser()
    parser.add_bpmn_str(XML.encode(), "sop.bpmn")
    spec = parser.get_spec("sop")
    completions = 0
    started = time.perf_counter()
    for _ in range(instances):
        workflow = BpmnWorkflow(spec)
        workflow.do_engine_steps()
        while not workflow.is_completed():
            task = workflow.get_next_task(state=TaskState.READY, spec_class=UserTask)
            task.data["done"] = task.task_spec.name
            task.run()
            workflow.do_engine_steps()
            completions += 1
    return completions / (time.perf_counter() - started)


def naive_durable(instances: int) -> float:
    parser = CamundaParser()
    parser.add_bpmn_str(XML.encode(), "sop.bpmn")
    spec = parser.get_spec("sop")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG))
    completions = 0
    started = time.perf_counter()
    for _ in range(instances):
        workflow = BpmnWorkflow(spec)
        workflow.do_engine_steps()
        stored = serializer.serialize_json(workflow)
        while True:
            workflow = serializer.deserialize_json(stored)
            if workflow.is_completed():
                break
            task = workflow.get_next_task(state=TaskState.READY, spec_class=UserTask)
            task.data["done"] = task.task_spec.name
            task.run()
            workflow.do_engine_steps()
            stored = serializer.serialize_json(workflow)
            completions += 1
    return completions / (time.perf_counter() - started)


def database_bytes(engine: Engine) -> int:
    with engine.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.exec_driver_sql("VACUUM")
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
        size = conn.exec_driver_sql("PRAGMA page_size").scalar()
    return int(pages or 0) * int(size or 0)


def sertiflow(instances: int, folder: Path) -> dict[str, float]:
    settings = load_settings({
        "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
        "SERTIFLOW_INSTANCE_PATH": str(folder),
        "SERTIFLOW_SECRET_KEY": "bench",
    })
    engine = Engine(settings)
    upgrade(engine.db.engine)
    with engine.write() as s:
        s.deployments.deploy([("sop.bpmn", XML.encode())])
    before = database_bytes(engine)

    latencies: list[float] = []
    starts: list[float] = []
    began = time.perf_counter()
    for n in range(instances):
        t0 = time.perf_counter()
        with engine.write() as s:
            instance = s.runtime.start_instance("sop", business_key=f"APP-{n}",
                                                variables={"applicant": "pt-contoh"})
        starts.append(time.perf_counter() - t0)
        with engine.read() as s:
            (task_id,) = s.session.scalars(sa.select(Task.id).where(
                Task.instance_id == instance.id, Task.state == "ready")).all()
        for _ in range(STEPS):
            t0 = time.perf_counter()
            with engine.write() as s:
                # The completion answers with the tasks it created, as a task list
                # client that moves on to "the next step" would use it.
                done = s.runtime.complete_task(task_id, {"note": "ok"}, actor="bench")
            latencies.append(time.perf_counter() - t0)
            task_id = done.next_tasks[0] if done.next_tasks else ""
    elapsed = time.perf_counter() - began
    with engine.read() as s:
        done = s.session.scalar(sa.text(
            "SELECT count(*) FROM process_instance WHERE status = 'completed'"))
        state_bytes = s.session.scalar(sa.text(
            "SELECT avg(length(state)) FROM process_instance"))
    after = database_bytes(engine)
    engine.close()
    if done != instances:
        raise SystemExit(f"only {done} of {instances} instances completed")
    latencies.sort()
    return {
        "completions_per_s": len(latencies) / sum(latencies),
        "overall_per_s": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * len(latencies))],
        "p99_ms": 1000 * latencies[int(0.99 * len(latencies))],
        "start_p50_ms": 1000 * statistics.median(starts),
        "bytes_per_instance": (after - before) / instances,
        "state_bytes": float(state_bytes or 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=300)
    args = parser.parse_args()
    n = args.instances

    raw = raw_spiff(n)
    naive = naive_durable(max(n // 3, 10))
    with tempfile.TemporaryDirectory() as tmp:
        ours = sertiflow(n, Path(tmp))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"linear process of {STEPS} user tasks, {n} instances ({n * STEPS} completions)")
    print(f"(a) raw SpiffWorkflow, in memory:          {raw:8.0f} completions/s")
    print(f"(n) naive serialize-everything, in memory: {naive:8.0f} completions/s")
    print(f"(b) sertiflow, SQLite commit each:         {ours['completions_per_s']:8.0f} "
          f"completions/s ({ours['overall_per_s']:.0f}/s including starts)")
    print(f"    latency per completion: p50 {ours['p50_ms']:.2f} ms, "
          f"p95 {ours['p95_ms']:.2f} ms, p99 {ours['p99_ms']:.2f} ms; "
          f"start p50 {ours['start_p50_ms']:.2f} ms")
    print(f"    ratio (b)/(a): {ours['completions_per_s'] / raw:.3f}")
    print(f"    stored per completed instance: {ours['bytes_per_instance'] / 1024:.1f} KiB "
          f"(of which workflow state {ours['state_bytes'] / 1024:.1f} KiB)")
    print(f"peak RSS: {rss_mb:.0f} MiB")


if __name__ == "__main__":
    main()
