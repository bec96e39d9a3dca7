"""Conditional events in storage: their definitions in a stored spec, their state in an
instance's state (engine.bpmn.conditional); the REST behaviour is in
tests/api/test_conditional_events.py."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.bpmn.compiler import compile_processes
from engine.bpmn.conditional import CamundaConditionalEventDefinition
from engine.bpmn.host import WorkflowScriptEngine
from engine.bpmn.serializer import dump_state, load_state, spec_from_dict, spec_to_dict
from engine.bpmn.state_codec import state_dict
from engine.bpmn.validation import read_bpmn
from engine.bpmn.workflow import DefinitionSpecs, ProcessRun
from engine.time.clock import FrozenClock
from tests.builders import definitions, process

XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


def _cond(expression: str, attrs: str = "") -> str:
    return (f"<bpmn:conditionalEventDefinition{attrs}><bpmn:condition "
            f'xsi:type="bpmn:tFormalExpression" {XSI}>{expression}</bpmn:condition>'
            "</bpmn:conditionalEventDefinition>")


WATCHED = process("watched", f"""\
    <bpmn:startEvent id="s" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="fork" />
    <bpmn:parallelGateway id="fork" />
    <bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="work" />
    <bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="raise" />
    <bpmn:userTask id="work" />
    <bpmn:boundaryEvent id="hint" cancelActivity="false" attachedToRef="work">
      {_cond("${level > 5}", ' camunda:variableName="level" camunda:variableEvents="update"')}
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f4" sourceRef="hint" targetRef="count" />
    <bpmn:scriptTask id="count" scriptFormat="python"><bpmn:script>notes = notes + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f5" sourceRef="count" targetRef="counted" />
    <bpmn:endEvent id="counted" />
    <bpmn:userTask id="raise" />
    <bpmn:sequenceFlow id="f6" sourceRef="raise" targetRef="raised" />
    <bpmn:endEvent id="raised" />
    <bpmn:sequenceFlow id="f7" sourceRef="work" targetRef="done" />
    <bpmn:endEvent id="done" />
    <bpmn:subProcess id="on_stop" triggeredByEvent="true">
      <bpmn:startEvent id="stop" isInterrupting="false">{_cond("stop")}</bpmn:startEvent>
      <bpmn:sequenceFlow id="g1" sourceRef="stop" targetRef="note_stop" />
      <bpmn:scriptTask id="note_stop" scriptFormat="python"><bpmn:script>stops = stops + 1</bpmn:script></bpmn:scriptTask>
      <bpmn:sequenceFlow id="g2" sourceRef="note_stop" targetRef="stopped" />
      <bpmn:endEvent id="stopped" />
    </bpmn:subProcess>
""")


def _stored() -> dict[str, object]:
    doc = read_bpmn("watched.bpmn", definitions("watched", WATCHED).encode())
    assert doc.problems == []
    compiled, problems = compile_processes([doc], {})
    assert problems == []
    return compiled["watched"].stored_spec


def test_the_definition_keeps_its_filters_in_the_stored_spec() -> None:
    stored = _stored()
    spec = DefinitionSpecs.from_stored(stored).spec
    hint = spec.task_specs["hint"].event_definition
    assert isinstance(hint, CamundaConditionalEventDefinition)
    assert (hint.expression, hint.variable_name, hint.variable_events) == (
        "${level > 5}", "level", ["update"])
    again = spec_from_dict(spec_to_dict(spec)).task_specs["hint"].event_definition
    assert (again.variable_name, again.variable_events) == ("level", ["update"])


def test_a_spec_stored_with_spiffworkflow_s_plain_definition_reads_as_camunda_s() -> None:
    dct = spec_to_dict(DefinitionSpecs.from_stored(_stored()).spec)
    plain = dct["task_specs"]["hint"]["event_definition"]
    plain["typename"] = "ConditionalEventDefinition"
    del plain["variable_name"], plain["variable_events"]
    definition = spec_from_dict(dct).task_specs["hint"].event_definition
    assert isinstance(definition, CamundaConditionalEventDefinition)
    assert (definition.expression, definition.variable_name) == ("${level > 5}", None)


def _engine() -> WorkflowScriptEngine:
    return WorkflowScriptEngine(clock=FrozenClock(datetime(2027, 1, 4, 1, 0, tzinfo=UTC)),
                                timezone=UTC, instance_id="i", business_key=None,
                                dispatch=lambda call: None)


def test_waiting_conditional_events_round_trip_through_storage_at_every_step() -> None:
    specs = DefinitionSpecs.from_stored(_stored())
    run = ProcessRun.start(specs, {"notes": 0, "level": 0, "stop": False, "stops": 0}, _engine())
    run.advance()

    def reload() -> ProcessRun:
        incremental = state_dict(run.dump())
        assert incremental == state_dict(dump_state(run._wf, notes=run.notes()))  # memo agrees
        copy = load_state(run.dump(), specs.spec, specs.subprocess_specs)
        assert state_dict(dump_state(copy, notes=run.notes())) == incremental
        return ProcessRun.restore(run.dump(), specs, _engine())

    for value in (3, 7, 9):  # updates of level: 3 is false, 7 and 9 fire
        run = reload()
        run.set_variables({"level": value}, [])
        run.advance()
    run = reload()
    run.set_variables({"stop": True}, [])
    run.advance()
    run = reload()
    assert run.variables()["notes"] == 2 and run.variables()["stops"] == 1
    for view in sorted(run.ready_user_tasks(), key=lambda v: v.element_id):
        run.complete_user_task(view.id, {})
        run.advance()
        run = reload()
    assert run.completed
    assert run.variables()["notes"] == 2 and run.variables()["stops"] == 1
