"""Camunda's input/output mappings, listeners and call-activity mappings (issue 16, item 4).

Each diagram is deployed and run through the engine, stored and reloaded at
every step (the engine fixture keeps no workflow cache), and checked by the
variables, task attributes or incidents it leaves.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest
import sqlalchemy as sa

from engine.composition import Engine
from engine.errors import DeploymentRejected, InvalidInput
from engine.models import Incident, ProcessInstance, Task
from tests.builders import definitions, process

START = '<bpmn:startEvent id="s" />'
END = '<bpmn:endEvent id="e" />'


def chain(*nodes: str, flows: str = "") -> str:
    """Start, the nodes in a row (each with id n1, n2...), end; flows f0, f1..."""
    ids = ["s", *[f"n{i}" for i in range(1, len(nodes) + 1)], "e"]
    links = "".join(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}" />'
                    for i, (a, b) in enumerate(pairwise(ids)))
    return START + "".join(nodes) + links + flows + END


def deploy(engine: Engine, key: str, body: str, *, extra: list[tuple[str, str]] = (),
           process_extension: str = "") -> None:
    xml = definitions(key, process(key, process_extension + body))
    with engine.write() as s:
        s.deployments.deploy([*((n, x.encode()) for n, x in extra), (f"{key}.bpmn", xml.encode())])


def start(engine: Engine, key: str, variables: dict[str, Any] | None = None) -> str:
    with engine.write() as s:
        return s.runtime.start_instance(key, variables=variables or {}, actor="admin1").id


def state(engine: Engine, instance_id: str) -> tuple[str, dict[str, Any]]:
    with engine.read() as s:
        instance = s.session.get(ProcessInstance, instance_id)
        assert instance is not None
        return instance.status, s.runtime.variables(instance)


def ready_tasks(engine: Engine, instance_id: str) -> list[Task]:
    with engine.read() as s:
        tasks = list(s.session.scalars(sa.select(Task).where(
            Task.instance_id == instance_id, Task.state == "ready")))
        for task in tasks:
            s.session.expunge(task)
        return tasks


def incidents(engine: Engine, instance_id: str) -> list[str]:
    with engine.read() as s:
        return [f"{i.element_id}: {i.message}" for i in s.session.scalars(
            sa.select(Incident).where(Incident.instance_id == instance_id,
                                      Incident.status == "open"))]


def complete(engine: Engine, task_id: str, variables: dict[str, Any] | None = None) -> None:
    with engine.write() as s:
        s.runtime.complete_task(task_id, variables or {}, actor="admin1")


def script(code: str, extension: str = "", id_: str = "n1") -> str:
    return (f'<bpmn:scriptTask id="{id_}" scriptFormat="python">'
            f"<bpmn:extensionElements>{extension}</bpmn:extensionElements>"
            f"<bpmn:script>{code}</bpmn:script></bpmn:scriptTask>")


def io(*parameters: str) -> str:
    return f"<camunda:inputOutput>{''.join(parameters)}</camunda:inputOutput>"


# -- input/output mappings -------------------------------------------------------------

def test_input_parameters_are_local_and_outputs_reach_the_process(engine: Engine) -> None:
    mapping = io(
        '<camunda:inputParameter name="greeting">Halo</camunda:inputParameter>',
        '<camunda:inputParameter name="doubled">${amount * 2}</camunda:inputParameter>',
        '<camunda:inputParameter name="items"><camunda:list>'
        "<camunda:value>a</camunda:value><camunda:value>${amount}</camunda:value>"
        "</camunda:list></camunda:inputParameter>",
        '<camunda:inputParameter name="info"><camunda:map>'
        '<camunda:entry key="who">${who}</camunda:entry>'
        '<camunda:entry key="n">${1 + 1}</camunda:entry>'
        "</camunda:map></camunda:inputParameter>",
        '<camunda:inputParameter name="label">Pemohon ${who}!</camunda:inputParameter>',
        '<camunda:outputParameter name="result">${total}</camunda:outputParameter>',
        '<camunda:outputParameter name="seen"><camunda:script scriptFormat="python">'
        "[greeting, doubled, items, info, label]</camunda:script></camunda:outputParameter>",
    )
    deploy(engine, "io_basic", chain(script("total = doubled + 1", mapping)))
    instance_id = start(engine, "io_basic", {"amount": 5, "who": "PT Maju"})
    status, variables = state(engine, instance_id)
    assert status == "completed", incidents(engine, instance_id)
    assert variables["result"] == 11
    assert variables["seen"] == ["Halo", 10, ["a", 5], {"who": "PT Maju", "n": 2},
                                 "Pemohon PT Maju!"]
    for local in ("greeting", "doubled", "items", "info", "label"):
        assert local not in variables
    # A script's own variable is a process variable, as before.
    assert variables["total"] == 11


def test_an_input_that_shadows_a_variable_leaves_the_outer_value(engine: Engine) -> None:
    mapping = io('<camunda:inputParameter name="amount">${amount + 100}</camunda:inputParameter>',
                 '<camunda:outputParameter name="inner">${amount}</camunda:outputParameter>')
    deploy(engine, "io_shadow", chain(script("pass", mapping)))
    status, variables = state(engine, start(engine, "io_shadow", {"amount": 1}))
    assert status == "completed"
    assert variables["amount"] == 1
    assert variables["inner"] == 101


def test_a_mapping_script_gives_its_last_expression(engine: Engine) -> None:
    mapping = io('<camunda:inputParameter name="fee">'
                 '<camunda:script scriptFormat="python">base = amount * 3\nbase + 1'
                 "</camunda:script></camunda:inputParameter>",
                 '<camunda:outputParameter name="fee_out">${fee}</camunda:outputParameter>')
    deploy(engine, "io_script", chain(script("pass", mapping)))
    status, variables = state(engine, start(engine, "io_script", {"amount": 2}))
    assert status == "completed"
    assert variables["fee_out"] == 7
    assert "base" not in variables  # the mapping script's own variable stays in it


def test_user_task_sees_its_inputs_and_maps_the_form_out(engine: Engine) -> None:
    mapping = io('<camunda:inputParameter name="suggested">${amount}</camunda:inputParameter>',
                 '<camunda:outputParameter name="approved_amount">${decision}'
                 "</camunda:outputParameter>")
    deploy(engine, "io_user", chain(
        '<bpmn:userTask id="n1" camunda:candidateGroups="upp">'
        f"<bpmn:extensionElements>{mapping}</bpmn:extensionElements></bpmn:userTask>"))
    instance_id = start(engine, "io_user", {"amount": 9})
    [task] = ready_tasks(engine, instance_id)
    with engine.read() as s:
        instance = s.session.get(ProcessInstance, instance_id)
        assert s.runtime.task_data(instance, task.id)["suggested"] == 9
    complete(engine, task.id, {"decision": 8})
    status, variables = state(engine, instance_id)
    assert status == "completed"
    assert variables["approved_amount"] == 8
    assert "suggested" not in variables


def test_a_failing_input_mapping_is_an_incident_and_a_retry_runs_it_again(
        engine: Engine) -> None:
    mapping = io('<camunda:inputParameter name="x">${missing + 1}</camunda:inputParameter>')
    deploy(engine, "io_fail", chain(script("y = x", mapping)))
    instance_id = start(engine, "io_fail")
    status, _ = state(engine, instance_id)
    assert status == "error"
    [problem] = incidents(engine, instance_id)
    assert problem.startswith("n1: input 'x'") and "missing" in problem
    with engine.write() as s:
        incident = s.session.scalars(sa.select(Incident).where(
            Incident.instance_id == instance_id)).one()
        s.runtime.retry_incident(incident.id, actor="admin1", variables={"missing": 1})
    status, variables = state(engine, instance_id)
    assert status == "completed", incidents(engine, instance_id)
    assert variables["y"] == 2


# -- execution listeners --------------------------------------------------------------

def listener(event: str, body: str, kind: str = "execution") -> str:
    if body.startswith("${"):
        return f'<camunda:{kind}Listener event="{event}" expression="{body}" />'
    return (f'<camunda:{kind}Listener event="{event}"><camunda:script scriptFormat="python">'
            f"{body}</camunda:script></camunda:{kind}Listener>")


def test_execution_listeners_run_in_camunda_order(engine: Engine) -> None:
    listeners = (
        listener("start", "${execution.setVariable('trace', trace + ',start')}")
        + listener("end", "trace = trace + ',end:' + execution.getCurrentActivityId()")
    )
    take = listener("take", "${execution.setVariable('trace', trace + ',take')}")
    body = chain(script("trace = trace + ',run'", listeners),
                 '<bpmn:task id="n2" />')
    body = body.replace('<bpmn:sequenceFlow id="f1" sourceRef="n1" targetRef="n2" />',
                        '<bpmn:sequenceFlow id="f1" sourceRef="n1" targetRef="n2">'
                        f"<bpmn:extensionElements>{take}</bpmn:extensionElements>"
                        "</bpmn:sequenceFlow>")
    process_listeners = ("<bpmn:extensionElements>"
                         + listener("start", "trace = 'process-start'")
                         + listener("end", "${execution.setVariable('done', true)}")
                         + "</bpmn:extensionElements>")
    deploy(engine, "listeners", body, process_extension=process_listeners)
    status, variables = state(engine, start(engine, "listeners"))
    assert status == "completed", variables
    assert variables["trace"] == "process-start,start,run,end:n1,take"
    assert variables["done"] is True


def test_execution_object_describes_the_instance(engine: Engine) -> None:
    code = ("seen = [execution.getProcessInstanceId(), execution.getBusinessKey(), "
            "execution.getCurrentActivityId(), execution.getCurrentActivityName(), "
            "execution.getEventName(), execution.hasVariable('a'), execution.getVariable('a'), "
            "execution.getVariable('nothing')]\n"
            "execution.setVariableLocal('scratch', 1)\n"
            "execution.removeVariable('a')")
    node = ('<bpmn:task id="n1" name="Periksa">'
            f"<bpmn:extensionElements>{listener('start', code)}</bpmn:extensionElements>"
            "</bpmn:task>")
    deploy(engine, "execution_object", chain(node))
    with engine.write() as s:
        instance = s.runtime.start_instance("execution_object", variables={"a": 1},
                                            business_key="BK-1", actor="admin1")
        instance_id = instance.id
    status, variables = state(engine, instance_id)
    assert status == "completed"
    assert variables["seen"] == [instance_id, "BK-1", "n1", "Periksa", "start", True, 1, None]
    assert "a" not in variables
    assert "scratch" not in variables  # local to the element


def test_task_listeners_set_assignee_due_date_and_candidates(engine: Engine) -> None:
    listeners = (
        listener("create", "task.setAssignee(owner)\ntask.setPriority(80)\n"
                 "task.setDueDate('2027-03-10T09:00:00+07:00')\n"
                 "task.addCandidateGroup('auditor')\ntask.setName('Periksa ' + who)\n"
                 "log = [task.getEventName(), task.getTaskDefinitionKey()]", "task")
        + listener("assignment", "${execution.setVariable('assigned', task.getAssignee())}",
                   "task")
        + listener("complete", "log = log + [task.getEventName(), verdict]", "task")
    )
    deploy(engine, "task_listeners", chain(
        '<bpmn:userTask id="n1" name="Periksa" camunda:candidateGroups="upp">'
        f"<bpmn:extensionElements>{listeners}</bpmn:extensionElements></bpmn:userTask>"))
    instance_id = start(engine, "task_listeners", {"owner": "auditor1", "who": "PT Maju"})
    [task] = ready_tasks(engine, instance_id)
    assert task.assignee == "auditor1"
    assert task.priority == 80
    assert task.title == "Periksa PT Maju"
    assert task.due_at is not None and task.due_at.isoformat().startswith("2027-03-10T02:00")
    assert task.candidate_groups == ["upp", "auditor"]
    with engine.write() as s:
        s.runtime.complete_task(task.id, {"verdict": "ok"}, actor="auditor1")
    status, variables = state(engine, instance_id)
    assert status == "completed"
    assert variables["assigned"] == "auditor1"
    assert variables["log"] == ["create", "n1", "complete", "ok"]


def test_a_failing_complete_listener_refuses_the_completion(engine: Engine) -> None:
    listeners = listener("complete", "assert verdict != 'bad', 'verdict may not be bad'", "task")
    deploy(engine, "complete_refused", chain(
        '<bpmn:userTask id="n1" camunda:candidateGroups="upp">'
        f"<bpmn:extensionElements>{listeners}</bpmn:extensionElements></bpmn:userTask>"))
    instance_id = start(engine, "complete_refused")
    [task] = ready_tasks(engine, instance_id)
    with pytest.raises(InvalidInput, match="verdict may not be bad"):
        complete(engine, task.id, {"verdict": "bad"})
    [still] = ready_tasks(engine, instance_id)
    assert still.id == task.id
    complete(engine, task.id, {"verdict": "good"})
    assert state(engine, instance_id)[0] == "completed"


def test_a_failing_start_listener_is_an_incident_on_its_element(engine: Engine) -> None:
    body = chain('<bpmn:parallelGateway id="n1" />', flows=(
        '<bpmn:sequenceFlow id="g1" sourceRef="n1" targetRef="b1" />'
        '<bpmn:sequenceFlow id="g2" sourceRef="n1" targetRef="b2" />'
        '<bpmn:task id="b1"><bpmn:extensionElements>'
        + listener("start", "${execution.setVariable('x', 1 / zero)}")
        + "</bpmn:extensionElements></bpmn:task>"
        '<bpmn:userTask id="b2" camunda:candidateGroups="upp" />'))
    deploy(engine, "start_fails", body)
    instance_id = start(engine, "start_fails", {"zero": 0})
    status, _ = state(engine, instance_id)
    assert status == "error"
    [problem] = incidents(engine, instance_id)
    assert problem.startswith("b1: execution listener 'start'")
    assert "ZeroDivisionError" in problem
    # The other branch went on: its user task is there.
    assert [t.element_id for t in ready_tasks(engine, instance_id)] == ["b2"]


# -- call activities --------------------------------------------------------------------

def test_call_activity_in_and_out_mappings(engine: Engine) -> None:
    called = definitions("callee", process("callee", chain(
        script("visible = sorted(execution.getVariableNames())\nresult = renamed * 10"))))
    mappings = ('<camunda:in source="a" target="renamed" />'
                '<camunda:in sourceExpression="${b + 1}" target="expr" />'
                '<camunda:in businessKey="${execution.getBusinessKey()}" />'
                '<camunda:out source="result" target="answer" />'
                '<camunda:out source="visible" target="visible" />')
    deploy(engine, "caller", chain(
        f'<bpmn:callActivity id="n1" calledElement="callee"><bpmn:extensionElements>'
        f"{mappings}</bpmn:extensionElements></bpmn:callActivity>"),
        extra=[("callee.bpmn", called)])
    instance_id = start(engine, "caller", {"a": 2, "b": 5, "c": 7})
    status, variables = state(engine, instance_id)
    assert status == "completed", incidents(engine, instance_id)
    assert variables["visible"] == ["expr", "renamed"]
    assert variables["answer"] == 20
    assert "result" not in variables and "renamed" not in variables
    assert variables["c"] == 7


def test_call_activity_variables_all(engine: Engine) -> None:
    called = definitions("callee_all", process("callee_all", chain(
        script("total = a + b"))))
    deploy(engine, "caller_all", chain(
        '<bpmn:callActivity id="n1" calledElement="callee_all"><bpmn:extensionElements>'
        '<camunda:in variables="all" /><camunda:out variables="all" />'
        "</bpmn:extensionElements></bpmn:callActivity>"),
        extra=[("callee_all.bpmn", called)])
    status, variables = state(engine, start(engine, "caller_all", {"a": 1, "b": 2}))
    assert status == "completed"
    assert variables["total"] == 3


# -- refusals -------------------------------------------------------------------------

@pytest.mark.parametrize(("extension", "reason"), [
    ('<camunda:executionListener event="start" class="org.example.Listener" />',
     'uses Java (class="org.example.Listener" on an execution listener)'),
    ('<camunda:executionListener event="start" delegateExpression="${bean}" />',
     "uses Java (delegateExpression"),
    ('<camunda:executionListener event="start"><camunda:script scriptFormat="groovy">x = 1'
     "</camunda:script></camunda:executionListener>", "script format 'groovy' is not supported"),
    ('<camunda:executionListener event="start" expression="${a +}" />',
     "execution listener expression does not compile"),
    ('<camunda:executionListener event="start"><camunda:script scriptFormat="python">'
     "import os</camunda:script></camunda:executionListener>",
     "execution listener script is refused: line 1: import is not allowed"),
    ('<camunda:taskListener event="timeout" expression="${a}" />',
     "a task listener on the event 'timeout' is not supported"),
    ('<camunda:executionListener event="take" expression="${a}" />',
     "a 'take' listener belongs on a sequence flow"),
    ('<camunda:inputOutput><camunda:inputParameter name="x">${a +}</camunda:inputParameter>'
     "</camunda:inputOutput>", "input parameter 'x' does not compile"),
])
def test_listeners_and_mappings_that_cannot_run_are_refused(
        engine: Engine, extension: str, reason: str) -> None:
    body = chain(f'<bpmn:task id="n1"><bpmn:extensionElements>{extension}'
                 "</bpmn:extensionElements></bpmn:task>")
    with pytest.raises(DeploymentRejected) as caught:
        deploy(engine, "refused", body)
    problems = [f"{p.element}: {p.message}" for p in caught.value.problems]
    assert any(p.startswith("n1: ") and reason in p for p in problems), problems


def test_every_method_juel_may_call_exists_on_the_runtime_objects() -> None:
    from engine.scripting.context import ExecutionObject, TaskObject
    from engine.scripting.juel import EXECUTION_METHODS, TASK_METHODS

    assert sorted(m for m in EXECUTION_METHODS if not hasattr(ExecutionObject, m)) == []
    assert sorted(m for m in TASK_METHODS if not hasattr(TaskObject, m)) == []


def test_juel_context_calls_in_conditions_and_assignees(engine: Engine) -> None:
    body = ('<bpmn:startEvent id="s" /><bpmn:exclusiveGateway id="g" default="no" />'
            '<bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="g" />'
            '<bpmn:sequenceFlow id="yes" sourceRef="g" targetRef="u">'
            "<bpmn:conditionExpression>${execution.getVariable('amount') gt 100 and "
            "name.startsWith('PT')}</bpmn:conditionExpression></bpmn:sequenceFlow>"
            '<bpmn:sequenceFlow id="no" sourceRef="g" targetRef="e" />'
            '<bpmn:userTask id="u" camunda:assignee="${execution.getVariable(\'owner\')}" />'
            '<bpmn:sequenceFlow id="f2" sourceRef="u" targetRef="e" /><bpmn:endEvent id="e" />')
    deploy(engine, "juel_context", body)
    instance_id = start(engine, "juel_context",
                        {"amount": 150, "name": "PT Maju", "owner": "auditor1"})
    [task] = ready_tasks(engine, instance_id)
    assert task.assignee == "auditor1"
    other = start(engine, "juel_context", {"amount": 150, "name": "CV Maju", "owner": "x"})
    assert state(engine, other)[0] == "completed"


def test_a_receive_task_naming_no_message_is_refused_by_name(engine: Engine) -> None:
    with pytest.raises(DeploymentRejected) as caught:
        deploy(engine, "receive_nothing", chain('<bpmn:receiveTask id="n1" messageRef="nope" />'))
    [problem] = caught.value.problems
    assert problem.element == "n1"
    assert problem.message.startswith("refers to message 'nope', which this file does not define")
