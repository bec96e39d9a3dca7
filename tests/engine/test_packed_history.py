"""Words coded, history data and invoice lines packed on SQLite (revisions 0020 and
lspro_0004): old rows converted and read as before, new ones written packed, the
downgrades undo it, PostgreSQL left as it is."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command as alembic_command
from sqlalchemy.dialects import sqlite

from engine.composition import Engine
from engine.identity.access import Actor
from engine.models import Document, HistoryEvent, Task, TaskCandidate
from engine.models.history import HistoryData, stored_text
from engine.persistence.db import create_db_engine
from engine.persistence.migrate import alembic_config, upgrade
from engine.persistence.packing import CodedText, CompressedJSON
from lspro.extension import MIGRATIONS as LSPRO_MIGRATIONS
from lspro.models import Invoice
from tests.builders import linear_user_tasks

INSTANCE = "0b5e3f55-2f4c-4c1e-9d0a-6d2f1f3c9a01"
DOCUMENT = "3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7"
INVOICE = "7c8d9e0f-1a2b-4c3d-8e4f-a5b6c7d8e9f0"
TASKS = {"1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5": "ready",
         "2d3e4f5a-6b7c-4d8e-9fa0-b1c2d3e4f5a6": "completed"}
# (task, kind, value) of the candidate rows, with the state of their task.
CANDIDATES = [(task, kind, value) for task in TASKS
              for kind, value in (("group", "upp"), ("user", "rina"))]
CONTENT_TYPES = {"4f5a6b7c-8d9e-4fa0-b1c2-d3e4f5a6b7c8": "application/pdf",
                 "5a6b7c8d-9e0f-4a1b-8c2d-e3f4a5b6c7d8": "application/x-unlisted"}
SQLITE = sqlite.dialect()

# (kind, data as the code before 0020 wrote it): every shape HistoryData packs, and
# text it keeps; an extension's kind the engine does not know.
OLD_EVENTS: list[tuple[str, str | None]] = [
    ("instance_started", '{"variables": {"a": 1, "b": [1, 2]}, "business_key": null, '
                         '"definition_id": "k:1"}'),
    ("element_completed", '{"type":"ExclusiveGateway"}'),
    ("element_completed", '{"type":"SomeNewGateway"}'),
    ("element_completed", '{"type":"TopicServiceTask","changed":{"nomor":"PRM-1"}}'),
    ("document_uploaded", '{"document_id":"' + DOCUMENT + '"}'),
    ("document_uploaded", '{"document_id":"not-a-uuid"}'),
    ("instance_completed", "null"),
    ("instance_completed", None),
    ("panel_noted", '{"note":"x"}'),
]
LINES = [{"no": "1", "item": "APPLICATION_FEE", "label_id": "Biaya Permohonan",
          "label_en": "Application fee", "quantity": 1, "amount": 500000}] * 6


def _old_rows(db: sa.Engine) -> None:
    """Rows as the code of revisions 0018 and lspro_0003 wrote them."""
    upgrade(db, "0018")
    upgrade(db, "lspro_0003", extension_folders=[LSPRO_MIGRATIONS])
    now = "2026-11-02 08:00:00.000000"
    with db.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO deployment (id, name, source, deployed_at) VALUES "
            "('dep', 'd', 'test', :now)"), {"now": now})
        conn.execute(sa.text(
            "INSERT INTO process_definition (id, key, version, content_hash, deployment_id, "
            "resource_name, bpmn_xml, spec, deployed_at) VALUES "
            "('k:1', 'k', 1, 'h', 'dep', 'k.bpmn', '', '{}', :now)"), {"now": now})
        instance = sa.table("process_instance", sa.column("id"), sa.column("definition_id"),
                            sa.column("definition_key"), sa.column("status"),
                            sa.column("state"), sa.column("revision"),
                            sa.column("started_at"), sa.column("updated_at"))
        conn.execute(instance.insert().values(
            id=_stored_id(db, INSTANCE), definition_id="k:1", definition_key="k",
            status="running", state=b"", revision=1, started_at=_moment(db),
            updated_at=_moment(db)))
        events = sa.table("history_event", sa.column("instance_id"), sa.column("at"),
                          sa.column("kind"), sa.column("data"))
        for kind, data in OLD_EVENTS:
            conn.execute(events.insert().values(instance_id=_stored_id(db, INSTANCE),
                                                at=_moment(db), kind=kind, data=data))
        tasks = sa.table("task", *(sa.column(c) for c in (
            "id", "instance_id", "definition_key", "element_id", "state", "priority",
            "properties", "created_at", "due_order", "candidate_groups", "candidate_users")))
        candidates = sa.table("task_candidate", sa.column("task_id"), sa.column("kind"),
                              sa.column("value"), sa.column("state"))
        for task, state in TASKS.items():
            conn.execute(tasks.insert().values(
                id=_stored_id(db, task), instance_id=_stored_id(db, INSTANCE),
                definition_key="k", element_id="e", state=state, priority=50,
                properties="{}", created_at=_moment(db), due_order=_moment(db),
                candidate_groups='["upp"]', candidate_users='["rina"]'))
        for task, kind, value in CANDIDATES:
            conn.execute(candidates.insert().values(task_id=_stored_id(db, task), kind=kind,
                                                    value=value, state=TASKS[task]))
        documents = sa.table("document", sa.column("id"), sa.column("instance_id"),
                             sa.column("name"), sa.column("content_type"),
                             sa.column("uploaded_at"))
        for document, content_type in CONTENT_TYPES.items():
            conn.execute(documents.insert().values(
                id=_stored_id(db, document), instance_id=_stored_id(db, INSTANCE),
                name="a", content_type=content_type, uploaded_at=_moment(db)))
        invoices = sa.table("invoice", *(sa.column(c) for c in (
            "id", "code", "subject", "schedules", "lines", "total", "currency",
            "legal_basis", "state", "issued_at", "due_at", "updated_at")))
        conn.execute(invoices.insert().values(
            id=_stored_id(db, INVOICE), code="C1", subject="S", schedules="a",
            lines=json.dumps(LINES), total=1, currency="IDR", legal_basis="PP", state="terbit",
            issued_at=_text_moment(db), due_at=_text_moment(db),
            updated_at=_text_moment(db)))


def _stored_id(db: sa.Engine, value: str) -> Any:
    return uuid.UUID(value).bytes if db.dialect.name == "sqlite" else value


def _moment(db: sa.Engine) -> Any:
    return 1_793_606_400_000_000 if db.dialect.name == "sqlite" else datetime(
        2026, 11, 2, 8, tzinfo=UTC)


def _text_moment(db: sa.Engine) -> Any:
    """A ``UTCDateTime`` column's value: SQLite's text."""
    return "2026-11-02 08:00:00.000000" if db.dialect.name == "sqlite" else _moment(db)


def _read(db: sa.Engine) -> tuple[list[tuple[str, Any]], Any, dict[str, Any]]:
    """The events, the invoice's lines and the coded words as the models read them."""
    with sa.orm.Session(db) as session:
        events = [tuple(row) for row in session.execute(
            sa.select(HistoryEvent.kind, HistoryEvent.data).order_by(HistoryEvent.id))]
        lines = session.scalar(sa.select(Invoice.lines))
        words = {
            "tasks": dict(session.execute(sa.select(Task.id, Task.state)).all()),
            "candidates": sorted(session.execute(sa.select(
                TaskCandidate.task_id, TaskCandidate.kind, TaskCandidate.value,
                TaskCandidate.state)).all()),
            "types": dict(session.execute(sa.select(Document.id, Document.content_type)).all()),
            # What the typed queries find: the task lists', the documents'.
            "open": sorted(session.scalars(sa.select(TaskCandidate.value).where(
                TaskCandidate.kind == "group", TaskCandidate.state == "ready"))),
            "done": list(session.scalars(sa.select(Task.id).where(Task.state == "completed"))),
            "pdf": list(session.scalars(sa.select(Document.id).where(
                Document.content_type == "application/pdf"))),
        }
    return events, lines, words


