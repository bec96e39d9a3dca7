"""BPMN constructs beyond the straight line: parallel paths, subprocesses, cycles, forms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from engine.composition import Engine
from engine.models import HistoryEvent, ProcessDefinition, Task, Timer
from tests.builders import definitions, process
from tests.instances import element_properties, ready

XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


def deploy(engine: Engine, key: str, inner: str, extra: str = "") -> None:
    xml = definitions(key, process(key, inner) + extra)
    with engine.write() as s:
        s.deployments.deploy([(f"{key}.bpmn", xml.encode())])


def complete(engine: Engine, task: Task, data: dict[str, object] | None = None,
             actor: str = "u") -> None:
    with engine.write() as s:
        s.runtime.complete_task(task.id, data or {}, actor=actor)


def test_parallel_gateway_waits_for_both_branches(engine: Engine) -> None:
    deploy(engine, "parallel", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="split" />
    <bpmn:parallelGateway id="split" />
    <bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="audit" />
    <bpmn:sequenceFlow id="f3" sourceRef="split" targetRef="sample" />
    <bpmn:userTask id="audit" name="Audit" camunda:candidateGroups="auditor" />
    <bpmn:userTask id="sample" name="Take sample" camunda:candidateGroups="ppc" />
    <bpmn:sequenceFlow id="f4" sourceRef="audit" targetRef="join" />
    <bpmn:sequenceFlow id="f5" sourceRef="sample" targetRef="join" />
    <bpmn:parallelGateway id="join" />
    <bpmn:sequenceFlow id="f6" sourceRef="join" targetRef="review" />
    <bpmn:userTask id="review" name="Review" />
    <bpmn:sequenceFlow id="f7" sourceRef="review" targetRef="end" />
    <bpmn:endEvent id="end" />
""")
    with engine.write() as s:
        instance = s.runtime.start_instance("parallel")
    audit, sample = ready(engine, instance.id)
    assert (audit.element_id, sample.element_id) == ("audit", "sample")
    complete(engine, sample, {"sample_id": "S-1"})
    assert [t.element_id for t in ready(engine, instance.id)] == ["audit"]
    complete(engine, audit, {"audit_ok": True})
    (review,) = ready(engine, instance.id)
    assert review.element_id == "review"
    with engine.read() as s:
        variables = s.runtime.variables(s.runtime.instance(instance.id))
    assert variables["sample_id"] == "S-1" and variables["audit_ok"] is True


