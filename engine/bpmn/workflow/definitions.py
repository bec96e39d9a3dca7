"""A definition version's specs as the runtime keeps them, and what a stored spec tells
without being built: its start events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec

from .. import data as dataflow
from .. import hooks
from ..serializer import spec_from_dict

# The type names of the timer event definitions, as a stored spec writes them.
TIMER_KINDS = ("ClockTimeDate", "ClockDuration", "ClockCycle")


@dataclass(frozen=True)
class DefinitionSpecs:
    """The parsed specs of one definition version: the process and what it calls."""

    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> DefinitionSpecs:
        specs = cls(
            spec=spec_from_dict(stored["spec"]),
            subprocess_specs={
                name: spec_from_dict(dct) for name, dct in stored["subprocess_specs"].items()
            },
        )
        for spec in (specs.spec, *specs.subprocess_specs.values()):
            hooks.install(spec)
            dataflow.install(spec, top=spec is specs.spec)
        return specs


@dataclass(frozen=True)
class StartEventInfo:
    """A top-level start event of a stored spec, read without building the spec."""

    element_id: str
    kind: str | None  # the event definition's type name; None for a plain start
    name: str | None  # a message's name
    expression: str | None  # a timer's expression
    initiator: str | None  # camunda:initiator


def start_events(stored_spec: Mapping[str, Any]) -> list[StartEventInfo]:
    """The start events of the process in a stored spec (as DefinitionSpecs stores it)."""
    spec = stored_spec.get("spec", {})
    found = []
    for name in spec.get("bpmn_start_events", []):
        task_spec = spec["task_specs"][name]
        definition = task_spec.get("event_definition") or {}
        found.append(StartEventInfo(
            element_id=name, kind=definition.get("typename"), name=definition.get("name"),
            expression=definition.get("expression"),
            initiator=((task_spec.get("extensions") or {}).get("camunda") or {}).get(
                "initiator")))
    return found
