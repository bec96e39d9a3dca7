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
  rebuilds the workflow from the stored state.
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
    def __init__(self, capacity: int = 2000) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[str, tuple[int, ProcessRun]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, instance_id: str, revision: int) -> ProcessRun | None:
        """Remove and return the workflow of ``instance_id`` if it is at ``revision``."""
        with self._lock:
            entry = self._entries.pop(instance_id, None)
        if entry is None or entry[0] != revision:
            return None
        return entry[1]

    def put(self, instance_id: str, revision: int, run: ProcessRun) -> None:
        with self._lock:
            self._entries[instance_id] = (revision, run)
            self._entries.move_to_end(instance_id)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)

    def discard(self, instance_id: str) -> None:
        with self._lock:
            self._entries.pop(instance_id, None)

    def __len__(self) -> int:
        return len(self._entries)
