"""The instance monitor: list and filters, one instance, admin commands, incident retry."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from engine.composition import Engine
from engine.models import HistoryEvent, HistoryValue, Incident, ProcessInstance
from engine.time.clock import FrozenClock
from tests.builders import definitions, process
from tests.people import COMPANY, PASSWORD

from . import sample
from .conftest import Browser
from .driving import complete_first_step, start

SCRIPTED = definitions("scripted", process("scripted", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fee" />
    <bpmn:scriptTask id="fee" scriptFormat="python">
      <bpmn:script>total = base * 2</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="fee" targetRef="pay" />
    <bpmn:userTask id="pay" name="Bayar" camunda:candidateGroups="upp" />
    <bpmn:sequenceFlow id="f3" sourceRef="pay" targetRef="end" />
    <bpmn:endEvent id="end" />
""", name="Berskrip"))


def listed(browser: Browser, path: str) -> list[str]:
    page = browser.page(path).get_data(as_text=True)
    return re.findall(r'<tr data-instance-id="([^"]+)"', page)


def history(engine: Engine, instance_id: str) -> list[tuple[str, str | None, Any]]:
    with engine.read() as s:
        return [(e.kind, e.actor, e.data) for e in s.session.scalars(
            sa.select(HistoryEvent).where(HistoryEvent.instance_id == instance_id)
            .order_by(HistoryEvent.id))]


def status(engine: Engine, instance_id: str) -> str:
    with engine.read() as s:
        instance = s.session.get(ProcessInstance, instance_id)
        assert instance is not None
        return instance.status


def test_monitor_lists_and_filters_instances(browser: Any, web_engine: Engine,
                                             clock: FrozenClock) -> None:
    waiting = start(web_engine, business_key="PRM-A")
    clock.advance(timedelta(minutes=1))
    checked = start(web_engine, business_key="PRM-B")
    complete_first_step(web_engine, browser("cust1"), checked)
    with web_engine.write() as s:
        s.deployments.deploy([("scripted.bpmn", SCRIPTED.encode())], actor="analyst1")
        clock.advance(timedelta(minutes=1))
        failed = s.runtime.start_instance("scripted", actor="upp1").id
    admin: Browser = browser("admin1")
    assert listed(admin, "/instances") == [failed, checked, waiting]  # newest first
    assert listed(admin, "/instances?key=web_demo") == [checked, waiting]
    assert listed(admin, "/instances?status=error") == [failed]
    assert listed(admin, "/instances?incidents=1") == [failed]
    assert listed(admin, "/instances?business_key=PRM-B") == [checked]
    assert listed(admin, "/instances?overdue=1") == []
    clock.advance(timedelta(hours=4))  # past the 3 hours of the second step
    assert listed(admin, "/instances?overdue=1") == [checked]
    page = admin.page("/instances").get_data(as_text=True)
    assert "Periksa permohonan" in page and 'class="badge overdue"' in page
    # Staff other than admins may look too; a customer is sent to their own view.
    assert listed(browser("upp1"), "/instances") == [failed, checked, waiting]
    assert browser("cust1").page("/instances").headers["Location"] == "/applications"


def test_instance_page_shows_state_timers_variables_and_service_clock(
        browser: Any, web_engine: Engine) -> None:
    instance_id = start(web_engine, business_key="PRM-C")
    complete_first_step(web_engine, browser("cust1"), instance_id)
    admin: Browser = browser("admin1")
    page = admin.page(f"/instances/{instance_id}").get_data(as_text=True)
    assert 'id="instance-status">Berjalan<' in page
    assert re.search(r'id="timers">.*ingatkan.*11 Mar 2027 09.00', page, re.S)
    assert "nomor_produk" in page and "&#34;ABC-123&#34;" in page  # variables, as JSON
    assert 'id="service-clock"' in page and "hari kerja terpakai" in page
    for button in ("suspend", "cancel"):
        assert f'id="{button}"' in page
    assert 'id="resume"' not in page
    diagrams = page.split('id="diagram-data">')[1]
    assert '"periksa": ["sf-active"]' in diagrams and '"ingatkan": ["sf-timer"]' in diagrams
    # A customer sees where their application stands, but neither variables nor commands.
    own = browser("cust1").page(f"/instances/{instance_id}").get_data(as_text=True)
    assert "Periksa permohonan" in own and 'id="variables"' not in own
    assert 'id="suspend"' not in own and 'id="service-clock"' not in own


