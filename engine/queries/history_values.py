"""Large values in the history, stored once per instance.

An instance started with a 100-KB variable, whose form resubmits it at every
task, would carry a copy of it in each ``instance_started``, ``task_completed``
and ``variables_set`` event. Instead, a value whose JSON is larger than
:data:`THRESHOLD` bytes goes into ``history_value`` once per (instance, hash of
its JSON), compressed; the event keeps ``None`` in its place and lists where it
goes under the reserved top-level key :data:`REFS`, as ``[path, hash]`` pairs.
Top-level keys of event data are the engine's own (``variables``,
``business_key``, ...), never a user's, so the key cannot clash with user data.

Which values are considered: each top-level entry of the data, and, where such
an entry is a mapping (``variables``), each of its entries; a large value nested
deeper travels whole with its variable, as it should (one variable, one copy).

Readers (:func:`resolve`) put the values back for a whole page of events with
one query, so every answer built from the history stays what it was.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from engine.models import HistoryEvent, HistoryValue
from engine.queries import history_documents, history_rows
from engine.scripting.values import dumps_finite

#: Values whose JSON is longer than this many bytes are stored apart.
THRESHOLD = 2048
#: Reserved top-level key of event data: ``[[path, hash], ...]``.
REFS = "$values"

_value: sa.Table = HistoryValue.__table__  # type: ignore[assignment]

# The same value recorded again for the same instance is already there: both
# databases skip the row instead of failing (one round trip, no prior SELECT).
_INSERT = {
    "sqlite": sqlite.insert(_value).on_conflict_do_nothing(
        index_elements=["instance_id", "hash"]),
    "postgresql": postgresql.insert(_value).on_conflict_do_nothing(
        index_elements=["instance_id", "hash"]),
}


def _text(value: Any) -> bytes:
    # Event data is already plain JSON (see ``jsonable``), so JSON text gives it back
    # exactly; key order is kept, as the answer shows it. A non-finite number becomes
    # null, as it does in the event's own JSON column.
    return dumps_finite(value, separators=(",", ":"), ensure_ascii=False).encode()


def split(instance_id: str, data: Any) -> tuple[Any, list[dict[str, Any]]]:
    """``data`` with its large values replaced by references, and the rows holding them.

    ``data`` must be plain JSON; it is not changed (a copy is made when needed).
    """
    if not isinstance(data, dict) or not data:
        return data, []
    rows: dict[str, dict[str, Any]] = {}
    refs: list[list[Any]] = []
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == history_documents.FILES:  # ids, read before the values are put back
            out[key] = value
        elif isinstance(value, dict):
            inner: dict[str, Any] | None = None
            for name, item in value.items():
                text = _large(item)
                if text is not None:
                    inner = inner if inner is not None else dict(value)
                    inner[name] = None
                    refs.append([[key, name], _keep(instance_id, text, rows)])
            out[key] = inner if inner is not None else value
        elif (text := _large(value)) is not None:
            out[key] = None
            refs.append([[key], _keep(instance_id, text, rows)])
        else:
            out[key] = value
    if not refs:
        return data, []
    out[REFS] = refs
    return out, list(rows.values())


def _large(value: Any) -> bytes | None:
    """The JSON of ``value`` if it is longer than :data:`THRESHOLD` bytes, else None."""
    # Scalars are never large, and a short string is not worth encoding to measure
    # (the threshold only decides where a value is kept, so a rough cut does).
    if (isinstance(value, str) and len(value) > THRESHOLD // 4) or (
            isinstance(value, (list, dict)) and value):
        text = _text(value)
        return text if len(text) > THRESHOLD else None
    return None


def _keep(instance_id: str, text: bytes, rows: dict[str, dict[str, Any]]) -> str:
    digest = hashlib.sha256(text).hexdigest()
    rows.setdefault(digest, {"instance_id": instance_id, "hash": digest, "text": text})
    return digest


def insert_statement(dialect: sa.Dialect) -> sa.Insert:
    """The insert that skips a value the instance already has, for ``dialect``."""
    return _INSERT[dialect.name]


def store(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Write the values of ``rows`` (from :func:`split`) the instances do not have yet.

    A form that sends a large value back unchanged is the common case: one look-up
    spares compressing it again (compression costs more than encoding).
    """
    if not rows:
        return
    conn = session.connection()
    present = sa.select(_value.c.instance_id, _value.c.hash).where(
        _value.c.instance_id.in_({r["instance_id"] for r in rows}),
        _value.c.hash.in_({r["hash"] for r in rows}))
    have = {(i, h) for i, h in conn.execute(present)}
    new = [{"instance_id": r["instance_id"], "hash": r["hash"], "size": len(r["text"]),
            "value": zlib.compress(r["text"])}
           for r in rows if (r["instance_id"], r["hash"]) not in have]
    if new:
        # Still "do nothing" on a clash: another transaction may have written the
        # same value since the look-up.
        conn.execute(insert_statement(conn.dialect), new)


def resolve(session: Session, events: Iterable[HistoryEvent]) -> None:
    """Put the stored values back into ``events`` with one query for all of them.

    The data is set as loaded (not as a change), so the session never writes it back.
    Documents kept by reference (:mod:`engine.queries.history_documents`) and the
    facts of the rows of record (:mod:`engine.queries.history_rows`) are put back
    too, with a query each when there are any.
    """
    events = list(events)
    history_rows.fill(session, events)
    history_documents.expand(session, events)
    waiting = [(e, e.data) for e in events if isinstance(e.data, dict) and REFS in e.data]
    if not waiting:
        return
    wanted = {(e.instance_id, ref[1]) for e, data in waiting for ref in data[REFS]}
    found = session.execute(
        sa.select(_value.c.instance_id, _value.c.hash, _value.c.value).where(
            _value.c.instance_id.in_({i for i, _ in wanted}),
            _value.c.hash.in_({h for _, h in wanted}))).all()
    values = {(i, h): json.loads(zlib.decompress(v)) for i, h, v in found
              if (i, h) in wanted}
    for event, data in waiting:
        set_committed_value(event, "data", joined(event.instance_id, data, values))


def joined(instance_id: str, data: dict[str, Any],
           values: dict[tuple[str, str], Any]) -> dict[str, Any]:
    """``data`` (with references) with the values put back; missing ones stay ``None``."""
    out = {k: v for k, v in data.items() if k != REFS}
    for path, digest in data[REFS]:
        value = values.get((instance_id, digest))
        if len(path) == 1:
            out[path[0]] = value
        else:
            out[path[0]] = {**out[path[0]], path[1]: value}
    return out
