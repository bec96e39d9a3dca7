"""Company profiles through real HTTP: a customer's own, staff read any, clear 422s."""

from __future__ import annotations

from typing import Any

import requests

from tests.api.conftest import Client
from tests.people import COMPANY

PROFILE: dict[str, Any] = {
    "legal_name": "PT Maju Jaya Makmur", "npwp": "01.234.567.8-901.000",
    "nib": "9120001234567", "address": "Jl. Industri No. 5, Bekasi",
    "contact_name": "Sari Dewi", "contact_phone": "021-555-0101",
    "contact_email": "sari@majujaya.co.id",
    "factories": [{"name": "Pabrik Cikarang", "address": "Kawasan MM2100 Blok A1"}],
}


def put(client: Client, body: Any) -> requests.Response:
    return client.http.put(client.base + "/api/v1/company-profile", json=body, timeout=30)


def fields_of(answer: requests.Response) -> dict[str, str]:
    assert answer.status_code == 422, answer.text
    return {e["field"]: e["message"] for e in answer.json()["errors"]}


def test_the_customer_keeps_their_own_profile(as_user: Any) -> None:
    customer = as_user("cust1")
    assert customer.get("/api/v1/company-profile").status_code == 404  # none yet
    saved = put(customer, PROFILE)
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert (body["company"], body["npwp"], body["updated_by"]) == (
        COMPANY, "012345678901000", "cust1")
    assert body["factories"][0]["name"] == "Pabrik Cikarang"
    assert customer.get("/api/v1/company-profile").json()["legal_name"] == "PT Maju Jaya Makmur"
    again = put(customer, {**PROFILE, "factories": [
        {"name": "Pabrik Cikarang", "address": "Kawasan MM2100 Blok A1"},
        {"name": "Pabrik Karawang", "address": "KIIC Lot 7"}],
        "makloon_name": "CV Mitra Rasa", "makloon_address": "Jl. Pangan 2, Bogor"})
    assert [f["name"] for f in again.json()["factories"]] == ["Pabrik Cikarang",
                                                              "Pabrik Karawang"]


def test_bad_input_is_refused_naming_the_fields_and_changes_nothing(as_user: Any) -> None:
    customer = as_user("cust1")
    assert put(customer, PROFILE).status_code == 200
    assert fields_of(put(customer, {**PROFILE, "npwp": "12.345"})) == {
        "npwp": "must be 15 or 16 digits"}
    errors = fields_of(put(customer, {**PROFILE, "nib": "12", "factories": [],
                                      "contact_email": "bukan-email",
                                      "makloon_name": "CV Mitra Rasa"}))
    assert set(errors) == {"nib", "factories", "contact_email", "makloon_address"}
    assert "legal_name" in fields_of(put(customer, {k: v for k, v in PROFILE.items()
                                                    if k != "legal_name"}))
    assert customer.get("/api/v1/company-profile").json()["npwp"] == "012345678901000"


def test_staff_read_any_profile_a_customer_only_their_own(as_user: Any) -> None:
    assert put(as_user("cust1"), PROFILE).status_code == 200
    staff = as_user("upp1")
    assert staff.get(f"/api/v1/company-profiles/{COMPANY}").json()["nib"] == "9120001234567"
    assert put(staff, PROFILE).status_code == 403  # staff have no own company profile
    other = as_user("cust2")
    assert other.get(f"/api/v1/company-profiles/{COMPANY}").status_code == 404
    assert as_user("cust1").get(f"/api/v1/company-profiles/{COMPANY}").status_code == 200
    assert staff.get("/api/v1/company-profiles/PT%20Tidak%20Ada").status_code == 404
