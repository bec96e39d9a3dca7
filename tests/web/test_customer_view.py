"""What the LSPro's customers and staff see of an application, with the real processes.

A customer's instance page tells the application's progress in milestones (from
the ``milestone`` properties in processes/), what is asked of them and their
deadlines, never a diagram; the documents a customer sees follow the LSPro's
visibility table, through the pages and the REST API alike (404 for an internal
one); the pages a customer and a non-admin staff member read carry no process
key, element id, UUID or JSON; the deployment pages are the analysts' and
admins' only.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from api import create_app
from api.web import formatting
from engine.composition import Engine
from engine.models import Document
from engine.time.clock import FrozenClock
from tests.pdfread import pdf_text
from tests.people import PASSWORD, add_users
from tests.processes.driver import Driver
from tests.processes.entries import ALWAYS, ENTRIES, USERS
from tests.web.conftest import Browser

COMPANY = "PT Contoh Pangan Sejahtera"
BISKUIT = {
    "produk": "BISKUIT", "sni": "SNI 2973:2022", "tipe_skema": "5",
    "jenis_permohonan": "baru", "makloon": False, "merek_milik_sendiri": True,
    "merek_kemasan": [{"merek": "Kukis Nyiur", "kemasan": "kotak karton 300 g"}],
}
CUSTOMER = USERS["pelanggan"]
CLERK = USERS["administrasi"]  # staff, neither admin nor analyst
ANALYST = "analis.proses"
ADMIN = "admin.lspro"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SCRIPT = re.compile(r"<(script|style)\b.*?</\1>", re.DOTALL | re.IGNORECASE)
TAG = re.compile(r"<[^>]+>")


@pytest.fixture
def driver(lspro_engine: Engine, clock: FrozenClock) -> Driver:
    driver = Driver(lspro_engine, clock, defaults=ENTRIES)
    driver.deploy()
    users: dict[str, tuple[list[str], str | None]] = {
        name: ([role], COMPANY if role == "pelanggan" else None)
        for role, name in USERS.items()}
    users[ANALYST] = (["analyst"], None)
    users[ADMIN] = (["admin"], None)
    add_users(lspro_engine, users)
    return driver


@pytest.fixture
def app(driver: Driver) -> Flask:
    return create_app(driver.engine.settings, engine=driver.engine, TESTING=True)


@pytest.fixture
def signed_in(app: Flask) -> Iterator[Any]:
    def make(username: str) -> Browser:
        browser = Browser(app.test_client())
        assert browser.sign_in(username).status_code == 302
        browser.csrf = None
        return browser
    yield make


def visible_text(page: str) -> str:
    """What a reader sees: the page without its scripts, styles, tags and attributes."""
    return html.unescape(TAG.sub(" ", SCRIPT.sub(" ", page)))


def technical_values(driver: Driver, text: str) -> list[str]:
    """Process keys, element ids, UUIDs and JSON found in ``text``."""
    with driver.engine.read() as s:
        definitions = s.deployments.definitions(latest=True)
        keys = {d.key for d in definitions}
        ids = set()
        for d in definitions:
            xml = s.deployments.get(d.id).bpmn_xml
            ids |= set(re.findall(r'<bpmn:(?:\w*Task|callActivity|\w*Event|\w*Gateway|'
                                  r'subProcess)\s+id="([^"]+)"', xml))
    found = [m.group(0) for m in UUID.finditer(text)]
    found += [w for w in sorted(keys | ids) if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])",
                                                        text)]
    if '{"' in text:
        found.append(text[text.index('{"') - 40:text.index('{"') + 40])
    return found


def status(client: Any, path: str, **kwargs: Any) -> int:
    """The status of a GET, its body (a download's open file) closed."""
    answer = client.get(path, **kwargs)
    answer.close()
    return int(answer.status_code)


def to_agreement(driver: Driver, clock: FrozenClock) -> str:
    """A customer's application up to their signing of the agreement (their task)."""
    instance_id = driver.start("permohonan_sertifikasi", actor=CUSTOMER, company=COMPANY)
    driver.complete(instance_id, "p_ajukan_permohonan", BISKUIT,
                    documents=(*ALWAYS, "bukti_smm_cppob"))
    driver.complete(instance_id, "p_periksa_kelengkapan", {"dokumen_lengkap": True})
    driver.complete(instance_id, "p_kaji_ulang_permohonan", {
        "permohonan_diterima": True, "catatan_kaji_ulang": "Sesuai ruang lingkup."})
    return instance_id


def test_the_customer_reads_milestones_asks_and_deadlines_not_diagrams(
        driver: Driver, clock: FrozenClock, signed_in: Any) -> None:
    instance_id = to_agreement(driver, clock)
    customer = signed_in(CUSTOMER)

    # Waiting for the payment: step 4 of 14, the pay-by time among the deadlines.
    page = customer.page(f"/instances/{instance_id}").get_data(as_text=True)
    assert 'id="diagram-card"' not in page and "bpmn-navigated-viewer" not in page
    text = visible_text(page)
    assert "Tahap 4 dari 14" in text, text
    milestones = re.findall(r'<li class="milestone ([\w-]+)"[^>]*>([^<]+)<', page)
    assert [label.strip() for _, label in milestones][:5] == [
        "Pengajuan permohonan", "Pemeriksaan kelengkapan dokumen", "Kaji ulang permohonan",
        "Pembayaran e-Billing", "Perjanjian kerja sama"]
    assert [state for state, _ in milestones][:5] == ["done", "done", "done", "current",
                                                      "to-come"]
    assert milestones[-1][1].strip() == "Penyerahan sertifikat"
    (timer,) = driver.timers(instance_id)
    deadlines = page[page.index('id="deadlines"'):]
    assert "Batas pembayaran terlampaui" in deadlines
    assert formatting.moment(timer.due_at, "id", driver.engine.calendar.timezone) in deadlines[:600]

    # Paid, the agreement prepared: the customer's task is asked of them, with its link.
    clock.advance(timedelta(hours=2))
    driver.pay(instance_id)
    driver.complete(instance_id, "p_siapkan_perjanjian", {"catatan_perjanjian": "Mohon."})
    task = driver.task_of(instance_id, "p_tandatangani_perjanjian")
    page = customer.page(f"/instances/{instance_id}").get_data(as_text=True)
    assert "Tahap 5 dari 14" in visible_text(page)
    asked = page[page.index('id="asked"'):page.index('id="recent"')]
    assert f'href="/tasks/{task.id}"' in asked and "Tandatangani perjanjian" in asked
    assert "Pembayaran diterima" in visible_text(page[page.index('id="recent"'):])

    # Staff keep the diagram with the current step, and read variables in words.
    clerk = signed_in(CLERK)
    page = clerk.page(f"/instances/{instance_id}").get_data(as_text=True)
    assert 'id="diagram-card"' in page and 'id="progress"' not in page
    rows = dict(re.findall(r"<tr><th>([^<]+)</th><td>([^<]*)</td></tr>",
                           page[page.index('id="variable-table"'):]))
    assert rows["Status tagihan"] == "Lunas"  # not the code "lunas"
    assert rows["Tipe skema"].startswith("Tipe 5 (uji produk")  # not "5"
    assert 'id="variables-json"' not in page  # raw JSON is for admins
    assert instance_id not in visible_text(page)
    page = signed_in(ADMIN).page(f"/instances/{instance_id}").get_data(as_text=True)
    assert 'id="variables-json"' in page and instance_id in visible_text(page)


def test_read_only_fields_show_codes_in_words(driver: Driver, clock: FrozenClock,
                                              signed_in: Any) -> None:
    instance_id = to_agreement(driver, clock)
    driver.pay(instance_id)
    task = driver.task_of(instance_id, "p_siapkan_perjanjian")
    page = signed_in(USERS["upp"]).page(f"/tasks/{task.id}").get_data(as_text=True)
    config = json.loads(html.unescape(
        re.search(r'id="task-config">(.*?)</script>', page, re.DOTALL).group(1)))
    assert config["data"]["status_tagihan"] == "Lunas"
    assert config["documents"]  # the instance's documents, for read-only file fields


def test_internal_documents_are_not_the_customers_to_see(
        driver: Driver, clock: FrozenClock, signed_in: Any, app: Flask) -> None:
    instance_id = to_agreement(driver, clock)
    driver.pay(instance_id)
    driver.complete(instance_id, "p_siapkan_perjanjian", {"catatan_perjanjian": "Mohon."})
    driver.complete(instance_id, "p_tandatangani_perjanjian", {},
                    documents=("perjanjian_ditandatangani",))
    driver.complete(instance_id, "s01_teruskan_dokumen_kerjasama")
    driver.complete(instance_id, "s02_tugaskan_subkoordinator")  # the impartiality declaration
    documents: dict[str | None, Document] = {d.field: d for d in driver.documents(instance_id)}
    internal = documents["dok_pernyataan_ketidakberpihakan"]
    own = documents["dok_perjanjian_ditandatangani"]
    letter = documents["dokumen_perjanjian_kerjasama"]

    customer = signed_in(CUSTOMER)
    page = customer.page(f"/instances/{instance_id}").get_data(as_text=True)
    listed = page[page.index('id="documents"'):]
    assert internal.id not in listed and internal.name not in listed
    assert own.id in listed and letter.id in listed
    assert status(customer.client, f"/documents/{internal.id}") == 404
    assert status(customer.client, f"/documents/{own.id}") == 200
    assert status(customer.client, f"/documents/{letter.id}") == 200

    # The REST API: the same rule, and 404 (not 403) so the document's existence does not leak.
    api = app.test_client()
    token = api.post("/api/v1/auth/token",
                     json={"username": CUSTOMER, "password": PASSWORD})
    assert token.status_code == 201, token.get_data(as_text=True)
    auth = {"Authorization": f"Bearer {token.get_json()['token']}"}
    answer = api.get(f"/api/v1/process-instances/{instance_id}/documents?per_page=100",
                     headers=auth)
    ids = {d["id"] for d in answer.get_json()["items"]}
    assert internal.id not in ids and {own.id, letter.id} <= ids
    assert status(api, f"/api/v1/documents/{internal.id}", headers=auth) == 404
    assert status(api, f"/api/v1/documents/{letter.id}", headers=auth) == 200
    history = api.get(f"/api/v1/process-instances/{instance_id}/history?per_page=200",
                      headers=auth).get_json()["items"]
    mentioned = {(e.get("data") or {}).get("document_id") for e in history}
    assert internal.id not in mentioned and own.id in mentioned
    missing = api.get("/api/v1/documents/00000000-0000-4000-8000-000000000000", headers=auth)
    refused = api.get(f"/api/v1/documents/{internal.id}", headers=auth)
    assert refused.get_json()["title"] == missing.get_json()["title"]

    # Staff see every document.
    clerk = signed_in(CLERK)
    page = clerk.page(f"/instances/{instance_id}").get_data(as_text=True)
    assert internal.id in page[page.index('id="documents"'):]
    assert status(clerk.client, f"/documents/{internal.id}") == 200


def test_a_letter_still_being_made_is_listed_as_such_and_its_download_makes_it(
        driver: Driver, clock: FrozenClock, signed_in: Any, app: Flask) -> None:
    instance_id = to_agreement(driver, clock)
    driver.pay(instance_id)
    driver.complete(instance_id, "p_siapkan_perjanjian", {"catatan_perjanjian": "Mohon."})
    letter = {d.field: d for d in driver.documents(instance_id)}["dokumen_perjanjian_kerjasama"]
    assert not letter.ready  # the agreement letter's PDF is made after the command

    customer = signed_in(CUSTOMER)
    page = customer.page(f"/instances/{instance_id}").get_data(as_text=True)
    listed = page[page.index('id="documents"'):]
    entry = listed[listed.index(letter.id):]
    assert "sedang disiapkan" in entry[:entry.index("</li>")]
    api = app.test_client()
    token = api.post("/api/v1/auth/token", json={"username": CUSTOMER, "password": PASSWORD})
    auth = {"Authorization": f"Bearer {token.get_json()['token']}"}
    items = api.get(f"/api/v1/process-instances/{instance_id}/documents?per_page=100",
                    headers=auth).get_json()["items"]
    assert [(d["size"], d["sha256"], d["ready"]) for d in items if d["id"] == letter.id] == [
        (None, None, False)]

    answer = api.get(f"/api/v1/documents/{letter.id}", headers=auth)
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    content = answer.get_data()
    answer.close()
    assert content.startswith(b"%PDF") and "Perjanjian" in pdf_text(content)
    page = customer.page(f"/instances/{instance_id}").get_data(as_text=True)
    entry = page[page.index(letter.id):]
    assert "sedang disiapkan" not in entry[:entry.index("</li>")]
    assert "KiB" in entry[:entry.index("</li>")]
    made = {d.id: d for d in driver.documents(instance_id)}[letter.id]
    assert made.ready and made.size == len(content)


def test_pages_show_no_process_key_element_id_uuid_or_json(
        driver: Driver, clock: FrozenClock, signed_in: Any) -> None:
    instance_id = to_agreement(driver, clock)
    driver.pay(instance_id)
    front_office = driver.task_of(instance_id, "p_siapkan_perjanjian")
    pages = [(signed_in(USERS["upp"]), f"/tasks/{front_office.id}"),
             (signed_in(CLERK), f"/instances/{instance_id}")]
    for who, path in pages:  # staff, before the step is done
        answer = who.page(path)
        assert answer.status_code == 200, path
        found = technical_values(driver, visible_text(answer.get_data(as_text=True)))
        assert found == [], (path, found)
    driver.complete(instance_id, "p_siapkan_perjanjian", {"catatan_perjanjian": "Mohon."})
    task = driver.task_of(instance_id, "p_tandatangani_perjanjian")
    customer = signed_in(CUSTOMER)
    assert 'id="diagram-card"' not in customer.page(f"/tasks/{task.id}").get_data(as_text=True)
    pages = [(customer, "/applications"), (customer, f"/instances/{instance_id}"),
             (customer, f"/tasks/{task.id}"), (signed_in(CLERK), f"/instances/{instance_id}")]
    for who, path in pages:
        answer = who.page(path)
        assert answer.status_code == 200, path
        found = technical_values(driver, visible_text(answer.get_data(as_text=True)))
        assert found == [], (path, found)


def test_the_service_clock_says_why_it_stands(driver: Driver, clock: FrozenClock,
                                              signed_in: Any) -> None:
    instance_id = to_agreement(driver, clock)  # waiting for the bank: no staff work

    def state() -> str:
        clerk = signed_in(CLERK)  # signed in afresh: the clock jumps past a session's life
        page = clerk.page(f"/instances/{instance_id}").get_data(as_text=True)
        found = re.search(r'id="clock-state">([^<]+)<', page)
        assert found is not None
        return found.group(1)

    assert state() == "berhenti (giliran pelanggan/lab)"
    driver.pay(instance_id)  # the front office prepares the agreement now
    local = driver.engine.settings.timezone
    monday = datetime(2027, 3, 15, 10, 0, tzinfo=local)
    clock.set(monday)
    assert state() == "berjalan (giliran LSPro)"
    # The LSPro has work, but the clock stands at night, on a Saturday and on a
    # public holiday (Monday 8 March 2027): not the customer's or the lab's turn.
    for moment in (monday.replace(hour=22), monday + timedelta(days=5),
                   datetime(2027, 3, 8, 10, 0, tzinfo=local)):
        clock.set(moment)
        assert state() == "berhenti (di luar jam kerja LSPro)", moment


def test_deployments_are_for_analysts_and_admins(driver: Driver, signed_in: Any,
                                                 app: Flask) -> None:
    # /engine-rest (Camunda Modeler): the connection check answers any signed-in user;
    # the list of deployments, like deploying, is the analysts' and admins'.
    rest = app.test_client()

    def basic(user: str) -> dict[str, str]:
        token = base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    assert status(rest, "/engine-rest/deployment?maxResults=0", headers=basic(CLERK)) == 200
    assert status(rest, "/engine-rest/deployment", headers=basic(CLERK)) == 403
    assert status(rest, "/engine-rest/deployment", headers=basic(ANALYST)) == 200

    clerk = signed_in(CLERK)
    assert status(clerk.client, "/deployments") == 403
    assert 'href="/deployments"' not in clerk.page("/tasks").get_data(as_text=True)
    analyst = signed_in(ANALYST)
    assert status(analyst.client, "/deployments") == 200
    assert status(signed_in(ADMIN).client, "/deployments") == 200
    assert 'href="/deployments"' in analyst.page("/tasks").get_data(as_text=True)
