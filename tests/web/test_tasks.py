"""The task list and the task page: filters, badges, the form's data, commands, access."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from engine.composition import Engine
from engine.models import Document, HistoryEvent, ProcessInstance
from engine.time.clock import FrozenClock
from tests.instances import history
from tests.people import OTHER_COMPANY

from . import sample
from .conftest import Browser
from .driving import GOOD, complete_first_step, config_of, start, task_of, upload


def test_task_page_gives_the_viewer_the_form_and_the_current_values(
        browser: Any, web_engine: Engine) -> None:
    instance_id = start(web_engine)
    customer: Browser = browser("cust1")
    second = complete_first_step(web_engine, customer, instance_id)
    clerk: Browser = browser("upp1")
    page = clerk.page(f"/tasks/{second}").get_data(as_text=True)
    config = config_of(page)
    assert config["schema"]["id"] == sample.SECOND
    assert [c["key"] for c in config["schema"]["components"]] == [
        "nomor_produk", "jumlah", "diterima", "catatan_upp"]
    # Only the form's fields, with the values the instance holds now.
    assert config["data"] == {"nomor_produk": "ABC-123", "jumlah": 3}
    assert config["readOnly"] is False
    assert config["completeUrl"] == f"/tasks/{second}/complete"
    assert "/web/vendor/form-viewer.js" in page and "/web/vendor/bpmn-navigated-viewer.js" in page
    # Its documents, its history so far, and the diagram with this step marked current.
    assert "surat.pdf" in page
    assert "Tugas selesai" in page and "Dokumen diunggah" in page
    diagrams = json.loads(re.search(
        r'id="diagram-data">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    assert diagrams[0]["key"] == sample.KEY
    assert diagrams[0]["markers"][sample.SECOND] == ["sf-active", "sf-current"]
    assert diagrams[0]["markers"][sample.FIRST] == ["sf-completed"]
    assert diagrams[0]["markers"]["ingatkan"] == ["sf-timer"]


def test_server_errors_come_back_per_field_and_nothing_changes(
        browser: Any, web_engine: Engine) -> None:
    instance_id = start(web_engine)
    task = task_of(web_engine, instance_id, sample.FIRST)
    customer: Browser = browser("cust1")
    customer.page(f"/tasks/{task.id}")
    answer = customer.post_json(f"/tasks/{task.id}/complete", {"variables": {
        "nomor_produk": "xABC-123x", "jumlah": 99, "jenis": "lain",
        "dok_surat": {"id": "nope", "sha256": "0" * 64, "name": "x.pdf"}}})
    assert answer.status_code == 422
    assert answer.mimetype == "application/problem+json"
    errors = {e["field"]: e["message"] for e in answer.get_json()["errors"]}
    # In the page's language; a format problem gives the field's help text, not the pattern.
    assert errors == {
        "nomor_produk": "Format tidak sesuai: Tiga huruf besar, tanda hubung dan tiga angka, "
                        "misalnya ABC-123.",
        "jumlah": "Paling besar 50.",
        "jenis": "Bukan salah satu pilihan.",
    }
    # A document reference that was never uploaded is refused too.
    answer = customer.post_json(f"/tasks/{task.id}/complete", {"variables": {
        **GOOD, "dok_surat": {"id": "nope", "sha256": "0" * 64, "name": "x.pdf"}}})
    assert answer.status_code == 422
    assert [e["field"] for e in answer.get_json()["errors"]] == ["dok_surat"]
    assert task_of(web_engine, instance_id, sample.FIRST).state == "ready"
    with web_engine.read() as s:
        kinds = s.session.scalars(sa.select(HistoryEvent.kind)
                                  .where(HistoryEvent.instance_id == instance_id)).all()
    assert "task_completed" not in kinds


def test_completing_records_the_values_and_leads_to_the_next_step(
        browser: Any, web_engine: Engine) -> None:
    instance_id = start(web_engine)
    customer: Browser = browser("cust1")
    task = task_of(web_engine, instance_id, sample.FIRST)
    customer.page(f"/tasks/{task.id}")
    reference = upload(customer, task.id)
    answer = customer.post_json(f"/tasks/{task.id}/complete",
                                {"variables": {**GOOD, "dok_surat": reference,
                                               "not_in_form": "dropped"}})
    body = answer.get_json()
    # The next step is the front office's, so the customer goes back to the list.
    assert body["redirect"] == "/tasks" and body["instance_status"] == "running"
    second = task_of(web_engine, instance_id, sample.SECOND)
    assert body["next_tasks"] == [second.id] and second.candidate_groups == ["upp"]
    [event] = [e for e in history(web_engine, instance_id) if e.kind == "task_completed"]
    with web_engine.read() as s:
        document = s.session.scalars(sa.select(Document)).one()
    assert (event.actor, event.element_id) == ("cust1", sample.FIRST)
    # Only the form's fields are stored: the unknown key was dropped.
    assert event.data["variables"] == {**GOOD, "dok_surat": reference}
    assert (document.field, document.task_id, document.uploaded_by) == (
        "dok_surat", task.id, "cust1")
    done = task_of(web_engine, instance_id, sample.FIRST)
    assert (done.state, done.completed_by) == ("completed", "cust1")


def test_claim_and_unclaim_through_the_page(browser: Any, web_engine: Engine) -> None:
    instance_id = start(web_engine)
    second = complete_first_step(web_engine, browser("cust1"), instance_id)
    clerk: Browser = browser("upp1")
    clerk.page(f"/tasks/{second}")
    answer = clerk.post(f"/tasks/{second}/claim")
    assert answer.status_code == 302
    assert task_of(web_engine, instance_id, sample.SECOND).assignee == "upp1"
    page = clerk.page(f"/tasks/{second}").get_data(as_text=True)
    assert "Tugas sudah Anda ambil" in page and 'id="unclaim"' in page
    # A colleague of the same role sees it claimed, read-only, and cannot complete it.
    other: Browser = browser("upp2")
    page = other.page(f"/tasks/{second}").get_data(as_text=True)
    assert "sedang dikerjakan oleh upp1" in page
    assert config_of(page)["readOnly"] is True
    refused = other.post_json(f"/tasks/{second}/complete", {"variables": {"diterima": "ya"}})
    assert refused.status_code == 409
    assert other.post(f"/tasks/{second}/unclaim").status_code == 403
    assert clerk.post(f"/tasks/{second}/unclaim").status_code == 302
    assert task_of(web_engine, instance_id, sample.SECOND).assignee is None
    with web_engine.read() as s:
        kinds = s.session.scalars(sa.select(HistoryEvent.kind).where(
            HistoryEvent.element_id == sample.SECOND).order_by(HistoryEvent.id)).all()
    assert kinds == ["task_claimed", "task_unclaimed"]


def test_a_customer_cannot_reach_another_companys_work(browser: Any,
                                                       web_engine: Engine) -> None:
    instance_id = start(web_engine)
    customer: Browser = browser("cust1")
    task = task_of(web_engine, instance_id, sample.FIRST)
    customer.page(f"/tasks/{task.id}")
    reference = upload(customer, task.id)
    stranger: Browser = browser("cust2")
    for path in (f"/tasks/{task.id}", f"/instances/{instance_id}",
                 f"/documents/{reference['id']}"):
        answer = stranger.page(path)
        assert answer.status_code == 404, path
        assert "Tidak ditemukan" in answer.get_data(as_text=True)
    assert stranger.post(f"/tasks/{task.id}/claim").status_code == 404
    refused = stranger.post_json(f"/tasks/{task.id}/complete", {"variables": GOOD})
    assert refused.status_code == 404
    # Nor does it appear in their lists.
    assert task.id not in stranger.page("/tasks").get_data(as_text=True)
    assert instance_id not in stranger.page("/applications").get_data(as_text=True)
    # The owner downloads it.
    download = customer.page(f"/documents/{reference['id']}")
    assert download.status_code == 200 and download.get_data() == sample.PDF
    # A PDF opens in the browser's viewer, in a sandbox, never sniffed.
    assert download.headers["Content-Disposition"] == "inline; filename=surat.pdf"
    assert download.headers["Content-Security-Policy"] == "sandbox"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    download.close()


def test_staff_of_another_role_do_not_see_a_task_and_admins_may_act_on_any(
        browser: Any, web_engine: Engine) -> None:
    instance_id = start(web_engine)
    second = complete_first_step(web_engine, browser("cust1"), instance_id)
    auditor: Browser = browser("auditor1")
    assert auditor.page(f"/tasks/{second}").status_code == 404  # not theirs to see
    admin: Browser = browser("admin1")
    page = admin.page(f"/tasks/{second}").get_data(as_text=True)  # admins see every task
    assert "Anda hanya dapat melihat tugas ini" not in page
    assert admin.post_json(f"/tasks/{second}/complete",
                           {"variables": {"diterima": "ya"}}).status_code == 200


def test_task_list_filters_sorts_pages_and_counts(browser: Any, web_engine: Engine,
                                                  clock: FrozenClock) -> None:
    customer: Browser = browser("cust1")
    seconds = []
    for number in range(3):
        instance_id = start(web_engine, business_key=f"PRM-2027-0000{number}")
        seconds.append(complete_first_step(web_engine, customer, instance_id))
        clock.advance(timedelta(minutes=10))
    other = start(web_engine, company=OTHER_COMPANY, business_key="PRM-2027-00009", by="cust2")
    seconds.append(complete_first_step(web_engine, browser("cust2"), other))
    clerk: Browser = browser("upp1")
    clerk.page(f"/tasks/{seconds[0]}")
    clerk.post(f"/tasks/{seconds[0]}/claim")

    def rows(path: str) -> list[str]:
        page = clerk.page(path).get_data(as_text=True)
        return re.findall(r'<tr data-task-id="([^"]+)"', page)

    page = clerk.page("/tasks").get_data(as_text=True)
    assert rows("/tasks") == seconds  # soonest due first
    assert 'id="count-mine">1<' in page and 'id="count-open">3<' in page
    assert "4 tugas" in page
    assert rows("/tasks?sort=-due") == seconds[::-1]
    assert rows("/tasks?view=mine") == seconds[:1]
    assert rows("/tasks?view=open") == seconds[1:]
    assert rows("/tasks?q=prm-2027-00001") == seconds[1:2]
    assert rows("/tasks?q=lain") == seconds[3:]  # part of the company name
    assert rows("/tasks?role=upp&key=web_demo") == seconds
    assert rows("/tasks?role=auditor") == []
    assert rows("/tasks?due=today") == seconds
    assert rows("/tasks?due=overdue") == []
    # A colleague's list leaves out the task upp1 claimed, unless asked for everything.
    colleague: Browser = browser("upp2")
    listed = colleague.page("/tasks").get_data(as_text=True)
    assert re.findall(r'<tr data-task-id="([^"]+)"', listed) == seconds[1:]
    everything = colleague.page("/tasks?view=everything").get_data(as_text=True)
    assert re.findall(r'<tr data-task-id="([^"]+)"', everything) == seconds
    claimed_row = re.search(rf'data-task-id="{seconds[0]}"[^>]*>(.*?)</tr>', everything, re.S)
    assert claimed_row is not None and "<td>upp1</td>" in claimed_row.group(1)
    # Badges: due in three hours is "due soon"; past it, "overdue".
    assert page.count('class="badge due-soon"') == 4
    clock.advance(timedelta(hours=4))
    page = clerk.page("/tasks").get_data(as_text=True)
    assert page.count('class="badge overdue"') == 4
    assert rows("/tasks?due=overdue") == seconds
    assert 'id="count-overdue">4<' in page
    # Paging: 25 a page.
    for number in range(24):
        instance_id = start(web_engine, business_key=f"PRM-2027-1{number:04d}")
        complete_first_step(web_engine, customer, instance_id)
    page = clerk.page("/tasks").get_data(as_text=True)
    assert len(re.findall(r'<tr data-task-id=', page)) == 25
    assert "Halaman 1 dari 2" in page and 'id="next-page"' in page
    assert len(rows("/tasks?page=2")) == 3
    # English on request, with the same figures.
    assert "28 tasks" in clerk.page("/tasks?lang=en").get_data(as_text=True)


def test_uploading_a_plain_attachment_from_the_page(browser: Any, web_engine: Engine) -> None:
    instance_id = start(web_engine)
    task = task_of(web_engine, instance_id, sample.FIRST)
    customer: Browser = browser("cust1")
    customer.page(f"/tasks/{task.id}")
    answer = customer.post(f"/tasks/{task.id}/documents",
                           {"file": (io.BytesIO(b"catatan tambahan\n"), "catatan.txt")},
                           content_type="multipart/form-data")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("#documents")
    page = customer.page(f"/tasks/{task.id}").get_data(as_text=True)
    assert "catatan.txt" in page
    refused = customer.post(f"/tasks/{task.id}/documents",
                            {"file": (io.BytesIO(b"<html><script>x</script>"), "x.html")},
                            content_type="multipart/form-data")
    assert refused.status_code == 422
    with web_engine.read() as s:
        names = s.session.scalars(sa.select(Document.name)).all()
        instance = s.session.get(ProcessInstance, instance_id)
    assert names == ["catatan.txt"] and instance is not None


def test_admins_hand_a_task_over_on_its_page(browser: Any, web_engine: Engine) -> None:
    instance_id = start(web_engine)
    second = complete_first_step(web_engine, browser("cust1"), instance_id)
    clerk: Browser = browser("upp1")
    assert 'id="assign-form"' not in clerk.page(f"/tasks/{second}").get_data(as_text=True)
    assert clerk.post(f"/tasks/{second}/assign", {"assignee": "auditor1"}).status_code == 403
    admin: Browser = browser("admin1")
    page = admin.page(f"/tasks/{second}").get_data(as_text=True)
    assert 'id="assign-form"' in page and "Alihkan tugas" in page
    unknown = admin.post(f"/tasks/{second}/assign", {"assignee": "nobody-here"})
    assert unknown.status_code == 422
    moved = admin.post(f"/tasks/{second}/assign", {"assignee": "auditor1", "roles": "auditor"})
    assert moved.status_code == 302
    after = admin.page(moved.headers["Location"]).get_data(as_text=True)
    assert "Tugas sudah dialihkan." in after
    assert task_of(web_engine, instance_id, sample.SECOND).assignee == "auditor1"
    assert browser("auditor1").page(f"/tasks/{second}").status_code == 200
