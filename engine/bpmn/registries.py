"""The two SpiffWorkflow registries: one for specs, one for instance states.

Both know sertiflow's own task specs and event definitions; the state registry
also has the converters of :mod:`engine.bpmn.state_converters` (process data
escaped, specs left out) and reads dates and ``PLAIN_DICT`` envelopes.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.config import (
    MessageEventDefinition as PlainMessageEventDefinition,
)
from SpiffWorkflow.bpmn.serializer.config import (
    ParallelMultiInstanceTask as PlainParallelMultiInstanceTask,
)
from SpiffWorkflow.bpmn.serializer.config import (
    SequentialMultiInstanceTask as PlainSequentialMultiInstanceTask,
)
from SpiffWorkflow.bpmn.serializer.default.event_definition import (
    MessageEventDefinitionConverter as PlainMessageConverter,
)
from SpiffWorkflow.bpmn.serializer.default.event_definition import (
    TimerConditionalEventDefinitionConverter,
)
from SpiffWorkflow.bpmn.serializer.default.task_spec import (
    BoundaryEventConverter,
    BpmnStartTaskConverter,
    BpmnTaskSpecConverter,
    MultiInstanceTaskConverter,
    StandardLoopTaskConverter,
)
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.serializer.helpers.spec import EventDefinitionConverter
from SpiffWorkflow.bpmn.specs.defaults import (
    CallActivity,
    EndEvent,
    EventBasedGateway,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    ReceiveTask,
    UserTask,
)
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.serializer.event_definition import MessageEventDefinitionConverter
from SpiffWorkflow.task import Task

from . import compensation, conditional
from .adhoc import AdHocEndJoin, AdHocProcessSpec, AdHocProcessSpecConverter, AdHocSubProcess
from .adhoc import CompletionCheck as AdHocCompletionCheck
from .data import CONVERTERS as DATA_CONVERTERS
from .events import TIMER_CLASSES, MappedSignalEventDefinition, MergingMessageEventDefinition
from .gateways import ComplexGateway, ComplexGatewayConverter
from .hooks import MappedCallActivity
from .live_workflow import LiveSubWorkflow
from .loops import WhileLoopTask
from .multiinstance import (
    BehaviorLoopConverter,
    CamundaParallelInstances,
    CamundaSequentialInstances,
)
from .specs import (
    IsolatedStartTask,
    PassThroughManualTask,
    PassThroughTask,
    RearmedBoundaryEvent,
    TopicSendTask,
    TopicServiceTask,
    WaitingCatchEvent,
    WaitingEventBasedGateway,
    WaitingReceiveTask,
)
from .state_converters import (
    PLAIN_DICT,
    DataEventConverter,
    DataSubWorkflowConverter,
    DataTaskConverter,
    StateConverter,
)


class MappedSignalConverter(EventDefinitionConverter):
    """A signal definition with the ``camunda:in`` mappings of its throw."""

    def to_dict(self, event_definition: Any) -> dict[str, Any]:
        dct: dict[str, Any] = super().to_dict(event_definition)
        dct["mappings"] = event_definition.mappings
        return dct


def _build_registry(*, state: bool) -> Any:
    """A registry for specs, or (``state``) for instance states with escaped data."""
    config = dict(CAMUNDA_CONFIG)
    # The Camunda config swaps the plain user task for Camunda's Form-carrying one;
    # sertiflow keeps the plain one (the form link lives in extensions).
    config[UserTask] = BpmnTaskSpecConverter
    config[TopicServiceTask] = BpmnTaskSpecConverter
    config[TopicSendTask] = BpmnTaskSpecConverter
    config[PassThroughTask] = BpmnTaskSpecConverter
    config[PassThroughManualTask] = BpmnTaskSpecConverter
    config[RearmedBoundaryEvent] = BoundaryEventConverter
    config[WaitingCatchEvent] = config[IntermediateCatchEvent]
    config[WaitingReceiveTask] = config[ReceiveTask]
    config[WaitingEventBasedGateway] = config[EventBasedGateway]
    config[MappedCallActivity] = config[CallActivity]
    config[AdHocSubProcess] = config[CallActivity]
    config[AdHocProcessSpec] = AdHocProcessSpecConverter
    config[AdHocEndJoin] = BpmnTaskSpecConverter
    config[AdHocCompletionCheck] = BpmnTaskSpecConverter
    config[ComplexGateway] = ComplexGatewayConverter
    config[compensation.CompensationThrowEvent] = config[IntermediateThrowEvent]
    config[compensation.CompensationEndEvent] = config[EndEvent]
    config[compensation.CancelEndEvent] = config[EndEvent]
    config[BpmnWorkflow] = StateConverter
    for cls in TIMER_CLASSES.values():
        config[cls] = TimerConditionalEventDefinitionConverter
    config[MergingMessageEventDefinition] = MessageEventDefinitionConverter
    config[MappedSignalEventDefinition] = MappedSignalConverter
    config[CamundaSequentialInstances] = BehaviorLoopConverter
    config[CamundaParallelInstances] = BehaviorLoopConverter
    config.update(DATA_CONVERTERS)
    config[WhileLoopTask] = StandardLoopTaskConverter
    config.update(conditional.CONVERTERS)
    if state:
        config[Task] = DataTaskConverter
        config[BpmnSubWorkflow] = DataSubWorkflowConverter
        config[BpmnEvent] = DataEventConverter
    registry = BpmnWorkflowSerializer.configure(config)
    _add_plain_bpmn_classes(registry)
    # Every process's start task is read back as the one that leaves the shared
    # spec alone (specs.IsolatedStartTask), under the name SpiffWorkflow writes.
    BpmnStartTaskConverter(IsolatedStartTask, registry, "BpmnStartTask")
    if state:
        # An instance's subprocesses are sertiflow's (live_workflow.LiveSubWorkflow),
        # written and read under SpiffWorkflow's name.
        DataSubWorkflowConverter(LiveSubWorkflow, registry, "BpmnSubWorkflow")
    # Definitions stored before standard loops ran as BPMN says load as they now run.
    registry.convert_from_dict["StandardLoopTask"] = registry.convert_from_dict[
        "WhileLoopTask"]
    conditional.upgrade_plain_definitions(registry)
    if not state:
        return registry
    registry._encoder_mode = True
    # Scripts may keep dates; SpiffWorkflow registers only datetime, timedelta and UUID.
    # Types are looked up exactly, so a datetime stays a datetime.
    registry.register(date, lambda value: {"value": value.isoformat()},
                      lambda dct: date.fromisoformat(dct["value"]))

    def restore_plain_dict(dct: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        # The envelope's own marker is gone; the dict inside keeps its "typename".
        return {key: registry.restore(value) for key, value in dct["dict"].items()}

    # Only a reader: escape_data writes the envelopes, no class converts to one.
    registry.convert_from_dict[PLAIN_DICT] = restore_plain_dict
    return registry


def _add_plain_bpmn_classes(registry: Any) -> None:
    """Register the plain BPMN classes that the Camunda configuration leaves out.

    The parser still makes some of them: a multi-instance script, service or
    send task gets SpiffWorkflow's plain multi-instance spec, a receive task its
    plain message definition. They share their class names with the Camunda
    ones, so they are written under names of their own.
    """
    for cls, converter in ((PlainSequentialMultiInstanceTask, MultiInstanceTaskConverter),
                           (PlainParallelMultiInstanceTask, MultiInstanceTaskConverter),
                           (PlainMessageEventDefinition, PlainMessageConverter)):
        converter(cls, registry, f"Bpmn{cls.__name__}")


# Two registries: SpiffWorkflow switches a registry into "encoder mode" with a flag
# on the registry itself, so sharing one between spec conversion (normal mode)
# and state dumps (encoder mode, data converted lazily by the JSON encoder) from
# several threads would let one flip the other's mode.
REGISTRY = _build_registry(state=False)
STATE_REGISTRY = _build_registry(state=True)
# The top-level workflow's converter, and the JSON encoder of the state registry.
STATE = StateConverter(BpmnWorkflow, STATE_REGISTRY)
ENCODER = create_encoder(STATE_REGISTRY)
