"""The guard of tests/e2e/guard.py finds what it must, where it must, in a real browser.

A customer's page gets a process key, an element id, a UUID, JSON and an English
word put into it after loading (as a script would render them): the guard names
each, with the page and the person; an admin's page with the same text is exempt;
a context closed right after the change is still read. The findings are taken out
at the end so that this test itself passes.
"""

from __future__ import annotations

from typing import Any

from engine.composition import Engine
from tests.web import sample

from .conftest import sign_in
from .guard import GuardedBrowser

PLANTED = ('Permohonan web_demo di langkah isi_data, nomor '
           '0f8fad5b-d9cb-469f-a165-70867728950e, data {"a": 1}. Submit')


def plant(page: Any) -> None:
    page.evaluate("text => { const p = document.createElement('p'); p.id = 'planted';"
                  " p.textContent = text; document.querySelector('main').append(p); }",
                  PLANTED)


def wait_for_findings(chromium: GuardedBrowser, page: Any, count: int) -> None:
    for _ in range(50):  # the page reports 200 ms after its last change
        if len(chromium.guard.findings) >= count:
            return
        page.wait_for_timeout(100)


def test_the_guard_names_technical_values_on_a_customers_page(
        demo_engine: Engine, chromium: GuardedBrowser, new_page: Any) -> None:
    customer = new_page()
    sign_in(customer, "cust1")
    customer.goto("/applications")
    assert chromium.guard.findings == []  # the page as served is clean
    checked = chromium.guard.checked
    assert checked >= 2  # the sign-in page and the applications page at least
    plant(customer)
    wait_for_findings(chromium, customer, 5)
    found = "\n".join(chromium.guard.findings)
    assert "/applications (pelanggan)" in found
    for value in (f"key or element id {sample.KEY!r}", "key or element id 'isi_data'",
                  "UUID 0f8fad5b-d9cb-469f-a165-70867728950e", "JSON", "English word 'Submit'"):
        assert value in found, (value, found)
    chromium.guard.findings.clear()

    # An English page may speak English; the other values are still technical.
    customer.goto("/applications?lang=en")
    plant(customer)
    wait_for_findings(chromium, customer, 4)
    assert not any("English word" in f for f in chromium.guard.findings)
    assert any("UUID" in f for f in chromium.guard.findings)
    chromium.guard.findings.clear()

    # An admin's page is theirs to read keys on.
    admin = new_page()
    sign_in(admin, "admin1")
    admin.goto("/instances")
    plant(admin)
    admin.wait_for_timeout(500)
    assert chromium.guard.findings == []

    # A page closed straight after the change is read as its context closes.
    customer.goto("/applications")
    plant(customer)
    chromium.contexts[0].close()
    assert any("web_demo" in f for f in chromium.guard.findings)
    chromium.guard.findings.clear()
