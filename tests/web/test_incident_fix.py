"""An incident caused by a value is fixed by the people of the step, with a value form.

A service task's handler refuses its input (``InvalidInput`` naming the variable);
the instance page offers staff of the step's lane a form for exactly that
variable, typed as its value, which sets it and runs the step again in one
command, recorded in the history. The raw JSON retry is only for admins. The
same diagram waits for a message a role records, raced by a boundary timer: the
timer's due time is that message's deadline in the task list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from engine.composition import Engine
from engine.errors import InvalidInput
from engine.identity.access import Actor
from engine.models import HistoryEvent, Incident
from engine.runtime.handlers import TopicRegistry
from engine.runtime.service_call import ServiceCall
from tests.builders import definitions, process
from tests.people import PASSWORD, add_users

KEY = "pesanan_uji"
BODY = """
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_upp" name="upp">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>hitung</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>tunggu_surat</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>batas_surat</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>periksa</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end_late</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:serviceTask id="hitung" name="Hitung biaya" camunda:type="external"
      camunda:topic="test.amount" />
    <bpmn:receiveTask id="tunggu_surat" name="Surat diterima" messageRef="msg_surat">
      <bpmn:extensionElements><camunda:properties>
        <camunda:property name="recordedBy" value="upp" />
      </camunda:properties></bpmn:extensionElements>
    </bpmn:receiveTask>
    <bpmn:boundaryEvent id="batas_surat" attachedToRef="tunggu_surat">
      <bpmn:timerEventDefinition><bpmn:timeDuration>P3D</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:userTask id="periksa" name="Periksa" camunda:candidateGroups="upp" />
    <bpmn:endEvent id="end" />
    <bpmn:endEvent id="end_late" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="hitung" />
    <bpmn:sequenceFlow id="f2" sourceRef="hitung" targetRef="tunggu_surat" />
    <bpmn:sequenceFlow id="f3" sourceRef="tunggu_surat" targetRef="periksa" />
    <bpmn:sequenceFlow id="f4" sourceRef="periksa" targetRef="end" />
    <bpmn:sequenceFlow id="f5" sourceRef="batas_surat" targetRef="end_late" />
"""
MESSAGE = '  <bpmn:message id="msg_surat" name="surat_diterima" />\n'


def amount(call: ServiceCall) -> Mapping[str, Any]:
    """Refuses a count below one, naming the variable, as the LSPro's handlers do."""
    jumlah = call.variables.get("jumlah")
    if not isinstance(jumlah, int) or isinstance(jumlah, bool) or jumlah < 1:
        raise InvalidInput("Nilai jumlah harus 1 atau lebih.", {"jumlah": "harus 1 atau lebih"})
    return {"biaya": jumlah * 1000}


@pytest.fixture
def topics(topics: TopicRegistry) -> TopicRegistry:
    topics.register("test.amount", amount)
    return topics


@pytest.fixture
def failed(web_engine: Engine) -> tuple[str, int]:
    """An instance whose service task refused ``jumlah = 0``: (instance id, incident id)."""
    add_users(web_engine, {"ppc9": (["ppc"], None)})
    xml = definitions(KEY, MESSAGE + process(KEY, BODY, name="Pesanan uji"))
    with web_engine.write() as s:
        s.deployments.deploy([(f"{KEY}.bpmn", xml.encode())], actor="analyst1", source="test")
    with web_engine.write() as s:
        instance = s.runtime.start_instance(KEY, business_key="PSN-1", actor="upp1",
                                            variables={"jumlah": 0})
    with web_engine.read() as s:
        (incident,) = s.queries.incidents(instance_id=instance.id).items
    return instance.id, incident.id


