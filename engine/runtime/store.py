"""The runtime's reads and writes, as SQLAlchemy Core statements.

A task completion touches five rows (the task, its successor and candidates,
the history, the instance). Through the ORM's unit of work that costs more than
running the workflow itself, so the runtime's hot path goes through the plain
statements below (most of them on the driver's cursor: engine.persistence.direct);
the ORM models stay the read model for the API and tests. Every write goes
through the same session's connection, so it joins the command's transaction.

A command reads its task and instance in one statement (locked on PostgreSQL,
:meth:`InstanceStore.task_with_instance`), and the rows it only adds (new tasks
and candidates, notifications, history, search words) wait until the instance is
saved: on PostgreSQL they are inserted by the instance's update itself, with the
completed task's finish (:meth:`InstanceStore.finish_held_task`) and, when the
instance ends, the deletion of its notices of work, so a completion's writes cost
one round trip, not six. A new instance's row waits the same way and is inserted
by its first save (:meth:`InstanceStore.insert`): a start's writes are one statement.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.bpmn.state_codec import StatePieces, has_parts
from engine.errors import ConcurrentModification, TaskAlreadyCompleted
from engine.models import (
    EventSubscription,
    FormDefinition,
    HistoryEvent,
    Incident,
    Notification,
    ProcessInstance,
    ProcessInstanceStatePart,
    SlaBreach,
    Task,
    TaskCandidate,
    Timer,
)
from engine.models.tasks import NO_DUE_DATE
from engine.notifications import outbox
from engine.persistence.direct import Direct
from engine.queries import history_values
from engine.runtime.queued_rows import Joinable, QueuedRows

_instance: sa.Table = ProcessInstance.__table__  # type: ignore[assignment]
_task: sa.Table = Task.__table__  # type: ignore[assignment]
_candidate: sa.Table = TaskCandidate.__table__  # type: ignore[assignment]
_history: sa.Table = HistoryEvent.__table__  # type: ignore[assignment]
_timer: sa.Table = Timer.__table__  # type: ignore[assignment]
_subscription: sa.Table = EventSubscription.__table__  # type: ignore[assignment]
_incident: sa.Table = Incident.__table__  # type: ignore[assignment]
_breach: sa.Table = SlaBreach.__table__  # type: ignore[assignment]
_form: sa.Table = FormDefinition.__table__  # type: ignore[assignment]
_part: sa.Table = ProcessInstanceStatePart.__table__  # type: ignore[assignment]
_notification: sa.Table = Notification.__table__  # type: ignore[assignment]


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
    #: The status as stored (read, or last saved): a save that leaves it as it was does
    #: not write it, so that SQLite does not rewrite its index entry (one page a save).
    stored_status: str | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.stored_status is None:
            self.stored_status = self.status


@dataclass(frozen=True)
class TaskRow:
    id: str
    instance_id: str
    element_id: str
    state: str
    assignee: str | None
    properties: dict[str, Any]
    due_at: datetime | None


@dataclass(frozen=True)
class TaskRecord(TaskRow):
    """A task's whole row, as the command on it read it: enough for the access check,
    the form check and the answer to the caller, without loading the ORM model."""

    definition_key: str
    title: str | None
    lane: str | None
    company: str | None
    priority: int
    form_key: str | None
    created_at: datetime
    follow_up_at: datetime | None
    completed_at: datetime | None
    completed_by: str | None
    candidate_groups: list[str]
    candidate_users: list[str]
    # The latest deployed version of the form named by ``form_key`` (its row id and
    # content hash), read in the same statement: the form's check needs no query of
    # its own when that version was seen before (engine.tasks.taskforms).
    form_row: tuple[int, str] | None = None


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
# The state's stored beginning, read only when the workflow is rebuilt from storage
# (not by the command's one read: a cached workflow needs none of it).
_SELECT_PARTS = (sa.select(_part.c.data).where(_part.c.instance_id == sa.bindparam("p_id"))
                 .order_by(_part.c.seq))
_DELETE_PARTS = _part.delete().where(_part.c.instance_id == sa.bindparam("p_id"))
_SELECT_TASK = sa.select(*_TASK_COLUMNS).where(_task.c.id == sa.bindparam("p_id"))
_RECORD_FIELDS = [f for f in TaskRecord.__dataclass_fields__ if f != "form_row"]
_RECORD_COLUMNS = [_task.c[name] for name in _RECORD_FIELDS]


def _latest_form(column: sa.ColumnElement[Any]) -> sa.ScalarSelect[Any]:
    """The task's form's latest version's ``column``: a lookup of the (form_id, version) key."""
    return (sa.select(column).where(_form.c.form_id == _task.c.form_key)
            .order_by(_form.c.version.desc()).limit(1).scalar_subquery())