def test_admin_suspends_resumes_and_cancels_with_csrf(browser: Any, web_engine: Engine) -> None:
    instance_id = start(web_engine)
    admin: Browser = browser("admin1")
    admin.page(f"/instances/{instance_id}")
    assert admin.client.post(f"/instances/{instance_id}/suspend").status_code == 400
    assert status(web_engine, instance_id) == "running"
    # Without a reason nothing happens: the page says what is missing.
    refused_without = admin.post(f"/instances/{instance_id}/suspend")
    assert refused_without.status_code == 422
    assert "Tuliskan alasannya." in refused_without.get_data(as_text=True)
    too_long = admin.post(f"/instances/{instance_id}/suspend", {"reason": "x" * 501})
    assert too_long.status_code == 422 and "500 karakter" in too_long.get_data(as_text=True)
    assert status(web_engine, instance_id) == "running"
    assert admin.post(f"/instances/{instance_id}/suspend",
                      {"reason": "menunggu klarifikasi merek"}).status_code == 302
    assert status(web_engine, instance_id) == "suspended"
    page = admin.page(f"/instances/{instance_id}").get_data(as_text=True)
    assert "Proses ditangguhkan." in page and 'id="resume"' in page
    # Suspended: the customer's task cannot be completed meanwhile.
    assert admin.post(f"/instances/{instance_id}/resume",
                      {"reason": "klarifikasi diterima"}).status_code == 302
    assert status(web_engine, instance_id) == "running"
    # Somebody else may not.
    clerk: Browser = browser("upp1")
    clerk.page("/tasks")
    refused = clerk.post(f"/instances/{instance_id}/suspend", {"reason": "coba"})
    assert refused.status_code == 403
    assert "Anda tidak berwenang" in refused.get_data(as_text=True)
    assert admin.post(f"/instances/{instance_id}/cancel",
                      {"reason": "permohonan ditarik pelanggan"}).status_code == 302
    assert status(web_engine, instance_id) == "cancelled"
    events = [(kind, actor, data) for kind, actor, data in history(web_engine, instance_id)
              if actor == "admin1"]
    assert events == [("instance_suspended", "admin1", {"reason": "menunggu klarifikasi merek"}),
                      ("instance_resumed", "admin1", {"reason": "klarifikasi diterima"}),
                      ("task_cancelled", "admin1", None),
                      ("instance_cancelled", "admin1",
                       {"reason": "permohonan ditarik pelanggan"})]
    # The history on the page tells each reason in words.
    shown = admin.page(f"/instances/{instance_id}").get_data(as_text=True)
    for reason in ("menunggu klarifikasi merek", "klarifikasi diterima",
                   "permohonan ditarik pelanggan"):
        assert f"Alasan: {reason}" in shown
    # Resuming what is not suspended is a conflict, shown as a page.
    conflict = admin.post(f"/instances/{instance_id}/resume", {"reason": "lagi"})
    assert conflict.status_code == 409 and "Sudah berubah" in conflict.get_data(as_text=True)


