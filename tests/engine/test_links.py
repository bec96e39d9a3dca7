"""Handlers that reach beyond their instance: the context, process.start, instance.hold/release."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
import sqlalchemy as sa

from engine.composition import Engine
from engine.errors import InvalidInput
from engine.models import HistoryEvent, Incident, ProcessInstance
from engine.runtime.handlers import TopicRegistry
from engine.runtime.links import register_links
from engine.runtime.service_call import ServiceCall
from engine.time.clock import FrozenClock
from engine.time.timers import TimerSweep
from tests.builders import definitions, process, service
from tests.instances import ready


@pytest.fixture
def topics() -> TopicRegistry:
    registry = TopicRegistry()
    register_links(registry)
    return registry


def chain(key: str, *elements: tuple[str, str]) -> str:
    """start -> elements (id, xml) -> end, one sequence flow after the other."""
    ids = ["start"] + [e for e, _ in elements] + ["end"]
    inner = '    <bpmn:startEvent id="start" />\n' + "".join(x for _, x in elements)
    inner += '    <bpmn:endEvent id="end" />\n'
    inner += "".join(f'    <bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}" />\n'
                     for i, (a, b) in enumerate(pairwise(ids)))
    return definitions(key, process(key, inner))


TARGET = chain("target", ("wait", '    <bpmn:intermediateCatchEvent id="wait">'
                                  "<bpmn:timerEventDefinition><bpmn:timeDuration>P2D"
                                  "</bpmn:timeDuration></bpmn:timerEventDefinition>"
                                  "</bpmn:intermediateCatchEvent>\n"),
               ("work", '    <bpmn:userTask id="work" camunda:candidateGroups="upp" />\n'))
STARTER = chain("starter", ("go", service("go", "process.start", processKey="target",
                                          businessKey="certificate", variables="certificate,size")))
HOLDER = chain("holder",
               ("hold", service("hold", "instance.hold", businessKey="application")),
               ("decide", '    <bpmn:userTask id="decide" camunda:candidateGroups="upp" />\n'),
               ("release", service("release", "instance.release", businessKey="application")))


def deploy(engine: Engine, *files: tuple[str, str]) -> None:
    with engine.write() as s:
        s.deployments.deploy([(name, xml.encode()) for name, xml in files])


def instances(engine: Engine, key: str) -> list[ProcessInstance]:
    with engine.read() as s:
        return list(s.session.scalars(sa.select(ProcessInstance)
                                      .where(ProcessInstance.definition_key == key)))


def history(engine: Engine, instance_id: str) -> list[HistoryEvent]:
    with engine.read() as s:
        return list(s.session.scalars(sa.select(HistoryEvent)
                                      .where(HistoryEvent.instance_id == instance_id)
                                      .order_by(HistoryEvent.id)))


def test_process_start_starts_the_other_process_with_key_variables_and_company(
        engine: Engine) -> None:
    deploy(engine, ("target.bpmn", TARGET), ("starter.bpmn", STARTER))
    with engine.write() as s:
        caller = s.runtime.start_instance(
            "starter", company="PT Contoh", actor="ani",
            variables={"certificate": "0001/LSPr-034-IDN/SNI 3553/2027", "size": 3,
                       "secret": "not passed"})
    (started,) = instances(engine, "target")
    assert started.business_key == "0001/LSPr-034-IDN/SNI 3553/2027"
    assert started.company == "PT Contoh" and started.status == "running"
    with engine.read() as s:
        variables = s.runtime.variables(s.runtime.instance(started.id))
    assert variables == {"certificate": "0001/LSPr-034-IDN/SNI 3553/2027", "size": 3}
    (link,) = [e for e in history(engine, caller.id) if e.kind == "process_started"]
    assert link.element_id == "go"
    assert link.data == {"process": "target", "instance_id": started.id,
                         "business_key": started.business_key}


def test_process_start_without_its_variables_is_an_incident_and_starts_nothing(
        engine: Engine) -> None:
    deploy(engine, ("target.bpmn", TARGET), ("starter.bpmn", STARTER))
    with engine.write() as s:
        caller = s.runtime.start_instance("starter", variables={"certificate": "C-1"})
    assert instances(engine, "target") == []
    with engine.read() as s:
        (incident,) = s.session.scalars(sa.select(Incident)
                                        .where(Incident.instance_id == caller.id)).all()
    assert "size" in incident.message and "not set" in incident.message
    with engine.write() as s:
        s.runtime.retry_incident(incident.id, actor="admin", variables={"size": 1})
    assert len(instances(engine, "target")) == 1


def test_hold_suspends_the_application_its_timer_waits_and_release_resumes_it(
        engine: Engine, clock: FrozenClock) -> None:
    deploy(engine, ("target.bpmn", TARGET), ("holder.bpmn", HOLDER))
    with engine.write() as s:
        application = s.runtime.start_instance("target", business_key="PRM-2027-00001")
        dispute = s.runtime.start_instance("holder", variables={"application": "PRM-2027-00001"})
    (held,) = instances(engine, "target")
    assert held.status == "suspended"
    (event,) = [e for e in history(engine, application.id) if e.kind == "instance_suspended"]
    assert event.data == {"reason": f"hold of instance {dispute.id}"}

    clock.advance(timedelta(days=3))  # the timer is due, but the instance is held
    sweep = TimerSweep(engine)
    sweep.run_once()
    assert ready(engine, application.id) == []

    (decide,) = ready(engine, dispute.id)
    with engine.write() as s:
        s.runtime.complete_task(decide.id, {}, actor="budi")
    assert instances(engine, "target")[0].status == "running"
    sweep.run_once()
    assert [t.element_id for t in ready(engine, application.id)] == ["work"]
    kinds = [e.kind for e in history(engine, application.id)]
    assert kinds.index("instance_resumed") < kinds.index("element_completed", kinds.index(
        "instance_resumed"))


def test_hold_of_an_unknown_business_key_is_an_incident_and_holds_nothing(
        engine: Engine) -> None:
    deploy(engine, ("target.bpmn", TARGET), ("holder.bpmn", HOLDER))
    with engine.write() as s:
        other = s.runtime.start_instance("target", business_key="PRM-2027-00002")
        dispute = s.runtime.start_instance("holder", variables={"application": "PRM-2027-00001"})
    assert instances(engine, "target")[0].status == "running"
    with engine.read() as s:
        assert s.runtime.instance(dispute.id).status == "error"
        (incident,) = s.session.scalars(sa.select(Incident)
                                        .where(Incident.instance_id == dispute.id)).all()
    assert "no running instance with business key 'PRM-2027-00001'" in incident.message
    assert other.status == "running"


def test_a_handler_names_its_instance_and_effects_run_after_the_save(
        engine: Engine, topics: TopicRegistry) -> None:
    seen: list[Any] = []

    def open_case(call: ServiceCall) -> dict[str, Any]:
        context = call.context
        seen.append((context.instance_id, context.business_key, context.company,
                     context.definition_key, call.properties))
        context.set_business_key("KLH-2027-00001")
        instance_id = context.instance_id  # the context describes the instance only now
        context.after_command(lambda runtime: seen.append(
            runtime.session.scalar(sa.select(ProcessInstance.revision)
                                   .where(ProcessInstance.id == instance_id))))
        return {"nomor_perkara": context.business_key}

    topics.register("dossier.open", open_case)
    deploy(engine, ("case.bpmn", chain("case", ("open", service("open", "dossier.open",
                                                                 prefix="KLH")))))
    with engine.write() as s:
        case = s.runtime.start_instance("case", company="PT Contoh")
    assert seen[0] == (case.id, None, "PT Contoh", "case", {"prefix": "KLH"})
    assert seen[1] == 2  # the effect saw the instance already saved (revision 1 -> 2)
    with engine.read() as s:
        stored = s.runtime.instance(case.id)
        assert stored.business_key == "KLH-2027-00001"
        assert s.runtime.variables(stored)["nomor_perkara"] == "KLH-2027-00001"
    assert "business_key_assigned" in [e.kind for e in history(engine, case.id)]


def test_a_failing_effect_undoes_the_whole_command(
        engine: Engine, topics: TopicRegistry) -> None:
    def explode(call: ServiceCall) -> None:
        def effect(runtime: Any) -> None:
            raise InvalidInput("the other system refused")
        call.context.after_command(effect)

    topics.register("explode", explode)
    deploy(engine, ("boom.bpmn", chain("boom", ("x", service("x", "explode")))))
    with pytest.raises(InvalidInput), engine.write() as s:
        s.runtime.start_instance("boom")
    assert instances(engine, "boom") == []
