"""One language on the pages: complete catalogues, Indonesian pages, worded form problems.

The catalogues (``api/web/translations``, ``lspro/translations``) must hold every key
the templates and code use, in both languages; the forms' texts must all have their
English. The main pages, rendered in Indonesian for each role, must show no English
word of a small stop-list; a bad NTPN is answered in Indonesian without the pattern.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from api.web import catalogues, formatting, i18n
from engine.composition import Engine
from engine.tasks.field_values import PROBLEMS
from lspro.certificates import REVOCATION_REASONS, SUSPENSION_REASONS, CertificateRegister
from lspro.words import CATALOGUE
from tests.people import COMPANY
from tests.settings import LSPRO

from . import sample
from .conftest import Browser
from .driving import PAYMENT, complete_first_step, payment_files, start, task_of

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = [CATALOGUE, catalogues.ENGINE_FOLDER]

# Words that never appear in good Indonesian UI text (whole words, any case).
ENGLISH = ("the", "and", "task", "tasks", "process", "browse", "no files", "add new", "field",
           "must", "required", "submit", "cancel", "pattern", "sign in", "sign out", "search",
           "select", "upload", "claim", "complete", "completed", "history", "documents",
           "yes", "none", "issued", "handed", "task_completed", "instance_started", "open",
           "due", "overdue", "page", "previous", "next", "with", "of", "is", "not", "valid")
STOP = re.compile(r"\b(" + "|".join(re.escape(w) for w in ENGLISH) + r")\b", re.I)


def visible_text(page: str) -> str:
    """What a person reads: no scripts, styles, tags or attributes; nor the raw data
    staff may unfold in a history (``<code>``), which is data, not words."""
    page = re.sub(r"<(script|style|code)\b.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r"<!--.*?-->", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def english_in(page: str) -> list[str]:
    return sorted({m.group(0) for m in STOP.finditer(visible_text(page))})


def history_kinds() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "engine").rglob("*.py"):
        found |= set(re.findall(r'history\.record\([^,]+,\s*"([a-z_]+)"', path.read_text()))
    return found


def test_every_key_is_in_both_catalogues_and_nothing_else() -> None:
    used, _ = catalogues.used_keys([ROOT / "api", ROOT / "lspro"])
    certificates = (ROOT / "lspro" / "certificates.py").read_text()
    billing = (ROOT / "lspro" / "billing.py").read_text()
    built = (
        {f"event.{kind}" for kind in history_kinds()}
        | {f"cert.event.{k}" for k in re.findall(r'_event\(\w+, "([a-z_]+)"', certificates)}
        | {f"cert.state.{s}" for s in re.findall(r'^[A-Z]+ = "([a-z]+)"$', certificates, re.M)}
        | {f"bill.state.{s}" for s in re.findall(r'^[A-Z]+ = "([a-z]+)"$', billing, re.M)}
        | {f"cert.reason.{code}" for code in {**SUSPENSION_REASONS, **REVOCATION_REASONS}}
        | {f"field.{code}" for code in PROBLEMS}
        | {f"formjs.{name}" for name in i18n._FORMJS}
        | {f"status.{s}" for s in ("running", "suspended", "completed", "cancelled", "error")}
        | {f"badge.{b}" for b in ("on-time", "due-soon", "overdue")}
        | {f"state.{s}" for s in ("ready", "completed", "cancelled")}
        | {f"sort.{s}" for s in ("due", "-due", "created", "-created", "priority")}
        | {f"filter.due_{d}" for d in ("overdue", "today", "week")}
        | {"incident.open", "incident.resolved"})
    assert len(used) > 150 and "task_completed" in history_kinds()
    assert catalogues.problems(FOLDERS, used | built) == []
    # The same {fields} in both languages, or a translation would fail to format.
    for folder in FOLDERS:
        texts = {lang: {str(m.id): str(m.string) for m in catalogues.read_catalog(
            catalogues.po_path(folder, lang), lang) if m.id} for lang in catalogues.LANGUAGES}
        for key, indonesian in texts["id"].items():
            assert sorted(re.findall(r"\{(\w+)\}", indonesian)) == sorted(
                re.findall(r"\{(\w+)\}", texts["en"][key])), key


def test_a_key_missing_from_one_catalogue_is_found(tmp_path: Path) -> None:
    catalogues.absorb({"a.b": ("satu", "one")}, tmp_path)
    path = catalogues.po_path(tmp_path, "en")
    path.write_text(path.read_text().replace('msgid "a.b"\nmsgstr "one"', ""))
    assert catalogues.problems([tmp_path], {"a.b", "c.d"}) == [
        f"{path}: 'a.b' is missing (the id catalogue has it)",
        "key 'c.d' is used but in no catalogue"]


def test_every_form_text_has_its_english_and_no_help_text_is_english() -> None:
    assert catalogues.untranslated_form_texts(ROOT / "forms", CATALOGUE) == []
    for form in sorted((ROOT / "forms").glob("*.form")):
        for text in catalogues.form_texts(json.loads(form.read_text())):
            assert not re.search(r"\b(the|and|of|is|must)\b", text), (form.name, text)


def test_babel_formats_days_moments_numbers_and_rupiah() -> None:
    moment = datetime(2027, 3, 11, 2, 0, tzinfo=UTC)
    jakarta = ZoneInfo("Asia/Jakarta")
    assert formatting.day(date(2026, 12, 6), "id") == "6 Des 2026"
    assert formatting.day(date(2026, 12, 6), "en") == "6 Dec 2026"
    assert formatting.moment(moment, "id", jakarta).endswith("09.00")
    assert formatting.rupiah(1_500_000, "id") == "Rp1.500.000"
    assert formatting.rupiah(1_500_000, "en") == "IDR 1,500,000"
    assert formatting.number(1234.5, "id") == "1.234,5"


@pytest.mark.parametrize("username", ["cust1", "upp1", "admin1"])
def test_the_main_pages_in_indonesian_show_no_english(browser: Any, web_engine: Engine,
                                                      username: str) -> None:
    instance_id = start(web_engine, business_key="PRM-2027-00001")
    with web_engine.write() as s:
        certificate = CertificateRegister(s.session, web_engine.clock, LSPRO).issue(
            company=COMPANY, product_code="AIR_MINERAL", sni="SNI 3553:2023", scheme_type=5,
            brands=[{"merek": "Segar", "kemasan": "botol 600 ml"}])
    customer: Browser = browser("cust1")
    first = task_of(web_engine, instance_id, sample.FIRST)
    # The customer's task page with its form, before it is done.
    assert english_in(customer.page(f"/tasks/{first.id}").get_data(as_text=True)) == []
    complete_first_step(web_engine, customer, instance_id)
    second = task_of(web_engine, instance_id, sample.SECOND)
    user: Browser = browser(username)
    pages = ["/tasks", f"/instances/{instance_id}", "/certificates",
              f"/certificates/{certificate.id}", f"/verify?number={certificate.number}"]
    pages += ["/applications"] if username == "cust1" else [f"/tasks/{second.id}"]
    for path in pages:
        answer = user.page(path)
        assert answer.status_code == 200, path
        assert english_in(answer.get_data(as_text=True)) == [], path
    # A page that is not there (a mistyped link) says so in words too.
    missing = user.page("/tasks/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    # Admins also read the engine's technical detail (ids, English); others only the words.
    shown = missing.get_data(as_text=True)
    assert ('id="error-detail"' in shown) is (username == "admin1")
    assert english_in(shown.split('<p class="detail"')[0]) == []
    anonymous = browser()
    for path in ("/signin", "/verify"):
        assert english_in(anonymous.page(path).get_data(as_text=True)) == [], path
    # The same pages do speak English on request.
    english = user.page(f"/instances/{instance_id}?lang=en").get_data(as_text=True)
    assert "Process started" in visible_text(english)


def test_the_stop_list_catches_english() -> None:
    assert english_in("<p title='the'>Tugas <b>Browse</b></p><script>var the;</script>"
                      "<code>{\"field\": 1}</code> Field") == ["Browse", "Field"]


# -- a bad NTPN on the LSPro's own form ---------------------------------------------------


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_bad_ntpn_is_answered_in_words_without_the_pattern(browser: Any, web_engine: Engine,
                                                             lang: str) -> None:
    with web_engine.write() as s:
        s.deployments.deploy(payment_files(), actor="analyst1", source="test")
        instance = s.runtime.start_instance(PAYMENT, actor="upp1")
    task = task_of(web_engine, instance.id, "catat")
    clerk: Browser = browser("upp1")
    page = clerk.page(f"/tasks/{task.id}?lang={lang}").get_data(as_text=True)
    answer = clerk.post_json(f"/tasks/{task.id}/complete", {"variables": {
        "kode_billing": "820260000000001", "ntpn": "ABCD-EFGH-123456",
        "tanggal_bayar": "2027-03-11"}})
    assert answer.status_code == 422
    errors = {e["field"]: e["message"] for e in answer.get_json()["errors"]}
    assert list(errors) == ["ntpn"]
    if lang == "id":
        assert errors["ntpn"] == ("Format tidak sesuai: Nomor Transaksi Penerimaan Negara "
                                  "(NTPN): 16 huruf dan angka.")
        assert "16 huruf dan angka" in page  # the help text on the form, in Indonesian
    else:
        assert errors["ntpn"] == ("The format is not right: The state receipt number (Nomor "
                                  "Transaksi Penerimaan Negara): 16 letters and digits.")
        assert "16 letters and digits" in page
    assert "^" not in errors["ntpn"] and "{16}" not in errors["ntpn"]


def test_flask_babel_serves_the_same_catalogues(app: Any) -> None:
    import flask_babel
    from flask import g

    for lang, word, when in (("id", "Tugas", "6 Des 2026"), ("en", "Tasks", "6 Dec 2026")):
        with app.test_request_context("/"):
            g.lang = lang
            assert flask_babel.gettext("nav.tasks") == word
            assert app.jinja_env.from_string("{{ _('nav.tasks') }}").render() == word
            assert str(flask_babel.get_locale()) == lang
            assert formatting.day(date(2026, 12, 6), lang) == when


def test_field_problems_in_words_with_the_language_numbers(app: Any) -> None:
    from engine.tasks.form_submission import FieldError

    over = FieldError("jumlah", "must be at most 1000.5", "maximum", {"limit": "1000.5"})
    shaped = FieldError("ntpn", "does not have the expected format", "pattern", {},
                        "Kode billing 15 angka yang sudah dibayar.")
    with app.app_context():
        assert i18n.field_problem("id", over) == "Paling besar 1.000,5."
        assert i18n.field_problem("en", over) == "At most 1,000.5."
        assert i18n.field_problem("id", shaped) == (
            "Format tidak sesuai: Kode billing 15 angka yang sudah dibayar.")
        assert i18n.field_problem("en", shaped) == (
            "The format is not right: The 15-digit e-Billing code that was paid.")