def test_admin_retries_an_incident_with_corrected_variables(browser: Any,
                                                           web_engine: Engine) -> None:
    with web_engine.write() as s:
        s.deployments.deploy([("scripted.bpmn", SCRIPTED.encode())], actor="analyst1")
        instance_id = s.runtime.start_instance("scripted", actor="upp1").id
    admin: Browser = browser("admin1")
    page = admin.page(f"/instances/{instance_id}").get_data(as_text=True)
    with web_engine.read() as s:
        incident = s.session.scalars(sa.select(Incident)).one()
    assert f'id="retry-{incident.id}"' in page and "base" in page
    assert '"fee": ["sf-failed"]' in page.split('id="diagram-data">')[1]
    dashboard = admin.page("/dashboard").get_data(as_text=True)
    assert 'id="tile-incidents">1<' in dashboard
    bad = admin.post(f"/incidents/{incident.id}/retry", {"variables": "[1, 2"})
    assert bad.status_code == 422
    assert browser("upp1").post(f"/incidents/{incident.id}/retry",
                                {"variables": ""}).status_code == 403
    fixed = admin.post(f"/incidents/{incident.id}/retry", {"variables": '{"base": 2}'})
    assert fixed.status_code == 302
    assert status(web_engine, instance_id) == "running"
    with web_engine.read() as s:
        variables = s.runtime.variables(s.runtime.instance(instance_id))
        resolved = s.session.get(Incident, incident.id)
        assert resolved is not None and resolved.status == "resolved"
    assert variables["total"] == 4
    assert ("incident_retried", "admin1",
            {"incident": incident.id, "variables": {"base": 2}}) in history(
                web_engine, instance_id)


def test_diagram_of_a_called_process_is_drawn_for_its_step(browser: Any,
                                                           web_engine: Engine) -> None:
    caller = definitions("pemanggil", process("pemanggil", """\
    <bpmn:startEvent id="s" />
    <bpmn:sequenceFlow id="c1" sourceRef="s" targetRef="panggil" />
    <bpmn:callActivity id="panggil" calledElement="web_demo" />
    <bpmn:sequenceFlow id="c2" sourceRef="panggil" targetRef="e" />
    <bpmn:endEvent id="e" />
""", name="Pemanggil"))
    with web_engine.write() as s:
        s.deployments.deploy([("pemanggil.bpmn", caller.encode())], actor="analyst1")
        instance_id = s.runtime.start_instance("pemanggil", actor="cust1",
                                               company="PT Maju Jaya").id
    page = browser("admin1").page(f"/instances/{instance_id}").get_data(as_text=True)
    data = page.split('id="diagram-data">')[1].split("</script>")[0]
    keys = re.findall(r'"key": "([a-z_]+)"', data)
    assert keys == ["pemanggil", sample.KEY]
    assert '"isi_data": ["sf-active"]' in data


# -- recording a message the instance waits for ----------------------------------------------------

