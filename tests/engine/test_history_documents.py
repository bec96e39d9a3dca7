"""Documents in the history are stored as references to their rows and read back whole.

Against the real database of the test run (SQLite, or PostgreSQL with
``--database=postgresql``): what the ``history_event`` rows hold is read raw, and
what the readers (the API's history page, :class:`HistoryLog`) give back is
compared with what was recorded; rows written in the old, full form still read
the same.
"""

from __future__ import annotations

import io
import json
from typing import Any

import sqlalchemy as sa

from engine.composition import Engine
from engine.identity.access import ADMIN, Actor
from engine.models import Document, HistoryEvent
from engine.queries import history_documents
from engine.queries.history import HistoryLog
from engine.queries.history_documents import FILES
from tests.builders import definitions
from tests.instances import ready as ready_tasks
from tests.samples import CERTIFICATION, FORM, PDF


def start(engine: Engine) -> str:
    with engine.write() as s:
        s.deployments.deploy([("application.form", json.dumps(FORM).encode()),
                              ("certification.bpmn",
                               definitions("certification", CERTIFICATION).encode())])
    with engine.write() as s:
        return s.runtime.start_instance("certification", actor="pelanggan").id


def upload(engine: Engine, instance_id: str, task_id: str, name: str) -> dict[str, Any]:
    with engine.write() as s:
        document = s.documents.upload(instance_id, io.BytesIO(PDF + name.encode()),
                                      filename=name, content_type="application/pdf",
                                      uploaded_by="pelanggan", task_id=task_id, field="nib")
        return s.documents.reference(document)


def raw(engine: Engine, instance_id: str) -> list[tuple[str, Any]]:
    with engine.read() as s:
        return [(kind, data) for kind, data in s.session.execute(
            sa.select(HistoryEvent.kind, HistoryEvent.data)
            .where(HistoryEvent.instance_id == instance_id).order_by(HistoryEvent.id))]


def read(engine: Engine, instance_id: str) -> list[tuple[str, Any]]:
    """As the API's history page and the history log give them (both the same)."""
    with engine.read() as s:
        page = s.queries.history(Actor.of("admin", [ADMIN]), instance_id, per_page=100)
        api = [(e.kind, e.data) for e in page.items]
        log = [(e.kind, e.data) for e in HistoryLog(s.session, engine.clock).events(instance_id)]
    assert api == log
    return api


def submit(engine: Engine, task_id: str, nib: Any) -> None:
    with engine.write() as s:
        s.submit_task(task_id, {"product": "Helm", "units": 3, "scheme": "type5", "nib": nib},
                      actor="pelanggan")


def test_an_upload_and_the_form_that_refers_to_it_keep_only_the_documents_id(
        engine: Engine) -> None:
    instance_id = start(engine)
    (task,) = ready_tasks(engine, instance_id)
    reference = upload(engine, instance_id, task.id, "NIB perusahaan.pdf")
    submit(engine, task.id, reference)

    stored = dict(raw(engine, instance_id))
    assert stored["document_uploaded"] == {"document_id": reference["id"]}
    assert stored["task_completed"] == {
        "variables": {"product": "Helm", "units": 3, "scheme": "type5", "nib": None},
        FILES: [[["variables", "nib"], reference["id"]]]}

    history = dict(read(engine, instance_id))
    assert history["document_uploaded"] == {
        "document_id": reference["id"], "name": "NIB perusahaan.pdf",
        "size": reference["size"], "sha256": reference["sha256"],
        "content_type": "application/pdf", "field": "nib"}
    assert history["task_completed"] == {
        "variables": {"product": "Helm", "units": 3, "scheme": "type5", "nib": reference}}
    # Key order too: the answer shows the variables as they were sent.
    assert list(history["task_completed"]["variables"]) == ["product", "units", "scheme", "nib"]
    assert list(history["task_completed"]["variables"]["nib"]) == list(reference)


def test_a_reference_that_differs_from_its_row_is_kept_whole(engine: Engine) -> None:
    instance_id = start(engine)
    (task,) = ready_tasks(engine, instance_id)
    reference = upload(engine, instance_id, task.id, "NIB.pdf")
    # The form check holds the id and the digest; the name shown is the sender's own.
    renamed = {**reference, "name": "izin usaha.pdf"}
    submit(engine, task.id, renamed)
    stored = dict(raw(engine, instance_id))
    assert stored["task_completed"]["variables"]["nib"] == renamed
    assert FILES not in stored["task_completed"]
    assert dict(read(engine, instance_id))["task_completed"]["variables"]["nib"] == renamed


def test_rows_written_in_the_full_form_before_read_as_they_were(engine: Engine) -> None:
    """What revision 0014 leaves untouched: events that carry the document's facts."""
    instance_id = start(engine)
    (task,) = ready_tasks(engine, instance_id)
    reference = upload(engine, instance_id, task.id, "NIB.pdf")
    old_upload = {"document_id": reference["id"], "name": "NIB.pdf", "size": reference["size"],
                  "sha256": reference["sha256"], "content_type": "application/pdf",
                  "field": "nib"}
    old_completion = {"variables": {"nib": reference, "product": "Helm"}}
    with engine.write() as s:
        for kind, data in (("document_uploaded", old_upload),
                           ("task_completed", old_completion)):
            s.session.execute(sa.insert(HistoryEvent).values(
                instance_id=instance_id, at=engine.clock.now(), actor="pelanggan", kind=kind,
                element_id="apply", task_id=task.id, data=data))
    history = read(engine, instance_id)
    assert history[-2:] == [("document_uploaded", old_upload),
                            ("task_completed", old_completion)]


def test_a_document_event_whose_row_is_gone_still_names_the_document(engine: Engine) -> None:
    instance_id = start(engine)
    (task,) = ready_tasks(engine, instance_id)
    reference = upload(engine, instance_id, task.id, "NIB.pdf")
    with engine.write() as s:  # not something the service does: an operator's repair
        s.session.execute(sa.delete(Document).where(Document.id == reference["id"]))
    assert dict(read(engine, instance_id))["document_uploaded"] == {
        "document_id": reference["id"]}


def test_lists_of_references_are_kept_by_id_and_a_look_alike_value_whole(
        engine: Engine) -> None:
    instance_id = start(engine)
    (task,) = ready_tasks(engine, instance_id)
    first = upload(engine, instance_id, task.id, "a.pdf")
    second = upload(engine, instance_id, task.id, "b.pdf")
    with engine.read() as s:
        for reference in (first, second):
            history_documents.at_hand(s.session, s.documents.get(reference["id"]))
        # 1 == True in Python: a size of True is not the row's size of 1 or more.
        odd = {**first, "size": float(first["size"])}
        data = {"variables": {"files": [first, second], "one": second, "odd": odd},
                "top": first}
        stored = history_documents.compact(s.session, data)
        assert stored == {"variables": {"files": None, "one": None, "odd": odd}, "top": None,
                          FILES: [[["variables", "files"], [first["id"], second["id"]]],
                                  [["variables", "one"], second["id"]],
                                  [["top"], first["id"]]]}
        assert data["variables"]["files"] == [first, second]  # not changed in place
        rows = {r.id: r for r in s.session.scalars(sa.select(Document))}
    assert history_documents.expanded(stored, rows) == data
