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
SHARED = {"client.py", "clones.py", "harness.py"}
SCRIPTS = sorted(p for p in BENCH.glob("*.py") if p.name not in SHARED)


def test_there_are_benchmarks() -> None:
    assert {p.name for p in SCRIPTS} >= {"api.py", "engine.py", "sop.py", "tasklist.py",
                                         "timers.py"}


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


def test_the_past_one_database_bench_archives_and_measures_on_sqlite() -> None:
    """A tiny run: copies made, archived, read back side by side, one restored."""
    answer = subprocess.run(
        [sys.executable, str(BENCH / "past_one_database.py"), "--database", "sqlite",
         "--completed", "12", "--running", "3", "--repeat", "5", "--batch", "5"],
        capture_output=True, text=True, timeout=300, cwd=BENCH.parent)
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert "archive run: 12 instances in" in answer.stdout
    assert "left 5 instances" in answer.stdout  # 3 running copies, 2 real ones
    assert "task list (staff, 50)" in answer.stdout and "archived p50" in answer.stdout
    assert "restore of one instance for an audit" in answer.stdout
