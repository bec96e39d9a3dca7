"""The other pages: per role, the customer's view, dashboard, deployments, certificates."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from engine.composition import Engine
from engine.models import ProcessDefinition, ProcessInstance
from engine.queries.monitoring import Monitoring
from engine.time.clock import FrozenClock
from lspro.certificates import CertificateRegister
from tests.people import COMPANY, OTHER_COMPANY
from tests.settings import LSPRO

from . import sample
from .conftest import Browser
from .driving import complete_first_step, start, task_of

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "api" / "web" / "templates"
PAGES = ["/tasks", "/start", "/certificates", "/verify"]
STAFF_PAGES = ["/instances", "/dashboard", "/deployments"]


@pytest.mark.parametrize("username", ["cust1", "upp1", "auditor1", "admin1", "analyst1"])
def test_every_page_renders_for_every_role(browser: Any, web_engine: Engine,
                                           username: str) -> None:
    instance_id = start(web_engine)
    complete_first_step(web_engine, browser("cust1"), instance_id)
    user: Browser = browser(username)
    customer = username == "cust1"
    for path in [*PAGES, "/applications", f"/instances/{instance_id}"]:
        answer = user.page(path)
        assert answer.status_code == 200, (path, answer.get_data(as_text=True)[:500])
        assert f">{username}" in answer.get_data(as_text=True)  # the signed-in user shown
    # Deployments are the analysts' and admins' (issue 19); other staff get 403.
    deployer = username in ("admin1", "analyst1")
    for path in STAFF_PAGES:
        answer = user.page(path)
        if customer or (path == "/deployments" and not deployer):
            assert answer.status_code in (302, 403), path
        else:
            assert answer.status_code == 200, path
    nav = user.page("/tasks").get_data(as_text=True).split("</nav>")[0]
    assert ('href="/dashboard"' in nav) is not customer
    assert ('href="/applications"' in nav) is customer
    assert ('href="/deployments"' in nav) is deployer


def test_customer_sees_applications_steps_tasks_and_certificates(
        browser: Any, web_engine: Engine) -> None:
    waiting = start(web_engine, business_key="PRM-2027-00001")
    checked = start(web_engine, business_key="PRM-2027-00002")
    complete_first_step(web_engine, browser("cust1"), checked)
    start(web_engine, company=OTHER_COMPANY, business_key="PRM-2027-00003", by="cust2")
    with web_engine.write() as s:
        register = CertificateRegister(s.session, web_engine.clock, LSPRO)
        mine = register.issue(company=COMPANY, product_code="AIR_MINERAL",
                              sni="SNI 3553:2023", scheme_type=5,
                              brands=[{"merek": "Segar", "kemasan": "botol 600 ml"}])
        theirs = register.issue(company=OTHER_COMPANY, product_code="AIR_MINERAL",
                                sni="SNI 3553:2023", scheme_type=5,
                                brands=[{"merek": "Jernih", "kemasan": "galon"}])
    page = browser("cust1").page("/applications").get_data(as_text=True)
    asked = page.split('id="asked-of-me"')[1].split("</section>")[0]
    first = task_of(web_engine, waiting, sample.FIRST)
    assert f"/tasks/{first.id}" in asked and "Isi data permohonan" in asked
    assert "Periksa permohonan" not in asked  # the front office's turn, not theirs
    rows = re.findall(r'<tr data-instance-id="([^"]+)"', page)
    assert set(rows) == {waiting, checked}
    assert "PRM-2027-00003" not in page
    assert "giliran Anda" in page and "Periksa permohonan" in page
    certificates = page.split('id="my-certificates"')[1]
    assert mine.number in certificates and theirs.number not in certificates
    # The register shows them only their company's, and 404 for another's.
    customer: Browser = browser("cust1")
    register_page = customer.page("/certificates").get_data(as_text=True)
    assert mine.number in register_page and theirs.number not in register_page
    assert customer.page(f"/certificates/{theirs.id}").status_code == 404
    detail = customer.page(f"/certificates/{mine.id}").get_data(as_text=True)
    assert "Segar (botol 600 ml)" in detail
    # The history in words, not the register's event codes.
    assert "<td>diterbitkan</td>" in detail and "<td>issued</td>" not in detail


def test_public_lookup_needs_no_sign_in(app: Any, web_engine: Engine) -> None:
    with web_engine.write() as s:
        register = CertificateRegister(s.session, web_engine.clock, LSPRO)
        valid = register.issue(company=COMPANY, product_code="AIR_MINERAL", sni="SNI 3553:2023",
                               scheme_type=5, brands=[{"merek": "Segar", "kemasan": "botol"}])
        gone = register.issue(company=OTHER_COMPANY, product_code="AIR_MINERAL",
                              sni="SNI 3553:2023", scheme_type=5,
                              brands=[{"merek": "Keruh", "kemasan": "gelas"}])
        register.revoke(gone.number, "tidak_membayar", actor="kepala-balai")
    client = app.test_client()
    found = client.get(f"/verify?number={valid.number}")
    text = found.get_data(as_text=True)
    assert found.status_code == 200
    assert "Sertifikat sah dan berlaku" in text and COMPANY in text
    revoked = client.get(f"/verify?number={gone.number}&lang=en").get_data(as_text=True)
    assert "registered but not valid" in revoked and 'id="verify-state">revoked<' in revoked
    # The published list of revoked certificates is on the page for everyone.
    assert gone.number in revoked.split('id="revoked"')[1]
    # People type numbers as they read them: any letter case, spaces around slashes.
    typed = valid.number.lower().replace("/", " / ")
    assert "Sertifikat sah dan berlaku" in client.get(
        "/verify", query_string={"number": typed, "lang": "id"}).get_data(as_text=True)
    unknown = client.get("/verify?number=9999/XX/1/2027&lang=id")
    assert unknown.status_code == 404
    assert "Tidak ada sertifikat bernomor" in unknown.get_data(as_text=True)
    assert client.get("/certificates").status_code == 302  # the register needs a sign-in


def test_deployments_page_lists_versions_and_shows_refusals(browser: Any,
                                                            web_engine: Engine) -> None:
    analyst: Browser = browser("analyst1")
    page = analyst.page("/deployments").get_data(as_text=True)
    assert 'data-key="web_demo"' in page and 'id="deploy-form"' in page
    broken = sample.BPMN.replace('sourceRef="periksa" targetRef="selesai"',
                                 'sourceRef="periksa" targetRef="nowhere"')
    refused = analyst.post("/deployments", {"files": (io.BytesIO(broken.encode()),
                                                      "web_demo.bpmn")},
                           content_type="multipart/form-data")
    assert refused.status_code == 422
    problems = refused.get_data(as_text=True).split('id="deploy-problems"')[1]
    # File, line, element and message: the flow that leads nowhere, by name.
    line = 1 + broken[:broken.index('<bpmn:sequenceFlow id="f3"')].count("\n")
    assert re.search(rf'<td>web_demo.bpmn</td><td class="num">{line}</td><td>f3</td>'
                     r"<td>[^<]*names &#39;nowhere&#39; as its targetRef", problems), problems
    assert "cannot be reached" not in problems
    with web_engine.read() as s:
        assert s.session.scalar(sa.select(sa.func.count()).select_from(ProcessDefinition)) == 1
    changed = sample.BPMN.replace('name="Periksa permohonan"', 'name="Periksa berkas"')
    accepted = analyst.post("/deployments", {"files": [
        (io.BytesIO(changed.encode()), "web_demo.bpmn"),
        (io.BytesIO(sample.FIRST_FORM.encode()), "isi_data.form")]},
        content_type="multipart/form-data")
    text = accepted.get_data(as_text=True)
    assert accepted.status_code == 200
    result = text.split('id="deploy-result"')[1].split("</section>")[0]
    assert "web_demo</strong> v2 — versi baru" in result
    assert "isi_data</strong> v1 — tidak berubah" in result
    assert re.search(r'data-key="web_demo">.*?v2</span><span class="version"[^>]*>v1<', text,
                     re.S)
    # Deploying needs the analyst or admin role; others only look.
    clerk: Browser = browser("upp1")
    assert 'id="deploy-form"' not in clerk.page("/deployments").get_data(as_text=True)
    assert clerk.post("/deployments", {"files": (io.BytesIO(changed.encode()), "x.bpmn")},
                      content_type="multipart/form-data").status_code == 403
    empty = analyst.post("/deployments", {}, content_type="multipart/form-data")
    assert empty.status_code == 422


def test_dashboard_figures(browser: Any, web_engine: Engine, clock: FrozenClock) -> None:
    customer: Browser = browser("cust1")
    late_one = start(web_engine)
    complete_first_step(web_engine, customer, late_one)
    on_time = start(web_engine)
    second = complete_first_step(web_engine, customer, on_time)
    clerk: Browser = browser("upp1")
    clerk.page(f"/tasks/{second}")
    assert clerk.post_json(f"/tasks/{second}/complete",
                           {"variables": {"diterima": "ya"}}).status_code == 200
    clock.advance(timedelta(hours=4))
    page = browser("admin1").page("/dashboard").get_data(as_text=True)
    assert 'id="tile-running">1<' in page and 'id="tile-overdue">1<' in page
    by_role = page.split('id="overdue-by-role"')[1].split("</section>")[0]
    assert re.search(r">upp</a></td><td class=\"num\">1<", by_role)
    steps = page.split('id="steps"')[1].split("</section>")[0]
    assert "Periksa permohonan" in steps
    # This week: three tasks done, all on time (the chart draws one bar at 100 %).
    chart = page.split('id="sla-chart"')[1].split("</section>")[0]
    assert chart.count('<rect class="bar') == 1 and ">100%</text>" in chart
    with web_engine.read() as s:
        weeks = Monitoring(s.session, clock, web_engine.settings.timezone).sla_compliance(8)
    assert [(w.completed, w.on_time) for w in weeks][-1] == (3, 3)
    assert all(w.completed == 0 for w in weeks[:-1])
    # Completing the overdue task late counts as late in its week.
    late_task = task_of(web_engine, late_one, sample.SECOND)
    clerk.page(f"/tasks/{late_task.id}")
    clerk.post_json(f"/tasks/{late_task.id}/complete", {"variables": {"diterima": "tidak"}})
    with web_engine.read() as s:
        monitoring = Monitoring(s.session, clock, web_engine.settings.timezone)
        week = monitoring.sla_compliance(8)[-1]
        assert monitoring.overdue_by_role() == {}
    assert (week.completed, week.on_time, week.late) == (4, 3, 1)
    assert week.compliance == 0.75
    assert browser("cust1").page("/dashboard").status_code == 403


def test_starting_a_process_from_the_page(browser: Any, web_engine: Engine) -> None:
    customer: Browser = browser("cust1")
    page = customer.page("/start").get_data(as_text=True)
    assert 'data-key="web_demo"' in page and 'name="company"' not in page
    answer = customer.post("/start/web_demo")
    assert answer.status_code == 302
    with web_engine.read() as s:
        (instance,) = s.session.scalars(sa.select(ProcessInstance)).all()
    assert instance.company == COMPANY and instance.started_by == "cust1"
    first = task_of(web_engine, instance.id, sample.FIRST)
    assert answer.headers["Location"] == f"/tasks/{first.id}"  # straight to their task
    # Staff name the company; with no task of theirs they land on the instance.
    clerk: Browser = browser("upp1")
    assert 'name="company"' in clerk.page("/start").get_data(as_text=True)
    started = clerk.post("/start/web_demo", {"company": "PT Baru", "business_key": "PRM-X"})
    assert started.headers["Location"].startswith("/instances/")
