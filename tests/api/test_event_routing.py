"""Messages and signals that leave their instance, through the REST API (issue 17, item 1).

A signal thrown in one instance reaches every other instance waiting for it
and starts the processes whose start event catches it; a message thrown goes
to the one instance that waits for it, or starts the process it starts, or
is an incident on the element that threw it. The throw and the deliveries
are one transaction: either all of them happen, or none.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.composition import Engine
from tests.api.bpmn_rest import instance, start
from tests.builders import definitions, process

SIGNAL = '<bpmn:signal id="sig" name="recall" />\n'
MESSAGE = '<bpmn:message id="msg" name="lab-report" />\n'


def deploy(client: Any, key: str, body: str, top: str = "") -> None:
    xml = definitions(key, process(key, body)).replace(
        "  <bpmndi:BPMNDiagram", top + "  <bpmndi:BPMNDiagram", 1)
    answer = client.post("/api/v1/deployments",
                         files=[("files", (f"{key}.bpmn", xml.encode(), "text/xml"))])
    assert answer.status_code == 201, answer.text


def instances_of(client: Any, key: str) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/process-instances", params={"key": key, "per_page": 50})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


WAIT_FOR_SIGNAL = (
    '<bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="wait" />'
    '<bpmn:intermediateCatchEvent id="wait"><bpmn:signalEventDefinition signalRef="sig" />'
    '</bpmn:intermediateCatchEvent><bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="mark" />'
    '<bpmn:scriptTask id="mark" scriptFormat="python"><bpmn:script>heard = True</bpmn:script>'
    '</bpmn:scriptTask><bpmn:sequenceFlow id="f3" sourceRef="mark" targetRef="e" />'
    '<bpmn:endEvent id="e" />')
STARTED_BY_SIGNAL = (
    '<bpmn:startEvent id="s"><bpmn:signalEventDefinition signalRef="sig" /></bpmn:startEvent>'
    '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="u" />'
    '<bpmn:userTask id="u" camunda:candidateGroups="upp" />'
    '<bpmn:sequenceFlow id="f2" sourceRef="u" targetRef="e" /><bpmn:endEvent id="e" />')
THROW_SIGNAL = (
    '<bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="throw" />'
    '<bpmn:intermediateThrowEvent id="throw"><bpmn:signalEventDefinition signalRef="sig" />'
    '</bpmn:intermediateThrowEvent><bpmn:sequenceFlow id="f2" sourceRef="throw" targetRef="e" />'
    '<bpmn:endEvent id="e" />')


def test_a_thrown_signal_reaches_waiting_instances_and_starts_processes(as_user: Any) -> None:
    admin = as_user("admin1")
    deploy(admin, "listener", WAIT_FOR_SIGNAL, SIGNAL)
    deploy(admin, "started", STARTED_BY_SIGNAL, SIGNAL)
    deploy(admin, "thrower", THROW_SIGNAL, SIGNAL)
    waiting = [start(admin, "listener") for _ in range(2)]
    assert all(instance(admin, i)["status"] == "running" for i in waiting)
    thrower = start(admin, "thrower")
    assert instance(admin, thrower)["status"] == "completed"
    for instance_id in waiting:
        row = instance(admin, instance_id)
        assert row["status"] == "completed"
        assert row["variables"]["heard"] is True
    assert len(instances_of(admin, "started")) == 1
    # Delivered once: a second look finds nothing more started.
    assert len(instances_of(admin, "started")) == 1


def test_post_signals_broadcasts_and_counts(as_user: Any) -> None:
    admin = as_user("admin1")
    deploy(admin, "listener2", WAIT_FOR_SIGNAL, SIGNAL)
    waiting = start(admin, "listener2")
    answer = admin.post("/api/v1/signals", json={"name": "recall"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"reached": 1}
    assert instance(admin, waiting)["status"] == "completed"
    again = admin.post("/api/v1/signals", json={"name": "recall"})
    assert again.json() == {"reached": 0}
    nobody = admin.post("/api/v1/signals", json={"name": "no-such-signal"})
    assert nobody.status_code == 200 and nobody.json() == {"reached": 0}


def test_customers_may_not_send_signals(as_user: Any) -> None:
    answer = as_user("cust1").post("/api/v1/signals", json={"name": "recall"})
    assert answer.status_code == 403


RECEIVE = (
    '<bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="r" />'
    '<bpmn:receiveTask id="r" messageRef="msg" />'
    '<bpmn:sequenceFlow id="f2" sourceRef="r" targetRef="e" /><bpmn:endEvent id="e" />')
SEND_AT_END = (
    '<bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="e" />'
    '<bpmn:endEvent id="e"><bpmn:messageEventDefinition messageRef="msg" '
    'camunda:expression="{\'result\': result}" /></bpmn:endEvent>')


def test_a_thrown_message_reaches_the_instance_that_waits(as_user: Any) -> None:
    admin = as_user("admin1")
    deploy(admin, "receiver", RECEIVE, MESSAGE)
    receiver = start(admin, "receiver")
    deploy(admin, "sender", SEND_AT_END, MESSAGE)
    sender = start(admin, "sender", {"result": "lulus"})
    assert instance(admin, sender)["status"] == "completed"
    row = instance(admin, receiver)
    assert row["status"] == "completed"
    assert row["variables"]["result"] == "lulus"
    history = admin.get(f"/api/v1/process-instances/{receiver}/history",
                        params={"per_page": 100}).json()["items"]
    assert [h["kind"] for h in history].count("message_received") == 1


def test_a_message_nobody_takes_is_an_incident_on_the_thrower(as_user: Any) -> None:
    admin = as_user("admin1")
    top = '<bpmn:message id="msg" name="nobody-listens" />\n'
    deploy(admin, "lonely", SEND_AT_END, top)
    sender = start(admin, "lonely", {"result": "x"})
    row = instance(admin, sender)
    assert row["status"] == "error"
    incidents = admin.get("/api/v1/incidents", params={"instance_id": sender}).json()["items"]
    assert len(incidents) == 1
    assert incidents[0]["element"] == "e"
    assert "the message 'nobody-listens' was not delivered" in incidents[0]["message"]


def test_engine_rest_message_and_signal(as_user: Any, server: str) -> None:
    admin = as_user("admin1")
    deploy(admin, "receiver3", RECEIVE, MESSAGE)
    receiver = start(admin, "receiver3")
    http = admin.http
    answer = http.post(f"{server}/engine-rest/message", timeout=30, json={
        "messageName": "lab-report", "processInstanceId": receiver,
        "processVariables": {"grade": {"value": "A", "type": "String"}}})
    assert answer.status_code == 204, answer.text
    assert instance(admin, receiver)["variables"]["grade"] == "A"
    deploy(admin, "listener3", WAIT_FOR_SIGNAL, SIGNAL)
    waiting = start(admin, "listener3")
    answer = http.post(f"{server}/engine-rest/signal", timeout=30, json={"name": "recall"})
    assert answer.status_code == 204, answer.text
    assert instance(admin, waiting)["status"] == "completed"


def test_the_throw_and_its_deliveries_are_one_transaction(engine: Engine,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """If delivering fails (the process dies there), nothing of the command stays:
    the thrower has not thrown and nobody received; done again, it is delivered once."""
    top = SIGNAL
    throw_after_task = (
        '<bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="u" />'
        '<bpmn:userTask id="u" camunda:candidateGroups="upp" />'
        '<bpmn:sequenceFlow id="f1" sourceRef="u" targetRef="throw" />'
        '<bpmn:intermediateThrowEvent id="throw"><bpmn:signalEventDefinition signalRef="sig" />'
        '</bpmn:intermediateThrowEvent><bpmn:sequenceFlow id="f2" sourceRef="throw" '
        'targetRef="e" /><bpmn:endEvent id="e" />')
    with engine.write() as s:
        for key, body in (("listener4", WAIT_FOR_SIGNAL), ("thrower4", throw_after_task)):
            xml = definitions(key, process(key, body)).replace(
                "  <bpmndi:BPMNDiagram", top + "  <bpmndi:BPMNDiagram", 1)
            s.deployments.deploy([(f"{key}.bpmn", xml.encode())])
        listener = s.runtime.start_instance("listener4").id
        thrower = s.runtime.start_instance("thrower4").id
    with engine.read() as s:
        [task] = _ready(s, thrower)

    from engine.runtime import routing

    real = routing.broadcast_signal

    def dies(*args: Any, **kwargs: Any) -> int:
        raise SystemExit("the server died while delivering")

    monkeypatch.setattr(routing, "broadcast_signal", dies)
    with pytest.raises(SystemExit), engine.write() as s:
        s.runtime.complete_task(task, {}, actor="upp1")
    with engine.read() as s:
        assert _status(s, thrower) == "running" and _ready(s, thrower) == [task]
        assert _status(s, listener) == "running"
    monkeypatch.setattr(routing, "broadcast_signal", real)
    with engine.write() as s:
        s.runtime.complete_task(task, {}, actor="upp1")
    with engine.read() as s:
        assert _status(s, thrower) == "completed"
        assert _status(s, listener) == "completed"
        assert _history_kinds(s, listener).count("signal_received") == 1


def _ready(services: Any, instance_id: str) -> list[str]:
    import sqlalchemy as sa

    from engine.models import Task
    return list(services.session.scalars(sa.select(Task.id).where(
        Task.instance_id == instance_id, Task.state == "ready")))


def _status(services: Any, instance_id: str) -> str:
    from engine.models import ProcessInstance
    row = services.session.get(ProcessInstance, instance_id)
    services.session.refresh(row)
    return str(row.status)


def _history_kinds(services: Any, instance_id: str) -> list[str]:
    import sqlalchemy as sa

    from engine.models import HistoryEvent
    return list(services.session.scalars(sa.select(HistoryEvent.kind).where(
        HistoryEvent.instance_id == instance_id)))