_FORM_ROW_COLUMNS = [_latest_form(_form.c.id), _latest_form(_form.c.content_hash)]
# A command's one read: the task's whole row with its instance (and its state).
# The instance comes first in FROM: on PostgreSQL the rows are locked in that order,
# the instance before the task, as every other command locks them (the instance's
# row, then the tasks it writes), so two commands never wait on each other crosswise.
# Both rows are locked, so when the lock had to wait, PostgreSQL reads both again as
# the command that held it left them: the task's state, assignee and candidates are
# those of the instance's current revision. FOR NO KEY UPDATE, the lock an UPDATE
# takes: an upload inserting a document that refers to the task is not held up.
_SELECT_TASK_AND_INSTANCE = (
    sa.select(*_RECORD_COLUMNS, *_INSTANCE_COLUMNS, *_FORM_ROW_COLUMNS)
    .join_from(_instance, _task, _task.c.instance_id == _instance.c.id)
    .where(_task.c.id == sa.bindparam("p_id"))
)
_SELECT_TASK_AND_INSTANCE_LOCKED = _SELECT_TASK_AND_INSTANCE.with_for_update(key_share=True)
_TASK_AND_INSTANCE = Direct(_SELECT_TASK_AND_INSTANCE)
_TASK_AND_INSTANCE_LOCKED = Direct(_SELECT_TASK_AND_INSTANCE_LOCKED)
_INSERT_INSTANCE = _instance.insert()
_INSERT_COLUMNS = ["id", "definition_id", "definition_key", "business_key", "status", "state",
                   "revision", "waits_digest", "started_by", "company", "started_at",
                   "updated_at", "ended_at"]
_INSERT = Direct(_INSERT_INSTANCE)
_INSERT_CANDIDATE = _candidate.insert()
# The instance's update, without its status: most saves leave it as it was, and
# SQLite rewrites an index entry of every column the statement sets, changed or not.
_UPDATE_INSTANCE_KEPT = (
    _instance.update()
    .where(_instance.c.id == sa.bindparam("p_id"),
           _instance.c.revision == sa.bindparam("p_revision"))
    .values(revision=sa.bindparam("revision"), updated_at=sa.bindparam("updated_at"),
            waits_digest=sa.bindparam("waits_digest"), ended_at=sa.bindparam("ended_at"))
)
_UPDATE_INSTANCE = _UPDATE_INSTANCE_KEPT.values(status=sa.bindparam("status"))
_UPDATE_INSTANCE_STATE = _UPDATE_INSTANCE.values(state=sa.bindparam("state"))
_UPDATE_INSTANCE_STATE_KEPT = _UPDATE_INSTANCE_KEPT.values(state=sa.bindparam("state"))
# The same two updates as text, for queued rows to join (engine.runtime.queued_rows).
_UPDATE_COLUMNS = {"p_id": "id", "p_revision": "revision", "status": "status",
                   "revision": "revision", "updated_at": "updated_at",
                   "waits_digest": "waits_digest", "ended_at": "ended_at"}
_SET_INSTANCE = ("SET status = :status, revision = :revision, updated_at = :updated_at, "
                 "waits_digest = :waits_digest, ended_at = :ended_at")