def test_staff_of_the_step_fix_the_value_and_the_instance_moves_on(
        web_engine: Engine, browser: Any, failed: tuple[str, int]) -> None:
    instance_id, incident_id = failed
    clerk = browser("upp1")
    page = clerk.page(f"/instances/{instance_id}").get_data(as_text=True)
    assert f'id="fix-{incident_id}"' in page
    assert 'name="value.jumlah"' in page and 'type="number"' in page
    assert "harus 1 atau lebih" in page
    assert 'name="variables"' not in page and f'id="retry-{incident_id}"' not in page

    # Not a number: refused on the field, nothing changes.
    refused = clerk.post(f"/incidents/{incident_id}/fix", {"value.jumlah": "tiga"})
    assert refused.status_code == 422
    with web_engine.read() as s:
        assert s.queries.incident(incident_id).status == "open"

    answer = clerk.post(f"/incidents/{incident_id}/fix", {"value.jumlah": "3"})
    assert answer.status_code == 302
    with web_engine.read() as s:
        instance = s.runtime.instance(instance_id)
        assert instance.status == "running"
        assert s.runtime.variables(instance)["biaya"] == 3000
        assert s.queries.incident(incident_id).resolved_by == "upp1"
        retried = s.session.scalars(sa.select(HistoryEvent).where(
            HistoryEvent.instance_id == instance_id,
            HistoryEvent.kind == "incident_retried")).one()
        assert (retried.actor, retried.data["variables"]) == ("upp1", {"jumlah": 3})

    # Now it waits for the letter the upp records; the boundary timer is its deadline.
    listed = clerk.page("/tasks").get_data(as_text=True)
    assert 'id="awaited-table"' in listed and "Surat diterima" in listed
    with web_engine.read() as s:
        (timer,) = s.queries.instance_timers(instance_id)
        (item,) = s.awaited.list(Actor.of("upp1", ["upp"])).items
    assert (item.message, item.role, item.deadline) == ("surat_diterima", "upp", timer.due_at)


def test_other_roles_and_customers_cannot_fix_and_only_admins_see_the_json_box(
        web_engine: Engine, browser: Any, failed: tuple[str, int]) -> None:
    instance_id, incident_id = failed
    outsider = browser("ppc9")
    page = outsider.page(f"/instances/{instance_id}").get_data(as_text=True)
    assert f'id="fix-{incident_id}"' not in page and 'name="variables"' not in page
    assert outsider.post(f"/incidents/{incident_id}/fix",
                         {"value.jumlah": "3"}).status_code == 403
    admin = browser("admin1").page(f"/instances/{instance_id}").get_data(as_text=True)
    assert f'id="fix-{incident_id}"' in admin
    assert 'class="last-resort"' in admin and f'id="retry-{incident_id}"' in admin
    with web_engine.read() as s:
        incident = s.session.get(Incident, incident_id)
        assert incident is not None and incident.status == "open"


def test_the_rest_api_fixes_only_the_refused_variables_with_their_types(
        web_engine: Engine, app: Flask, failed: tuple[str, int]) -> None:
    instance_id, incident_id = failed

    def client(username: str) -> FlaskClient:
        made = app.test_client()
        token = made.post("/api/v1/auth/token", json={"username": username,
                                                      "password": PASSWORD}).get_json()
        made.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token['token']}"
        return made

    path = f"/api/v1/incidents/{incident_id}/fix"
    clerk = client("upp1")
    wrong = clerk.post(path, json={"variables": {"jumlah": "3", "biaya": 1}})
    assert wrong.status_code == 422
    assert {e["field"] for e in wrong.get_json()["errors"]} == {"jumlah", "biaya"}
    assert client("ppc9").post(path, json={"variables": {"jumlah": 3}}).status_code == 403
    assert client("cust1").post(path, json={"variables": {"jumlah": 3}}).status_code == 403
    with web_engine.read() as s:
        assert s.queries.incident(incident_id).status == "open"
    fixed = clerk.post(path, json={"variables": {"jumlah": 2}})
    assert fixed.status_code == 200 and fixed.get_json()["status"] == "resolved"
    with web_engine.read() as s:
        assert s.runtime.variables(s.runtime.instance(instance_id))["biaya"] == 2000
    assert clerk.post(path, json={"variables": {"jumlah": 2}}).status_code == 409
