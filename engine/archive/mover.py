"""Moving finished instances out of the live tables, and one back for an audit.

:meth:`Archiver.run` takes instances that completed or were cancelled before a date,
a batch at a time; :meth:`Archiver.run_by_history_ttl` those kept longer than their
process's ``camunda:historyTimeToLive`` (Camunda's history cleanup), the same way.
Each batch is one write transaction: it picks the instances (on PostgreSQL locking
their rows, skipping any another node holds), reads all their rows, appends them to
the run's file and syncs it, deletes them, and commits. A running, suspended or
failed instance is never picked, nor a finished one whose generated documents are
still to be made or that has an open incident: those wait for a later run. Nodes
serve meanwhile; a batch holds the writer (SQLite) or its instances' rows
(PostgreSQL) only for its own short transaction.

Stopped at any point, a run loses nothing: a batch's rows are deleted only after its
file is on disk, so an interrupted batch is still live and the next run takes it
again (see :mod:`engine.archive.files` for the copies this can leave).

Document files stay in the file store: they are addressed by content, may be shared
with live instances, and the archived document rows keep their SHA-256.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.bpmn.parser import history_ttl_days
from engine.errors import Conflict, InvalidInput, NotFound
from engine.models import DocumentRender, Incident, ProcessDefinition, ProcessInstance
from engine.persistence.db import Database
from engine.time.clock import Clock

from .files import SUFFIX, ArchiveFile, archive_files
from .rows import decode, encode_values, instance_links

FINISHED = ("completed", "cancelled")
BATCH = 100


@dataclass
class ArchiveRun:
    """What one run moved: instances, rows per table, the file and its bytes."""

    path: Path | None
    #: None for a run by history time to live.
    completed_before: datetime | None
    instances: int = 0
    batches: int = 0
    file_bytes: int = 0
    #: The JSON those bytes hold, uncompressed.
    json_bytes: int = 0
    rows: Counter[str] = field(default_factory=Counter)


class Archiver:
    """Archives finished instances into files under ``folder``; shows and restores them."""

    def __init__(self, db: Database, clock: Clock, folder: Path) -> None:
        self.db = db
        self.clock = clock
        self.folder = folder
        self.links = instance_links()

    # -- archiving -----------------------------------------------------------------------

    def run(self, completed_before: datetime, *, batch_size: int = BATCH,
            limit: int | None = None,
            progress: Callable[[ArchiveRun], None] | None = None) -> ArchiveRun:
        """Archive every instance finished before ``completed_before`` (at most ``limit``)."""
        if completed_before.tzinfo is None:
            raise InvalidInput("the date needs a time zone",
                               {"completed_before": "give a time zone"})
        now = self.clock.now()
        if completed_before > now:
            raise InvalidInput("the date is in the future",
                               {"completed_before": f"must not be after {now.isoformat()}"})
        return self._run(ProcessInstance.ended_at < completed_before,
                         {"completed_before": completed_before.isoformat()},
                         ArchiveRun(None, completed_before), batch_size, limit, progress)

    def run_by_history_ttl(self, *, batch_size: int = BATCH, limit: int | None = None,
                           progress: Callable[[ArchiveRun], None] | None = None
                           ) -> ArchiveRun:
        """Archive every instance finished longer ago than its definition's history TTL.

        Each definition version keeps the ``camunda:historyTimeToLive`` it was deployed
        with; instances of versions without one stay, as in Camunda's history cleanup.
        """
        ttls = self.history_ttls()
        now = self.clock.now()
        by_days: dict[int, list[str]] = {}
        for definition_id, days in sorted(ttls.items()):
            by_days.setdefault(days, []).append(definition_id)
        due = sa.or_(sa.false(), *(
            sa.and_(ProcessInstance.definition_id.in_(ids),
                    ProcessInstance.ended_at < now - timedelta(days=days))
            for days, ids in by_days.items()))
        return self._run(due, {"history_ttl_days": ttls}, ArchiveRun(None, None),
                         batch_size, limit, progress)

    def history_ttls(self) -> dict[str, int]:
        """The history time to live in days of each definition version that has one."""
        with self.db.read() as session:
            rows = session.execute(
                sa.select(ProcessDefinition.id, ProcessDefinition.key,
                          ProcessDefinition.bpmn_xml)
                .where(ProcessDefinition.bpmn_xml.contains("historyTimeToLive")))
            found = {row.id: history_ttl_days(row.bpmn_xml, row.key) for row in rows}
        return {definition_id: days for definition_id, days in found.items()
                if days is not None}

    def _run(self, due: sa.ColumnElement[bool], header: dict[str, Any], result: ArchiveRun,
             batch_size: int, limit: int | None,
             progress: Callable[[ArchiveRun], None] | None) -> ArchiveRun:
        """Move the finished instances ``due`` selects, a batch per transaction."""
        if batch_size < 1 or (limit is not None and limit < 1):
            raise InvalidInput("batch size and limit must be 1 or more")
        file = self._new_file(self.clock.now(), header)
        result.path = file.path
        while limit is None or result.instances < limit:
            size = batch_size if limit is None else min(batch_size, limit - result.instances)
            if not self._batch(file, due, size, result):
                break
            if progress is not None:
                progress(result)
        if result.instances == 0:
            file.path.unlink()  # nothing archived: no empty file to list
            result.path = None
        return result

    def _new_file(self, now: datetime, header: dict[str, Any]) -> ArchiveFile:
        """A file named by the run's time and a number, so names sort in the runs' order."""
        stamp = now.strftime("%Y%m%dT%H%M%S")
        for number in range(1, 1000):
            file = ArchiveFile(self.folder / f"archive-{stamp}-{number:03d}{SUFFIX}")
            try:
                file.start({"run": file.path.name, "started_at": now.isoformat(), **header})
            except FileExistsError:
                continue  # another run started in the same second
            return file
        raise Conflict(f"too many archive runs at {stamp}")

    def _batch(self, file: ArchiveFile, due: sa.ColumnElement[bool], size: int,
               result: ArchiveRun) -> bool:
        with self.db.write() as session:
            ids = self._pick(session, due, size)
            if not ids:
                return False
            records = self._records(session, ids)
            written, text = file.append(records)
            result.file_bytes += written
            result.json_bytes += text
            # Children first: no row is ever left pointing at a deleted one.
            for link in reversed(self.links):
                deleted = session.execute(sa.delete(link.table).where(link.keys(ids)))
                result.rows[link.name] += cast("sa.CursorResult[Any]", deleted).rowcount
        result.instances += len(ids)
        result.batches += 1
        return True

    def _pick(self, session: Session, due: sa.ColumnElement[bool], size: int) -> list[str]:
        pending = sa.select(DocumentRender.document_id).where(
            DocumentRender.instance_id == ProcessInstance.id)
        open_incident = sa.select(Incident.id).where(
            Incident.instance_id == ProcessInstance.id, Incident.status == "open")
        query = (sa.select(ProcessInstance.id)
                 .where(ProcessInstance.status.in_(FINISHED),
                        due,
                        ~pending.exists(), ~open_incident.exists())
                 .order_by(ProcessInstance.ended_at, ProcessInstance.id).limit(size))
        if not self.db.is_sqlite:
            # Another node's command holding an instance keeps it for the next batch;
            # the status is read under the lock, so it cannot have changed since.
            query = query.with_for_update(of=ProcessInstance.__table__, skip_locked=True)
        return list(session.scalars(query))

    def _records(self, session: Session, ids: Sequence[str]) -> list[dict[str, Any]]:
        by_instance: dict[str, dict[str, list[dict[str, Any]]]] = {i: {} for i in ids}
        owner: dict[tuple[str, Any], str] = {}
        for link in self.links:
            names = [c.name for c in link.table.columns]
            keys = [names.index(c.name) for c in link.table.primary_key.columns]
            points = names.index(link.column) if link.column is not None else names.index("id")
            for values in session.execute(link.select(ids)):
                if link.parent is None or link.parent.parent is None:
                    instance_id = str(values[points])
                else:
                    # The parent's primary key is what this row points at (task, document).
                    instance_id = owner[(link.parent.name, (values[points],))]
                by_instance[instance_id].setdefault(link.name, []).append(
                    encode_values(link.table, values))
                owner[(link.name, tuple(values[k] for k in keys))] = instance_id
        archived_at = self.clock.now().isoformat()
        records = []
        for instance_id in ids:
            tables = by_instance[instance_id]
            (head,) = tables["process_instance"]
            records.append({"instance": instance_id, "definition_key": head["definition_key"],
                            "business_key": head.get("business_key"),
                            "status": head["status"], "ended_at": head.get("ended_at"),
                            "archived_at": archived_at, "tables": tables})
        return records

    # -- reading back --------------------------------------------------------------------

    def files(self) -> list[ArchiveFile]:
        return [ArchiveFile(p) for p in archive_files(self.folder)]

    def find(self, instance_id: str) -> dict[str, Any]:
        """The latest archived copy of one instance; NotFound when no file holds it."""
        found: dict[str, Any] | None = None
        for file in self.files():
            record = file.find(instance_id)
            if record is not None:
                found = record | {"file": file.path.name}
        if found is None:
            raise NotFound(f"instance {instance_id} is in no archive file under {self.folder}")
        return found

    def restore(self, instance_id: str) -> Counter[str]:
        """Put one archived instance back into the live tables, as it was; rows per table.

        Refused when the instance is live (restored already, or never archived by a
        finished run) or its process definition is gone. The next archive run whose
        date is after its end moves it out again.
        """
        record = self.find(instance_id)
        tables = self._tables_of(record)
        counts: Counter[str] = Counter()
        with self.db.write() as session:
            if session.get(ProcessInstance, instance_id) is not None:
                raise Conflict(f"instance {instance_id} is in the live database already")
            (head,) = tables.get("process_instance", [None])
            if head is None:
                raise Conflict(f"the archived record of {instance_id} has no instance row")
            if session.get(ProcessDefinition, head["definition_id"]) is None:
                raise Conflict(f"process definition {head['definition_id']} of instance "
                               f"{instance_id} is no longer deployed")
            for link in self.links:
                rows = [decode(link.table, row) for row in tables.get(link.name, [])]
                if rows:
                    session.execute(sa.insert(link.table), rows)
                    counts[link.name] = len(rows)
        return counts

    def _tables_of(self, record: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        known = {link.name for link in self.links}
        unknown = sorted(set(record["tables"]) - known)
        if unknown:
            raise Conflict(f"the archived instance has rows of tables this database lacks: "
                           f"{', '.join(unknown)}")
        return record["tables"]
