"""A customer applies through the form-js form, staff complete, an admin suspends and resumes.

Runs the small ``web_demo`` process (tests/web/sample.py) in Debian's Chromium
against the real server; every step is checked in the database as well as on
the page.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from playwright.sync_api import expect

from engine.composition import Engine
from engine.models import Document, ProcessInstance, Task
from tests.instances import history
from tests.web import sample

from .conftest import screenshot, sign_in, sign_out


def field(page: Any, component_id: str) -> Any:
    """The form-js field (label, input, errors) of the form component ``component_id``."""
    return page.locator(f".fjs-form-field:has([id$='-{component_id}'])")


def entry(page: Any, component_id: str) -> Any:
    """The input of a text or number field (form-js ids end with the component's id)."""
    return page.locator(f"input[id$='-{component_id}'], textarea[id$='-{component_id}']")


def choose(page: Any, option: str) -> None:
    """Pick a radio option; form-js re-renders it checked a moment after the click."""
    radio = page.get_by_label(option, exact=True)
    radio.click()
    expect(radio).to_be_checked()


def wait_for_form(page: Any) -> None:
    page.wait_for_selector("#form[data-ready='true'] .fjs-form")


def instance_row(engine: Engine) -> ProcessInstance:
    with engine.read() as s:
        (instance,) = s.session.scalars(sa.select(ProcessInstance)).all()
        return instance


def history_kinds(engine: Engine, instance_id: str) -> list[tuple[str, str | None, str | None]]:
    return [(e.kind, e.element_id, e.actor) for e in history(engine, instance_id)]


def test_customer_applies_admin_suspends_staff_complete(
        demo_engine: Engine, new_page: Any, tmp_path: Any) -> None:
    # -- the customer starts an application and meets the form ------------------------
    customer = new_page()
    sign_in(customer, "cust1")
    assert customer.url.endswith("/applications")
    customer.click("#new-application")
    customer.click(f"button[data-key='{sample.KEY}']")
    wait_for_form(customer)
    assert "/tasks/" in customer.url
    assert customer.locator("#task-title").inner_text() == "Isi data permohonan"
    # The form-js viewer rendered the deployed form: its fields, labels and file picker.
    assert field(customer, "Field_nomor").count() == 1
    assert customer.locator(".fjs-form-field-filepicker").count() == 1
    screenshot(customer, "01-customer-task-form")
    # form-js's own words are in Indonesian too: its file picker, its messages.
    form_text = customer.locator("#form").inner_text()
    assert "Pilih berkas" in form_text and "Belum ada berkas dipilih" in form_text
    assert "Browse" not in form_text and "No files selected" not in form_text

    # An empty submission: the viewer's own checks mark the required fields.
    customer.click("#complete")
    assert "Wajib diisi." in field(customer, "Field_nomor").inner_text()
    assert "Field is required" not in customer.locator("#form").inner_text()
    assert not customer.locator("#form-message").is_hidden()
    # A product number that breaks the pattern: the problem and the field's help text
    # in words, never the regular expression.
    entry(customer, "Field_nomor").fill("abc")
    customer.click("#complete")
    problem = field(customer, "Field_nomor").locator(".fjs-form-field-error").inner_text()
    assert "Format tidak sesuai: Tiga huruf besar" in problem and "[A-Z]" not in problem

    # A product number with extra text passes form-js (it looks for the pattern
    # anywhere) but not the server (it wants the whole value): the server's 422
    # error appears next to that field.
    letter = tmp_path / "surat-permohonan.pdf"
    letter.write_bytes(sample.PDF)
    entry(customer, "Field_nomor").fill("xABC-123x")
    entry(customer, "Field_jumlah").fill("3")
    choose(customer, "Baru")
    customer.set_input_files(".fjs-form-field-filepicker input[type=file]", str(letter))
    customer.click("#complete")
    error = field(customer, "Field_nomor").locator(".fjs-form-field-error")
    error.wait_for()
    assert "Format tidak sesuai" in error.inner_text()
    screenshot(customer, "02-customer-server-error")
    instance = instance_row(demo_engine)
    with demo_engine.read() as s:
        first = s.session.scalars(sa.select(Task).where(Task.element_id == sample.FIRST)).one()
        assert first.state == "ready"  # the refused submission changed nothing

    # Fixed: the task completes; the document was uploaded once and is referenced.
    entry(customer, "Field_nomor").fill("ABC-123")
    customer.click("#complete")
    customer.wait_for_url("**/tasks")
    assert "selesai" in customer.locator(".flash.ok").inner_text()
    with demo_engine.read() as s:
        documents = s.session.scalars(sa.select(Document)
                                      .where(Document.instance_id == instance.id)).all()
        assert [(d.name, d.field, d.content_type) for d in documents] == [
            ("surat-permohonan.pdf", "dok_surat", "application/pdf")]
        done = s.session.scalars(sa.select(Task).where(Task.element_id == sample.FIRST)).one()
        assert (done.state, done.completed_by) == ("completed", "cust1")
        variables = s.runtime.variables(s.runtime.instance(instance.id))
    assert variables["nomor_produk"] == "ABC-123" and variables["jumlah"] == 3
    assert variables["dok_surat"]["id"] == documents[0].id
    customer.goto("/applications")
    assert "Periksa permohonan" in customer.locator("#applications").inner_text()
    screenshot(customer, "03-customer-applications")

    # The done step, read again: its file field names the stored document, as a link
    # to its download, not "no files selected".
    customer.goto(f"/tasks/{done.id}")
    wait_for_form(customer)
    link = customer.locator("#form a[href^='/documents/']")
    assert link.inner_text() == "surat-permohonan.pdf"
    assert link.get_attribute("href") == f"/documents/{documents[0].id}"
    assert customer.locator(".fjs-form-field-filepicker").count() == 0
    assert "Surat permohonan" in customer.locator("#form").inner_text()

    # -- an admin looks at the instance, suspends and resumes it -------------------------
    admin = new_page()
    sign_in(admin, "admin1")
    assert admin.url.endswith("/dashboard")
    screenshot(admin, "04-admin-dashboard")
    admin.goto("/instances")
    admin.click(f"tr[data-instance-id='{instance.id}'] a")
    admin.wait_for_selector("#diagram-0[data-ready='true']")
    current = admin.locator("#diagram-0 g.djs-element[data-element-id='periksa']")
    assert "sf-active" in (current.get_attribute("class") or "")
    done_step = admin.locator("#diagram-0 g.djs-element[data-element-id='isi_data']")
    assert "sf-completed" in (done_step.get_attribute("class") or "")
    # The reminder timer waits on the boundary event, and is listed.
    timer = admin.locator("#diagram-0 g.djs-element[data-element-id='ingatkan']")
    assert "sf-timer" in (timer.get_attribute("class") or "")
    assert "10 hari" in admin.locator("#timers").inner_text()  # the timer event's name
    screenshot(admin, "05-admin-instance")
    admin.click("#suspend-open")
    admin.fill("#suspend-reason", "Menunggu klarifikasi dari pemohon.")
    admin.click("#suspend")
    assert admin.locator("#instance-status").inner_text() == "Ditangguhkan"
    admin.click("#resume-open")
    admin.fill("#resume-reason", "Klarifikasi sudah diterima.")
    admin.click("#resume")
    assert admin.locator("#instance-status").inner_text() == "Berjalan"
    kinds = [k for k, _, actor in history_kinds(demo_engine, instance.id) if actor == "admin1"]
    assert kinds == ["instance_suspended", "instance_resumed"]

    # -- the front office checks it: task list, badge, claim, complete --------------------
    clerk = new_page()
    sign_in(clerk, "upp1")
    assert clerk.url.endswith("/tasks")
    row = clerk.locator("#task-table tbody tr").filter(has_text="Periksa permohonan")
    assert row.locator(".badge").inner_text() == "Segera jatuh tempo"  # due in 3 hours
    assert "PT Maju Jaya" in row.inner_text()
    screenshot(clerk, "06-staff-task-list")
    row.locator("a.task-link").click()
    wait_for_form(clerk)
    assert entry(clerk, "Field_nomor_ro").input_value() == "ABC-123"
    clerk.click("#claim")
    assert clerk.locator("#assignee").inner_text() == "upp1"
    wait_for_form(clerk)
    choose(clerk, "Ya")
    clerk.click("#complete")
    clerk.wait_for_url("**/tasks")
    assert clerk.locator("#no-tasks").is_visible()
    sign_out(clerk)

    with demo_engine.read() as s:
        finished = s.runtime.instance(instance.id)
        assert finished.status == "completed"
        variables = s.runtime.variables(finished)
    assert variables["diterima"] == "ya"
    kinds = history_kinds(demo_engine, instance.id)
    assert ("task_claimed", "periksa", "upp1") in kinds
    assert ("task_completed", "periksa", "upp1") in kinds
    assert kinds[-1][0] == "instance_completed"
    for page in (customer, admin, clerk):
        assert page.script_errors == []
