"""The application's forms ask for the conditional documents by the checklist's rules.

``lspro.scope.REQUIREMENTS`` is the one table of which document applies when; the
intake's completeness check (``application.receive``) computes ``dokumen_kurang``
from it. The forms' ``conditional.hide`` rules, evaluated by the engine as the
browser does, must give the same answer for every combination of the facts.
"""

from __future__ import annotations

import itertools
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from engine.tasks.camunda_form_fields import form_fields_camunda
from engine.tasks.form_submission import FieldError, FormValidationError, validate_submission
from lspro.scope import REQUIREMENTS, ApplicationFacts, parse_scheme_type, scope_on

FORMS = Path(__file__).resolve().parents[2] / "forms"
APPLICATION_FORMS = ("p_ajukan_permohonan", "p_lengkapi_dokumen", "p_periksa_kelengkapan")


def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FORMS / f"{name}.form").read_text())
    return loaded


def product_codes() -> list[str]:
    for c in schema("p_ajukan_permohonan")["components"]:
        if c.get("key") == "produk":
            return [v["value"] for v in c["values"]]
    raise AssertionError("the application form has no product field")


def combinations() -> list[dict[str, Any]]:
    return [{"makloon": m, "merek_milik_sendiri": own, "tipe_skema": scheme, "produk": product,
             "jenis_permohonan": kind}
            for m, own, scheme, product, kind in itertools.product(
                (True, False), (True, False), ("5", "4"), product_codes(),
                ("baru", "resertifikasi"))]


def facts_of(values: dict[str, Any]) -> ApplicationFacts:
    entry = scope_on(date(2027, 3, 1)).entry(values["produk"])
    return ApplicationFacts(scheme_type=parse_scheme_type(values["tipe_skema"]),
                            amdk=bool(entry and entry.amdk), makloon=values["makloon"],
                            own_brand=values["merek_milik_sendiri"],
                            application_type=values["jenis_permohonan"])


@pytest.mark.parametrize("form", APPLICATION_FORMS)
def test_each_form_shows_a_document_exactly_when_the_checklist_asks_for_it(form: str) -> None:
    fields = {f.key: f for f in form_fields_camunda(schema(form))}
    applicant = [r for r in REQUIREMENTS if not r.issued]
    assert all(r.field in fields for r in applicant), form
    for values in combinations():
        facts = facts_of(values)
        for requirement in applicant:
            field = fields[requirement.field]
            assert not field.conditional, (form, field.key)  # the rule is evaluated
            shown = not any(rule(values) is True for rule in field.hide)
            assert shown == requirement.applies(facts), (form, requirement.key, values)


def test_the_application_form_requires_every_document_that_applies() -> None:
    fields = {f.key: f for f in form_fields_camunda(schema("p_ajukan_permohonan"))}
    assert all(fields[r.field].required for r in REQUIREMENTS if not r.issued)


DOC = {"id": "doc-1", "sha256": "a" * 64, "name": "x.pdf"}
BASE = {"produk": "BISKUIT", "sni": "SNI 2973:2022", "tipe_skema": "4",
        "jenis_permohonan": "baru", "merek_milik_sendiri": True,
        "merek_kemasan": [{"merek": "Renyah", "kemasan": "Kotak 300 g"}]}


def submission(**values: Any) -> dict[str, Any]:
    data = {**BASE, **values}
    facts = facts_of(data)
    data.update({r.field: DOC for r in REQUIREMENTS
                 if not r.issued and r.condition is None})
    assert facts.makloon is values.get("makloon")
    return data


def test_makloon_without_its_agreement_is_refused_naming_the_field() -> None:
    with pytest.raises(FormValidationError) as caught:
        validate_submission(submission(makloon=True), schema=schema("p_ajukan_permohonan"))
    assert caught.value.errors == [FieldError("dok_perjanjian_makloon", "is required")]


def test_no_makloon_needs_no_agreement_and_keeps_none_sent() -> None:
    cleaned = validate_submission(submission(makloon=False, dok_perjanjian_makloon=DOC),
                                  schema=schema("p_ajukan_permohonan"))
    assert cleaned["makloon"] is False and "dok_perjanjian_makloon" not in cleaned