_WHERE_INSTANCE = "WHERE id = :p_id AND revision = :p_revision"
_SAVE = Direct(_UPDATE_INSTANCE)
_SAVE_STATE = Direct(_UPDATE_INSTANCE_STATE)
_SAVE_KEPT = Direct(_UPDATE_INSTANCE_KEPT)
_SAVE_STATE_KEPT = Direct(_UPDATE_INSTANCE_STATE_KEPT)
# Each save statement, by the status's fate: (written, left as stored).
_SAVES = {False: (_SAVE, _SAVE_KEPT), True: (_SAVE_STATE, _SAVE_STATE_KEPT)}
# Joined (PostgreSQL), the update writes the status whatever it is: PostgreSQL
# compares an indexed column's old and new value, so the same value costs it nothing.
_JOINED_UPDATE = Joinable(
    _instance, f"UPDATE process_instance {_SET_INSTANCE} {_WHERE_INSTANCE}", _UPDATE_COLUMNS)
_JOINED_UPDATE_STATE = Joinable(
    _instance, f"UPDATE process_instance {_SET_INSTANCE}, state = :state {_WHERE_INSTANCE}",
    {**_UPDATE_COLUMNS, "state": "state"})
_JOINABLE_UPDATES = {id(_SAVE): _JOINED_UPDATE, id(_SAVE_KEPT): _JOINED_UPDATE,
                     id(_SAVE_STATE): _JOINED_UPDATE_STATE,
                     id(_SAVE_STATE_KEPT): _JOINED_UPDATE_STATE}
# A new instance's row, written by its first save on PostgreSQL (InstanceStore.insert).
_JOINABLE_INSERT = Joinable(
    _instance, f"INSERT INTO process_instance ({', '.join(_INSERT_COLUMNS)}) "
    f"VALUES ({', '.join(':' + name for name in _INSERT_COLUMNS)})",
    {name: name for name in _INSERT_COLUMNS})
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

# PostgreSQL: both in one round trip; the count says whether the task was still ready.
_DONE = _FINISH_TASK.returning(_task.c.id).cte("done")
_FINISH_TASK_AND_CANDIDATES = Direct(sa.select(sa.func.count()).select_from(_DONE).add_cte(
    _candidate.update().where(_candidate.c.task_id.in_(sa.select(_DONE.c.id)))
    .values(state=sa.bindparam("state")).cte("finished_candidates")))
_FINISH = Direct(_FINISH_TASK)

# PostgreSQL: the finish of the task a completion holds locked, joined to the
# instance's update (engine.runtime.queued_rows): the update's row is written only
# if the task was still ready, so a finish that found nothing fails the revision check.
_JOINED_FINISH = Joinable(
    _task,
    "finished AS (UPDATE task SET state = :f_state, completed_at = :f_completed_at, "
    "completed_by = :f_completed_by WHERE id = :f_id AND state = 'ready' RETURNING id), "
    "finished_candidates AS (UPDATE task_candidate SET state = :f_state "
    "WHERE task_id IN (SELECT id FROM finished))",
    {"f_state": "state", "f_completed_at": "completed_at", "f_completed_by": "completed_by",
     "f_id": "id"},
    condition="EXISTS (SELECT FROM finished)")
# PostgreSQL: the save that ends an instance deletes its notices of work (as
# outbox.FORGET_WORK does) in its WITH clause; those the command queued are left out
# (that part does not see the rows its statement inserts).
_JOINED_FORGET = Joinable(
    _notification,
    "forgotten AS (DELETE FROM notification WHERE id IN (SELECT id FROM notification "
    "WHERE instance_id = :p_id AND kind IN ("
    + ", ".join(f"'{kind}'" for kind in outbox.WORK_KINDS)
    + ") FOR UPDATE SKIP LOCKED))",
    {})
# Where a command's connection keeps writes waiting for the instance's save (its
# info): (the transaction they belong to, the store holding them).
_WAITING = "sertiflow_waiting_writes"
# The engines whose commands may keep a finish waiting (see _watch).
_WATCHED: weakref.WeakSet[sa.Engine] = weakref.WeakSet()


def _watch(engine: sa.Engine) -> None:
    """Write a command's waiting writes (a new instance's row, a held task's finish)
    before any other statement of its transaction (and before its commit): whatever
    the command reads or writes meanwhile (a service task asking who completed which
    task, a timer referring to the instance, the ORM's flush) sees them done."""
    if engine in _WATCHED:
        return
    _WATCHED.add(engine)

    def before(conn: sa.Connection, *_: Any) -> None:
        waiting = conn.info.get(_WAITING)
        if waiting is not None:
            transaction, store = waiting
            del conn.info[_WAITING]
            if transaction is conn.get_transaction():
                store._write_waiting(conn)

    def forget(conn: sa.Connection) -> None:
        conn.info.pop(_WAITING, None)

    sa.event.listen(engine, "before_execute", before)
    sa.event.listen(engine, "commit", before)
    sa.event.listen(engine, "rollback", forget)


