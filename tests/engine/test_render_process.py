"""Documents rendered by a child process (engine.documents.render_process), for real.

The child is a real ``python -m engine.documents.render_process``; the renderers it
runs are the functions below, which it imports by their names from this module.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

import pytest

from engine.documents.render_process import (
    RENDERERS_ENV,
    RenderProcess,
    RenderProcessError,
    importable_name,
)
from engine.documents.rendering import RenderQueue
from engine.documents.store import FileStore
from engine.persistence.db import Database
from engine.time.clock import SystemClock

ROOT = Path(__file__).resolve().parents[2]
HERE = "tests.engine.test_render_process"


def shout(frozen: bytes) -> bytes:
    """A renderer: the input in capitals, with the child's process id after it."""
    return frozen.upper() + b" " + str(os.getpid()).encode()


def refuse(frozen: bytes) -> bytes:
    raise ValueError(f"templat rusak: {frozen.decode()}")


def linger(frozen: bytes) -> bytes:
    time.sleep(float(frozen))
    return b"late"


def die(frozen: bytes) -> bytes:
    os._exit(3)


RENDERERS = ",".join(f"{f}={HERE}:{f}" for f in ("shout", "refuse", "linger", "die"))


def child_command() -> list[str]:
    return [sys.executable, "-m", "engine.documents.render_process"]


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), RENDERERS_ENV: RENDERERS}


@pytest.fixture
def child() -> Iterator[RenderProcess]:
    process = RenderProcess(child_command(), child_env(), timeout=60)
    yield process
    process.close()


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.1)
    return not alive(pid)


def test_the_child_renders_and_stays_for_the_next_document(child: RenderProcess) -> None:
    first = child.render("shout", b"surat")
    assert first.startswith(b"SURAT ")
    pid = child.pid
    assert pid is not None and pid != os.getpid() and first.endswith(str(pid).encode())
    big = b"x" * 3_000_000  # more than any pipe's buffer, both ways
    assert child.render("shout", big)[:3_000_000] == big.upper()
    assert child.pid == pid
    child.close()
    assert child.pid is None and gone_within(pid, 5)


def test_a_renderers_failure_is_told_back_and_the_child_goes_on(child: RenderProcess) -> None:
    with pytest.raises(RenderProcessError, match="ValueError: templat rusak: surat"):
        child.render("refuse", b"surat")
    pid = child.pid
    with pytest.raises(RenderProcessError, match="no renderer named 'missing'"):
        child.render("missing", b"")
    assert child.render("shout", b"a").startswith(b"A ")
    assert child.pid == pid


def test_a_child_that_dies_or_hangs_fails_its_render_and_is_replaced() -> None:
    process = RenderProcess(child_command(), child_env(), timeout=3)
    try:
        process.render("shout", b"warm")  # the child's start is not the render's time
        first = process.pid
        assert first is not None
        with pytest.raises(RenderProcessError, match="closed"):
            process.render("die", b"")
        assert process.pid is None and not alive(first)
        assert process.render("shout", b"a").startswith(b"A ")
        second = process.pid
        assert second is not None and second != first
        with pytest.raises(RenderProcessError, match="in time"):
            process.render("linger", b"30")
        assert process.pid is None and gone_within(second, 5)  # killed, not left to run
        assert process.render("shout", b"b").startswith(b"B ")
    finally:
        process.close()


PARENT = textwrap.dedent("""
    import sys, threading
    from engine.documents.render_process import RenderProcess
    process = RenderProcess([sys.executable, "-m", "engine.documents.render_process"])
    process.render("shout", b"ready")
    print(process.pid, flush=True)
    if sys.argv[1] == "busy":
        threading.Thread(target=process.render, args=("linger", b"60")).start()
    threading.Event().wait(120)
""")


@pytest.mark.parametrize("state", ["idle", "busy"])
def test_a_parent_killed_with_sigkill_leaves_no_child_behind(state: str) -> None:
    with subprocess.Popen([sys.executable, "-c", PARENT, state], env=child_env(), cwd=ROOT,
                          stdout=subprocess.PIPE, text=True) as parent:
        try:
            assert parent.stdout is not None
            pid = int(parent.stdout.readline())
            assert alive(pid)
            time.sleep(0.5)  # busy: the child is inside its render
            parent.send_signal(signal.SIGKILL)
            parent.wait()
            assert gone_within(pid, 10), f"the render child {pid} outlived its parent"
        finally:
            if parent.poll() is None:
                parent.kill()


def queue_of(renderers: dict[str, Callable[[bytes], bytes]]) -> RenderQueue:
    """A queue with only renderers (its database and file store are not used here)."""
    return RenderQueue(cast(Database, None), SystemClock(), cast(FileStore, None), renderers)


def test_the_queue_moves_only_renderers_importable_by_name(tmp_path: Path) -> None:
    own = [0]

    def closure(frozen: bytes) -> bytes:
        own[0] += 1
        return frozen

    queue = queue_of({"shout": shout, "closure": closure})
    assert importable_name(shout) == f"{HERE}:shout"
    assert importable_name(closure) is None
    assert importable_name(lambda frozen: frozen) is None
    child = queue.render_in_child()
    try:
        assert child is not None and queue.render_in_child() is child
        assert queue.renderers["closure"] is closure
        made = queue.renderers["shout"](b"x")
        assert made.startswith(b"X ") and made != shout(b"x")  # another process's id
        pid = child.pid
        assert pid is not None and pid != os.getpid()
    finally:
        queue.stop_worker()
    assert not alive(pid)
    assert queue_of({"closure": closure}).render_in_child() is None
