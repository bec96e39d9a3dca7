"""The runtime's commands, driven through the engine against a real SQLite database.

The engine fixture has no workflow cache, so every command below rebuilds its
instance from the stored state: each step is a save and a reload.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from engine.composition import Engine
from engine.errors import (
    Conflict,
    InstanceNotRunning,
    InvalidInput,
    NotFound,
    TaskAlreadyCompleted,
    TaskClaimedByOther,
)
from engine.models import HistoryEvent, Incident, ProcessInstance, Task, Timer
from tests.builders import definitions, linear_user_tasks, process
from tests.instances import history
from tests.instances import ready as ready_tasks
from tests.samples import TIMER


def deploy(engine: Engine, *docs: tuple[str, str]) -> None:
    with engine.write() as s:
        s.deployments.deploy([(name, xml.encode()) for name, xml in docs])


def status(engine: Engine, instance_id: str) -> str:
    with engine.read() as s:
        return s.runtime.instance(instance_id).status


def history_kinds(engine: Engine, instance_id: str) -> list[str]:
    with engine.read() as s:
        return list(s.session.scalars(sa.select(HistoryEvent.kind).where(
            HistoryEvent.instance_id == instance_id).order_by(HistoryEvent.id)))


def test_linear_process_runs_to_completion_with_history(engine: Engine) -> None:
    deploy(engine, ("linear.bpmn", linear_user_tasks("linear", 3, lane_roles=["upp", "auditor"])))
    with engine.write() as s:
        instance = s.runtime.start_instance("linear", business_key="APP-1",
                                            variables={"product": "helm"}, actor="alice")
    for step in (1, 2, 3):
        (task,) = ready_tasks(engine, instance.id)
        assert task.element_id == f"task_{step}"
        assert task.candidate_groups == ["upp" if step % 2 else "auditor"]
        with engine.write() as s:
            s.runtime.complete_task(task.id, {f"answer_{step}": step}, actor="bob")
    assert status(engine, instance.id) == "completed"
    with engine.read() as s:
        variables = s.runtime.variables(s.runtime.instance(instance.id))
    assert variables == {"product": "helm", "answer_1": 1, "answer_2": 2, "answer_3": 3}
    kinds = history_kinds(engine, instance.id)
    assert kinds[0] == "instance_started"
    assert kinds.count("task_completed") == 3
    assert kinds[-1] == "instance_completed"
    completed = [e for e in history(engine, instance.id) if e.kind == "task_completed"]
    assert [e.actor for e in completed] == ["bob"] * 3
    assert completed[1].data == {"variables": {"answer_2": 2}}
    with engine.read() as s:
        ended = s.session.scalars(sa.select(HistoryEvent).where(
            HistoryEvent.kind == "instance_completed")).one()
    # The final variables are read from the stored state (above), not kept again here.
    assert ended.data is None and ended.actor == "bob"


def test_completing_a_task_twice_is_a_conflict(engine: Engine) -> None:
    deploy(engine, ("linear.bpmn", linear_user_tasks("linear", 2)))
    with engine.write() as s:
        instance = s.runtime.start_instance("linear")
    (task,) = ready_tasks(engine, instance.id)
    with engine.write() as s:
        s.runtime.complete_task(task.id, {}, actor="a")
    with pytest.raises(TaskAlreadyCompleted), engine.write() as s:
        s.runtime.complete_task(task.id, {}, actor="a")
    assert len(ready_tasks(engine, instance.id)) == 1


def test_claim_unclaim_and_claimed_by_someone_else(engine: Engine) -> None:
    deploy(engine, ("linear.bpmn", linear_user_tasks("linear", 1)))
    with engine.write() as s:
        instance = s.runtime.start_instance("linear")
    (task,) = ready_tasks(engine, instance.id)
    with engine.write() as s:
        s.runtime.claim_task(task.id, "alice")
    with pytest.raises(TaskClaimedByOther), engine.write() as s:
        s.runtime.claim_task(task.id, "bob")
    with pytest.raises(TaskClaimedByOther), engine.write() as s:
        s.runtime.complete_task(task.id, {}, actor="bob")
    with engine.write() as s:
        s.runtime.unclaim_task(task.id, actor="alice")
    with engine.write() as s:
        s.runtime.complete_task(task.id, {}, actor="bob")
    assert status(engine, instance.id) == "completed"
    assert history_kinds(engine, instance.id).count("task_claimed") == 1


def test_unknown_things_are_not_found(engine: Engine) -> None:
    with pytest.raises(NotFound), engine.write() as s:
        s.runtime.start_instance("nope")
    with pytest.raises(NotFound), engine.write() as s:
        s.runtime.complete_task("00000000-0000-0000-0000-000000000000", {}, actor="x")


def test_bad_variable_names_are_refused(engine: Engine) -> None:
    deploy(engine, ("linear.bpmn", linear_user_tasks("linear", 1)))
    with pytest.raises(InvalidInput) as info, engine.write() as s:
        s.runtime.start_instance("linear", variables={"__class__": 1, "ok": 2})
    assert "__class__" in info.value.errors
    with engine.read() as s:
        assert s.session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance)) == 0


GATEWAY = process("decide", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
    <bpmn:userTask id="review" name="Review" camunda:candidateGroups="ppc" />
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="gw" />
    <bpmn:exclusiveGateway id="gw" />
    <bpmn:sequenceFlow id="yes" sourceRef="gw" targetRef="grant">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">${approved &amp;&amp; score &gt; 5}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="no" sourceRef="gw" targetRef="reject">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">not approved or score &lt;= 5</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:userTask id="grant" name="Grant" camunda:assignee="${applicant}" />
    <bpmn:userTask id="reject" name="Reject" camunda:candidateUsers="kepala,wakil" />
    <bpmn:sequenceFlow id="f3" sourceRef="grant" targetRef="end" />
    <bpmn:sequenceFlow id="f4" sourceRef="reject" targetRef="end" />
    <bpmn:endEvent id="end" />
""")


