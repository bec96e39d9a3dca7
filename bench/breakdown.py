"""Benchmark: where the time per instance goes, layer by layer, for the SOP and the plain process.

Run: ``.venv/bin/python bench/breakdown.py [--database sqlite|postgresql]
[--what both|sop|plain] [--instances 2] [--plain-instances 20] [--no-profile]``

Two measurements, each printed as a table of milliseconds per instance and
shares per layer (the layers of ``bench/probe.py``: BPMN parsing, the script
sandbox, SpiffWorkflow, JSON and state encoding, SQL in the driver,
SQLAlchemy's Python, marshmallow, PDF, sertiflow's services, Flask and the
views; and over HTTP what lies outside the app: granian, the socket, the
client). Each layer's time is its own, without the layers it calls; wall and
CPU time both, since on PostgreSQL the driver mostly waits.

* ``plain``: the 17-user-task process of ``bench/engine.py`` run in this
  process by the engine, as that bench does (start, then each completion its
  own transaction; no HTTP). First the same loop without the probe (what the
  wrappers cost shows in the difference), then with it: the deployment, the
  first instance of a fresh engine (the spec rebuilt from its row: the cold
  load), the warm instances, and the same with the workflow cache off (every
  command rebuilds the workflow from storage).
* ``sop``: the LSPro's whole procedure over real HTTP, as ``bench/sop.py``
  drives it with one customer (its path, its users, its checks), against the
  production server (granian, one worker, one thread, no timer sweep) whose
  worker has the probe installed (``python -m bench.probe``). Processes and
  forms are deployed in this process first (the deployment's parsing
  measured); then the first instance after the server's start, the warm
  instances, and the documents the renderer thread made after their commands.
  With a cProfile of one more instance's requests (own time per package, the
  slowest functions) unless ``--no-profile``.

Prints figures only; it asserts nothing about them. Exits 1 if a call failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.client import CallFailed, machine_line, sign_in  # noqa: E402
from bench.harness import (  # noqa: E402
    Databases,
    Server,
    add_users,
    launch,
    server_env,
    tree_cpu_seconds,
)
from bench.probe import LABELS, LAYERS, Probe, install  # noqa: E402

Layers = dict[str, dict[str, list[float]]]  # context -> layer -> [wall s, CPU s, calls]
Functions = dict[str, dict[str, dict[str, list[float]]]]  # context -> layer -> function -> ...
PLAIN_STEPS = 17


# -- the table ---------------------------------------------------------------------------


@dataclass
class Phase:
    """One measured stretch: the probe's figures, how many instances, and the extras."""

    title: str
    instances: int
    layers: Layers
    outside_s: float | None = None  # over HTTP: the client's wait not spent in the app
    requests: int = 0
    server_cpu_s: float | None = None
    functions: Functions | None = None


def table(phase: Phase) -> list[str]:
    """The phase's figures per instance: wall ms and share, CPU ms and share, calls."""
    per = max(phase.instances, 1)
    rows: list[tuple[str, float, float, float, str]] = []
    for context in ("request", "background"):
        for layer in LAYERS:
            wall, cpu, calls = phase.layers.get(context, {}).get(layer, [0.0, 0.0, 0.0])
            if calls:
                where = "" if context == "request" or phase.outside_s is None else \
                    " (renderer thread)"
                inside = (phase.functions or {}).get(context, {}).get(layer, {})
                biggest = sorted(inside.items(), key=lambda item: -item[1][1])[:4]
                detail = ", ".join(f"{name} {1000 * v[1] / per:.1f}" for name, v in biggest
                                   if len(inside) > 1 and 1000 * v[1] / per >= 0.1)
                rows.append((LABELS[layer] + where, wall, cpu, calls, detail))
    if phase.outside_s is not None:
        rows.append(("HTTP outside the app: granian, socket, client", phase.outside_s, 0.0, 0,
                     ""))
    wall_total = sum(r[1] for r in rows) or 1e-9
    cpu_total = sum(r[2] for r in rows) or 1e-9
    extra = f", {phase.requests / per:.0f} requests per instance" if phase.requests else ""
    lines = [f"-- {phase.title}: {phase.instances} instance(s){extra}",
             f"   {'layer':<50} {'wall ms':>9} {'%':>6} {'CPU ms':>9} {'%':>6} {'calls':>8}"]
    for label, wall, cpu, calls, detail in sorted(rows, key=lambda r: -r[2]):
        lines.append(f"   {label:<50} {1000 * wall / per:9.1f} {100 * wall / wall_total:6.1f} "
                     f"{1000 * cpu / per:9.1f} {100 * cpu / cpu_total:6.1f} "
                     f"{calls / per:8.0f}")
        if detail:
            lines.append(f"      CPU ms in: {detail}")
    lines.append(f"   {'total':<50} {1000 * wall_total / per:9.1f} {100.0:6.1f} "
                 f"{1000 * cpu_total / per:9.1f} {100.0:6.1f}")
    if phase.server_cpu_s is not None:
        lines.append(f"   server process CPU (from /proc): {1000 * phase.server_cpu_s / per:.1f} "
                     "ms per instance")
    return lines