def test_embedded_subprocess_with_script(engine: Engine) -> None:
    deploy(engine, "embedded", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="sub" />
    <bpmn:subProcess id="sub" name="Document check">
      <bpmn:startEvent id="sub_start" />
      <bpmn:sequenceFlow id="s1" sourceRef="sub_start" targetRef="count" />
      <bpmn:scriptTask id="count" scriptFormat="python">
        <bpmn:script>missing = [d for d in required if d not in uploaded]</bpmn:script>
      </bpmn:scriptTask>
      <bpmn:sequenceFlow id="s2" sourceRef="count" targetRef="check" />
      <bpmn:userTask id="check" name="Check documents" />
      <bpmn:sequenceFlow id="s3" sourceRef="check" targetRef="sub_end" />
      <bpmn:endEvent id="sub_end" />
    </bpmn:subProcess>
    <bpmn:sequenceFlow id="f2" sourceRef="sub" targetRef="end" />
    <bpmn:endEvent id="end" />
""")
    with engine.write() as s:
        instance = s.runtime.start_instance(
            "embedded", variables={"required": ["nib", "sppt"], "uploaded": ["nib"]})
    (check,) = ready(engine, instance.id)
    assert check.element_id == "check"
    with engine.read() as s:
        assert s.runtime.variables(s.runtime.instance(instance.id))["missing"] == ["sppt"]
        changed = s.session.scalars(sa.select(HistoryEvent.data).where(
            HistoryEvent.element_id == "count")).one()
    assert changed["changed"] == {"missing": ["sppt"]}
    complete(engine, check, {"complete": False})
    with engine.read() as s:
        assert s.runtime.instance(instance.id).status == "completed"


def test_user_task_attributes_are_kept(engine: Engine, clock) -> None:  # type: ignore[no-untyped-def]
    deploy(engine, "attrs", """\
    <bpmn:startEvent id="start" camunda:initiator="applicant" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
    <bpmn:userTask id="review" name="Review application" camunda:candidateGroups="upp, ppc"
        camunda:candidateUsers="${reviewer}" camunda:dueDate="PT3H"
        camunda:followUpDate="${follow_up}" camunda:priority="80">
      <bpmn:extensionElements>
        <camunda:properties>
          <camunda:property name="calendar" value="calendar-days" />
          <camunda:property name="excludeCompletersOf" value="audit" />
        </camunda:properties>
        <camunda:formData>
          <camunda:formField id="decision" label="Decision" type="enum">
            <camunda:value id="accept" name="Accept" />
            <camunda:value id="reject" name="Reject" />
          </camunda:formField>
          <camunda:formField id="amount" label="Fee" type="long">
            <camunda:validation>
              <camunda:constraint name="min" config="0" />
            </camunda:validation>
          </camunda:formField>
        </camunda:formData>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end" />
    <bpmn:endEvent id="end" />
""")
    with engine.write() as s:
        instance = s.runtime.start_instance(
            "attrs", actor="pt-maju",
            variables={"reviewer": "rina", "follow_up": "2027-03-02T09:00:00+07:00"})
    (task,) = ready(engine, instance.id)
    assert sorted(task.candidate_groups) == ["ppc", "upp"]
    assert task.candidate_users == ["rina"]
    assert task.due_at == clock.now() + timedelta(hours=3)
    assert task.follow_up_at == datetime(2027, 3, 2, 2, 0, tzinfo=UTC)
    assert task.priority == 80
    assert task.form_key == "generated"
    # The row keeps what the engine reads off it; the definition has them all.
    assert task.properties == {"excludeCompletersOf": "audit"}
    assert element_properties(engine, task) == {
        "calendar": "calendar-days", "excludeCompletersOf": "audit"}
    with engine.read() as s:
        assert s.runtime.variables(s.runtime.instance(instance.id))["applicant"] == "pt-maju"
        spec = s.session.scalars(sa.select(ProcessDefinition.spec)).one()
    fields = spec["spec"]["task_specs"]["review"]["extensions"]["formFields"]
    assert [f["id"] for f in fields] == ["decision", "amount"]
    assert fields[0]["values"] == [{"id": "accept", "name": "Accept"},
                                   {"id": "reject", "name": "Reject"}]
    assert fields[1]["validation"] == [{"name": "min", "config": "0"}]


def test_lane_is_the_default_role(engine: Engine) -> None:
    xml = definitions("laned", process("laned", """\
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_upp" name="upp"><bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>intake</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="lane_customer" name="pelanggan"><bpmn:flowNodeRef>fix</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="intake" />
    <bpmn:userTask id="intake" name="Check completeness" />
    <bpmn:sequenceFlow id="f2" sourceRef="intake" targetRef="fix" />
    <bpmn:userTask id="fix" name="Complete documents" camunda:candidateGroups="pelanggan,upp" />
    <bpmn:sequenceFlow id="f3" sourceRef="fix" targetRef="end" />
    <bpmn:endEvent id="end" />
"""))
    with engine.write() as s:
        s.deployments.deploy([("laned.bpmn", xml.encode())])
        instance = s.runtime.start_instance("laned")
    (intake,) = ready(engine, instance.id)
    assert (intake.lane, intake.candidate_groups) == ("upp", ["upp"])
    complete(engine, intake)
    (fix,) = ready(engine, instance.id)
    assert (fix.lane, sorted(fix.candidate_groups)) == ("pelanggan", ["pelanggan", "upp"])


def test_cycle_timer_as_the_modeler_writes_it(engine: Engine, clock) -> None:  # type: ignore[no-untyped-def]
    deploy(engine, "reminders", f"""\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="pay" />
    <bpmn:userTask id="pay" name="Pay the invoice" />
    <bpmn:boundaryEvent id="remind" cancelActivity="false" attachedToRef="pay">
      <bpmn:timerEventDefinition id="t1"><bpmn:timeCycle xsi:type="bpmn:tFormalExpression" {XSI}>R2/P1D</bpmn:timeCycle></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="remind" targetRef="reminder" />
    <bpmn:scriptTask id="reminder" scriptFormat="python"><bpmn:script>reminders = reminders + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f3" sourceRef="reminder" targetRef="reminded" />
    <bpmn:endEvent id="reminded" />
    <bpmn:sequenceFlow id="f4" sourceRef="pay" targetRef="end" />
    <bpmn:endEvent id="end" />
""")
    with engine.write() as s:
        instance = s.runtime.start_instance("reminders", variables={"reminders": 0})
    due = []
    for _ in range(3):
        with engine.read() as s:
            due.append([t.due_at for t in s.session.scalars(sa.select(Timer))])
        clock.advance(timedelta(days=1, seconds=1))
        with engine.write() as s:
            for timer_id in s.runtime.due_timers():
                s.runtime.fire_timer(timer_id)
    start = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)
    assert due[0] == [start + timedelta(days=1)]
    assert due[1] == [start + timedelta(days=2)]
    assert due[2] == []
    (pay,) = ready(engine, instance.id)
    assert pay.element_id == "pay"
    with engine.read() as s:
        fired = s.session.scalar(sa.select(sa.func.count()).where(
            HistoryEvent.kind == "timer_fired"))
    assert fired == 2


def test_timer_date_with_offset_and_message_start(engine: Engine, clock) -> None:  # type: ignore[no-untyped-def]
    deploy(engine, "dated", f"""\
    <bpmn:startEvent id="start">
      <bpmn:messageEventDefinition id="m1" messageRef="msg_apply" />
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait">
      <bpmn:timerEventDefinition id="t1"><bpmn:timeDate xsi:type="bpmn:tFormalExpression" {XSI}>2027-03-05T08:00:00+07:00</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="after" />
    <bpmn:userTask id="after" />
    <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end" />
    <bpmn:endEvent id="end" />
""", '  <bpmn:message id="msg_apply" name="application_received" />\n')
    with engine.write() as s:
        instance = s.runtime.correlate_message("application_received", business_key="APP-9",
                                               variables={"company": "PT Maju"})
    with engine.read() as s:
        timer = s.session.scalars(sa.select(Timer)).one()
        assert s.runtime.instance(instance.id).business_key == "APP-9"
        assert s.runtime.variables(s.runtime.instance(instance.id))["company"] == "PT Maju"
    assert timer.due_at == datetime(2027, 3, 5, 1, 0, tzinfo=UTC)
    clock.set(datetime(2027, 3, 5, 1, 0, 1, tzinfo=UTC))
    with engine.write() as s:
        assert s.runtime.fire_timer(timer.id)
    assert [t.element_id for t in ready(engine, instance.id)] == ["after"]


RACE = """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="waiting" />
    <bpmn:eventBasedGateway id="waiting" />
    <bpmn:sequenceFlow id="f2" sourceRef="waiting" targetRef="paid" />
    <bpmn:sequenceFlow id="f3" sourceRef="waiting" targetRef="deadline" />
    <bpmn:intermediateCatchEvent id="paid">
      <bpmn:messageEventDefinition messageRef="m_paid" />
    </bpmn:intermediateCatchEvent>
    <bpmn:intermediateCatchEvent id="deadline">
      <bpmn:timerEventDefinition><bpmn:timeDuration>P14D</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f4" sourceRef="paid" targetRef="agreement" />
    <bpmn:userTask id="agreement" camunda:candidateGroups="upp" />
    <bpmn:sequenceFlow id="f5" sourceRef="agreement" targetRef="end" />
    <bpmn:sequenceFlow id="f6" sourceRef="deadline" targetRef="cancelled" />
    <bpmn:endEvent id="end" />
    <bpmn:endEvent id="cancelled" />
"""
RACE_MESSAGE = '  <bpmn:message id="m_paid" name="pembayaran_diterima" />\n'


def test_event_based_gateway_waits_for_the_message_and_the_timer_at_once(
        engine: Engine, clock) -> None:  # type: ignore[no-untyped-def]
    deploy(engine, "race", RACE, RACE_MESSAGE)
    with engine.write() as s:
        paid = s.runtime.start_instance("race", business_key="PRM-1")
        lapsed = s.runtime.start_instance("race", business_key="PRM-2")
    with engine.read() as s:
        timers = s.session.scalars(sa.select(Timer).where(Timer.instance_id == paid.id)).all()
    # The wait is reported under the catch event's own id, not the gateway's.
    assert [(t.element_id, t.due_at) for t in timers] == [
        ("deadline", datetime(2027, 3, 15, 2, 0, tzinfo=UTC))]

    with engine.write() as s:
        s.runtime.correlate_message("pembayaran_diterima", business_key="PRM-1",
                                    variables={"ntpn": "N-1"})
    assert [t.element_id for t in ready(engine, paid.id)] == ["agreement"]
    with engine.read() as s:  # the message won: its timer is gone
        assert s.session.scalars(sa.select(Timer).where(Timer.instance_id == paid.id)).all() == []

    clock.advance(timedelta(days=14))
    with engine.write() as s:
        s.runtime.fire_next_due()
    with engine.read() as s:
        assert s.runtime.instance(lapsed.id).status == "completed"
        ended = s.session.scalars(sa.select(HistoryEvent.element_id).where(
            HistoryEvent.instance_id == lapsed.id,
            HistoryEvent.kind == "element_completed")).all()
    assert "cancelled" in ended and "agreement" not in ended
