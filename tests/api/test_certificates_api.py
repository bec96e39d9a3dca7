"""The certificate register, e-Billing records and the public register through real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from engine.composition import Engine
from lspro.billing import BillingService
from lspro.certificates import CertificateRegister
from tests.api.conftest import Client
from tests.builders import definitions, process
from tests.people import COMPANY, OTHER_COMPANY
from tests.settings import LSPRO

BRANDS = [{"merek": "Segar", "kemasan": "botol 600 ml"}]


@pytest.fixture
def register(server: str, engine: Engine) -> dict[str, Any]:
    """Three certificates (one of another company, revoked) and two bills."""
    with engine.write() as s:
        certificates = CertificateRegister(s.session, engine.clock, LSPRO)
        ours = certificates.issue(company=COMPANY, product_code="AIR_MINERAL",
                                  sni="SNI 3553:2023", scheme_type=5, brands=BRANDS,
                                  application_number="PRM-2027-00001")
        certificates.handover(ours.number)
        second = certificates.issue(company=COMPANY, product_code="BISKUIT",
                                    sni="SNI 2973:2022", scheme_type=5, brands=BRANDS,
                                    application_number="PRM-2027-00002")
        certificates.suspend(second.number, "penyalahgunaan")
        theirs = certificates.issue(company=OTHER_COMPANY, product_code="BISKUIT",
                                    sni="2973:2011", scheme_type="5", brands=BRANDS,
                                    application_number="PRM-2027-00003")
        certificates.revoke(theirs.number, "tidak_membayar")
        billing = BillingService(s.session, engine.clock, LSPRO)
        our_bill = billing.issue("PRM-2027-00001", ["INITIAL_OR_RECERT"], company=COMPANY)
        their_bill = billing.issue("PRM-2027-00003", ["INITIAL_OR_RECERT", "MAKLOON"],
                                   company=OTHER_COMPANY)
        return {"ours": (ours.id, ours.number), "second": (second.id, second.number),
                "theirs": (theirs.id, theirs.number), "our_bill": our_bill.code,
                "their_bill": their_bill.code}


def numbers(answer: Any) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [item["number"] for item in answer.json()["items"]]


def test_staff_see_every_certificate_and_filter_them(as_user: Any,
                                                     register: dict[str, Any]) -> None:
    staff = as_user("upp1")
    everything = numbers(staff.get("/api/v1/certificates"))
    assert sorted(everything) == sorted(n for _, n in
                                        (register["ours"], register["second"], register["theirs"]))
    assert numbers(staff.get("/api/v1/certificates", params={"state": "dicabut"})) == [
        register["theirs"][1]]
    assert numbers(staff.get("/api/v1/certificates", params={"company": OTHER_COMPANY})) == [
        register["theirs"][1]]
    assert numbers(staff.get("/api/v1/certificates", params={"number": "/3553/"})) == [
        register["ours"][1]]
    page = staff.get("/api/v1/certificates", params={"per_page": 1, "page": 2}).json()
    assert page["total"] == 3 and len(page["items"]) == 1 and page["page"] == 2
    assert staff.get("/api/v1/certificates", params={"state": "hilang"}).status_code == 422


def test_a_customer_sees_only_their_company(as_user: Any, register: dict[str, Any]) -> None:
    customer = as_user("cust1")
    ours = {register["ours"][1], register["second"][1]}
    assert set(numbers(customer.get("/api/v1/certificates"))) == ours
    # Asking for another company changes nothing.
    assert set(numbers(customer.get("/api/v1/certificates",
                                    params={"company": OTHER_COMPANY}))) == ours
    assert customer.get(f"/api/v1/certificates/{register['theirs'][0]}").status_code == 404
    detail = customer.get(f"/api/v1/certificates/{register['ours'][0]}")
    assert detail.status_code == 200 and detail.json()["company"] == COMPANY
    bills = customer.get("/api/v1/invoices").json()
    assert [b["code"] for b in bills["items"]] == [register["our_bill"]]


def test_certificate_detail_carries_its_history(as_user: Any, register: dict[str, Any]) -> None:
    answer = as_user("upp1").get(f"/api/v1/certificates/{register['second'][0]}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["number"] == register["second"][1] and body["state"] == "dibekukan"
    assert body["product_name"] == "Biskuit" and body["sni"] == "SNI 2973:2022"
    assert body["brands"] == BRANDS and body["expires_on"] == "2031-02-28"
    assert body["suspension_reason"] == "penyalahgunaan"
    assert [(e["kind"], e["from_state"], e["to_state"]) for e in body["history"]] == [
        ("issued", None, "aktif"), ("suspended", "aktif", "dibekukan")]
    assert as_user("upp1").get("/api/v1/certificates/nope").status_code == 404


def test_staff_see_every_invoice(as_user: Any, register: dict[str, Any]) -> None:
    answer = as_user("upp1").get("/api/v1/invoices", params={"subject": "PRM-2027-00003"})
    (bill,) = answer.json()["items"]
    assert bill["code"] == register["their_bill"] and bill["state"] == "terbit"
    assert bill["schedules"] == ["INITIAL_OR_RECERT", "MAKLOON"]
    assert bill["total"] == 14_800_000 and bill["due_at"].startswith("2027-03-15T16:59")
    assert as_user("upp1").get("/api/v1/invoices").json()["total"] == 2


def test_nobody_signed_in_sees_no_register(anonymous: Client, register: dict[str, Any]) -> None:
    assert anonymous.get("/api/v1/certificates").status_code == 401
    assert anonymous.get("/api/v1/invoices").status_code == 401
    assert anonymous.get(f"/api/v1/certificates/{register['ours'][0]}").status_code == 401


def test_public_lookup_by_number_shows_nothing_confidential(
        anonymous: Client, register: dict[str, Any]) -> None:
    answer = anonymous.get("/api/v1/public/certificates",
                           params={"number": register["second"][1]})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "number": register["second"][1], "company": COMPANY, "product": "Biskuit",
        "sni": "SNI 2973:2022", "scheme_type": 5, "state": "dibekukan",
        "issued_on": "2027-03-01", "expires_on": "2031-02-28", "revoked_on": None,
        "replaced_by": None}
    typed = anonymous.get("/api/v1/public/certificates",
                          params={"number": " " + register["second"][1].lower() + " "})
    assert typed.status_code == 200 and typed.json()["number"] == register["second"][1]
    missing = anonymous.get("/api/v1/public/certificates", params={"number": "0999/X/1/2027"})
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == "application/problem+json"
    assert anonymous.get("/api/v1/public/certificates").status_code == 422


def test_public_lookup_names_the_replacement_of_a_withdrawn_certificate(
        anonymous: Client, register: dict[str, Any], engine: Engine) -> None:
    with engine.write() as s:
        old, new = CertificateRegister(s.session, engine.clock, LSPRO).reissue(
            register["ours"][1], "salah ketik alamat")
    body = anonymous.get("/api/v1/public/certificates", params={"number": old.number}).json()
    assert body["state"] == "ditarik" and body["replaced_by"] == new.number


def test_public_list_of_revoked_certificates(anonymous: Client,
                                             register: dict[str, Any]) -> None:
    answer = anonymous.get("/api/v1/public/revoked-certificates")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == 1
    (item,) = body["items"]
    assert item["number"] == register["theirs"][1] and item["state"] == "dicabut"
    assert item["revoked_on"] == "2027-03-01" and item["company"] == OTHER_COMPANY
    assert "revocation_reason" not in item and "tidak_membayar" not in answer.text


def test_a_generated_letter_downloads_in_a_sandbox(as_user: Any, engine: Engine) -> None:
    key = "surat"
    xml = definitions(key, process(key, (
        '    <bpmn:startEvent id="start" />\n'
        '    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />\n'
        '    <bpmn:userTask id="wait" camunda:candidateGroups="upp" />\n')))
    with engine.write() as s:
        s.deployments.deploy([("surat.bpmn", xml.encode())])
        instance = s.runtime.start_instance(key, company=COMPANY)
        letter = s.documents.store_generated(
            instance.id, b"<!DOCTYPE html><html><body><p>Surat</p></body></html>",
            name="surat_pembekuan.html", field="dokumen_surat_pembekuan")
    answer = as_user("cust1").get(f"/api/v1/documents/{letter.id}")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    assert answer.headers["Content-Security-Policy"] == "sandbox"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.content.startswith(b"<!DOCTYPE html>")
    assert as_user("cust2").get(f"/api/v1/documents/{letter.id}").status_code == 404


def test_openapi_lists_the_register_endpoints_and_the_public_ones_need_no_token(
        anonymous: Client) -> None:
    spec = anonymous.get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    assert {"/api/v1/certificates", "/api/v1/certificates/{certificate_id}",
            "/api/v1/invoices", "/api/v1/public/certificates",
            "/api/v1/public/revoked-certificates"} <= set(paths)
    assert "security" not in paths["/api/v1/public/certificates"]["get"]
    assert paths["/api/v1/certificates"]["get"]["security"] == [{"bearerAuth": []}]
