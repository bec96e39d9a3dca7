"""Browser tests: Debian's headless Chromium, driven by Playwright, against a real server.

The server is the real app on 127.0.0.1 (Werkzeug, in a thread) around a fresh
SQLite database and the frozen test clock. Chromium is the system's
(``/usr/bin/chromium``, installed by ``.ci/run``); Playwright's own browser
download is never used. The pages load bpmn-js and form-js from ``node_modules/``
(``npm ci``, run by ``make test``). Screenshots of the main pages go to
``tests/e2e/screenshots/`` (ignored by git) for a person to look at.

``chromium`` is the session's browser behind the guard of ``tests/e2e/guard.py``: every
context a test opens through it reports what its pages show, and a test fails when a
page a non-admin saw held a process key, an element id, a UUID, JSON or English words.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api import create_app
from api.web.assets import PROJECT_ROOT, VENDOR
from engine.composition import Engine
from tests.people import PASSWORD, add_users, serving

from .guard import Guard, GuardedBrowser

CHROMIUM = os.environ.get("SERTIFLOW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
TIMEOUT_MS = 15_000


def _require_tools() -> None:
    missing = [name for name, path in VENDOR.items()
               if not (PROJECT_ROOT / "node_modules" / path).is_file()]
    if missing:
        pytest.fail("the front-end packages are not installed (run 'npm ci --ignore-scripts' "
                    f"or 'make test'); missing: {', '.join(missing)}", pytrace=False)
    if not shutil.which(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's 'chromium' package "
                    "(.ci/run does) or set SERTIFLOW_CHROMIUM", pytrace=False)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A browser test goes through the guard: the unguarded browser is ``chromium``'s own."""
    names = getattr(item, "fixturenames", ())
    if "session_chromium" in names and "chromium" not in names:
        pytest.fail(f"{item.nodeid} uses session_chromium without the guard; use chromium",
                    pytrace=False)


@pytest.fixture(scope="session")
def session_chromium() -> Iterator[Any]:
    """The one Chromium of the session; tests use it through ``chromium``."""
    _require_tools()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def chromium(session_chromium: Any, engine: Engine) -> Iterator[GuardedBrowser]:
    """The browser, guarded: the test fails if a non-admin was shown a technical value."""
    guarded = GuardedBrowser(session_chromium, Guard(engine))
    yield guarded
    guarded.finish()
    verdict = guarded.guard.verdict()
    if verdict is not None:
        pytest.fail(verdict, pytrace=False)


USERS: dict[str, tuple[list[str], str | None]] = {
    "cust1": (["pelanggan"], "PT Maju Jaya"),
    "upp1": (["upp"], None),
    "admin1": (["admin"], None),
}


@pytest.fixture
def demo_engine(engine: Engine) -> Engine:
    """The test engine with a customer, a front-office clerk, an admin, and web_demo."""
    from tests.web import sample

    add_users(engine, USERS)
    with engine.write() as s:
        s.deployments.deploy(sample.files(), actor="admin1", source="test")
    return engine


@pytest.fixture
def live_server(engine: Engine) -> Iterator[str]:
    with serving(create_app(engine.settings, engine=engine)) as base:
        yield base


@pytest.fixture
def new_page(chromium: Any, live_server: str) -> Iterator[Any]:
    """``new_page()`` opens a page in a fresh browser context (its own cookies)."""
    contexts: list[Any] = []

    def make() -> Any:
        context = chromium.new_context(base_url=live_server, locale="id-ID",
                                       viewport={"width": 1360, "height": 1000})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.script_errors = errors
        return page

    yield make
    for context in contexts:
        context.close()


def sign_in(page: Any, username: str, password: str = PASSWORD) -> None:
    page.goto("/signin")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#signin-submit")
    page.wait_for_load_state()
    assert "/signin" not in page.url, page.content()


def sign_out(page: Any) -> None:
    page.click("#signout")
    page.wait_for_url("**/signin")


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
