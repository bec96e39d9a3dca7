"""The conditional event definition: its spec class, how it is read from a BPMN file,
stored and read back, and what a stored definition's conditional start events are.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer.default.event_definition import (
    TimerConditionalEventDefinitionConverter,
)
from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.util.task import TaskState

from .changes import refresh
from .evaluation import ARMED, FAILED, ConditionFailed, fail, task_condition_holds
from .firing import is_rearmed, pending_boundaries, too_often

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"

# The parser's message, and the validator's (engine.bpmn.conditional.validation).
NO_CONDITION = ("the conditional event has no condition: write one in the Modeler's "
                "Condition field, for example ${approved} (JUEL) or approved (Python)")

# -- the event definition ----------------------------------------------------------------

class CamundaConditionalEventDefinition(ConditionalEventDefinition):
    """A conditional event with Camunda's ``variableName`` and ``variableEvents`` filters."""

    def __init__(self, expression: str, variable_name: str | None = None,
                 variable_events: list[str] | tuple[str, ...] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(expression, **kwargs)
        self.variable_name = variable_name or None
        self.variable_events = list(variable_events or ())

    def listens_to(self, changes: Mapping[str, tuple[str, Any]]) -> bool:
        """Whether any of ``changes`` is one this event re-evaluates its condition on."""
        return any((self.variable_name is None or name == self.variable_name)
                   and (not self.variable_events or kind in self.variable_events)
                   for name, (kind, _) in changes.items())

    def has_fired(self, my_task: Any) -> bool:
        """Fired already, or (the first time only) the condition holds on arrival."""
        internal = my_task.internal_data
        if ARMED in internal:
            refresh(my_task)
        if internal.get("event_fired"):
            return True
        if ARMED in internal or FAILED in internal:
            return False
        internal[ARMED] = time.time()
        if is_rearmed(my_task):
            return False  # a copy left by a firing: it waits for the next change
        try:
            holds = task_condition_holds(my_task, self)
        except ConditionFailed as exc:
            internal[FAILED] = exc.message  # update_task, next, fails the task
            return False
        if holds:
            internal["event_fired"] = True
            spec = my_task.task_spec
            if isinstance(spec, BoundaryEvent) and not spec.cancel_activity:
                too_often(my_task, spec.bpmn_id)  # counted; a later firing may stop it
            elif isinstance(spec, BoundaryEvent):
                # Its activity is being started in the same breath; end it once the
                # step is over (step_done), before the activity does anything.
                pending_boundaries(my_task.workflow.top_workflow).append(my_task)
        return holds

    def update_task(self, my_task: Any) -> None:
        # SpiffWorkflow calls this after it set a task that has not fired WAITING.
        message = my_task.internal_data.get(FAILED)
        if message is not None and my_task.state == TaskState.WAITING:
            fail(my_task, message)

    def __eq__(self, other: object) -> bool:
        # SpiffWorkflow compares event definitions by class; an event-based gateway
        # with two conditional events must tell them apart.
        return (isinstance(other, CamundaConditionalEventDefinition)
                and (other.expression, other.variable_name, other.variable_events)
                == (self.expression, self.variable_name, self.variable_events))

    __hash__ = None  # type: ignore[assignment]


class ConditionalEventConverter(TimerConditionalEventDefinitionConverter):
    def to_dict(self, event_definition: Any) -> dict[str, Any]:
        dct: dict[str, Any] = super().to_dict(event_definition)
        dct["variable_name"] = event_definition.variable_name
        dct["variable_events"] = list(event_definition.variable_events)
        return dct


CONVERTERS = {CamundaConditionalEventDefinition: ConditionalEventConverter}


def upgrade_plain_definitions(registry: Any) -> None:
    """Read SpiffWorkflow's plain conditional definitions (specs stored before this
    module) as :class:`CamundaConditionalEventDefinition`, without filters."""
    typename = "ConditionalEventDefinition"
    plain = registry.convert_from_dict.get(typename)
    if plain is None:
        return

    def restore(dct: dict[str, Any], **kwargs: Any) -> Any:
        old = plain(dct, **kwargs)
        return CamundaConditionalEventDefinition(old.expression, name=old.name,
                                                 description=old.description)

    registry.convert_from_dict[typename] = restore


# -- parsing ----------------------------------------------------------------------------

class ConditionalEvents:
    """Event-parser mixin: conditional definitions with their Camunda filters."""

    node: Any
    filename: str | None

    def parse_conditional_event(self, event: etree._Element) -> Any:
        condition = event.find(f"{{{BPMN_NS}}}condition")
        expression = (condition.text or "").strip() if condition is not None else ""
        if not expression:
            raise ValidationException(NO_CONDITION, node=self.node, file_name=self.filename)
        return CamundaConditionalEventDefinition(
            expression, variable_name=(event.get(f"{{{CAMUNDA_NS}}}variableName") or
                                       "").strip() or None,
            variable_events=variable_events(event.get(f"{{{CAMUNDA_NS}}}variableEvents")),
            description="Conditional")


def variable_events(text: str | None) -> list[str]:
    """``"create, update"`` as a list; empty for any change."""
    return [part.strip().lower() for part in (text or "").split(",") if part.strip()]


# -- start events of the process (POST /condition) ------------------------------------------------

def start_conditions(stored_spec: Mapping[str, Any]) -> list[tuple[str, str, str | None]]:
    """(element id, condition, variable name) of each conditional start event of a
    stored process spec (its own, not its event sub-processes')."""
    spec = stored_spec.get("spec", {})
    found = []
    for name in spec.get("bpmn_start_events", []):
        definition = (spec["task_specs"][name].get("event_definition") or {})
        if definition.get("typename") in ("CamundaConditionalEventDefinition",
                                          "ConditionalEventDefinition"):
            found.append((name, str(definition.get("expression") or ""),
                          definition.get("variable_name")))
    return found
