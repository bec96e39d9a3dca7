"""Signing in and out, the session cookie, CSRF, the language switch, the front door."""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa
from flask import Flask

from api import create_app
from engine.composition import Engine
from engine.models import ApiToken, SignInFailure
from engine.runtime.handlers import TopicRegistry
from tests.people import PASSWORD

from .conftest import Browser


def test_sign_in_page_is_indonesian_by_default_and_english_on_request(browser: Any) -> None:
    visitor: Browser = browser()
    answer = visitor.page("/signin")
    page = answer.get_data(as_text=True)
    assert "Masuk ke sertiflow" in page and "Kata sandi" in page
    # Only the site's own scripts may run on a page; nothing may frame it.
    policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert "<script>" not in page and "onsubmit=" not in page
    english = visitor.page("/signin?lang=en")
    assert "Sign in to sertiflow" in english.get_data(as_text=True)
    cookie = english.headers["Set-Cookie"]
    assert cookie.startswith("lang=en") and "HttpOnly" in cookie
    # The choice is remembered by the cookie on the next page.
    assert "Check an SPPT SNI certificate" in visitor.page("/verify").get_data(as_text=True)
    assert "Cek keabsahan" in visitor.page("/verify?lang=id").get_data(as_text=True)


def test_signing_in_starts_a_session_on_each_users_first_page(browser: Any,
                                                              web_engine: Engine) -> None:
    homes = {"cust1": "/applications", "admin1": "/dashboard", "upp1": "/tasks"}
    for username, home in homes.items():
        visitor: Browser = browser()
        answer = visitor.sign_in(username)
        assert (answer.status_code, answer.headers["Location"]) == (302, home)
        cookie = answer.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert visitor.page(home).status_code == 200
    with web_engine.read() as s:
        names = s.session.scalars(sa.select(ApiToken.name)).all()
    assert names == ["web", "web", "web"]  # a page session is an ordinary, revocable token


def test_behind_https_the_cookies_are_sent_only_over_https(web_engine: Engine) -> None:
    plain = Browser(create_app(web_engine.settings, engine=web_engine, TESTING=True).test_client())
    cookie = plain.sign_in("upp1").headers["Set-Cookie"]
    assert "Secure" not in cookie
    settings = dataclasses.replace(web_engine.settings, secure_cookies=True)
    https = Browser(create_app(settings, engine=web_engine, TESTING=True).test_client())
    assert "; Secure" in https.sign_in("upp1").headers["Set-Cookie"]
    assert "; Secure" in https.page("/verify?lang=en").headers["Set-Cookie"]


def test_the_page_asked_for_comes_after_signing_in_but_never_another_site(
        browser: Any) -> None:
    visitor: Browser = browser()
    first = visitor.page("/instances?status=running")
    assert first.status_code == 302
    assert first.headers["Location"] == "/signin?next=/instances?status%3Drunning"
    answer = visitor.post("/signin", {"username": "upp1", "password": PASSWORD,
                                      "next": "/instances?status=running"})
    assert answer.headers["Location"] == "/instances?status=running"
    other: Browser = browser()
    answer = other.post("/signin", {"username": "upp1", "password": PASSWORD,
                                    "next": "//evil.example/steal"})
    assert answer.headers["Location"] == "/tasks"


def test_a_wrong_password_is_refused_and_counted_until_the_rate_limit(
        browser: Any, web_engine: Engine) -> None:
    visitor: Browser = browser()
    for _ in range(5):
        answer = visitor.sign_in("upp1", "wrong password")
        assert answer.status_code == 401
        assert "Nama pengguna atau kata sandi salah" in answer.get_data(as_text=True)
    limited = visitor.sign_in("upp1")  # even the right password waits now
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert "Terlalu banyak percobaan" in limited.get_data(as_text=True)
    with web_engine.read() as s:
        failures = s.session.scalar(sa.select(sa.func.count()).select_from(SignInFailure))
    assert failures == 5


