"""The company profile page: a customer edits their own, staff read them, applications
start from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from engine.composition import Engine
from engine.models import ProcessInstance
from tests.people import COMPANY, OTHER_COMPANY

ROOT = Path(__file__).resolve().parents[2]
FORM: dict[str, Any] = {
    "legal_name": "PT Maju Jaya Makmur", "npwp": "01.234.567.8-901.000",
    "nib": "9120 0012 3456 7", "address": "Jl. Industri No. 5, Bekasi",
    "contact_name": "Sari Dewi", "contact_phone": "+62 812-3456-7890",
    "contact_email": "sari@majujaya.co.id", "makloon_name": "", "makloon_address": "",
    "factory_name": ["Pabrik Cikarang", "Pabrik Karawang", ""],
    "factory_address": ["Kawasan MM2100 Blok A1", "KIIC Lot 7", ""],
}


def test_the_customer_saves_their_company_profile(browser: Any, engine: Engine) -> None:
    customer = browser("cust1")
    page = customer.page("/profile").get_data(as_text=True)
    assert "Lengkapi profil perusahaan sebelum mengajukan permohonan" in page
    answer = customer.post("/profile", FORM)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    page = customer.page("/profile").get_data(as_text=True)
    assert "Profil perusahaan disimpan." in page
    assert "Lengkapi profil perusahaan" not in page
    assert 'value="012345678901000"' in page and "Pabrik Karawang" in page
    # Their applications page says the profile is complete and links to it.
    applications = customer.page("/applications").get_data(as_text=True)
    assert "Profil perusahaan lengkap." in applications and 'href="/profile"' in applications


def test_a_bad_npwp_is_refused_next_to_the_field_and_nothing_is_saved(
        browser: Any) -> None:
    customer = browser("cust1")
    customer.page("/profile")
    answer = customer.post("/profile", {**FORM, "npwp": "12345", "factory_name": [""],
                                        "factory_address": [""]})
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "NPWP harus 15 atau 16 angka" in page
    assert "isi paling sedikit satu pabrik" in page
    assert 'value="12345"' in page  # what was typed stays in the form
    assert "Lengkapi profil perusahaan" in customer.page("/profile").get_data(as_text=True)
    english = customer.post("/profile?lang=en", {**FORM, "nib": "12"})
    assert "NIB must be 13 digits" in english.get_data(as_text=True)


def test_staff_read_profiles_and_a_customer_only_their_own(browser: Any) -> None:
    customer = browser("cust1")
    customer.page("/profile")
    assert customer.post("/profile", FORM).status_code == 302
    clerk = browser("upp1")
    listing = clerk.page("/profile").get_data(as_text=True)
    assert "PT Maju Jaya Makmur" in listing
    shown = clerk.page(f"/profile/{COMPANY}").get_data(as_text=True)
    assert "Kawasan MM2100 Blok A1" in shown and "012345678901000" in shown
    assert clerk.post("/profile", FORM).status_code == 403  # staff do not edit it
    other = browser("cust2")
    assert other.page(f"/profile/{COMPANY}").status_code == 404
    assert other.page(f"/profile/{OTHER_COMPANY}").status_code == 302  # theirs: to the form


def test_an_application_started_by_the_customer_begins_with_the_profile(
        browser: Any, engine: Engine) -> None:
    engine.deploy_paths([ROOT / "processes", ROOT / "forms"], actor="analyst1")
    customer = browser("cust1")
    customer.page("/profile")
    assert customer.post("/profile", {**FORM, "makloon_name": "CV Mitra Rasa",
                                      "makloon_address": "Jl. Pangan 2, Bogor"}).status_code == 302
    customer.page("/start")
    started = customer.post("/start/permohonan_sertifikasi")
    assert started.status_code == 302 and "/tasks/" in started.headers["Location"]
    with engine.read() as s:
        instance = s.session.scalars(sa.select(ProcessInstance)).one()
        variables = s.runtime.variables(s.runtime.instance(instance.id))
    assert {k: variables[k] for k in (
        "nama_perusahaan", "alamat_perusahaan", "nama_pabrik", "alamat_pabrik",
        "makloon_nama", "makloon_alamat", "profil_kurang_teks")} == {
        "nama_perusahaan": "PT Maju Jaya Makmur", "alamat_perusahaan": "Jl. Industri No. 5, Bekasi",
        "nama_pabrik": "Pabrik Cikarang", "alamat_pabrik": "Kawasan MM2100 Blok A1",
        "makloon_nama": "CV Mitra Rasa", "makloon_alamat": "Jl. Pangan 2, Bogor",
        "profil_kurang_teks": ""}
    assert [o["nama"] for o in variables["daftar_pabrik"]] == ["Pabrik Cikarang",
                                                               "Pabrik Karawang"]
    # The application form is given them (read-only fields) and the factory list.
    page = customer.page(started.headers["Location"]).get_data(as_text=True)
    assert "PT Maju Jaya Makmur" in page and "Pabrik Karawang" in page


def test_another_process_does_not_take_the_profile(browser: Any, engine: Engine) -> None:
    customer = browser("cust1")
    customer.page("/profile")
    assert customer.post("/profile", FORM).status_code == 302
    customer.page("/start")
    assert customer.post("/start/web_demo").status_code == 302
    with engine.read() as s:
        instance = s.session.scalars(sa.select(ProcessInstance)).one()
        assert "nama_perusahaan" not in s.runtime.variables(s.runtime.instance(instance.id))
