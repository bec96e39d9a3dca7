"""Events that leave who and where to their row of record (engine.queries.history_rows):
a task's completion and a document's upload are stored without them and read with
them, in the history page, the history log and an archived instance's listing."""

from __future__ import annotations

import io
import json
from typing import Any

import sqlalchemy as sa

from engine.composition import Engine
from engine.identity.access import ADMIN, Actor
from engine.models import HistoryEvent
from engine.queries import history_rows
from engine.queries.history import HistoryLog
from tests.builders import definitions
from tests.instances import ready
from tests.samples import CERTIFICATION, FORM, PDF

WHO = ("kind", "actor", "element_id", "task_id")


def _started(engine: Engine) -> tuple[str, str]:
    """An instance and the id of its first (ready) task."""
    with engine.write() as s:
        s.deployments.deploy([("application.form", json.dumps(FORM).encode()),
                              ("certification.bpmn",
                               definitions("certification", CERTIFICATION).encode())])
    with engine.write() as s:
        instance_id = s.runtime.start_instance("certification", actor="pelanggan").id
    (task,) = ready(engine, instance_id)
    return instance_id, task.id


def _upload_and_complete(engine: Engine, instance_id: str, task_id: str) -> tuple[str, str]:
    """Upload a document for the task and complete it; the document's id and the
    task's element."""
    with engine.write() as s:
        document = s.documents.upload(instance_id, io.BytesIO(PDF), filename="nib.pdf",
                                      content_type="application/pdf",
                                      uploaded_by="pelanggan", task_id=task_id, field="nib")
        reference = s.documents.reference(document)
    (task,) = ready(engine, instance_id)
    with engine.write() as s:
        s.runtime.complete_task(task_id, {"product": "Helm", "units": 3, "scheme": "type5",
                                          "nib": reference}, actor="budi")
    return reference["id"], task.element_id


def _events(rows: Any, kinds: tuple[str, ...]) -> list[tuple[Any, ...]]:
    return [tuple(getattr(e, name) if not isinstance(e, dict) else e[name] for name in WHO)
            for e in rows if (e.kind if not isinstance(e, dict) else e["kind"]) in kinds]


def test_completions_and_uploads_are_read_with_the_facts_their_rows_keep(
        engine: Engine) -> None:
    instance_id, task_id = _started(engine)
    document_id, element = _upload_and_complete(engine, instance_id, task_id)
    kinds = ("document_uploaded", "task_completed")
    with engine.read() as s:
        stored = list(s.session.execute(
            sa.select(HistoryEvent.kind, HistoryEvent.actor, HistoryEvent.element_id,
                      HistoryEvent.task_id).where(HistoryEvent.instance_id == instance_id)
            .order_by(HistoryEvent.id)))
        page = s.queries.history(Actor.of("admin", [ADMIN]), instance_id).items
        log = HistoryLog(s.session, engine.clock).events(instance_id)
        upload = next(e for e in page if e.kind == "document_uploaded")
    expected = [("document_uploaded", "pelanggan", element, task_id),
                ("task_completed", "budi", element, task_id)]
    assert _events(stored, kinds) == [("document_uploaded", None, None, None),
                                      ("task_completed", None, None, task_id)]
    assert _events(page, kinds) == expected
    assert _events(log, kinds) == expected
    assert upload.data["document_id"] == document_id and upload.data["name"] == "nib.pdf"


def test_rows_written_with_their_facts_read_as_they_are(engine: Engine) -> None:
    instance_id, task_id = _started(engine)
    with engine.write() as s:
        for kind in ("task_completed", "document_uploaded"):
            s.session.add(HistoryEvent(instance_id=instance_id, at=engine.clock.now(),
                                       kind=kind, actor="lama", element_id="e_lama",
                                       task_id=task_id, data={"document_id": "d-lama"}))
    with engine.read() as s:
        page = s.queries.history(Actor.of("admin", [ADMIN]), instance_id).items
    assert _events(page, ("task_completed", "document_uploaded")) == [
        ("task_completed", "lama", "e_lama", task_id),
        ("document_uploaded", "lama", "e_lama", task_id)]


def test_an_archived_history_is_listed_with_the_facts_of_its_rows() -> None:
    events = [
        {"kind": "task_completed", "actor": None, "element_id": None, "task_id": "t1",
         "data": {"variables": {}}},
        {"kind": "document_uploaded", "actor": None, "element_id": None, "task_id": None,
         "data": {"document_id": "d1"}},
        {"kind": "document_uploaded", "actor": None, "element_id": None, "task_id": None,
         "data": {"document_id": "d2"}},
        {"kind": "element_completed", "actor": None, "element_id": "gw", "task_id": "t9",
         "data": {"type": "ExclusiveGateway"}},
    ]
    tasks = [{"id": "t1", "element_id": "review", "completed_by": "budi"}]
    documents = [{"id": "d1", "task_id": "t1", "uploaded_by": "pelanggan"},
                 {"id": "d2", "task_id": None, "uploaded_by": "rina"}]
    assert _events(history_rows.fill_rows(events, tasks, documents), (
        "task_completed", "document_uploaded", "element_completed")) == [
        ("task_completed", "budi", "review", "t1"),
        ("document_uploaded", "pelanggan", "review", "t1"),
        ("document_uploaded", "rina", None, None),
        ("element_completed", None, "gw", "t9")]
