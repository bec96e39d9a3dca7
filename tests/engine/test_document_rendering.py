"""Generated documents made after their command: the render queue of pending documents.

A renderer registered under a name gets the input the command froze; the queue makes
each pending document exactly once (two drains racing, two readers racing), a
reader of a pending document gets its file at once, and a renderer that keeps
failing becomes an incident on the instance, whose retry puts the document back.
Run on PostgreSQL too (``--database=postgresql``): the claims use ``SKIP LOCKED``.
"""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from engine.composition import Engine
from engine.documents.rendering import MAX_ATTEMPTS, RENDER_INCIDENT, DocumentNotReady
from engine.models import Document, DocumentRender, HistoryEvent, Incident
from engine.time.clock import FrozenClock
from tests.builders import definitions, process


class Recorder:
    """A renderer that upper-cases its input slowly, counting its calls per input."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls: list[bytes] = []
        self.failing = False
        self._lock = threading.Lock()

    def __call__(self, frozen: bytes) -> bytes:
        with self._lock:
            self.calls.append(frozen)
        time.sleep(self.delay)
        if self.failing:
            raise RuntimeError("the printer is out of paper")
        return frozen.upper()


@pytest.fixture
def instance_id(engine: Engine) -> str:
    key = "berkas"
    xml = definitions(key, process(key, (
        '    <bpmn:startEvent id="start" />\n'
        '    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />\n'
        '    <bpmn:userTask id="wait" camunda:candidateGroups="upp" />\n')))
    with engine.write() as s:
        s.deployments.deploy([("berkas.bpmn", xml.encode())])
        return s.runtime.start_instance(key, company="PT Contoh").id


def renderer(engine: Engine, delay: float = 0.0) -> Recorder:
    recorder = Recorder(delay)
    engine.setup.renderer("teks", recorder)
    return recorder


def queue(engine: Engine, instance_id: str, *texts: str) -> list[str]:
    with engine.write() as s:
        return [s.documents.store_pending(instance_id, "teks", text.encode(),
                                          name=f"surat_{i}.txt", content_type="text/plain",
                                          field="dokumen_surat").id
                for i, text in enumerate(texts)]


def documents(engine: Engine, ids: list[str]) -> list[Document]:
    with engine.read() as s:
        return [s.documents.get(i) for i in ids]


def generated(engine: Engine) -> list[str]:
    with engine.read() as s:
        return [e.data["document_id"] for e in s.session.scalars(
            sa.select(HistoryEvent).where(HistoryEvent.kind == "document_generated"))]


def test_a_pending_document_has_no_file_until_the_queue_makes_it(
        engine: Engine, instance_id: str) -> None:
    recorder = renderer(engine)
    [document_id] = queue(engine, instance_id, "surat teguran")
    [pending] = documents(engine, [document_id])
    assert (pending.sha256, pending.size, pending.ready) == (None, None, False)
    assert recorder.calls == [] and generated(engine) == []  # nothing made in the command
    assert engine.renders.drain() == 1 and engine.renders.drain() == 0
    [made] = documents(engine, [document_id])
    assert made.ready and made.size == len(b"SURAT TEGURAN")
    assert made.sha256 == hashlib.sha256(b"SURAT TEGURAN").hexdigest()
    assert generated(engine) == [document_id] and recorder.calls == [b"surat teguran"]
    with engine.read() as s:
        assert s.session.scalar(sa.select(sa.func.count()).select_from(DocumentRender)) == 0
        with s.documents.open(made) as file:
            assert file.read() == b"SURAT TEGURAN"


def test_two_drains_at_once_make_each_document_exactly_once(
        engine: Engine, instance_id: str) -> None:
    recorder = renderer(engine, delay=0.05)
    ids = queue(engine, instance_id, *(f"surat {n}" for n in range(6)))
    start = threading.Barrier(2)
    made: list[int] = []

    def drain() -> None:
        start.wait()
        made.append(engine.renders.drain())

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(made) == 6
    assert sorted(recorder.calls) == sorted(f"surat {n}".encode() for n in range(6))
    assert sorted(generated(engine)) == sorted(ids)
    assert [d.sha256 for d in documents(engine, ids)] == [
        hashlib.sha256(f"SURAT {n}".encode()).hexdigest() for n in range(6)]


def test_two_readers_of_one_pending_document_get_one_render(
        engine: Engine, instance_id: str) -> None:
    recorder = renderer(engine, delay=0.2)
    [document_id] = queue(engine, instance_id, "berita acara")
    start = threading.Barrier(3)
    read: list[bytes] = []

    def open_it() -> None:
        start.wait()
        with engine.read() as s, s.documents.open(s.documents.get(document_id)) as file:
            read.append(file.read())

    threads = [threading.Thread(target=open_it) for _ in range(2)]
    threads.append(threading.Thread(target=lambda: (start.wait(), engine.renders.drain())))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert read == [b"BERITA ACARA"] * 2
    assert recorder.calls == [b"berita acara"] and generated(engine) == [document_id]


def test_a_failing_renderer_becomes_an_incident_and_its_retry_makes_the_document(
        engine: Engine, clock: FrozenClock, instance_id: str) -> None:
    recorder = renderer(engine)
    recorder.failing = True
    [document_id] = queue(engine, instance_id, "sertifikat")
    assert engine.renders.drain() == 0 and len(recorder.calls) == 1
    assert engine.renders.drain() == 0 and len(recorder.calls) == 1  # not due again yet
    for wait in range(1, MAX_ATTEMPTS):
        clock.advance(timedelta(seconds=10 * 2 ** (wait - 1)))
        assert engine.renders.drain() == 0
    assert len(recorder.calls) == MAX_ATTEMPTS
    clock.advance(timedelta(hours=1))
    assert engine.renders.drain() == 0 and len(recorder.calls) == MAX_ATTEMPTS  # given up
    with engine.read() as s:
        [incident] = s.session.scalars(sa.select(Incident).where(
            Incident.instance_id == instance_id))
        instance = s.runtime.instance(instance_id)
        with pytest.raises(DocumentNotReady, match="out of paper"):
            s.documents.open(s.documents.get(document_id))  # a reader's try fails too
    assert incident.kind == RENDER_INCIDENT and incident.status == "open"
    assert "surat_0.txt" in incident.message and "out of paper" in incident.message
    assert "ulangi insiden ini" in incident.message
    assert instance.status == "running"  # the process went on; only its document waits

    recorder.failing = False
    with engine.write() as s:
        s.runtime.retry_incident(incident.id, actor="admin")
    assert engine.renders.drain() == 1
    [made] = documents(engine, [document_id])
    assert made.ready and generated(engine) == [document_id]
    with engine.read() as s:
        assert s.session.get(Incident, incident.id).status == "resolved"
        assert s.runtime.instance(instance_id).status == "running"


def test_a_document_whose_renderer_is_not_installed_is_an_incident_not_a_crash(
        engine: Engine, clock: FrozenClock, instance_id: str) -> None:
    with engine.write() as s:
        document_id = s.documents.store_pending(instance_id, "hilang", b"x", name="x.txt",
                                                content_type="text/plain").id
    for _ in range(MAX_ATTEMPTS):
        engine.renders.drain()
        clock.advance(timedelta(minutes=5))
    with engine.read() as s:
        [incident] = s.session.scalars(sa.select(Incident).where(
            Incident.instance_id == instance_id))
        assert "no renderer named 'hilang'" in incident.message
        assert s.documents.get(document_id).sha256 is None