def test_a_post_without_the_csrf_token_is_refused(browser: Any, app: Flask) -> None:
    anonymous = app.test_client()
    answer = anonymous.post("/signin", data={"username": "upp1", "password": PASSWORD})
    assert answer.status_code == 400
    assert "CSRF" in answer.get_data(as_text=True)
    clerk: Browser = browser("upp1")
    assert clerk.client.post("/signout").status_code == 400
    assert clerk.client.post("/signout", data={"csrf_token": "forged"}).status_code == 400
    # Still signed in: the refused sign-out did nothing.
    assert clerk.page("/tasks").status_code == 200


def test_signing_out_revokes_the_session_even_for_a_copied_cookie(
        browser: Any, web_engine: Engine) -> None:
    clerk: Browser = browser("upp1")
    assert clerk.page("/tasks").status_code == 200
    stolen = clerk.client.get_cookie("sertiflow_session")
    assert stolen is not None
    answer = clerk.post("/signout")
    assert (answer.status_code, answer.headers["Location"]) == (302, "/signin")
    assert clerk.page("/tasks").status_code == 302
    # Replaying the old cookie does not help: its token is revoked.
    clerk.client.set_cookie("sertiflow_session", stolen.value)
    replay = clerk.page("/tasks")
    assert replay.status_code == 302 and replay.headers["Location"].startswith("/signin")
    with web_engine.read() as s:
        revoked = s.session.scalars(sa.select(ApiToken.revoked_at)).all()
    assert len(revoked) == 1 and revoked[0] is not None


def test_the_front_door_sends_browsers_to_the_pages_and_clients_to_the_api(
        app: Flask, browser: Any) -> None:
    client = app.test_client()
    html = client.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert (html.status_code, html.headers["Location"]) == (302, "/web")
    assert client.get("/web").headers["Location"] == "/signin"
    assert client.get("/", headers={"Accept": "*/*"}).get_json()["api"] == "/api/v1"
    admin: Browser = browser("admin1")
    assert admin.page("/web").headers["Location"] == "/dashboard"


def test_only_the_listed_front_end_files_are_served(app: Flask) -> None:
    client = app.test_client()
    script = client.get("/web/vendor/form-viewer.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    assert b"FormViewer" in script.get_data()[:2000]
    script.close()
    viewer = client.get("/web/vendor/bpmn-navigated-viewer.js")
    assert viewer.status_code == 200 and b"BpmnJS" in viewer.get_data()[:2000]
    viewer.close()
    for name in ("package.json", "..%2Fpackage.json", "bpmn-modeler.js"):
        assert client.get(f"/web/vendor/{name}").status_code == 404


def test_a_missing_install_says_how_to_fix_it(web_engine: Engine, tmp_path: Any) -> None:
    from api import create_app

    app = create_app(web_engine.settings, engine=web_engine,
                     SERTIFLOW_NODE_MODULES=str(tmp_path))
    answer = app.test_client().get("/web/vendor/form-viewer.js")
    assert answer.status_code == 404
    assert "npm ci" in answer.get_data(as_text=True)


def test_in_demo_mode_the_sign_in_page_names_the_demo_users(engine: Engine) -> None:
    with engine.write() as s:
        assert s.identity.ensure_demo_users() is not None
        s.identity.set_active("auditor", False)  # a demo user switched off is not offered
    # sertiflow run: the same database, served in demo mode.
    demo = Engine(dataclasses.replace(engine.settings, demo=True), clock=engine.clock,
                  topics=TopicRegistry())
    try:
        page = create_app(demo.settings, engine=demo, TESTING=True).test_client().get("/signin")
    finally:
        demo.close()
    text = page.get_data(as_text=True)
    assert 'id="demo-users"' in text and "<code>pelanggan</code>" in text
    assert "<code>admin</code>" in text and "kata sandi \u201cdemo\u201d" in text
    assert "<code>auditor</code>" not in text
    # Served without demo mode (sertiflow serve), the page names nobody.
    plain = create_app(engine.settings, engine=engine, TESTING=True).test_client().get("/signin")
    assert 'id="demo-users"' not in plain.get_data(as_text=True)
