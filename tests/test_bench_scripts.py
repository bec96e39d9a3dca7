"""The benchmark scripts stay runnable: each imports, and its --help answers.

They are not run here (they print figures, they do not assert them), but a
script that no longer starts would only be noticed by the next person who
measures.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
# Modules the scripts import, not scripts themselves.
SHARED = {"client.py", "clones.py", "harness.py", "probe.py"}
SCRIPTS = sorted(p for p in BENCH.glob("*.py") if p.name not in SHARED)


def test_there_are_benchmarks() -> None:
    assert {p.name for p in SCRIPTS} >= {"api.py", "engine.py", "sop.py", "tasklist.py",
                                         "timers.py", "breakdown.py", "growth.py"}


@pytest.mark.parametrize("module", sorted(SHARED))
def test_each_shared_module_imports_without_starting_anything(module: str) -> None:
    answer = subprocess.run([sys.executable, "-c", f"import bench.{module.removesuffix('.py')}"],
                            capture_output=True, text=True, timeout=120, cwd=BENCH.parent)
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout == ""


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_each_benchmark_starts(script: Path) -> None:
    answer = subprocess.run([sys.executable, str(script), "--help"], capture_output=True,
                            text=True, timeout=120, cwd=BENCH.parent)
    assert answer.returncode == 0, answer.stderr
    assert "usage:" in answer.stdout


def test_every_sandbox_escape_attempt_holds() -> None:
    """bench/sandbox_escapes.py exits 1 if one of its attempts got out or ran on."""
    answer = subprocess.run(
        [sys.executable, str(BENCH / "sandbox_escapes.py"), "--timeout", "0.5"],
        capture_output=True, text=True, timeout=300, cwd=BENCH.parent)
    assert answer.returncode == 0, answer.stdout + answer.stderr
    total = answer.stdout.count("\n  held ") + answer.stdout.count("\n  FAILED ")
    assert total >= 30 and f"held: {total} of {total}" in answer.stdout


def run_bench(*arguments: str) -> str:
    """Run a bench script with tiny sizes; return what it printed (it must exit 0)."""
    answer = subprocess.run([sys.executable, *arguments], capture_output=True, text=True,
                            timeout=600, cwd=BENCH.parent)
    assert answer.returncode == 0, answer.stdout[-3000:] + answer.stderr[-3000:]
    return answer.stdout


def test_the_breakdown_prints_its_table_per_layer() -> None:
    printed = run_bench(str(BENCH / "breakdown.py"), "--what", "plain",
                        "--plain-instances", "2")
    assert "== plain: 17 user tasks" in printed
    warm = printed.split("-- warm instances: 2 instance(s)", 1)[1].split("\n-- ", 1)[0]
    rows = {line[:53].strip(): line for line in warm.splitlines()[2:]}
    # The engine's own layers each took some time: the wrappers are in place.
    for layer in ("SpiffWorkflow", "SQL in the driver", "SQLAlchemy (Python)",
                  "JSON, state encoding", "sertiflow services (own code)", "total"):
        assert layer in rows, warm
    assert "not found, so not timed" not in printed


def test_the_probe_counts_a_layer_without_the_layers_it_calls() -> None:
    from bench.probe import Probe

    now = [0.0]

    class Clocked(Probe):
        wall = cpu = staticmethod(lambda: now[0])

    probe = Clocked()

    def sandbox() -> None:
        now[0] += 30.0

    def engine() -> None:
        now[0] += 20.0
        inner()
        inner()
        now[0] += 5.0

    inner = probe.wrap("sandbox", sandbox)
    probe.wrap("engine", engine)()
    layers = probe.snapshot()["background"]
    # Each layer keeps its own time: 25 of the engine's 85, 2 x 30 in the sandbox.
    assert layers == {"engine": [25.0, 25.0, 1.0], "sandbox": [60.0, 60.0, 2.0]}
    probe.request(lambda: probe.wrap("driver", sandbox)())
    assert probe.snapshot()["request"] == {"driver": [30.0, 30.0, 1.0], "web": [0.0, 0.0, 1.0]}


def test_growth_prints_sizes_and_queries_per_size() -> None:
    printed = run_bench(str(BENCH / "growth.py"), "--seed", "plain", "--sizes", "3,6",
                        "--repeat", "2", "--chunk", "2")
    assert "one instance: " in printed and "task 17" in printed
    assert "== 3 instances" in printed and "== 6 instances" in printed
    after = printed.split("== 6 instances", 1)[1]
    assert "what the 3 added take" in after
    assert "history_event" in after and "21.0" in after  # 21 events per plain instance
    for query in ("task list, a customer", "instance list, admin",
                  "history of one instance"):
        assert query in after


def test_the_past_one_database_bench_archives_and_measures_on_sqlite() -> None:
    """A tiny run: copies made, archived, read back side by side, one restored."""
    printed = run_bench(str(BENCH / "past_one_database.py"), "--database", "sqlite",
                        "--completed", "12", "--running", "3", "--repeat", "5", "--batch", "5")
    assert "archive run: 12 instances in" in printed
    assert "left 5 instances" in printed  # 3 running copies, 2 real ones
    assert "task list (staff, 50)" in printed and "archived p50" in printed
    assert "restore of one instance for an audit" in printed
