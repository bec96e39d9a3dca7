"""In-process caches that keep the hot path free of re-parsing and re-building.

* :class:`SpecCache` — the restored SpiffWorkflow specs of each definition
  version, and the stored dict they came from (start events, starters, form
  fields are read from it). Specs never change once deployed, so entries never
  go stale.
* :class:`WorkflowCache` — live workflows by instance id and revision. A
  command *takes* its instance's workflow out (so no two threads ever share
  one), and the workflow goes back in only after the command's transaction has
  committed, tagged with the revision it committed. A command that finds no
  entry, or one of another revision (another process wrote the instance),
  rebuilds the workflow from the stored state. It is bounded by an estimate of
  the memory its workflows hold, not only by their number: a 17-step instance
  holds some 36 KiB, a 200-step one or one with a 100-KB variable five to seven
  times that, so a count alone either starves small instances or lets large
  ones take hundreds of MiB.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from engine.bpmn.workflow import DefinitionSpecs, ProcessRun


class SpecCache:
    def __init__(self) -> None:
        self._specs: dict[str, DefinitionSpecs] = {}
        self._stored: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def get(self, definition_id: str, load: Callable[[], dict[str, Any]]) -> DefinitionSpecs:
        """Return the specs of ``definition_id``, calling ``load`` for the stored dict once."""
        specs = self._specs.get(definition_id)
        if specs is None:
            built = DefinitionSpecs.from_stored(self.stored(definition_id, load))
            with self._lock:
                specs = self._specs.setdefault(definition_id, built)
        return specs

    def stored(self, definition_id: str, load: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Return the stored spec dict of ``definition_id`` (JSON decoded once; do not modify)."""
        stored = self._stored.get(definition_id)
        if stored is None:
            loaded = load()
            with self._lock:
                stored = self._stored.setdefault(definition_id, loaded)
        return stored


class WorkflowCache:
    """Live workflows, least recently used out first, within ``capacity`` entries
    and ``budget`` bytes (:meth:`ProcessRun.weight`, an estimate)."""

    def __init__(self, capacity: int = 20_000, budget: int = 128 * 2**20) -> None:
        self._capacity = capacity
        self._budget = budget
        self._entries: OrderedDict[str, tuple[int, ProcessRun, int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()

    def take(self, instance_id: str, revision: int) -> ProcessRun | None:
        """Remove and return the workflow of ``instance_id`` if it is at ``revision``."""
        with self._lock:
            entry = self._entries.pop(instance_id, None)
            if entry is not None:
                self._weight -= entry[2]
        if entry is None or entry[0] != revision:
            return None
        return entry[1]

    def put(self, instance_id: str, revision: int, run: ProcessRun) -> None:
        weight = run.weight()
        with self._lock:
            old = self._entries.pop(instance_id, None)
            if old is not None:
                self._weight -= old[2]
            if self._capacity <= 0 or weight > self._budget:
                return
            self._entries[instance_id] = (revision, run, weight)
            self._weight += weight
            while len(self._entries) > self._capacity or self._weight > self._budget:
                _, (_, _, dropped) = self._entries.popitem(last=False)
                self._weight -= dropped

    def discard(self, instance_id: str) -> None:
        with self._lock:
            entry = self._entries.pop(instance_id, None)
            if entry is not None:
                self._weight -= entry[2]

    @property
    def weight(self) -> int:
        """The estimated bytes the cached workflows hold."""
        return self._weight

    def __len__(self) -> int:
        return len(self._entries)