def _words() -> dict[str, Any]:
    done = [task for task, state in TASKS.items() if state == "completed"]
    return {"tasks": TASKS,
            "candidates": sorted((t, k, v, TASKS[t]) for t, k, v in CANDIDATES),
            "types": CONTENT_TYPES, "open": ["upp"], "done": done,
            "pdf": [d for d, t in CONTENT_TYPES.items() if t == "application/pdf"]}


def _forms(db: sa.Engine) -> list[tuple[str, str]]:
    """SQLite's storage class of each event's kind and data (what is on disk)."""
    with db.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(
            "SELECT typeof(kind), typeof(data) FROM history_event ORDER BY id"))]


def _assigned_only(db: sa.Engine) -> bool:
    """Whether the assignee index holds the assigned tasks only."""
    with db.connect() as conn:
        sql = conn.scalar(sa.text(
            "SELECT sql FROM sqlite_master WHERE name = 'ix_task_state_assignee'"
            if db.dialect.name == "sqlite" else
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_task_state_assignee'"))
    return "assignee IS NOT NULL" in sql


def _expected() -> list[tuple[str, Any]]:
    return [(kind, None if data is None else json.loads(data)) for kind, data in OLD_EVENTS]


@pytest.fixture
def old_database(blank_database_url: str) -> Iterator[sa.Engine]:
    db = create_db_engine(blank_database_url)
    _old_rows(db)
    yield db
    db.dispose()


def test_0020_and_lspro_0004_read_old_rows_as_they_were(old_database: sa.Engine) -> None:
    db = old_database
    upgrade(db, extension_folders=[LSPRO_MIGRATIONS])
    events, lines, words = _read(db)
    with sa.orm.Session(db) as session:
        # A query by kind finds the converted rows (the SLA's, the customer's view).
        completed = session.scalar(sa.select(sa.func.count()).where(
            HistoryEvent.kind.in_(("instance_completed", "panel_noted"))))
    assert events == _expected()
    assert lines == LINES
    assert words == _words()
    assert completed == 3
    assert _assigned_only(db)
    if db.dialect.name == "sqlite":
        assert _forms(db) == [
            ("blob", "blob"),  # deflated
            ("blob", "integer"), ("blob", "text"), ("blob", "blob"),
            ("blob", "blob"), ("blob", "text"),  # a document id, 16 bytes; not a UUID
            ("blob", "null"), ("blob", "null"),
            ("text", "text"),  # an extension's kind stays text
        ]
        with db.connect() as conn:
            assert conn.scalar(sa.text("SELECT typeof(lines) FROM invoice")) == "blob"
            coded = set(conn.execute(sa.text(
                "SELECT 'task.state', typeof(state) FROM task UNION "
                "SELECT 'candidate.state', typeof(state) FROM task_candidate UNION "
                "SELECT 'candidate.kind', typeof(kind) FROM task_candidate UNION "
                "SELECT content_type, typeof(content_type) FROM document")))
        assert coded == {("task.state", "blob"), ("candidate.state", "blob"),
                         ("candidate.kind", "blob"), (b"\x00", "blob"),
                         ("application/x-unlisted", "text")}
        # The trigger of 0015 still carries a task's state to its candidates.
        with db.begin() as conn:
            conn.execute(sa.update(Task).values(state="cancelled"))
            states = set(conn.scalars(sa.select(TaskCandidate.state)))
        assert states == {"cancelled"}


def test_the_downgrades_give_the_text_back(old_database: sa.Engine) -> None:
    db = old_database
    upgrade(db, extension_folders=[LSPRO_MIGRATIONS])
    with db.begin() as conn:
        config = alembic_config(str(db.url), [LSPRO_MIGRATIONS])
        config.attributes["connection"] = conn
        alembic_command.downgrade(config, "lspro_0003")
        alembic_command.downgrade(config, "0018")
    with db.connect() as conn:
        versions = set(conn.scalars(sa.text("SELECT version_num FROM alembic_version")))
        rows = conn.execute(sa.text(
            "SELECT kind, data FROM history_event ORDER BY id")).all()
        lines = conn.scalar(sa.text("SELECT lines FROM invoice"))
        words = set(conn.execute(sa.text(
            "SELECT state FROM task UNION SELECT state FROM task_candidate UNION "
            "SELECT kind FROM task_candidate UNION SELECT content_type FROM document")))
    assert versions == {"0018", "lspro_0003"}
    assert not _assigned_only(db)
    assert words == {("ready",), ("completed",), ("group",), ("user",),
                     *((t,) for t in CONTENT_TYPES.values())}
    if db.dialect.name == "sqlite":
        # Text as the code before 0020 reads it; the JSON written again without blanks.
        assert [(kind, None if data is None else json.loads(data)) for kind, data in rows
                ] == _expected()
        assert all(isinstance(kind, str) and (data is None or isinstance(data, str))
                   for kind, data in rows)
        assert json.loads(lines) == LINES
    else:
        assert [(kind, data) for kind, data in rows] == _expected()
        assert lines == LINES


def test_new_rows_are_packed_on_sqlite_and_json_on_postgresql(engine: Engine) -> None:
    with engine.write() as s:
        s.deployments.deploy([("linear.bpmn", linear_user_tasks("linear", 2).encode())])
        instance = s.runtime.start_instance("linear", variables={"note": "x" * 200})
    with engine.read() as s:
        page = s.queries.history(Actor.of("admin", ["admin"]), instance.id)
        conn = s.session.connection()
        forms = set(conn.execute(sa.text("SELECT typeof(kind), typeof(data) FROM "
                                         "history_event"))) if engine.db.is_sqlite else set()
        stored = conn.scalar(sa.text("SELECT data FROM history_event WHERE data IS NOT NULL"
                                     " ORDER BY id LIMIT 1"))
    started = page.items[0]
    assert started.kind == "instance_started"
    assert started.data["variables"] == {"note": "x" * 200}
    if engine.db.is_sqlite:
        assert ("blob", "blob") in forms  # the start, its long variable deflated
        assert len(stored) < 100
        assert json.loads(stored_text(stored)) == started.data
    else:
        assert stored == started.data  # PostgreSQL's json, as before


@pytest.mark.parametrize("value", [
    None, {}, {"type": "ExclusiveGateway"}, {"type": "Unlisted"}, {"type": 3},
    {"type": "EndEvent", "changed": {"a": 1}}, {"document_id": DOCUMENT},
    {"document_id": DOCUMENT.upper()}, {"document_id": "d1"},
    {"variables": {"a": "b" * 40}}, {"variables": {str(n): n for n in range(40)}},
    {"a": "y" * 47}, [1, 2, 3], "text", 5,
])
def test_history_data_reads_back_what_was_written(value: Any) -> None:
    column = HistoryData()
    stored = column.process_bind_param(value, SQLITE)
    assert column.process_result_value(stored, SQLITE) == value
    if isinstance(stored, bytes) and len(stored) != 16:
        assert json.loads(stored_text(stored)) == value


def test_coded_text_keeps_unknown_words_and_compressed_json_small_values() -> None:
    kinds = CodedText(("a", "b"))
    assert kinds.process_bind_param("b", SQLITE) == b"\x01"
    assert kinds.process_bind_param("c", SQLITE) == "c"
    assert kinds.process_result_value(b"\x01", SQLITE) == "b"
    assert kinds.process_result_value("c", SQLITE) == "c"
    lines = CompressedJSON()
    assert lines.process_bind_param([], SQLITE) == "[]"  # deflate would be longer
    assert lines.process_result_value("[]", SQLITE) == []
    packed = lines.process_bind_param(LINES, SQLITE)
    assert isinstance(packed, bytes) and len(packed) < len(json.dumps(LINES)) / 4
    assert lines.process_result_value(packed, SQLITE) == LINES
