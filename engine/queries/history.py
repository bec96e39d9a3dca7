"""Append-only audit history of instances (who, what, when, which data)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.models import HistoryEvent
from engine.queries import history_documents, history_rows, history_values
from engine.time.clock import Clock


class HistoryLog:
    """Records history events; writes go through ``sink`` (the runtime batches them).

    Large values in the data are stored once per instance apart from the events
    (:mod:`engine.queries.history_values`), through ``value_sink`` when there is one.
    """

    def __init__(self, session: Session, clock: Clock,
                 sink: Callable[[dict[str, Any]], None] | None = None,
                 value_sink: Callable[[list[dict[str, Any]]], None] | None = None) -> None:
        self.session = session
        self.clock = clock
        self._sink = sink
        self._value_sink = value_sink

    def record(
        self,
        instance_id: str,
        kind: str,
        *,
        actor: str | None = None,
        element: str | None = None,
        task_id: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        # Documents' facts by reference first, then what is still large stored apart.
        compact = history_documents.compact(self.session, jsonable(data))
        stored, large = history_values.split(instance_id, compact)
        if large:
            if self._value_sink is not None:
                self._value_sink(large)
            else:
                history_values.store(self.session, large)
        # Who and where, when the row of record says it (engine.queries.history_rows).
        actor, element, task_id = history_rows.stored(kind, actor=actor, element=element,
                                                      task_id=task_id)
        values = {"instance_id": instance_id, "at": self.clock.now(), "actor": actor,
                  "kind": kind, "element_id": element, "task_id": task_id,
                  "data": stored}
        if self._sink is not None:
            self._sink(values)
        else:
            self.session.add(HistoryEvent(**values))

    def events(self, instance_id: str, *, offset: int = 0, limit: int | None = None
               ) -> list[HistoryEvent]:
        query = (sa.select(HistoryEvent).where(HistoryEvent.instance_id == instance_id)
                 .order_by(HistoryEvent.id).offset(offset))
        if limit is not None:
            query = query.limit(limit)
        events = list(self.session.scalars(query))
        history_values.resolve(self.session, events)
        return events


# Exact types kept as they are; checked by ``type(...) in`` before any call, since a
# large variable is thousands of scalars and a call per scalar was most of the cost.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def jsonable(value: Any) -> Any:
    """Make process data storable as JSON (dates as ISO text, sets as lists)."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, dict):
        return {(k if type(k) is str else str(k)):
                (v if type(v) in _SCALARS else jsonable(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [v if type(v) in _SCALARS else jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