def diff_functions(after: Functions, before: Functions) -> Functions:
    return {context: {layer: diff({"": named}, {"": before.get(context, {}).get(layer, {})})[""]
                      for layer, named in layers.items()}
            for context, layers in after.items()}


def diff(after: Layers, before: Layers) -> Layers:
    found: Layers = {}
    for context, layers in after.items():
        for layer, values in layers.items():
            old = before.get(context, {}).get(layer, [0.0, 0.0, 0.0])
            found.setdefault(context, {})[layer] = [a - b for a, b in zip(values, old,
                                                                          strict=True)]
    return found


# -- plain: the engine in this process ----------------------------------------------------


def plain_engine(url: str, folder: Path, cache_size: int | None = None) -> Any:
    from engine.composition import Engine
    from engine.config import load_settings

    folder.mkdir(parents=True, exist_ok=True)
    settings = load_settings({"DATABASE_URL": url, "SERTIFLOW_INSTANCE_PATH": str(folder),
                              "SERTIFLOW_SECRET_KEY": "bench"})
    return (Engine(settings) if cache_size is None
            else Engine(settings, workflow_cache_size=cache_size))


def plain_xml() -> bytes:
    from tests.builders import linear_user_tasks

    return linear_user_tasks("plain", PLAIN_STEPS, lane_roles=["upp", "auditor", "ppc"]).encode()


def plain_instances(engine: Any, count: int) -> float:
    """Start and complete ``count`` instances of the plain process; return the seconds."""
    from engine.models import Task

    began = time.perf_counter()
    for n in range(count):
        with engine.write() as s:
            instance = s.runtime.start_instance("plain", business_key=f"APP-{n}")
        with engine.read() as s:
            (task_id,) = s.session.scalars(sa.select(Task.id).where(
                Task.instance_id == instance.id, Task.state == "ready")).all()
        for _ in range(PLAIN_STEPS):
            with engine.write() as s:
                done = s.runtime.complete_task(task_id, {"note": "ok"}, actor="bench")
            task_id = done.next_tasks[0] if done.next_tasks else ""
    return time.perf_counter() - began


def measured(probe: Probe, title: str, instances: int, work: Callable[[], Any]) -> Phase:
    before, named = probe.snapshot(), probe.functions()
    work()
    return Phase(title, instances, diff(probe.snapshot(), before),
                 functions=diff_functions(probe.functions(), named))


def run_plain(databases: Databases, kind: str, folder: Path, probe: Probe, count: int
              ) -> list[str]:
    lines: list[str] = []
    # Without the probe first: the same loop, so the wrappers' cost shows.
    engine = plain_engine(databases.url(kind), folder / "unprobed")
    engine.migrate()
    with engine.write() as s:
        s.deployments.deploy([("plain.bpmn", plain_xml())])
    plain_instances(engine, 2)
    bare = plain_instances(engine, count)
    engine.close()
    install(probe)
    url = databases.url(kind)
    engine = plain_engine(url, folder / "deploy")
    engine.migrate()

    def deploy() -> None:
        with engine.write() as s:
            s.deployments.deploy([("plain.bpmn", plain_xml())])

    phases = [measured(probe, "deployment of the plain process (1 file)", 1, deploy)]
    engine.close()
    engine = plain_engine(url, folder / "warm")
    phases.append(measured(probe, "first instance of a fresh engine (spec from its row)", 1,
                           lambda: plain_instances(engine, 1)))
    spent: list[float] = []
    phases.append(measured(probe, "warm instances", count,
                           lambda: spent.append(plain_instances(engine, count))))
    engine.close()
    engine = plain_engine(url, folder / "cold", cache_size=0)
    plain_instances(engine, 1)
    phases.append(measured(probe, "workflow cache off (each command rebuilds from storage)",
                           count, lambda: plain_instances(engine, count)))
    engine.close()
    lines.append(f"\n== plain: {PLAIN_STEPS} user tasks in this process (no HTTP), "
                 f"{Databases.describe(kind)}")
    lines.append(f"   without the probe {1000 * bare / count:.1f} ms per instance, with it "
                 f"{1000 * spent[0] / count:.1f} ms (the wrappers' cost: "
                 f"{spent[0] / bare:.2f}x)")
    for phase in phases:
        lines += table(phase)
    return lines


# -- sop: the whole procedure over HTTP ---------------------------------------------------


def probe_call(base_url: str, path: str) -> Any:
    method = "GET" if path == "" else "POST"
    request = urllib.request.Request(f"{base_url}/__probe__{path}", method=method)
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


def settled(base_url: str, timeout: float = 60.0) -> tuple[Layers, Functions]:
    """The server's figures once the renderer thread has stopped adding to them."""
    deadline = time.monotonic() + timeout
    last = probe_call(base_url, "")
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = probe_call(base_url, "")
        if now["layers"].get("background") == last["layers"].get("background"):
            break
        last = now
    return dict(last["layers"]), dict(last["functions"])


