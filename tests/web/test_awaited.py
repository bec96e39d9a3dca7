"""Awaited messages are work, and what staff enter is checked against the LSPro's records.

An application waiting for its payment appears in the finance role's task list
(page and ``GET /api/v1/awaited-messages``) with the payment deadline; recording
the payment there returns to the list and the entry is gone. A payment whose
NTPN already paid another bill is refused on its field, naming that bill, on the
page and through both REST paths, and nothing changes. The completeness officer
cannot answer "complete" while documents are missing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.composition import Engine
from engine.time.clock import FrozenClock
from lspro.billing import BillingService
from tests.people import COMPANY, PASSWORD, add_users
from tests.processes.driver import NTPN, Driver
from tests.processes.entries import ALWAYS

KEY = "permohonan_sertifikasi"
PAYMENT = "pembayaran_diterima"
APPLICATION = {
    "produk": "BISKUIT", "sni": "SNI 2973:2022", "tipe_skema": "5",
    "jenis_permohonan": "baru", "makloon": False, "merek_milik_sendiri": True,
    "merek_kemasan": [{"merek": "Kukis Nyiur", "kemasan": "kotak karton 300 g"}],
}
STAFF = {"keu1": (["keuangan"], None), "admin9": (["admin"], None)}


@pytest.fixture
def driver(web_engine: Engine, clock: FrozenClock) -> Driver:
    """The page tests' engine with the LSPro's processes and forms deployed too."""
    add_users(web_engine, STAFF)
    made = Driver(web_engine, clock)
    made.deploy()
    return made


def waiting_for_payment(driver: Driver, company: str = COMPANY) -> str:
    """An application of ``company`` accepted and billed: it waits for its payment."""
    instance_id = driver.start(KEY, actor="eka.pt-contoh", company=company)
    driver.complete(instance_id, "p_ajukan_permohonan", APPLICATION,
                    documents=(*ALWAYS, "bukti_smm_cppob"))
    driver.complete(instance_id, "p_periksa_kelengkapan", {"dokumen_lengkap": True})
    driver.complete(instance_id, "p_kaji_ulang_permohonan", {
        "permohonan_diterima": True, "catatan_kaji_ulang": "Dalam ruang lingkup."})
    assert driver.waits_for(instance_id, PAYMENT)
    return instance_id


def api(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    answer = client.post("/api/v1/auth/token", json={"username": username,
                                                     "password": PASSWORD})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {answer.get_json()['token']}"
    return client


def errors_of(answer: Any) -> dict[str, str]:
    return {e["field"]: e["message"] for e in answer.get_json()["errors"]}


def test_an_awaited_payment_is_the_finance_roles_work_until_recorded(
        driver: Driver, app: Flask, browser: Any) -> None:
    instance_id = waiting_for_payment(driver)
    data = driver.variables(instance_id)
    deadline = datetime.fromisoformat(data["batas_pembayaran"])

    # REST: the finance role sees it with the deadline; other roles and customers do not.
    listed = api(app, "keu1").get("/api/v1/awaited-messages").get_json()
    assert listed["total"] == 1
    (item,) = listed["items"]
    assert (item["instance_id"], item["message"], item["role"], item["label"]) == (
        instance_id, PAYMENT, "keuangan", "Pembayaran diterima")
    assert (item["business_key"], item["company"]) == (data["nomor_permohonan"], COMPANY)
    assert datetime.fromisoformat(item["deadline"]) == deadline
    assert api(app, "upp1").get("/api/v1/awaited-messages").get_json()["total"] == 0
    assert api(app, "cust1").get("/api/v1/awaited-messages").status_code == 403
    admin = api(app, "admin9")
    assert admin.get("/api/v1/awaited-messages").get_json()["total"] == 1
    assert admin.get("/api/v1/awaited-messages?role=upp").get_json()["total"] == 0
    assert api(app, "keu1").get("/api/v1/tasks").get_json()["items"] == []  # tasks unchanged
    # Paged, earliest deadline first: a later application comes second.
    driver.clock.advance(timedelta(days=1))
    later = waiting_for_payment(driver)
    pages = [api(app, "keu1").get(f"/api/v1/awaited-messages?per_page=1&page={n}").get_json()
             for n in (1, 2)]
    assert [p["total"] for p in pages] == [2, 2]
    assert [p["items"][0]["instance_id"] for p in pages] == [instance_id, later]
    driver.pay(later, ntpn="1111222233334444")

    # The page: an entry with the number, company and deadline, opening the message form.
    finance = browser("keu1")
    page = finance.page("/tasks").get_data(as_text=True)
    assert 'id="awaited-table"' in page and data["nomor_permohonan"] in page
    assert f'data-instance-id="{instance_id}"' in page and "Pembayaran diterima" in page
    link = f"/instances/{instance_id}/messages/{PAYMENT}?back=tasks"
    assert link in page
    for other in ("upp1", "cust1"):
        assert 'id="awaited-table"' not in browser(other).page("/tasks").get_data(as_text=True)
    form_page = finance.page(link)
    assert form_page.status_code == 200
    assert "Pembayaran diterima" in form_page.get_data(as_text=True)

    # Recorded from the list, the page goes back to the list, and the entry is gone.
    answer = finance.post_json(link, {"variables": {
        "kode_billing": data["kode_billing"], "ntpn": NTPN,
        "tanggal_bayar": driver.today().isoformat()}})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["redirect"] == "/tasks"
    assert not driver.waits_for(instance_id, PAYMENT)
    assert driver.variables(instance_id)["status_tagihan"] == "lunas"
    assert api(app, "keu1").get("/api/v1/awaited-messages").get_json()["total"] == 0
    assert 'id="awaited-table"' not in finance.page("/tasks").get_data(as_text=True)


def test_a_reused_ntpn_is_refused_on_its_field_naming_the_other_bill(
        driver: Driver, app: Flask, browser: Any) -> None:
    first = waiting_for_payment(driver, "PT Sudah Bayar")
    driver.pay(first)  # NTPN paid the first application's bill
    paid_code = driver.variables(first)["kode_billing"]
    second = waiting_for_payment(driver)
    code = driver.variables(second)["kode_billing"]
    values = {"kode_billing": code, "ntpn": NTPN, "tanggal_bayar": driver.today().isoformat()}

    page = browser("keu1").post_json(f"/instances/{second}/messages/{PAYMENT}",
                                     {"variables": values})
    assert page.status_code == 422
    assert errors_of(page) == {
        "ntpn": f"NTPN ini sudah dipakai untuk tagihan {paid_code} (PT Sudah Bayar)."}
    business_key = driver.business_key(second)
    rest = api(app, "keu1").post("/api/v1/messages", json={
        "name": PAYMENT, "business_key": business_key, "variables": values})
    assert rest.status_code == 422 and paid_code in errors_of(rest)["ntpn"]
    camunda = api(app, "keu1").post("/engine-rest/message", json={
        "messageName": PAYMENT, "businessKey": business_key, "processVariables": {
            name: {"value": value, "type": "String"} for name, value in values.items()}})
    # Camunda's REST shape: 400 with the fields in the message.
    assert camunda.status_code == 400 and paid_code in camunda.get_json()["message"]
    # Nothing recorded: the bill is unpaid and the instance still waits, without incident.
    assert driver.waits_for(second, PAYMENT) and driver.status(second) == "running"
    (bill,) = driver.invoices(business_key)
    assert (bill.state, bill.ntpn) == ("terbit", None)

    # A payment date after today, a malformed NTPN, a bill of another application.
    tomorrow = (driver.today() + timedelta(days=1)).isoformat()
    answer = browser("keu1").post_json(f"/instances/{second}/messages/{PAYMENT}", {
        "variables": {**values, "ntpn": "ZZZZZZZZZZZZZZZZ", "tanggal_bayar": tomorrow}})
    assert set(errors_of(answer)) == {"tanggal_bayar"}
    answer = browser("keu1").post_json(f"/instances/{second}/messages/{PAYMENT}", {
        "variables": {**values, "kode_billing": paid_code, "ntpn": "ZZZZZZZZZZZZZZZZ"}})
    assert "sudah lunas" in errors_of(answer)["kode_billing"]
    assert driver.waits_for(second, PAYMENT)


def test_complete_is_refused_while_documents_are_missing(driver: Driver, browser: Any) -> None:
    instance_id = driver.start(KEY, actor="eka.pt-contoh", company=COMPANY)
    driver.complete(instance_id, "p_ajukan_permohonan", APPLICATION,
                    documents=(*ALWAYS, "bukti_smm_cppob"))
    # The application form now requires every document that applies, so the system's
    # own list is empty after it; the check is the officer's last line of defence for a
    # list that is not (set here as an administrator correcting the record would).
    missing = "Perjanjian makloon"
    with driver.engine.write() as s:
        s.runtime.set_variables(instance_id, {"dokumen_kurang": [missing]}, actor="admin")
    task = driver.task_of(instance_id, "p_periksa_kelengkapan")
    add_users(driver.engine, {"adm1": (["administrasi"], None)})
    answer = browser("adm1").post_json(f"/tasks/{task.id}/complete", {"variables": {
        "dokumen_lengkap": True, "catatan_kelengkapan": "Lengkap."}})
    assert answer.status_code == 422
    message = errors_of(answer)["dokumen_lengkap"]
    assert missing in message and message.startswith("Dokumen belum lengkap")
    assert driver.task_of(instance_id, "p_periksa_kelengkapan").state == "ready"


def test_a_payment_that_fails_after_all_is_fixed_by_finance_with_the_value_form(
        driver: Driver, browser: Any) -> None:
    """Two payments with one NTPN recorded at the same moment: the form's check passed
    for both, ``billing.confirm`` refuses the second. The incident names the NTPN, in
    Indonesian; finance (who record payments) corrects it, and the application goes on."""
    first = waiting_for_payment(driver, "PT Sudah Bayar")
    second = waiting_for_payment(driver)
    paid_code = driver.variables(first)["kode_billing"]
    code = driver.variables(second)["kode_billing"]
    today = driver.today().isoformat()
    with driver.engine.write() as s:  # the other payment lands between check and step
        s.get(BillingService).confirm(paid_code, NTPN, today)
        s.runtime.correlate_message(PAYMENT, instance_id=second, actor="keu1", variables={
            "kode_billing": code, "ntpn": NTPN, "tanggal_bayar": today})
    with driver.engine.read() as s:
        (incident,) = s.queries.incidents(instance_id=second).items
    assert incident.element_id == "p_konfirmasi_pembayaran"
    assert f"NTPN ini sudah dipakai untuk tagihan {paid_code}" in incident.message

    finance = browser("keu1")
    page = finance.page(f"/instances/{second}").get_data(as_text=True)
    assert f'id="fix-{incident.id}"' in page and 'name="value.ntpn"' in page
    assert 'name="variables"' not in page  # the JSON box is an admin's
    assert f'value="{NTPN}"' in page  # the current value, to correct
    answer = finance.post(f"/incidents/{incident.id}/fix", {"value.ntpn": "9Z8Y7X6W5V4U3T2S"})
    assert answer.status_code == 302
    (bill,) = driver.invoices(driver.business_key(second) or "")
    assert (bill.state, bill.ntpn) == ("lunas", "9Z8Y7X6W5V4U3T2S")
    assert driver.status(second) == "running"
    assert driver.ready_ids(second) == ["p_siapkan_perjanjian"]
