"""The signed-in user's notification settings: the page and ``/api/v1/me/notifications``."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from engine.composition import Engine
from tests.people import PASSWORD

URL = "/api/v1/me/notifications"


def _settings(engine: Engine, username: str) -> tuple[str | None, str, str]:
    with engine.read() as s:
        user = s.identity.user(username)
        return user.email, user.notify, user.language


def _bearer(app: Flask, username: str) -> dict[str, str]:
    answer = app.test_client().post("/api/v1/auth/token",
                                    json={"username": username, "password": PASSWORD})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return {"Authorization": f"Bearer {answer.get_json()['token']}"}


def test_rest_reads_and_changes_the_users_own_settings(app: Flask, web_engine: Engine) -> None:
    client, auth = app.test_client(), _bearer(app, "upp1")
    assert client.get(URL, headers=auth).get_json() == {
        "email": None, "notify": "every", "language": "id"}
    answer = client.put(URL, headers=auth, json={
        "email": " upp1@lspro.example ", "notify": "digest", "language": "en"})
    assert answer.status_code == 200
    assert answer.get_json() == {"email": "upp1@lspro.example", "notify": "digest",
                                 "language": "en"}
    assert _settings(web_engine, "upp1") == ("upp1@lspro.example", "digest", "en")
    # Language left out: kept. An empty address: none (no mails).
    answer = client.put(URL, headers=auth, json={"email": "", "notify": "none"})
    assert answer.get_json() == {"email": None, "notify": "none", "language": "en"}
    assert _settings(web_engine, "upp2") == (None, "every", "id")  # only one's own
    assert client.get(URL).status_code == 401


@pytest.mark.parametrize(("body", "field"), [
    ({"email": "not an address", "notify": "every"}, "email"),
    ({"email": "a@b.example, c@d.example", "notify": "every"}, "email"),
    ({"email": "a@b.example", "notify": "weekly"}, "notify"),
    ({"email": "a@b.example", "notify": "every", "language": "fr"}, "language"),
    ({"notify": "every"}, "email"),
])
def test_rest_refuses_a_bad_address_or_choice_naming_the_field(
        app: Flask, web_engine: Engine, body: dict[str, Any], field: str) -> None:
    answer = app.test_client().put(URL, headers=_bearer(app, "cust1"), json=body)
    assert answer.status_code == 422
    problem = answer.get_json()
    assert [e["field"] for e in problem["errors"]] == [field], problem
    assert _settings(web_engine, "cust1") == (None, "every", "id")  # nothing changed


def test_the_settings_page_saves_and_refuses_in_indonesian(
        browser: Any, web_engine: Engine) -> None:
    me = browser("cust1")
    home = me.page("/applications").get_data(as_text=True)
    assert 'href="/settings/notifications"' in home  # in the user menu
    page = me.page("/settings/notifications")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Pengaturan pemberitahuan" in text and "Ringkasan harian" in text
    assert 'value="every" checked' in text
    answer = me.post("/settings/notifications", {"email": "budi@maju.example",
                                                 "notify": "digest", "language": "id"})
    assert answer.status_code == 302
    assert _settings(web_engine, "cust1") == ("budi@maju.example", "digest", "id")
    saved = me.page("/settings/notifications").get_data(as_text=True)
    assert "Pengaturan pemberitahuan disimpan." in saved
    assert 'value="budi@maju.example"' in saved and 'value="digest" checked' in saved

    refused = me.post("/settings/notifications", {"email": "budi at maju",
                                                  "notify": "sometimes", "language": "id"})
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert 'id="email-error"' in body and "Tulis satu alamat surel yang lengkap" in body
    assert 'id="notify-error"' in body and "Pilih salah satu pilihan" in body
    assert 'value="budi at maju"' in body  # what was typed stays
    assert _settings(web_engine, "cust1") == ("budi@maju.example", "digest", "id")

    english = me.page("/settings/notifications?lang=en").get_data(as_text=True)
    assert "Notification settings" in english and "Daily summary" in english


def test_the_settings_page_needs_a_signed_in_user(browser: Any) -> None:
    answer = browser().page("/settings/notifications")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/signin?next=/settings/notifications"
