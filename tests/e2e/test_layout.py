"""The pages fit a laptop screen (1366x768): measured in Chromium on a real SOP instance.

The LSPro's sertifikasi_produk runs from its real files through the first five SOP
steps (tests/processes/driver.py), so the instance has a history, documents, a
called process's diagram and an open audit step. Then the auditor's task page and an
admin's instance page must each be at most two screens high, with the main part
(the form; what stands and waits) on the first; the rest sits in tabs that open with
the keyboard and come back after a reload. The diagram opens at a readable zoom,
centred on the current step, and no page scrolls sideways. Screenshots go to
tests/e2e/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from engine.composition import Engine
from engine.time.clock import FrozenClock
from tests.people import PASSWORD, add_users
from tests.processes.driver import Driver
from tests.processes.entries import (
    APPLICATION,
    BUSINESS_KEY,
    COMPANY,
    ENTRIES,
    TEAM,
    TO_STAGE_1,
    USERS,
)

from .conftest import TIMEOUT_MS, screenshot

WIDTH, HEIGHT = 1366, 768
MIN_ZOOM = 0.8  # diagram.js's floor


@pytest.fixture
def sop(engine: Engine, clock: FrozenClock) -> str:
    """An SOP instance at stage-1 audit, with the people of the process tests and an admin."""
    add_users(engine, {name: ([role], COMPANY if role == "pelanggan" else None)
                       for role, name in USERS.items()} | {"admin1": (["admin"], None)})
    driver = Driver(engine, clock, defaults=ENTRIES)
    # The people step 3 picks, besides those the process tests' users already are.
    driver.add_team({k: v for k, v in TEAM.items() if k not in USERS.values()})
    driver.deploy()
    instance_id = driver.start("sertifikasi_produk", business_key=BUSINESS_KEY,
                               actor=USERS["upp"], company=COMPANY, variables=APPLICATION)
    driver.walk(instance_id, TO_STAGE_1)
    return instance_id


@pytest.fixture
def laptop(chromium: Any, live_server: str) -> Iterator[Any]:
    """``laptop(user)``: a signed-in page in a 1366x768 window."""
    contexts: list[Any] = []

    def make(username: str) -> Any:
        context = chromium.new_context(base_url=live_server, locale="id-ID",
                                       viewport={"width": WIDTH, "height": HEIGHT})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.script_errors = errors
        page.goto("/signin")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("#signin-submit")
        page.wait_for_load_state()
        assert "/signin" not in page.url
        return page

    yield make
    for context in contexts:
        context.close()


def height(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollHeight"))


def no_sideways_scroll(page: Any) -> None:
    wide = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert wide[0] <= wide[1], f"{page.url} is {wide[0]} px wide in a {wide[1]} px window"


def test_task_page_fits_two_screens_with_the_form_first(laptop: Any, sop: str) -> None:
    auditor = laptop(USERS["auditor"])
    auditor.goto(f"/tasks?q={BUSINESS_KEY}")
    auditor.locator("#task-table tbody tr[data-element='s06_audit_tahap_1'] a.task-link").click()
    auditor.wait_for_selector("#form[data-ready='true'] .fjs-form")
    auditor.wait_for_selector("#diagram-0[data-ready='true']")
    screenshot(auditor, "layout-task-page")
    assert height(auditor) <= 2 * HEIGHT, height(auditor)
    no_sideways_scroll(auditor)
    # The form starts on the first screen.
    assert auditor.locator("#form").bounding_box()["y"] < HEIGHT
    # The diagram is readable, and the current step is in view.
    zoom = float(auditor.locator("#diagram-0").get_attribute("data-zoom"))
    assert zoom >= MIN_ZOOM
    box = auditor.locator("#diagram-0").bounding_box()
    current = auditor.locator(
        "#diagram-0 g.djs-element[data-element-id='s06_audit_tahap_1']").bounding_box()
    assert box["x"] <= current["x"] + current["width"] / 2 <= box["x"] + box["width"]
    assert box["y"] <= current["y"] + current["height"] / 2 <= box["y"] + box["height"]
    # History is one keyboard step away, and stays open after a reload.
    expect(auditor.locator("#history-card")).to_be_hidden()
    auditor.focus("#tab-diagram")
    auditor.keyboard.press("ArrowRight")
    expect(auditor.locator("#documents")).to_be_visible()
    expect(auditor.locator("#document-list")).to_contain_text("dok_surat_tugas.pdf")
    auditor.keyboard.press("End")
    expect(auditor.locator("#history-card")).to_be_visible()
    expect(auditor.locator("#documents")).to_be_hidden()
    expect(auditor.locator("#tab-history")).to_be_focused()
    assert auditor.url.endswith("#tab-history")
    auditor.reload()
    expect(auditor.locator("#history-card")).to_be_visible()
    expect(auditor.locator("#diagram-card")).to_be_hidden()
    assert not auditor.script_errors


def test_instance_page_fits_two_screens_with_what_waits_first(laptop: Any, sop: str) -> None:
    admin = laptop("admin1")
    admin.goto(f"/instances/{sop}")
    admin.wait_for_selector("#diagram-0[data-ready='true']")
    screenshot(admin, "layout-instance-page")
    assert height(admin) <= 2 * HEIGHT, height(admin)
    no_sideways_scroll(admin)
    assert admin.locator("#open-tasks").bounding_box()["y"] < HEIGHT
    assert float(admin.locator("#diagram-0").get_attribute("data-zoom")) >= MIN_ZOOM
    # Every tab, opened in turn, keeps the page within two screens.
    for tab, panel in (("#tab-history", "#history-card"), ("#tab-documents", "#documents"),
                       ("#tab-variables", "#variables")):
        admin.click(tab)
        expect(admin.locator(panel)).to_be_visible()
        assert height(admin) <= 2 * HEIGHT, (tab, height(admin))
        no_sideways_scroll(admin)
    screenshot(admin, "layout-instance-variables")
    # A link to a section inside a tab opens that tab.
    admin.goto(f"/instances/{sop}#documents")
    expect(admin.locator("#documents")).to_be_visible()
    expect(admin.locator("#diagram-card")).to_be_hidden()
    # Suspending asks for the reason; the history then shows it.
    admin.click("#suspend-open")
    admin.fill("#suspend-reason", "Menunggu klarifikasi merek dari pemohon.")
    admin.click("#suspend")
    expect(admin.locator("#instance-status")).to_have_text("Ditangguhkan")
    admin.click("#tab-history")
    expect(admin.locator("#history")).to_contain_text(
        "Alasan: Menunggu klarifikasi merek dari pemohon.")
    assert not admin.script_errors


def test_lists_and_dashboard_stay_within_the_window(laptop: Any, sop: str) -> None:
    admin = laptop("admin1")
    for path in ("/dashboard", "/instances", "/tasks?view=everything"):
        admin.goto(path)
        admin.wait_for_load_state()
        no_sideways_scroll(admin)
        # Each table stays inside its card: its box ends where the card ends at the latest.
        cards = admin.evaluate("""() => Array.from(document.querySelectorAll('.card, main'))
            .map(c => [c.getBoundingClientRect().right, c.scrollWidth > c.clientWidth + 1,
                       getComputedStyle(c).overflowX])""")
        for right, overflowing, overflow_x in cards:
            assert right <= WIDTH
            assert not overflowing or overflow_x in ("auto", "scroll"), path
        screenshot(admin, "layout-" + path.strip("/").split("?")[0])