@pytest.mark.parametrize(("approved", "score", "expected"),
                         [(True, 9, "grant"), (True, 3, "reject"), (False, 9, "reject")])
def test_exclusive_gateway_with_juel_and_python_conditions(
    engine: Engine, approved: bool, score: int, expected: str
) -> None:
    deploy(engine, ("decide.bpmn", definitions("decide", GATEWAY)))
    with engine.write() as s:
        instance = s.runtime.start_instance("decide", variables={"applicant": "pt-maju"})
    (review,) = ready_tasks(engine, instance.id)
    with engine.write() as s:
        s.runtime.complete_task(review.id, {"approved": approved, "score": score}, actor="p")
    (task,) = ready_tasks(engine, instance.id)
    assert task.element_id == expected
    if expected == "grant":
        assert task.assignee == "pt-maju"
    else:
        assert task.candidate_users == ["kepala", "wakil"]


SCRIPT_THEN_TASK = process("scripted", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="compute" />
    <bpmn:scriptTask id="compute" name="Compute fee" scriptFormat="python">
      <bpmn:script>fee = base * 2
total = fee + 100</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="compute" targetRef="pay" />
    <bpmn:userTask id="pay" name="Pay" />
    <bpmn:sequenceFlow id="f3" sourceRef="pay" targetRef="end" />
    <bpmn:endEvent id="end" />
""")


def test_failing_script_becomes_incident_and_retry_after_fixing_data(engine: Engine) -> None:
    deploy(engine, ("scripted.bpmn", definitions("scripted", SCRIPT_THEN_TASK)))
    with engine.write() as s:
        instance = s.runtime.start_instance("scripted", variables={"base": 5})
    with engine.write() as s:
        broken = s.runtime.start_instance("scripted", variables={})
    assert status(engine, broken.id) == "error"
    with engine.read() as s:
        (incident,) = s.session.scalars(sa.select(Incident).where(
            Incident.instance_id == broken.id)).all()
    assert incident.element_id == "compute"
    assert incident.kind == "script"
    assert "base" in incident.message
    assert "Traceback" in (incident.traceback or "")
    assert ready_tasks(engine, broken.id) == []
    with pytest.raises(InstanceNotRunning), engine.write() as s:
        s.runtime.suspend(broken.id, actor="admin")
    with engine.write() as s:
        s.runtime.retry_incident(incident.id, actor="admin", variables={"base": 21})
    assert status(engine, broken.id) == "running"
    assert [t.element_id for t in ready_tasks(engine, broken.id)] == ["pay"]
    with engine.read() as s:
        variables = s.runtime.variables(s.runtime.instance(broken.id))
    assert variables["total"] == 142
    with pytest.raises(Conflict), engine.write() as s:
        s.runtime.retry_incident(incident.id, actor="admin")
    assert status(engine, instance.id) == "running"


SERVICE = process("billing", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="issue" />
    <bpmn:serviceTask id="issue" name="Issue bill" camunda:type="external" camunda:topic="invoice.issue" />
    <bpmn:sequenceFlow id="f2" sourceRef="issue" targetRef="check" />
    <bpmn:userTask id="check" name="Check bill" />
    <bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="end" />
    <bpmn:endEvent id="end" />
""")