AWAITING = definitions("menunggu_lab", process("menunggu_lab", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="lab" />
    <bpmn:intermediateCatchEvent id="lab" name="Hasil lab">
      <bpmn:messageEventDefinition id="Def_lab" messageRef="Message_hasil_lab" />
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="lab" targetRef="nilai" />
    <bpmn:userTask id="nilai" name="Nilai hasil" camunda:candidateGroups="upp" />
    <bpmn:sequenceFlow id="f3" sourceRef="nilai" targetRef="end" />
    <bpmn:endEvent id="end" />
""", name="Menunggu lab") + '  <bpmn:message id="Message_hasil_lab" name="hasil_lab" />\n')
LAB_FORM = {
    "id": "hasil_lab", "type": "default", "schemaVersion": 16,
    "components": [
        {"id": "Field_nomor", "key": "nomor_lhu", "type": "textfield", "label": "Nomor LHU",
         "validate": {"required": True, "pattern": "LHU-\\d{4}"}},
        {"id": "Field_contoh", "key": "jumlah_contoh", "type": "number", "label": "Contoh",
         "validate": {"min": 1, "max": 20}},
    ],
}


def test_staff_record_an_awaited_message_with_its_form(browser: Any, web_engine: Engine,
                                                       app: Any) -> None:
    with web_engine.write() as s:
        s.deployments.deploy([("menunggu_lab.bpmn", AWAITING.encode()),
                              ("hasil_lab.form", json.dumps(LAB_FORM).encode())],
                             actor="analyst1")
        instance_id = s.runtime.start_instance("menunggu_lab", business_key="LAB-1",
                                               actor="upp1", company=COMPANY).id
    clerk: Browser = browser("upp1")
    # Named by the event that waits for it, not by the message's technical name.
    assert "Menunggu pesan: Hasil lab" in clerk.page(
        "/instances?business_key=LAB-1").get_data(as_text=True)
    page = clerk.page(f"/instances/{instance_id}").get_data(as_text=True)
    assert f'href="/instances/{instance_id}/messages/hasil_lab"' in page
    form_page = clerk.page(f"/instances/{instance_id}/messages/hasil_lab")
    assert form_page.status_code == 200 and "Field_nomor" in form_page.get_data(as_text=True)
    # The company's customer sees the instance but neither the message nor a way to
    # record it; nor may anyone record a message the instance does not wait for.
    customer: Browser = browser("cust1")
    own = customer.page(f"/instances/{instance_id}")
    assert own.status_code == 200 and 'id="awaited-messages"' not in own.get_data(as_text=True)
    assert customer.page(f"/instances/{instance_id}/messages/hasil_lab").status_code == 404
    customer.page("/applications")
    assert customer.post_json(f"/instances/{instance_id}/messages/hasil_lab",
                              {"variables": {"nomor_lhu": "LHU-2027"}}).status_code == 404
    assert clerk.page(f"/instances/{instance_id}/messages/lain").status_code == 404

    url = f"/instances/{instance_id}/messages/hasil_lab"
    refused = clerk.post_json(url, {"variables": {"nomor_lhu": "123", "jumlah_contoh": 40}})
    assert refused.status_code == 422
    assert {e["field"] for e in refused.get_json()["errors"]} == {"nomor_lhu", "jumlah_contoh"}
    with web_engine.read() as s:
        assert s.queries.awaited_messages(instance_id) == ["hasil_lab"]
    # The REST API checks against the same form.
    token = app.test_client().post("/api/v1/auth/token", json={
        "username": "upp1", "password": PASSWORD}).get_json()["token"]
    api = app.test_client().post("/api/v1/messages", headers={
        "Authorization": f"Bearer {token}"}, json={
        "name": "hasil_lab", "business_key": "LAB-1", "variables": {"nomor_lhu": "x"}})
    assert api.status_code == 422 and api.get_json()["errors"][0]["field"] == "nomor_lhu"

    sent = clerk.post_json(url, {"variables": {"nomor_lhu": "LHU-2027", "jumlah_contoh": 6,
                                               "lain": "tidak ikut"}})
    assert sent.status_code == 200
    assert sent.get_json()["redirect"] == f"/instances/{instance_id}"
    with web_engine.read() as s:
        instance = s.runtime.instance(instance_id)
        assert s.queries.awaited_messages(instance_id) == []
        assert s.runtime.variables(instance) == {"nomor_lhu": "LHU-2027", "jumlah_contoh": 6}
        assert [t.element_id for t in s.queries.instance_tasks(instance_id)] == ["nilai"]
    assert clerk.page(url).status_code == 404  # no longer awaited


def test_instance_page_history_shows_a_large_value_recorded_once(browser: Any,
                                                                 web_engine: Engine) -> None:
    # The value is kept apart (history_value) and put back for the page: the
    # history table shows it whole in both events, with no trace of the reference.
    instance_id = start(web_engine, business_key="PRM-L")
    big = [{"klausul": f"7.{n}", "hasil": "sesuai"} for n in range(200)] + [{"akhir": "TANDA-99"}]
    for note in ("pertama", "kedua"):
        with web_engine.write() as s:
            s.runtime.set_variables(instance_id, {"hasil_uji": big, "catatan": note},
                                    deletions=[], actor="admin1")
    page = browser("admin1").page(f"/instances/{instance_id}").get_data(as_text=True)
    table = page.split('id="history">')[1].split("</table>")[0]
    assert table.count("TANDA-99") == 2 and "$values" not in table
    assert "pertama" in table and "kedua" in table
    with web_engine.read() as s:
        assert s.session.scalar(sa.select(sa.func.count()).where(
            HistoryValue.instance_id == instance_id)) == 1
