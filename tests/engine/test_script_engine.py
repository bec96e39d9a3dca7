"""Small BPMN workflows run by SpiffWorkflow with the sandboxed script engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.script_engine import SandboxedScriptEngine

HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    ' xmlns:camunda="http://camunda.org/schema/1.0/bpmn"'
    ' id="defs" targetNamespace="http://bpmn.io/schema/bpmn">\n'
    '<bpmn:process id="proc" isExecutable="true">\n'
)
FOOTER = "</bpmn:process>\n</bpmn:definitions>\n"


def _script_process(script: str) -> str:
    return HEADER + f"""
  <bpmn:startEvent id="start"/>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="script"/>
  <bpmn:scriptTask id="script" name="Compute" scriptFormat="python">
    <bpmn:script>{script}</bpmn:script>
  </bpmn:scriptTask>
  <bpmn:sequenceFlow id="f2" sourceRef="script" targetRef="end"/>
  <bpmn:endEvent id="end"/>
""" + FOOTER


GATEWAY_PROCESS = HEADER + """
  <bpmn:startEvent id="start"/>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="decide"/>
  <bpmn:exclusiveGateway id="decide"/>
  <bpmn:sequenceFlow id="yes" sourceRef="decide" targetRef="accept">
    <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${approved}
    </bpmn:conditionExpression>
  </bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="no" sourceRef="decide" targetRef="reject">
    <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${!approved}
    </bpmn:conditionExpression>
  </bpmn:sequenceFlow>
  <bpmn:scriptTask id="accept" scriptFormat="python">
    <bpmn:script>outcome = 'accepted'</bpmn:script>
  </bpmn:scriptTask>
  <bpmn:scriptTask id="reject" scriptFormat="python">
    <bpmn:script>outcome = 'rejected'</bpmn:script>
  </bpmn:scriptTask>
  <bpmn:sequenceFlow id="f2" sourceRef="accept" targetRef="end1"/>
  <bpmn:sequenceFlow id="f3" sourceRef="reject" targetRef="end2"/>
  <bpmn:endEvent id="end1"/>
  <bpmn:endEvent id="end2"/>
""" + FOOTER


def _timer_process(duration: str) -> str:
    return HEADER + f"""
  <bpmn:startEvent id="start"/>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
  <bpmn:intermediateCatchEvent id="wait" name="Wait">
    <bpmn:timerEventDefinition id="timer">
      <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">{duration}</bpmn:timeDuration>
    </bpmn:timerEventDefinition>
  </bpmn:intermediateCatchEvent>
  <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
  <bpmn:endEvent id="end"/>
""" + FOOTER


def _start(xml: str, data: dict[str, object] | None = None,
           engine: SandboxedScriptEngine | None = None) -> BpmnWorkflow:
    parser = CamundaParser()
    parser.add_bpmn_str(xml.encode())
    workflow = BpmnWorkflow(parser.get_spec("proc"),
                            script_engine=engine or SandboxedScriptEngine())
    if data:
        workflow.get_tasks(state=TaskState.READY)[0].data.update(data)
    workflow.do_engine_steps()
    return workflow


def test_script_task_sets_variables() -> None:
    workflow = _start(_script_process("total = sum(x * 2 for x in [1, 2, 3])\nlabel = 'done'"))
    assert workflow.is_completed()
    assert workflow.data["total"] == 12
    assert workflow.data["label"] == "done"


@pytest.mark.parametrize(("approved", "outcome"), [(True, "accepted"), (False, "rejected")])
def test_juel_conditions_choose_the_branch(approved: bool, outcome: str) -> None:
    workflow = _start(GATEWAY_PROCESS, {"approved": approved})
    assert workflow.is_completed()
    assert workflow.data["outcome"] == outcome


def test_bare_iso_duration_sets_the_due_time() -> None:
    before = datetime.now(UTC)
    workflow = _start(_timer_process("PT1H"))
    assert not workflow.is_completed()
    waiting = workflow.get_tasks(spec_name="wait")[0]
    due = datetime.fromisoformat(waiting.internal_data["event_value"])
    assert before + timedelta(hours=1) <= due <= datetime.now(UTC) + timedelta(hours=1)


def test_zero_duration_timer_fires() -> None:
    workflow = _start(_timer_process("PT0S"))
    waiting = workflow.get_tasks(spec_name="wait")[0]
    assert "event_value" in waiting.internal_data
    workflow.refresh_timers()
    workflow.do_engine_steps()
    assert workflow.is_completed()


def test_failing_script_reports_the_line() -> None:
    with pytest.raises(WorkflowTaskException) as caught:
        _start(_script_process("a = 1\nb = a / 0\nc = 3"))
    error = caught.value
    assert error.line_number == 2
    assert error.error_line == "b = a / 0"
    assert error.error_type == "ZeroDivisionError"
    assert "line 2: ZeroDivisionError: division by zero" in str(error)
    assert error.task.task_spec.name == "script"


def test_sandbox_violation_in_a_script_task_is_reported() -> None:
    with pytest.raises(WorkflowTaskException) as caught:
        _start(_script_process("x = 1\nimport os"))
    assert "line 2: import is not allowed in a script task" in str(caught.value)
    assert caught.value.line_number == 2


def test_refused_expression_in_a_condition_is_reported() -> None:
    xml = GATEWAY_PROCESS.replace("${approved}", "approved.__class__")
    with pytest.raises(WorkflowTaskException) as caught:
        _start(xml, {"approved": True})
    assert "access to attribute '__class__' is not allowed" in str(caught.value)


def test_unknown_variable_in_a_condition_is_reported() -> None:
    with pytest.raises(WorkflowTaskException) as caught:
        _start(GATEWAY_PROCESS, {"aproved": True})
    assert "NameError: name 'approved' is not defined" in str(caught.value)
    assert caught.value.error_type == "NameError"


def test_script_timeout_becomes_a_task_error() -> None:
    with pytest.raises(WorkflowTaskException) as caught:
        _start(_script_process("while True:\n    pass"), engine=SandboxedScriptEngine(timeout=0.2))
    assert "exceeded the time limit of 0.2 s" in str(caught.value)


def test_validate_keeps_syntax_errors_for_dmn() -> None:
    engine = SandboxedScriptEngine()
    engine.validate("${amount gt 5}")
    with pytest.raises(SyntaxError):
        engine.validate("> 5")


def test_call_service_is_not_supported() -> None:
    with pytest.raises(NotImplementedError, match="service tasks"):
        SandboxedScriptEngine().call_service(None)