def test_service_task_runs_the_topic_handler(engine: Engine) -> None:
    calls = []

    def issue(call):  # type: ignore[no-untyped-def]
        calls.append(call)
        if call.variables.get("fail"):
            raise RuntimeError("billing system down")
        return {"bill_number": f"B-{call.business_key}", "amount": 10_950_000}

    engine.topics.register("invoice.issue", issue)
    deploy(engine, ("billing.bpmn", definitions("billing", SERVICE)))
    with engine.write() as s:
        ok = s.runtime.start_instance("billing", business_key="APP-7")
        failed = s.runtime.start_instance("billing", business_key="APP-8",
                                          variables={"fail": True})
    with engine.read() as s:
        assert s.runtime.variables(s.runtime.instance(ok.id))["bill_number"] == "B-APP-7"
    assert calls[0].element_id == "issue" and calls[0].instance_id == ok.id
    assert status(engine, failed.id) == "error"
    with engine.read() as s:
        (incident,) = s.session.scalars(sa.select(Incident).where(
            Incident.instance_id == failed.id)).all()
    assert incident.kind == "handler"
    assert "billing system down" in incident.message
    with engine.write() as s:
        s.runtime.retry_incident(incident.id, actor="admin", variables={"fail": False})
    assert [t.element_id for t in ready_tasks(engine, failed.id)] == ["check"]


def test_suspend_blocks_completion_until_resume(engine: Engine) -> None:
    deploy(engine, ("linear.bpmn", linear_user_tasks("linear", 1)))
    with engine.write() as s:
        instance = s.runtime.start_instance("linear")
    (task,) = ready_tasks(engine, instance.id)
    with engine.write() as s:
        s.runtime.suspend(instance.id, actor="admin")
    with pytest.raises(InstanceNotRunning), engine.write() as s:
        s.runtime.complete_task(task.id, {}, actor="u")
    with engine.write() as s:
        s.runtime.resume(instance.id, actor="admin")
    with engine.write() as s:
        s.runtime.complete_task(task.id, {}, actor="u")
    assert status(engine, instance.id) == "completed"


def test_cancel_cancels_tasks_and_refuses_further_commands(engine: Engine) -> None:
    deploy(engine, ("linear.bpmn", linear_user_tasks("linear", 2)))
    with engine.write() as s:
        instance = s.runtime.start_instance("linear")
    (task,) = ready_tasks(engine, instance.id)
    with engine.write() as s:
        s.runtime.cancel(instance.id, actor="admin", reason="withdrawn")
    assert status(engine, instance.id) == "cancelled"
    with engine.read() as s:
        assert s.session.get(Task, task.id).state == "cancelled"
    with pytest.raises(TaskAlreadyCompleted), engine.write() as s:
        s.runtime.complete_task(task.id, {}, actor="u")
    with pytest.raises(InstanceNotRunning), engine.write() as s:
        s.runtime.cancel(instance.id, actor="admin")


