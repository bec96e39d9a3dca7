"""The tasks the engine runs next, in the order SpiffWorkflow's tree walk gives them,
when they lie in called processes and embedded subprocesses, several at once
(engine.bpmn.live_workflow.ready_tasks)."""

from __future__ import annotations

import pytest

from engine.composition import Engine
from engine.models import ProcessInstance
from tests.builders import definitions, process
from tests.instances import ready
from tests.walks import check_ready_tasks


def _script(element: str) -> str:
    return (f'    <bpmn:scriptTask id="{element}" scriptFormat="python">'
            f"<bpmn:script>{element}_done = True</bpmn:script></bpmn:scriptTask>\n")


def _fork(prefix: str, branches: list[str], then: str) -> str:
    """A parallel split into ``branches`` (elements already written) joined before ``then``."""
    flows = "".join(
        f'    <bpmn:sequenceFlow id="{prefix}_in_{b}" sourceRef="{prefix}_split" targetRef="{b}" />\n'
        f'    <bpmn:sequenceFlow id="{prefix}_out_{b}" sourceRef="{b}" targetRef="{prefix}_join" />\n'
        for b in branches)
    return (f'    <bpmn:parallelGateway id="{prefix}_split" />\n{flows}'
            f'    <bpmn:parallelGateway id="{prefix}_join" />\n'
            f'    <bpmn:sequenceFlow id="{prefix}_then" sourceRef="{prefix}_join" '
            f'targetRef="{then}" />\n')


CHILD = definitions("child", process("child", f"""\
    <bpmn:startEvent id="c_start" />
    <bpmn:sequenceFlow id="c_f1" sourceRef="c_start" targetRef="c_split" />
{_script("c_a")}{_script("c_b")}{_script("c_c")}\
{_fork("c", ["c_a", "c_b", "c_c"], "c_user")}\
    <bpmn:userTask id="c_user" camunda:candidateGroups="upp" />
    <bpmn:sequenceFlow id="c_f2" sourceRef="c_user" targetRef="c_end" />
    <bpmn:endEvent id="c_end" />
"""))

PARENT = definitions("parent", process("parent", f"""\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="p_split" />
    <bpmn:callActivity id="call" calledElement="child" />
    <bpmn:subProcess id="inner">
      <bpmn:startEvent id="i_start" />
      <bpmn:sequenceFlow id="i_f1" sourceRef="i_start" targetRef="i_split" />
  {_script("i_a")}  {_script("i_b")}\
{_fork("i", ["i_a", "i_b"], "i_user")}\
      <bpmn:userTask id="i_user" camunda:candidateGroups="upp" />
      <bpmn:sequenceFlow id="i_f2" sourceRef="i_user" targetRef="i_end" />
      <bpmn:endEvent id="i_end" />
    </bpmn:subProcess>
{_script("p_a")}\
{_fork("p", ["call", "inner", "p_a"], "p_user")}\
    <bpmn:userTask id="p_user" camunda:candidateGroups="upp" />
    <bpmn:sequenceFlow id="f2" sourceRef="p_user" targetRef="end" />
    <bpmn:endEvent id="end" />
"""))


def test_ready_tasks_of_subprocesses_come_in_the_order_of_spiffworkflows_walk(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    checked = check_ready_tasks(monkeypatch)
    with engine.write() as s:
        s.deployments.deploy([("child.bpmn", CHILD.encode()), ("parent.bpmn", PARENT.encode())])
    with engine.write() as s:
        instance_id = s.runtime.start_instance("parent", actor="pelanggan").id
    done: list[str] = []
    while tasks := sorted(ready(engine, instance_id), key=lambda t: t.element_id):
        if not done:  # the user tasks of both subprocesses wait side by side
            assert [t.element_id for t in tasks] == ["c_user", "i_user"]
        with engine.write() as s:
            s.runtime.complete_task(tasks[0].id, {}, actor="upp")
        done.append(tasks[0].element_id)
        assert len(done) < 5
    assert done == ["c_user", "i_user", "p_user"]
    with engine.read() as s:
        instance = s.session.get(ProcessInstance, instance_id)
        assert instance is not None and instance.status == "completed"
    # Answers with ready tasks in the called process and the embedded subprocess
    # (several at once: each split's scripts) were among those compared.
    assert checked.differed == [] and checked.in_subprocesses >= 2
