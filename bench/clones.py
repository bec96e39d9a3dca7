"""Many instances made fast: one real instance run by the engine, copied row for row.

Not a script: ``bench/past_one_database.py`` imports it. Running tens of thousands of
instances through the runtime would take an hour on this machine and would not
change what the measured queries read, which are the projected tables (task,
task_candidate, history_event, process_instance, instance_search_word). So one
instance is run for real, its rows are read with :mod:`engine.archive.rows` (the
tables the archive moves), and each copy gets fresh ids (every string equal to one of
the template's instance, task or document ids is replaced, integer row ids are left
to the database), its own business key and search word, and all its times shifted so
that it ends at the copy's end time. A copy's state blob is the template's, so copies
can be listed, searched, archived and restored, but not driven further.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from engine.archive.rows import Link, decode, encode, instance_links
from engine.composition import Engine
from engine.models import Task
from tests.builders import linear_user_tasks

KEY = "arsip"
STEPS = 8
ROLE = "upp"
# About 3 KB of JSON: kept once in history_value, referred to by the events.
RESULTS = [{"klausul": f"7.{n}", "hasil": "sesuai", "catatan": "x" * 20} for n in range(60)]


@dataclass
class Template:
    """The rows of one real instance, by table, as JSON values."""

    instance_id: str
    business_key: str
    ended_at: datetime
    rows: dict[str, list[dict[str, Any]]]


def deploy(engine: Engine) -> None:
    with engine.write() as s:
        s.deployments.deploy([(f"{KEY}.bpmn", linear_user_tasks(KEY, STEPS).encode())])


def run_template(engine: Engine, *, finish: bool) -> Template:
    """An instance run through the runtime (every task, or only the first) and its rows."""
    instance_id = drive(engine, finish=finish)
    rows: dict[str, list[dict[str, Any]]] = {}
    with engine.read() as s:
        for link in instance_links():
            found = [encode(link.table, r) for r in
                     s.session.execute(link.select([instance_id])).mappings()]
            if found:
                rows[link.name] = found
    (head,) = rows["process_instance"]
    ended = head["ended_at"] or head["updated_at"]
    return Template(instance_id, "TEMPLATE-1", datetime.fromisoformat(ended), rows)


def drive(engine: Engine, *, finish: bool) -> str:
    """Start an instance and complete every task (or only the first): real commands."""
    with engine.write() as s:
        instance_id = s.runtime.start_instance(
            KEY, business_key="TEMPLATE-1", variables={"hasil_uji": RESULTS, "produk": "helm"},
            actor="budi").id
    for step in range(1, STEPS + 1 if finish else 2):
        with engine.read() as s:
            task_id = s.session.scalar(sa.select(Task.id).where(
                Task.instance_id == instance_id, Task.state == "ready"))
        with engine.write() as s:
            s.runtime.complete_task(str(task_id), {"catatan": f"langkah {step} sesuai",
                                                   "hasil_uji": RESULTS}, actor="budi")
    return instance_id


def copies(template: Template, ends: Sequence[datetime], prefix: str
           ) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """Rows of one copy per end time, ready for INSERT (decoded), by table."""
    links = {link.name: link for link in instance_links()}
    ids = {template.instance_id}
    for name in ("task", "document"):
        ids.update(r["id"] for r in template.rows.get(name, []))
    old_word = template.business_key.lower()
    for n, end in enumerate(ends):
        fresh = {old: str(uuid.uuid4()) for old in ids}
        key = f"{prefix}-{n:07d}"
        shift = end - template.ended_at
        out: dict[str, list[dict[str, Any]]] = {}
        for name, rows in template.rows.items():
            link = links[name]
            out[name] = [_copy(link, row, fresh, shift, key, old_word) for row in rows]
        yield out


def _copy(link: Link, row: dict[str, Any], fresh: dict[str, str], shift: timedelta,
          key: str, old_word: str) -> dict[str, Any]:
    values = decode(link.table, row)
    for column in link.table.columns:
        value = values.get(column.name)
        if column.name == "id" and isinstance(value, int):
            del values[column.name]  # the database numbers the copy's rows
        elif isinstance(value, str) and value in fresh:
            values[column.name] = fresh[value]
        elif isinstance(value, datetime) and value.year < 9999:
            values[column.name] = value + shift
    if link.name == "process_instance":
        values["business_key"] = key
    if link.name == "instance_search_word" and values.get("word") == old_word:
        values["word"] = key.lower()
    return values


def insert(engine: Engine, batch: Sequence[dict[str, list[dict[str, Any]]]]) -> int:
    """Insert the copies' rows in one transaction, parents first; the rows inserted."""
    total = 0
    with engine.db.write() as session:
        for link in instance_links():
            rows = [r for copy in batch for r in copy.get(link.name, [])]
            if rows:
                session.execute(sa.insert(link.table), rows)
                total += len(rows)
    return total