MESSAGE = process("payment", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait" name="Payment confirmed">
      <bpmn:messageEventDefinition id="med" messageRef="msg_paid" />
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="next" />
    <bpmn:userTask id="next" name="Continue" />
    <bpmn:sequenceFlow id="f3" sourceRef="next" targetRef="end" />
    <bpmn:endEvent id="end" />
""") + '  <bpmn:message id="msg_paid" name="payment_confirmed" />\n'


def test_message_correlation_by_business_key_sets_variables(engine: Engine) -> None:
    deploy(engine, ("payment.bpmn", definitions("payment", MESSAGE)))
    with engine.write() as s:
        first = s.runtime.start_instance("payment", business_key="APP-1")
        second = s.runtime.start_instance("payment", business_key="APP-2")
    with pytest.raises(Conflict), engine.write() as s:
        s.runtime.correlate_message("payment_confirmed")
    with pytest.raises(NotFound), engine.write() as s:
        s.runtime.correlate_message("payment_confirmed", business_key="APP-404")
    with engine.write() as s:
        s.runtime.correlate_message("payment_confirmed", business_key="APP-2",
                                    variables={"paid_amount": 10950000})
    assert ready_tasks(engine, first.id) == []
    assert [t.element_id for t in ready_tasks(engine, second.id)] == ["next"]
    with engine.read() as s:
        assert s.runtime.variables(s.runtime.instance(second.id))["paid_amount"] == 10950000
    with engine.write() as s:
        s.runtime.correlate_message("payment_confirmed", instance_id=first.id)
    assert len(ready_tasks(engine, first.id)) == 1




def test_interrupting_boundary_timer_fires_on_the_engine_clock(engine: Engine, clock) -> None:
    deploy(engine, ("deadline.bpmn", definitions("deadline", TIMER)))
    with engine.write() as s:
        instance = s.runtime.start_instance("deadline")
    with engine.read() as s:
        (timer,) = s.session.scalars(sa.select(Timer)).all()
        assert timer.due_at == clock.now() + timedelta(days=14)
        assert s.runtime.due_timers() == []
    clock.advance(timedelta(days=13))
    with engine.write() as s:
        assert s.runtime.fire_timer(timer.id) is False
    clock.advance(timedelta(days=1, seconds=1))
    with engine.write() as s:
        assert s.runtime.due_timers() == [timer.id]
        assert s.runtime.fire_timer(timer.id) is True
    tasks = ready_tasks(engine, instance.id)
    assert [t.element_id for t in tasks] == ["suspend"]
    with engine.read() as s:
        work = s.session.scalars(sa.select(Task).where(Task.element_id == "work")).one()
        assert work.state == "cancelled"
        assert s.session.scalar(sa.select(sa.func.count()).select_from(Timer)) == 0


def test_suspended_instance_timer_waits_and_fires_after_resume(engine: Engine, clock) -> None:
    deploy(engine, ("deadline.bpmn", definitions("deadline", TIMER)))
    with engine.write() as s:
        instance = s.runtime.start_instance("deadline")
        s.runtime.suspend(instance.id, actor="admin")
    clock.advance(timedelta(days=20))
    with engine.write() as s:
        assert s.runtime.due_timers() == []
        (timer_id,) = s.session.scalars(sa.select(Timer.id)).all()
        assert s.runtime.fire_timer(timer_id) is False
    assert [t.element_id for t in ready_tasks(engine, instance.id)] == ["work"]
    with engine.write() as s:
        s.runtime.resume(instance.id, actor="admin")
    with engine.write() as s:
        assert s.runtime.fire_timer(s.runtime.due_timers()[0]) is True
    assert [t.element_id for t in ready_tasks(engine, instance.id)] == ["suspend"]
