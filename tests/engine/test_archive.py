"""Archiving finished instances: out of the live tables into a file, and back for an audit.

Against the real database of the test run (SQLite, or PostgreSQL with
``--database=postgresql``): every row of an instance is read before archiving and
after restoring and compared, as is its history as the API reads it.
"""

from __future__ import annotations

import gzip
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.archive import Archiver
from engine.archive.files import ArchiveFile
from engine.archive.rows import encode, instance_links
from engine.composition import Engine
from engine.errors import Conflict, InvalidInput, NotFound
from engine.identity.access import ADMIN, Actor
from engine.models import ProcessInstance
from engine.time.clock import FrozenClock
from tests.builders import linear_user_tasks
from tests.instances import live
from tests.instances import ready as ready_tasks
from tests.samples import PDF

BIG = [{"clause": f"7.{n}", "result": "ok", "note": "x" * 40} for n in range(100)]


def deploy(engine: Engine) -> None:
    with engine.write() as s:
        s.deployments.deploy([("linear.bpmn", linear_user_tasks("linear", 2).encode())])


def start(engine: Engine, key: str) -> str:
    with engine.write() as s:
        instance = s.runtime.start_instance(
            "linear", business_key=key, variables={"hasil_uji": BIG, "produk": "helm"})
        return instance.id


def finish(engine: Engine, instance_id: str, *, with_document: bool = False) -> None:
    for step in (1, 2):
        (task,) = ready_tasks(engine, instance_id)
        if with_document and step == 1:
            with engine.write() as s:
                s.documents.upload(instance_id, io.BytesIO(PDF), filename="laporan.pdf",
                                   content_type="application/pdf", uploaded_by="bob",
                                   task_id=task.id, field="laporan")
        with engine.write() as s:
            s.runtime.complete_task(task.id, {"hasil_uji": BIG, "langkah": step}, actor="bob")


