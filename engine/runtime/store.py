"""The runtime's reads and writes, as SQLAlchemy Core statements.

A task completion touches five rows (the task, its successor and candidates,
the history, the instance). Through the ORM's unit of work that costs more than
running the workflow itself, so the runtime's hot path goes through the plain
statements below; the ORM models stay the read model for the API and tests.
Every write goes through the same session, so it joins the command's
transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.errors import ConcurrentModification
from engine.models import (
    EventSubscription,
    HistoryEvent,
    Incident,
    ProcessInstance,
    SlaBreach,
    Task,
    TaskCandidate,
    Timer,
)
from engine.models.tasks import NO_DUE_DATE
from engine.queries import history_values

_instance: sa.Table = ProcessInstance.__table__  # type: ignore[assignment]
_task: sa.Table = Task.__table__  # type: ignore[assignment]
_candidate: sa.Table = TaskCandidate.__table__  # type: ignore[assignment]
_history: sa.Table = HistoryEvent.__table__  # type: ignore[assignment]
_timer: sa.Table = Timer.__table__  # type: ignore[assignment]
_subscription: sa.Table = EventSubscription.__table__  # type: ignore[assignment]
_incident: sa.Table = Incident.__table__  # type: ignore[assignment]
_breach: sa.Table = SlaBreach.__table__  # type: ignore[assignment]


@dataclass
class InstanceRow:
    """An instance as one command sees it; written back with :meth:`InstanceStore.save`."""

    id: str
    definition_id: str
    definition_key: str
    business_key: str | None
    status: str
    revision: int
    waits_digest: str | None
    state: bytes
    started_by: str | None = None
    company: str | None = None
    ended_at: datetime | None = None
    started_at: datetime | None = None  # known to the command that starts the instance


@dataclass(frozen=True)
class TaskRow:
    id: str
    instance_id: str
    element_id: str
    state: str
    assignee: str | None
    properties: dict[str, Any]
    due_at: datetime | None


# Statements are built once: building them per call (with ``.values(...)``) costs
# more than executing them. Parameters are passed at execution time.
_INSTANCE_COLUMNS = [
    _instance.c.id, _instance.c.definition_id, _instance.c.definition_key,
    _instance.c.business_key, _instance.c.status, _instance.c.revision,
    _instance.c.waits_digest, _instance.c.state, _instance.c.started_by, _instance.c.company,
    _instance.c.ended_at,
]
_TASK_COLUMNS = [_task.c.id, _task.c.instance_id, _task.c.element_id, _task.c.state,
                 _task.c.assignee, _task.c.properties, _task.c.due_at]


_SELECT_INSTANCE = sa.select(*_INSTANCE_COLUMNS).where(_instance.c.id == sa.bindparam("p_id"))
_SELECT_INSTANCE_LOCKED = _SELECT_INSTANCE.with_for_update()
_SELECT_TASK = sa.select(*_TASK_COLUMNS).where(_task.c.id == sa.bindparam("p_id"))
_SELECT_TASK_AND_INSTANCE = (
    sa.select(*_TASK_COLUMNS, *_INSTANCE_COLUMNS)
    .join_from(_task, _instance, _task.c.instance_id == _instance.c.id)
    .where(_task.c.id == sa.bindparam("p_id"))
)
_INSERT_INSTANCE = _instance.insert()
_INSERT_TASK = _task.insert()
_INSERT_CANDIDATE = _candidate.insert()
_INSERT_HISTORY = _history.insert()
_UPDATE_INSTANCE = (
    _instance.update()
    .where(_instance.c.id == sa.bindparam("p_id"),
           _instance.c.revision == sa.bindparam("p_revision"))
    .values(status=sa.bindparam("status"), revision=sa.bindparam("revision"),
            updated_at=sa.bindparam("updated_at"), waits_digest=sa.bindparam("waits_digest"),
            ended_at=sa.bindparam("ended_at"))
)
_UPDATE_INSTANCE_STATE = _UPDATE_INSTANCE.values(state=sa.bindparam("state"))
_SET_BUSINESS_KEY = (
    _instance.update().where(_instance.c.id == sa.bindparam("p_id"))
    .values(business_key=sa.bindparam("business_key"))
)
_FINISH_TASK = (
    _task.update()
    .where(_task.c.id == sa.bindparam("p_id"), _task.c.state == "ready")
    .values(state=sa.bindparam("state"), completed_at=sa.bindparam("completed_at"),
            completed_by=sa.bindparam("completed_by"))
)

_FINISH_CANDIDATES = (
    _candidate.update().where(_candidate.c.task_id == sa.bindparam("p_id"))
    .values(state=sa.bindparam("state"))
)


class InstanceStore:
    def __init__(self, session: Session, *, lock_rows: bool) -> None:
        self.session = session
        self.lock_rows = lock_rows
        self._history: list[dict[str, Any]] = []
        self._history_values: dict[tuple[str, str], dict[str, Any]] = {}

    # -- instances ---------------------------------------------------------------

    def load(self, instance_id: str) -> InstanceRow | None:
        """Read an instance for a command, locking its row where the database can."""
        query = _SELECT_INSTANCE_LOCKED if self.lock_rows else _SELECT_INSTANCE
        row = self._conn().execute(query, {"p_id": instance_id}).first()
        return InstanceRow(*row) if row is not None else None

    def insert(self, row: InstanceRow, now: datetime) -> None:
        self._conn().execute(_INSERT_INSTANCE, [{
            "id": row.id, "definition_id": row.definition_id,
            "definition_key": row.definition_key, "business_key": row.business_key,
            "status": row.status, "state": row.state, "revision": row.revision,
            "waits_digest": row.waits_digest, "started_by": row.started_by,
            "company": row.company, "started_at": now, "updated_at": now, "ended_at": None,
        }])

    def save(self, row: InstanceRow, now: datetime, *, state: bytes | None = None) -> None:
        """Write the instance back if nobody else did since it was read.

        :raises ConcurrentModification: when another command bumped the revision.
        """
        values: dict[str, Any] = {
            "p_id": row.id, "p_revision": row.revision,
            "status": row.status, "revision": row.revision + 1, "updated_at": now,
            "waits_digest": row.waits_digest, "ended_at": row.ended_at,
        }
        statement = _UPDATE_INSTANCE
        if state is not None:
            values["state"] = state
            statement = _UPDATE_INSTANCE_STATE
        result = self._conn().execute(statement, values)
        if result.rowcount != 1:
            raise ConcurrentModification(
                f"instance {row.id} was changed by another command; reload and try again")
        row.revision += 1
        if state is not None:
            row.state = state

    def set_business_key(self, instance_id: str, key: str) -> None:
        self._conn().execute(_SET_BUSINESS_KEY, {"p_id": instance_id, "business_key": key})

    # -- tasks -------------------------------------------------------------------------

    def task(self, task_id: str) -> TaskRow | None:
        row = self._conn().execute(_SELECT_TASK, {"p_id": task_id}).first()
        return TaskRow(*row) if row is not None else None

    def task_with_instance(self, task_id: str) -> tuple[TaskRow, InstanceRow] | None:
        """Read a task and its instance in one statement (SQLite's write lock is held)."""
        row = self._conn().execute(_SELECT_TASK_AND_INSTANCE, {"p_id": task_id}).first()
        if row is None:
            return None
        width = len(_TASK_COLUMNS)
        return TaskRow(*row[:width]), InstanceRow(*row[width:])

    def insert_task(self, values: dict[str, Any], groups: Sequence[str],
                    users: Sequence[str]) -> None:
        conn = self._conn()
        values.setdefault("due_order", values.get("due_at") or NO_DUE_DATE)
        conn.execute(_INSERT_TASK, [{**values, "candidate_groups": list(groups),
                                     "candidate_users": list(users)}])
        candidates = ([{"task_id": values["id"], "kind": "group", "value": g} for g in groups]
                      + [{"task_id": values["id"], "kind": "user", "value": u} for u in users])
        if candidates:
            conn.execute(_INSERT_CANDIDATE, candidates)

    def finish_task(self, task_id: str, state: str, at: datetime, by: str | None) -> bool:
        """Move a ready task to ``state``; False if it was not ready any more."""
        result = self._conn().execute(_FINISH_TASK, {
            "p_id": task_id, "state": state, "completed_at": at, "completed_by": by})
        if result.rowcount != 1:
            return False
        self._conn().execute(_FINISH_CANDIDATES, {"p_id": task_id, "state": state})
        return True

    def set_candidates(self, task_id: str, groups: Sequence[str], users: Sequence[str]) -> None:
        """Replace a ready task's candidate roles and users (row and index)."""
        conn = self._conn()
        conn.execute(_task.update().where(_task.c.id == task_id).values(
            candidate_groups=list(groups), candidate_users=list(users)))
        conn.execute(_candidate.delete().where(_candidate.c.task_id == task_id))
        candidates = ([{"task_id": task_id, "kind": "group", "value": g} for g in groups]
                      + [{"task_id": task_id, "kind": "user", "value": u} for u in users])
        if candidates:
            conn.execute(_INSERT_CANDIDATE, candidates)

    def set_assignee(self, task_id: str, assignee: str | None) -> None:
        self.session.execute(_task.update().where(_task.c.id == task_id)
                             .values(assignee=assignee))

    def close_breach(self, task_id: str, at: datetime, by: str | None) -> None:
        """Record when a late task was done (the breach row exists if the sweep saw it)."""
        result = self._conn().execute(
            _breach.update().where(_breach.c.task_id == task_id)
            .values(completed_at=at, completed_by=by))
        if result.rowcount == 0:
            # Done late before any sweep noticed: record the breach as it closes.
            row = self._conn().execute(
                sa.select(_task.c.instance_id, _task.c.definition_key, _task.c.element_id,
                          _task.c.title, _task.c.lane, _task.c.assignee, _task.c.due_at)
                .where(_task.c.id == task_id)).one()
            roles = sorted(self._conn().execute(
                sa.select(_candidate.c.value).where(_candidate.c.task_id == task_id,
                                                    _candidate.c.kind == "group")).scalars())
            self._conn().execute(_breach.insert().values(
                task_id=task_id, instance_id=row.instance_id,
                definition_key=row.definition_key, element_id=row.element_id,
                title=row.title, roles=",".join(roles or ([row.lane] if row.lane else [])),
                assignee=row.assignee, due_at=row.due_at, detected_at=at, completed_at=at,
                completed_by=by, escalated_to=None))

    def completed_by(self, instance_id: str, element_ids: Sequence[str], user: str
                     ) -> list[str]:
        """Return which of ``element_ids`` ``user`` has completed in this instance."""
        rows = self._conn().execute(
            sa.select(_task.c.element_id).distinct().where(
                _task.c.instance_id == instance_id, _task.c.element_id.in_(element_ids),
                _task.c.state == "completed", _task.c.completed_by == user))
        return sorted(r[0] for r in rows)

    def cancel_ready_tasks(self, instance_id: str, at: datetime) -> list[TaskRow]:
        rows = [TaskRow(*r) for r in self.session.execute(
            sa.select(*_TASK_COLUMNS).where(_task.c.instance_id == instance_id,
                                            _task.c.state == "ready"))]
        if rows:
            self.session.execute(
                _task.update().where(_task.c.instance_id == instance_id,
                                     _task.c.state == "ready")
                .values(state="cancelled", completed_at=at))
            self.session.execute(
                _candidate.update().where(_candidate.c.task_id.in_([r.id for r in rows]))
                .values(state="cancelled"))
        return rows

    # -- timers and message subscriptions -------------------------------------------------

    def replace_waits(self, instance_id: str, timers: Iterable[Any], messages: Iterable[Any]
                      ) -> None:
        self.session.execute(_timer.delete().where(_timer.c.instance_id == instance_id))
        self.session.execute(_subscription.delete().where(
            _subscription.c.instance_id == instance_id))
        timer_rows = [{"instance_id": instance_id, "task_id": t.task_id,
                       "element_id": t.element_id, "kind": t.kind, "due_at": t.due_at}
                      for t in timers]
        if timer_rows:
            self.session.execute(_timer.insert(), timer_rows)
        message_rows = [{"instance_id": instance_id, "task_id": m.task_id,
                         "element_id": m.element_id, "kind": getattr(m, "kind", "message"),
                         "name": m.name}
                        for m in messages]
        if message_rows:
            self.session.execute(_subscription.insert(), message_rows)

    # -- incidents ----------------------------------------------------------------------

    def open_incident(self, values: dict[str, Any]) -> None:
        self.session.execute(_incident.insert().values(status="open", **values))

    def resolve_incidents(self, instance_id: str, at: datetime, by: str | None,
                          incident_id: int | None = None) -> None:
        query = _incident.update().where(_incident.c.instance_id == instance_id,
                                         _incident.c.status == "open")
        if incident_id is not None:
            query = query.where(_incident.c.id == incident_id)
        self.session.execute(query.values(status="resolved", resolved_at=at, resolved_by=by))

    def has_open_incidents(self, instance_id: str) -> bool:
        return self.session.execute(
            sa.select(_incident.c.id).where(_incident.c.instance_id == instance_id,
                                            _incident.c.status == "open").limit(1)
        ).first() is not None

    # -- history ------------------------------------------------------------------------

    def add_history(self, event: dict[str, Any]) -> None:
        """Queue a history row; :meth:`flush_history` writes the queue in one statement."""
        self._history.append(event)

    def add_history_values(self, rows: Iterable[dict[str, Any]]) -> None:
        """Queue large history values (see :mod:`engine.queries.history_values`); the
        same value queued twice for an instance is written once."""
        for row in rows:
            self._history_values.setdefault((row["instance_id"], row["hash"]), row)

    def flush_history(self) -> None:
        if self._history_values:
            history_values.store(self.session, list(self._history_values.values()))
            self._history_values = {}
        if self._history:
            self._conn().execute(_INSERT_HISTORY, self._history)
            self._history = []

    def _conn(self) -> sa.Connection:
        # The session's connection, inside the command's transaction; Core
        # statements on it skip the ORM's per-statement bookkeeping.
        return self.session.connection()
