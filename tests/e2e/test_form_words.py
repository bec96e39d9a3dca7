"""form-js in the person's language, in a real browser: the LSPro's payment form.

form-js writes its messages and its date picker in English; the task page rewords
them from the page's catalogue. A bad NTPN is refused in the browser already, in
Indonesian, with the field's help text and never its pattern.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from engine.composition import Engine
from tests.web.driving import PAYMENT, payment_files, task_of

from .conftest import screenshot, sign_in


def test_the_payment_form_speaks_indonesian(demo_engine: Engine, new_page: Any) -> None:
    with demo_engine.write() as s:
        s.deployments.deploy(payment_files(), actor="admin1", source="test")
        instance = s.runtime.start_instance(PAYMENT, actor="upp1")
    task = task_of(demo_engine, instance.id, "catat")
    clerk = new_page()
    sign_in(clerk, "upp1")
    clerk.goto(f"/tasks/{task.id}")
    clerk.wait_for_selector("#form[data-ready='true'] .fjs-form")
    clerk.locator("input[id$='-Field_893cc56']").first.fill("ABCD-EFGH-123456")
    clerk.click("#complete")
    ntpn = clerk.locator(".fjs-form-field:has(input[id$='-Field_893cc56'])")
    expect(ntpn.locator(".fjs-form-field-error")).to_contain_text("Format tidak sesuai")
    problem = ntpn.locator(".fjs-form-field-error").inner_text()
    assert "16 huruf dan angka" in problem
    assert "[0-9A-Za-z]" not in problem and "pattern" not in problem
    required = clerk.locator(".fjs-form-field-error").all_inner_texts()
    assert any("Wajib diisi." in text for text in required)
    assert not any("Field is required" in text for text in required)
    # The date picker's calendar: months and weekdays in Indonesian.
    clerk.locator(".fjs-form-field-datetime input").first.click()
    calendar = clerk.locator(".flatpickr-calendar.open")
    expect(calendar).to_be_visible()
    expect(calendar.locator(".flatpickr-weekday").first).to_have_text("Min")
    months = calendar.locator(".flatpickr-monthDropdown-month").all_inner_texts()
    assert "Januari" in months and "Desember" in months and "January" not in months
    screenshot(clerk, "30-form-words-id")
    assert clerk.script_errors == []