def rows_of(engine: Engine, instance_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of the instance in every table it has rows in, as JSON values."""
    out: dict[str, list[dict[str, Any]]] = {}
    with engine.read() as s:
        for link in instance_links():
            rows = [encode(link.table, r) for r in
                    s.session.execute(link.select([instance_id])).mappings()]
            if rows:
                out[link.name] = rows
    return out


def history(engine: Engine, instance_id: str) -> list[tuple[Any, ...]]:
    with engine.read() as s:
        page = s.queries.history(Actor.of("admin", [ADMIN]), instance_id, per_page=200)
        return [(e.at, e.actor, e.kind, e.element_id, e.task_id, e.data) for e in page.items]


def test_an_archived_instance_restores_with_every_row_and_its_history_unchanged(
        engine: Engine, clock: FrozenClock, archiver: Archiver) -> None:
    deploy(engine)
    instance_id = start(engine, "APP-1")
    finish(engine, instance_id, with_document=True)
    before = rows_of(engine, instance_id)
    events = history(engine, instance_id)
    # What the instance has rows in: the history and its stored values, its tasks and
    # their candidates, its words and its document.
    assert {"process_instance", "history_event", "history_value", "task", "task_candidate",
            "instance_search_word", "document"} <= set(before)

    clock.advance(timedelta(days=400))
    run = archiver.run(clock.now() - timedelta(days=1))

    assert run.instances == 1 and run.path is not None
    assert run.rows["history_event"] == len(before["history_event"])
    assert not live(engine, instance_id)
    assert rows_of(engine, instance_id) == {}
    assert archiver.find(instance_id)["business_key"] == "APP-1"

    restored = archiver.restore(instance_id)

    assert restored["history_event"] == len(before["history_event"])
    assert rows_of(engine, instance_id) == before
    assert history(engine, instance_id) == events
    with pytest.raises(Conflict, match="live database already"):
        archiver.restore(instance_id)


def test_running_and_recently_finished_instances_stay_live(
        engine: Engine, clock: FrozenClock, archiver: Archiver) -> None:
    deploy(engine)
    old = start(engine, "OLD")
    finish(engine, old)
    running = start(engine, "RUNNING")
    clock.advance(timedelta(days=30))
    recent = start(engine, "RECENT")
    finish(engine, recent)
    running_rows = rows_of(engine, running)

    run = archiver.run(clock.now() - timedelta(days=10))

    assert run.instances == 1
    assert not live(engine, old)
    assert live(engine, recent) and live(engine, running)
    assert rows_of(engine, running) == running_rows
    # The running instance goes on as before.
    finish(engine, running)
    with engine.read() as s:
        assert s.session.get(ProcessInstance, running).status == "completed"  # type: ignore[union-attr]


def test_a_run_cut_short_loses_nothing_and_the_next_run_finishes(
        engine: Engine, clock: FrozenClock, archiver: Archiver,
        monkeypatch: pytest.MonkeyPatch) -> None:
    deploy(engine)
    ids = [start(engine, f"APP-{n}") for n in range(5)]
    for instance_id in ids:
        finish(engine, instance_id)
    clock.advance(timedelta(days=2))
    cutoff = clock.now() - timedelta(days=1)

    # The second batch is written to the file, then the process dies before its commit.
    real_append = ArchiveFile.append
    calls = []

    def append_then_die(self: ArchiveFile, records: Any) -> tuple[int, int]:
        written = real_append(self, records)
        calls.append(len(records))
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")
        return written

    monkeypatch.setattr(ArchiveFile, "append", append_then_die)
    with pytest.raises(KeyboardInterrupt):
        archiver.run(cutoff, batch_size=2)
    monkeypatch.undo()

    # The first batch is archived, the second rolled back: still live though in the file.
    left = [i for i in ids if live(engine, i)]
    (first_file,) = archiver.files()
    in_file = [r["instance"] for r in first_file.records()]
    assert len(left) == 3 and len(in_file) == 4 and set(in_file) - set(left) == set(ids) - set(
        left)
    torn = [i for i in in_file if i in left]
    resumed = archiver.run(cutoff, batch_size=2)

    assert resumed.instances == 3
    assert not any(live(engine, i) for i in ids)
    # The torn batch's instances are in both files; the latest copy is the one restored.
    assert len(archiver.files()) == 2
    assert archiver.find(torn[0])["file"] == resumed.path.name  # type: ignore[union-attr]
    archiver.restore(torn[0])
    assert live(engine, torn[0])
    assert archiver.run(cutoff).instances == 1  # restored, it goes back at the next run


def test_bad_requests_are_refused_and_change_nothing(
        engine: Engine, clock: FrozenClock, archiver: Archiver) -> None:
    deploy(engine)
    instance_id = start(engine, "APP-1")
    finish(engine, instance_id)

    with pytest.raises(InvalidInput, match="future"):
        archiver.run(clock.now() + timedelta(days=1))
    with pytest.raises(InvalidInput, match="time zone"):
        archiver.run(clock.now().replace(tzinfo=None))
    with pytest.raises(InvalidInput, match="batch size"):
        archiver.run(clock.now(), batch_size=0)
    with pytest.raises(NotFound):
        archiver.restore("no-such-instance")
    assert live(engine, instance_id)
    assert archiver.files() == []
    # Nothing older than the date: no file is left behind.
    assert archiver.run(clock.now() - timedelta(days=1)).path is None
    assert archiver.files() == []


def test_a_torn_file_reads_up_to_its_last_whole_batch(
        engine: Engine, clock: FrozenClock, archiver: Archiver) -> None:
    deploy(engine)
    ids = [start(engine, f"APP-{n}") for n in range(3)]
    for instance_id in ids:
        finish(engine, instance_id)
    clock.advance(timedelta(days=2))
    run = archiver.run(clock.now(), batch_size=2)
    assert run.path is not None
    whole = run.path.read_bytes()
    run.path.write_bytes(whole[:-20])  # the last batch's member torn

    read = [r["instance"] for r in ArchiveFile(run.path).records()]
    assert len(read) == 2
    (unreadable,) = set(ids) - set(read)
    with pytest.raises(NotFound):
        archiver.find(unreadable)


def test_a_file_that_is_no_archive_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "archive-x.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"hello": 1}\n'))
    with pytest.raises(ValueError, match="not a sertiflow archive"):
        list(ArchiveFile(path).records())


def test_the_archived_tables_are_found_by_their_keys() -> None:
    names = [link.name for link in instance_links()]
    assert names[0] == "process_instance"
    assert names.index("task") < names.index("task_candidate")
    assert names.index("document") < names.index("document_render")
    assert {"history_event", "history_value", "timer", "event_subscription", "incident",
            "sla_breach", "notification", "instance_search_word"} <= set(names)
    # An organisation's own records (invoices, certificates) only copy the id: they stay.
    assert "invoice" not in names and "certificate" not in names
