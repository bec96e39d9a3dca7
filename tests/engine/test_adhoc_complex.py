"""Ad-hoc sub-processes and complex gateways below the API: stored specs and states.

The REST tests (tests/api/test_adhoc_subprocess.py, test_complex_gateway.py)
drive the constructs; here the definition's stored spec keeps every attribute
of theirs, and an instance dumped and loaded half-way goes on as if it had not
been.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.bpmn.adhoc import AdHocEndJoin, AdHocProcessSpec, CompletionCheck
from engine.bpmn.compiler import compile_processes
from engine.bpmn.gateways import ComplexGateway
from engine.bpmn.host import WorkflowScriptEngine
from engine.bpmn.serializer import spec_from_dict
from engine.bpmn.validation import read_bpmn
from engine.bpmn.workflow import DefinitionSpecs, ProcessRun
from engine.time.clock import FrozenClock
from tests.builders import definitions, process

XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


def _script(element: str, code: str) -> str:
    return (f'<bpmn:scriptTask id="{element}" scriptFormat="python">'
            f"<bpmn:script>{code}</bpmn:script></bpmn:scriptTask>")


def _flow(source: str, target: str) -> str:
    return f'<bpmn:sequenceFlow id="f_{source}_{target}" sourceRef="{source}" targetRef="{target}" />'


# start -> ad-hoc (sequential, with a condition, running ones finish) -> complex join.
BOTH = (
    '<bpmn:startEvent id="start" />' + _flow("start", "fork")
    + '<bpmn:parallelGateway id="fork" />' + _flow("fork", "work") + _flow("fork", "side")
    + '<bpmn:adHocSubProcess id="work" ordering="Sequential" cancelRemainingInstances="false">'
    + '<bpmn:userTask id="ask" camunda:candidateGroups="upp" />'
    + _script("count", "trail = trail + ['count']")
    + _script("extra", "trail = trail + ['extra']") + _flow("count", "extra")
    + _script("never", "trail = trail + ['never']")
    + f'<bpmn:completionCondition {XSI} xsi:type="bpmn:tFormalExpression">'
    + "'extra' in trail</bpmn:completionCondition></bpmn:adHocSubProcess>"
    + '<bpmn:userTask id="side" camunda:candidateGroups="upp" />'
    + _flow("work", "join") + _flow("side", "join")
    + '<bpmn:complexGateway id="join">'
    + f'<bpmn:activationCondition {XSI} xsi:type="bpmn:tFormalExpression">'
    + "${activationCount &gt;= 1}</bpmn:activationCondition></bpmn:complexGateway>"
    + _flow("join", "after") + _script("after", "decided = True")
    + _flow("after", "end") + '<bpmn:endEvent id="end" />'
)


def _compiled() -> dict[str, Any]:
    doc = read_bpmn("both.bpmn", definitions("both", process("both", BOTH)).encode())
    assert doc.problems == []
    compiled, problems = compile_processes([doc], {})
    assert problems == []
    return compiled["both"].stored_spec


def _engine() -> WorkflowScriptEngine:
    return WorkflowScriptEngine(clock=FrozenClock(datetime(2027, 3, 1, tzinfo=UTC)),
                                timezone=UTC, instance_id="i-1", business_key=None,
                                dispatch=None)  # type: ignore[arg-type]


def test_the_stored_specs_keep_what_the_file_says() -> None:
    stored = _compiled()
    inside = spec_from_dict(stored["subprocess_specs"]["work"])
    assert isinstance(inside, AdHocProcessSpec)
    assert (inside.ordering, inside.cancel_remaining) == ("sequential", False)
    assert inside.completion_condition == "'extra' in trail"
    assert inside.start_names == ["ask", "count", "never"]
    assert inside.activity_names == ["ask", "count", "extra", "never"]
    assert isinstance(inside.end, AdHocEndJoin)
    assert inside.end is inside.task_specs["work.EndJoin"]
    # A check after each inner activity, between it and where its flow leads.
    assert [s.name for s in inside.task_specs["count"].outputs] == ["count.CompletionCheck"]
    check = inside.task_specs["count.CompletionCheck"]
    assert isinstance(check, CompletionCheck) and check.incident_element == "work"
    assert [s.name for s in check.outputs] == ["extra"]
    # Only the first element of a sequential one starts with it.
    assert [s.name for s in inside.start.outputs] == ["ask"]
    outer = spec_from_dict(stored["spec"])
    gateway = outer.task_specs["join"]
    assert isinstance(gateway, ComplexGateway)
    assert gateway.activation_condition == "${activationCount >= 1}"


def test_an_instance_dumped_and_loaded_half_way_goes_on() -> None:
    specs = DefinitionSpecs.from_stored(_compiled())

    def reload(run: ProcessRun) -> ProcessRun:
        return ProcessRun.restore(run.dump(), specs, _engine())

    run = ProcessRun.start(specs, {"trail": []}, _engine())
    run.advance()
    run = reload(run)
    # Sequential: only the ad-hoc's first element waits, beside the other branch.
    assert sorted(t.element_id for t in run.ready_user_tasks()) == ["ask", "side"]
    side = next(t for t in run.ready_user_tasks() if t.element_id == "side")
    run.complete_user_task(side.id, {})
    _, failure = run.advance()
    assert failure is None
    run = reload(run)
    # One token was enough: the gateway fired, and the ad-hoc's token is still to come.
    assert run.variables()["decided"] is True
    assert not run.completed
    (ask,) = run.ready_user_tasks()
    run.complete_user_task(ask.id, {"asked": True})
    _, failure = run.advance()
    assert failure is None
    run = reload(run)
    # count, then extra (its flow), then the condition holds: "never" never starts;
    # the ad-hoc's token reaches the gateway and is consumed without firing again.
    assert run.completed
    assert run.variables()["trail"] == ["count", "extra"]
    assert run.variables()["asked"] is True and run.variables()["decided"] is True


def test_a_complex_gateway_merging_a_loop_starts_a_round_each_time() -> None:
    """The token coming back belongs to the next round, not to the reset of the last."""
    back = (f'<bpmn:sequenceFlow id="back" sourceRef="more" targetRef="merge">'
            f'<bpmn:conditionExpression {XSI} xsi:type="bpmn:tFormalExpression">count &lt; 3'
            "</bpmn:conditionExpression></bpmn:sequenceFlow>")
    for activation in ("", f'<bpmn:activationCondition {XSI} xsi:type="bpmn:tFormalExpression">'
                           "activationCount &gt;= 1</bpmn:activationCondition>"):
        body = ('<bpmn:startEvent id="start" />' + _flow("start", "merge")
                + f'<bpmn:complexGateway id="merge">{activation}</bpmn:complexGateway>'
                + _flow("merge", "step") + _script("step", "count = count + 1")
                + _flow("step", "more") + '<bpmn:exclusiveGateway id="more" default="f_more_end" />'
                + back + _flow("more", "end") + '<bpmn:endEvent id="end" />')
        doc = read_bpmn("loop.bpmn", definitions("loop", process("loop", body)).encode())
        compiled, problems = compile_processes([doc], {})
        assert doc.problems == [] and problems == []
        run = ProcessRun.start(DefinitionSpecs.from_stored(compiled["loop"].stored_spec),
                               {"count": 0}, _engine())
        records, failure = run.advance()
        assert failure is None and run.completed
        assert run.variables()["count"] == 3
        assert [r.element_id for r in records] == [
            "start", "merge", "step", "more", "merge", "step", "more", "merge", "step", "more",
            "end"]