def start_probed(env: dict[str, str], folder: Path) -> Server:
    return launch(lambda port: ["-m", "bench.probe", "--port", str(port)], env,
                  folder / "server.log")


def run_sop(databases: Databases, kind: str, folder: Path, probe: Probe, count: int,
            profile: bool) -> tuple[list[str], bool]:
    from api.extensions import default_extensions
    from bench import sop
    from engine.composition import Engine
    from engine.config import load_settings

    url = databases.url(kind)
    env = server_env(folder, url)
    env.update({"SERTIFLOW_PROCESSES": str(ROOT / "processes"),
                "SERTIFLOW_FORMS": str(ROOT / "forms")})
    customer = sop.customer_names(1)[0]
    people: dict[str, tuple[list[str], str | None]] = {
        name: (roles, None) for name, roles in sop.staff().items()}
    people[customer] = (["pelanggan"], "PT Bench Pangan 1")
    add_users(env, people)
    install(probe)
    engine = Engine(load_settings(env), extensions=default_extensions(env))
    paths = [ROOT / "processes", ROOT / "forms"]
    files = sum(1 for p in paths for f in p.rglob("*") if f.suffix in (".bpmn", ".form"))
    deploy = measured(probe, f"deployment of processes/ and forms/ ({files} files)", 1,
                      lambda: engine.deploy_paths(paths))
    engine.close()
    lines = [f"\n== sop: the LSPro's SOP over HTTP, 1 customer, {Databases.describe(kind)}",
             *table(deploy)]
    server = start_probed(env, folder)
    failed = False
    try:
        base = server.base_url
        tokens = {name: sign_in(base, name) for name in people}
        with sop.connections(base, {customer: tokens[customer]}) as own:
            status, body = own[customer].call("PUT", f"{sop.API}/company-profile",
                                              sop.profile(1))
            if status != 200:
                raise SystemExit(f"company profile: {status} {body[:300]!r}")
        with sop.connections(base, tokens) as users:

            def drive(instances: int) -> tuple[sop.SopTally, float]:
                tally = sop.SopTally()
                cpu = tree_cpu_seconds(server.process.pid)
                for _ in range(instances):
                    try:
                        sop.run_instance(customer, users, tally)
                    except CallFailed:
                        break
                return tally, tree_cpu_seconds(server.process.pid) - cpu

            def over_http(title: str, instances: int) -> Phase:
                probe_call(base, "/reset")
                tally, cpu = drive(instances)
                layers, functions = settled(base)
                waited = sum(sum(v) for v in tally.latencies.values())
                in_app = sum(v[0] for v in layers.get("request", {}).values())
                requests = sum(len(v) for v in tally.latencies.values())
                if tally.errors or tally.instances != instances:
                    lines.extend(f"   error: {e}" for e in tally.errors[:10])
                    nonlocal failed
                    failed = True
                return Phase(title, max(tally.instances, 1), layers, max(waited - in_app, 0.0),
                             requests, cpu, functions)

            lines += table(over_http("first instance after the server's start", 1))
            lines += table(over_http("warm instances", count))
            if profile and not failed:
                probe_call(base, "/profile/on")
                drive(1)
                summary = probe_call(base, "/profile/off")
                lines += profile_lines(summary)
    finally:
        server.stop()
    return lines, failed


def profile_lines(summary: Mapping[str, Any]) -> list[str]:
    groups: dict[str, float] = summary.get("groups", {})
    total = sum(groups.values()) or 1e-9
    lines = ["-- cProfile of one more instance's requests (own time; the profiler slows "
             "small calls most)",
             "   by package: " + ", ".join(
                 f"{name} {100 * own / total:.1f} %" for name, own in
                 sorted(groups.items(), key=lambda item: -item[1])[:14])]
    lines.append("   functions with the most own time:")
    for own, calls, where in summary.get("top", []):
        lines.append(f"     {1000 * own:8.1f} ms {calls:7d} calls  {where[:90]}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--what", choices=("both", "sop", "plain"), default="both")
    parser.add_argument("--instances", type=int, default=2,
                        help="warm SOP instances measured (after the first)")
    parser.add_argument("--plain-instances", type=int, default=20,
                        help="plain instances per measurement")
    parser.add_argument("--no-profile", action="store_true",
                        help="skip the cProfile of one more SOP instance")
    args = parser.parse_args()
    print("where the time per instance goes, per layer (each layer's own time, without the "
          "layers it calls)")
    print(machine_line())
    probe = Probe()
    failed = False
    with tempfile.TemporaryDirectory(prefix="sertiflow-breakdown-") as tmp, \
            Databases(Path(tmp)) as databases:
        folder = Path(tmp)
        if args.what in ("both", "plain"):
            print("\n".join(run_plain(databases, args.database, folder / "plain", probe,
                                      args.plain_instances)), flush=True)
        if args.what in ("both", "sop"):
            lines, failed = run_sop(databases, args.database, folder / "sop", probe,
                                    args.instances, not args.no_profile)
            print("\n".join(lines))
    if probe.skipped:
        print(f"(not found, so not timed: {', '.join(probe.skipped)})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