class InstanceStore:
    def __init__(self, session: Session, *, lock_rows: bool) -> None:
        self.session = session
        self.lock_rows = lock_rows
        # Inserts queued until the instance is saved (table name -> rows): the new
        # tasks, their candidates, notifications and history. Nothing in the command
        # reads them before; on PostgreSQL they ride on the instance's update.
        self._rows = QueuedRows()
        # Large history values (engine.queries.history_values), written before them.
        self._history_values: dict[tuple[str, str], dict[str, Any]] = {}
        self._connection: sa.Connection | None = None
        # PostgreSQL: the finish of the task the command holds, until the instance's
        # update writes it (finish_held_task).
        self._finish: dict[str, Any] | None = None
        # PostgreSQL: a new instance's row, until its first save inserts it (insert).
        self._new: dict[str, Any] | None = None

    # -- instances ---------------------------------------------------------------

    def load(self, instance_id: str) -> InstanceRow | None:
        """Read an instance for a command, locking its row where the database can."""
        query = _SELECT_INSTANCE_LOCKED if self.lock_rows else _SELECT_INSTANCE
        row = self._conn().execute(query, {"p_id": instance_id}).first()
        return InstanceRow(*row) if row is not None else None

    def insert(self, row: InstanceRow, now: datetime) -> None:
        """Add a new instance's row.

        On PostgreSQL the row waits for the instance's first save, which inserts it
        as saved (with the rows queued meanwhile: a start is one statement); any
        other statement of the command before then (or its commit) writes it first
        (:func:`_watch`), so nothing the command does meanwhile misses it.
        """
        values = {
            "id": row.id, "definition_id": row.definition_id,
            "definition_key": row.definition_key, "business_key": row.business_key,
            "status": row.status, "state": row.state, "revision": row.revision,
            "waits_digest": row.waits_digest, "started_by": row.started_by,
            "company": row.company, "started_at": now, "updated_at": now, "ended_at": None,
        }
        if not self.lock_rows:
            _INSERT.execute(self._conn(), values)
            return
        self._write_waiting(self._conn())  # another new instance's row goes first
        self._new = values
        self._wait(self._conn())

    def state_parts(self, instance_id: str, rest: bytes) -> list[bytes]:
        """The stored beginning of an instance's state, before ``rest`` (its ``state``
        column); not read when ``rest`` tells there is none."""
        if not has_parts(rest):
            return []
        return list(self._conn().execute(_SELECT_PARTS, {"p_id": instance_id}).scalars())

    def save(self, row: InstanceRow, now: datetime, *, state: StatePieces | None = None
             ) -> None:
        """Write the instance back if nobody else did since it was read.

        A new part of the state's beginning is inserted with the command's other
        rows (on PostgreSQL by the instance's update itself); the instance's row
        takes the rest.

        :raises ConcurrentModification: when another command bumped the revision.
        """
        values: dict[str, Any] = {
            "p_id": row.id, "p_revision": row.revision,
            "status": row.status, "revision": row.revision + 1, "updated_at": now,
            "waits_digest": row.waits_digest, "ended_at": row.ended_at,
        }
        statement: Direct | None = _SAVES[state is not None][row.status == row.stored_status]
        if state is not None:
            values["state"] = state.rest
            if state.drop:  # rare: the state's beginning was compressed anew
                self._conn().execute(_DELETE_PARTS, {"p_id": row.id})
            if state.part is not None:
                self._rows.add(_part, {"instance_id": row.id, "seq": state.seq,
                                       "data": state.part})
        self._flush_history_values()
        queued = self._rows.take()
        conn = self._conn()
        # The save that ends the instance forgets its notices of work.
        forget = state is not None and row.status in ("completed", "cancelled")
        if forget and self.lock_rows:
            queued.drop(_notification, lambda notice: notice.get("instance_id") == row.id
                        and notice.get("kind") in outbox.WORK_KINDS)
        new = self._new if self._new is not None and self._new["id"] == row.id else None
        if new is not None:  # PostgreSQL: the instance's row is inserted as saved
            self._new = None
            self._write_waiting(conn)  # a held task (of another instance) goes first
            forget = False  # a new instance has no notices but those just left out
            values = {**new, **{name: values[name] for name in _UPDATE_COLUMNS
                                if not name.startswith("p_")}}
            values["state"] = state.rest if state is not None else new["state"]
            statement = _INSERT
        if self.lock_rows and queued.joinable():
            # One round trip for the whole command's writes (data-modifying WITH),
            # the held task's finish among them.
            if new is not None:
                statement = queued.joined_to(_JOINABLE_INSERT, values)
            else:
                also = []
                finish = self._take_finish(conn)
                if finish is not None:
                    values.update(finish)
                    also.append(_JOINED_FINISH)
                if forget:
                    also.append(_JOINED_FORGET)
                    forget = False
                statement = queued.joined_to(_JOINABLE_UPDATES[id(statement)], values, also)
        elif new is not None:
            # The instance first: the queued rows refer to it.
            _INSERT.execute(conn, values)
            queued.write(conn)
            statement = None
        else:
            self._write_waiting(conn)
            queued.write(conn)
        if statement is not None and statement.execute(conn, values) != 1:
            raise ConcurrentModification(
                f"instance {row.id} was changed by another command; reload and try again")
        row.revision += 1
        row.stored_status = row.status
        if state is not None:
            row.state = state.rest
        if forget:  # not done by the save's own statement
            conn.execute(outbox.FORGET_WORK, {"p_instance": row.id})

    def set_business_key(self, instance_id: str, key: str) -> None:
        self._conn().execute(_SET_BUSINESS_KEY, {"p_id": instance_id, "business_key": key})

    # -- tasks -------------------------------------------------------------------------

    def task(self, task_id: str) -> TaskRow | None:
        row = self._conn().execute(_SELECT_TASK, {"p_id": task_id}).first()
        return TaskRow(*row) if row is not None else None

    def task_with_instance(self, task_id: str) -> tuple[TaskRecord, InstanceRow] | None:
        """Read a task and its instance in one statement, locked for the command.

        On PostgreSQL both rows are locked (the instance first); on SQLite the
        command's transaction already holds the database's write lock.
        """
        query = _TASK_AND_INSTANCE_LOCKED if self.lock_rows else _TASK_AND_INSTANCE
        row = query.first(self._conn(), {"p_id": task_id})
        if row is None:
            return None
        width, end = len(_RECORD_COLUMNS), len(_RECORD_COLUMNS) + len(_INSTANCE_COLUMNS)
        form_id, form_hash = row[end:]
        return (TaskRecord(**dict(zip(_RECORD_FIELDS, row[:width], strict=True)),
                           form_row=None if form_id is None else (form_id, form_hash)),
                InstanceRow(*row[width:end]))

    def insert_task(self, values: dict[str, Any], groups: Sequence[str],
                    users: Sequence[str]) -> None:
        """Queue a new task and its candidates; written when the instance is saved."""
        values.setdefault("due_order", values.get("due_at") or NO_DUE_DATE)
        self.add_row(_task, {**values, "candidate_groups": list(groups),
                             "candidate_users": list(users)})
        for kind, names in (("group", groups), ("user", users)):
            for name in names:
                self.add_row(_candidate, {"task_id": values["id"], "kind": kind,
                                          "value": name, "state": "ready",
                                          "company": values.get("company")})

    def finish_task(self, task_id: str, state: str, at: datetime, by: str | None) -> bool:
        """Move a ready task to ``state``; False if it was not ready any more."""
        values = {"p_id": task_id, "state": state, "completed_at": at, "completed_by": by}
        if self.lock_rows:  # PostgreSQL: one round trip (SQLite has no UPDATE in WITH)
            return bool(_FINISH_TASK_AND_CANDIDATES.scalar(self._conn(), values))
        # SQLite: the candidates follow through a trigger (migration 0015), which
        # rowcount does not count.
        return _FINISH.execute(self._conn(), values) == 1

    def finish_held_task(self, task_id: str, at: datetime, by: str | None) -> None:
        """Complete the ready task the command read locked (:meth:`task_with_instance`).

        On PostgreSQL the finish waits for the instance's update and is written by
        it, one round trip fewer; any other statement of the command before then
        (or its commit) writes it first (:func:`_watch`), so nothing the command
        reads meanwhile sees the task still ready.

        :raises TaskAlreadyCompleted: on SQLite, when the task was not ready any more.
        """
        if not self.lock_rows:
            self._finish_now(task_id, at, by)
            return
        conn = self._conn()
        if self._finish is not None:  # a second held task: the first one goes now
            self._write_waiting(conn)
        self._finish = {"f_id": task_id, "f_state": "completed", "f_completed_at": at,
                        "f_completed_by": by}
        self._wait(conn)

    def _wait(self, conn: sa.Connection) -> None:
        """Have any other statement of the command write this store's waiting writes first."""
        _watch(conn.engine)
        conn.info[_WAITING] = (conn.get_transaction(), self)

    def _take_finish(self, conn: sa.Connection) -> dict[str, Any] | None:
        """The waiting finish, no longer waiting (neither here nor on ``conn``)."""
        finish, self._finish = self._finish, None
        if finish is not None and self._new is None:
            conn.info.pop(_WAITING, None)
        return finish

    def _write_waiting(self, conn: sa.Connection) -> None:
        """Write what waits for the instance's save now: a new instance's row, then a
        held task's finish."""
        conn.info.pop(_WAITING, None)
        new, self._new = self._new, None
        if new is not None:
            _INSERT.execute(conn, new)
        finish = self._take_finish(conn)
        if finish is not None:
            self._finish_now(finish["f_id"], finish["f_completed_at"], finish["f_completed_by"])

    def _finish_now(self, task_id: str, at: datetime, by: str | None) -> None:
        if not self.finish_task(task_id, "completed", at, by):
            raise TaskAlreadyCompleted(f"task {task_id} is no longer ready")

    def set_candidates(self, task_id: str, groups: Sequence[str], users: Sequence[str]) -> None:
        """Replace a ready task's candidate roles and users (row and index)."""
        conn = self._conn()
        conn.execute(_task.update().where(_task.c.id == task_id).values(
            candidate_groups=list(groups), candidate_users=list(users)))
        conn.execute(_candidate.delete().where(_candidate.c.task_id == task_id))
        company = conn.scalar(sa.select(_task.c.company).where(_task.c.id == task_id))
        candidates = [{"task_id": task_id, "kind": kind, "value": name, "state": "ready",
                       "company": company}
                      for kind, names in (("group", groups), ("user", users))
                      for name in names]
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
            if self.lock_rows:  # on SQLite the trigger of migration 0015 does it
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
        """Queue a history row; written with the command's other queued rows."""
        self.add_row(_history, event)

    def add_row(self, table: sa.Table, row: dict[str, Any]) -> None:
        """Queue a row to insert when the instance is saved (or :meth:`flush_rows`)."""
        self._rows.add(table, row)

    def flush_rows(self) -> None:
        """Write the queued rows now (each table's in one executemany), and what waits
        for the instance's save (a new instance's row, a held task's finish)."""
        self._write_waiting(self._conn())
        self._flush_history_values()
        self._rows.take().write(self._conn())

    def add_history_values(self, rows: Iterable[dict[str, Any]]) -> None:
        """Queue large history values (see :mod:`engine.queries.history_values`); the
        same value queued twice for an instance is written once, with the queued rows."""
        for row in rows:
            self._history_values.setdefault((row["instance_id"], row["hash"]), row)

    def _flush_history_values(self) -> None:
        # Rare (only values over the size bound), so they take their own round trips.
        if self._history_values:
            history_values.store(self.session, list(self._history_values.values()))
            self._history_values = {}

    def _conn(self) -> sa.Connection:
        # The session's connection, inside the command's transaction; Core
        # statements on it skip the ORM's per-statement bookkeeping. Asked of the
        # session once: a command is one transaction, never committed halfway.
        conn = self._connection
        if conn is None:
            conn = self._connection = self.session.connection()
        return conn

