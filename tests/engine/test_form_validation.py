"""Server-side validation of task submissions against Camunda Forms and generated forms."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from engine.errors import InvalidInput
from engine.tasks.camunda_form_fields import form_fields_camunda
from engine.tasks.field_values import TEXT_CAP
from engine.tasks.form_fields import Kind
from engine.tasks.form_submission import FieldError, FormValidationError, validate_submission
from engine.tasks.formdata_fields import form_fields_generated
from engine.tasks.taskforms import TaskForm, check_file_references

EXAMPLES = (Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "bpmn" / "camunda7"
            / "camunda-bpm-examples" / "usertask" / "task-camunda-forms" / "src" / "main"
            / "webapp")
DROP = object()  # marks a key to remove from a submission


def load_form(name: str) -> dict[str, Any]:
    """A Camunda example form; the test is skipped where the examples are not beside us."""
    if not EXAMPLES.is_dir():
        pytest.skip(f"the Camunda example forms are not at {EXAMPLES}")
    schema: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return schema


def errors_of(data: dict[str, Any], **kwargs: Any) -> list[FieldError]:
    with pytest.raises(FormValidationError) as info:
        validate_submission(data, **kwargs)
    return info.value.errors


def changed(base: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """Return a copy of ``base`` with the value at ``path`` replaced (or dropped)."""
    data = copy.deepcopy(base)
    target = data
    for part in path[:-1]:
        target = target.setdefault(part, {})
    if value is DROP:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return data


def dig(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


# --- the Camunda example forms --------------------------------------------------------------

START_CASES = [
    ({"creditor": "Acme", "amount": "300", "invoiceNumber": "C-123"},
     {"creditor": "Acme", "amount": "300", "invoiceNumber": "C-123"}, []),
    ({"creditor": "Acme", "amount": "300"}, {"creditor": "Acme", "amount": "300"}, []),
    ({"creditor": "Acme", "amount": "300", "invoiceNumber": ""},
     {"creditor": "Acme", "amount": "300", "invoiceNumber": ""}, []),
    ({"creditor": "", "amount": "30.5", "invoiceNumber": "123"}, None,
     [FieldError("creditor", "is required"),
      FieldError("amount", "does not have the expected format"),
      FieldError("invoiceNumber", "does not have the expected format")]),
    ({"amount": 300}, None,
     [FieldError("creditor", "is required"), FieldError("amount", "must be text")]),
    ({"creditor": "Acme", "amount": "300", "invoiceNumber": "C-12x"}, None,
     [FieldError("invoiceNumber", "does not have the expected format")]),
]


@pytest.mark.parametrize(("data", "cleaned", "errors"), START_CASES)
def test_camunda_example_start_form(
    data: dict[str, Any], cleaned: dict[str, Any] | None, errors: list[FieldError]
) -> None:
    schema = load_form("start-form.form")
    if errors:
        assert errors_of(data, schema=schema) == errors
    else:
        assert validate_submission(data, schema=schema) == cleaned


TASK_BASE = {"creditor": "Acme", "amount": "300", "invoiceNumber": "C-1", "approved": "true"}
TASK_CASES = [
    ({}, {**TASK_BASE}, []),
    ({"approved": "false", "approvedBy": "Dewi"}, {**TASK_BASE, "approved": "false",
                                                  "approvedBy": "Dewi"}, []),
    ({"approved": "yes"}, None, [FieldError("approved", "does not have the expected format")]),
    # Python's full match: form-js would accept this with its unanchored search.
    ({"approved": "not true"}, None,
     [FieldError("approved", "does not have the expected format")]),
    ({"approved": True}, None, [FieldError("approved", "must be text")]),
    ({"approved": DROP}, None, [FieldError("approved", "is required")]),
]


@pytest.mark.parametrize(("change", "cleaned", "errors"), TASK_CASES)
def test_camunda_example_task_form(
    change: dict[str, Any], cleaned: dict[str, Any] | None, errors: list[FieldError]
) -> None:
    schema = load_form("task-form.form")
    data = dict(TASK_BASE)
    for key, value in change.items():
        data = changed(data, (key,), value)
    if errors:
        assert errors_of(data, schema=schema) == errors
    else:
        assert validate_submission(data, schema=schema) == cleaned


def test_example_task_form_keeps_values_the_user_did_not_send() -> None:
    current = {"creditor": "Acme", "amount": "300", "approved": "true"}
    cleaned = validate_submission({"approvedBy": "Dewi"}, schema=load_form("task-form.form"),
                                  current=current)
    assert cleaned == {"approvedBy": "Dewi"}


# --- a schema using every rule --------------------------------------------------------------

SHA_A = "a" * 64
SHA_B = "b" * 64
OPTIONS_SCHEME = [{"label": "Skema 1", "value": "type1"}, {"label": "Skema 5", "value": "type5"}]

RICH: dict[str, Any] = {
    "type": "default",
    "id": "inspection-report",
    "components": [
        {"type": "text", "text": "# Laporan inspeksi"},
        {"type": "textfield", "key": "name", "label": "Name",
         "validate": {"required": True, "minLength": 3, "maxLength": 20,
                      "pattern": "[A-Za-z ]+"}},
        {"type": "textfield", "key": "email", "validate": {"validationType": "email"}},
        {"type": "textarea", "key": "notes"},
        {"type": "number", "key": "quantity", "decimalDigits": 0,
         "validate": {"min": 1, "max": 100}},
        {"type": "number", "key": "price", "decimalDigits": 2,
         "validate": {"min": "0", "max": "1000.5"}},
        {"type": "number", "key": "weight", "increment": "0.5"},
        {"type": "checkbox", "key": "agree", "validate": {"required": True}},
        {"type": "select", "key": "scheme", "values": OPTIONS_SCHEME,
         "validate": {"required": True}},
        {"type": "radio", "key": "priority",
         "values": [{"label": "Low", "value": "low"}, {"label": "High", "value": "high"}]},
        {"type": "checklist", "key": "standards",
         "values": [{"label": s, "value": s} for s in ("SNI-1", "SNI-2", "SNI-3")]},
        {"type": "taglist", "key": "tags", "valuesKey": "tagOptions"},
        {"type": "select", "key": "lab", "valuesExpression": "=labs"},
        {"type": "datetime", "key": "auditDate", "subtype": "date"},
        {"type": "datetime", "key": "auditTime", "subtype": "time", "use24h": True},
        {"type": "datetime", "key": "auditAt", "subtype": "datetime",
         "timeSerializingFormat": "utc_offset"},
        {"type": "textfield", "key": "caseNumber", "readonly": True},
        {"type": "number", "key": "fee", "disabled": True},
        {"type": "textfield", "key": "reviewer", "readonly": "=isLocked"},
        # Hide rules outside the FEEL subset the server evaluates (a function call):
        # read permissively, never required. Evaluated rules: test_hide_rules_*.
        {"type": "textfield", "key": "reason", "conditional": {"hide": "=is defined(agree)"},
         "validate": {"required": True}},
        {"type": "group", "label": "Applicant", "path": "applicant", "components": [
            {"type": "textfield", "key": "company.name", "validate": {"required": True}},
            {"type": "textfield", "key": "phone", "validate": {"validationType": "phone"}},
        ]},
        {"type": "group", "label": "No path", "components": [
            {"type": "textfield", "key": "city"},
            {"type": "separator"},
        ]},
        {"type": "group", "path": "inspection",
         "conditional": {"hide": "=get value(context, \"remote\")"},
         "components": [
             {"type": "textfield", "key": "inspector", "validate": {"required": True}},
         ]},
        {"type": "dynamiclist", "path": "products", "label": "Products", "isRepeating": True,
         "components": [
             {"type": "textfield", "key": "sku", "validate": {"required": True,
                                                               "pattern": "P-[0-9]+"}},
             {"type": "number", "key": "units", "validate": {"min": 1}},
         ]},
        {"type": "filepicker", "key": "certificate", "accept": ".pdf"},
        {"type": "filepicker", "key": "photos", "multiple": True},
        {"type": "textfield", "key": "address.street"},
        {"type": "expression", "key": "computed", "expression": "=quantity * price"},
        {"type": "html", "content": "<b>hi</b>"},
        {"type": "image", "source": "=logo"},
        {"type": "spacer", "height": 20},
        {"type": "iframe", "url": "https://example.org"},
        {"type": "table", "dataSource": "=rows", "columns": []},
        {"type": "button", "action": "submit", "label": "Send"},
    ],
}
CURRENT = {"caseNumber": "SPPT-001", "fee": 150000}
VALID: dict[str, Any] = {
    "name": "Budi Santoso",
    "email": "budi@example.co.id",
    "notes": "",
    "quantity": 3,
    "price": "12.50",
    "weight": 1.5,
    "agree": True,
    "scheme": "type5",
    "priority": "low",
    "standards": ["SNI-1", "SNI-3"],
    "tags": ["anything"],
    "lab": "LAB-7",
    "auditDate": "2027-01-15",
    "auditTime": "09:30",
    "auditAt": "2027-01-15T09:30:00+07:00",
    "caseNumber": "SPPT-001",
    "reviewer": "Sari",
    "applicant": {"company": {"name": "PT Maju"}, "phone": "+62 812-3456-7890",
                  "junk": "dropped"},
    "city": "Bandung",
    "products": [{"sku": "P-1", "units": "2"}, {"sku": "P-22", "colour": "red"}],
    "certificate": {"id": "doc-1", "sha256": SHA_A, "name": "cert.pdf"},
    "photos": [{"id": "doc-2", "sha256": SHA_B, "name": "a.jpg", "size": 1024}],
    "address": {"street": "Jl. Merdeka 1"},
    "computed": 42,
    "intruder": "<script>",
}
EXPECTED: dict[str, Any] = {
    "name": "Budi Santoso",
    "email": "budi@example.co.id",
    "notes": "",
    "quantity": 3,
    "price": 12.5,
    "weight": 1.5,
    "agree": True,
    "scheme": "type5",
    "priority": "low",
    "standards": ["SNI-1", "SNI-3"],
    "tags": ["anything"],
    "lab": "LAB-7",
    "auditDate": "2027-01-15",
    "auditTime": "09:30",
    "auditAt": "2027-01-15T09:30:00+07:00",
    "reviewer": "Sari",
    "applicant": {"company": {"name": "PT Maju"}, "phone": "+62 812-3456-7890"},
    "city": "Bandung",
    "products": [{"sku": "P-1", "units": 2}, {"sku": "P-22"}],
    "certificate": {"id": "doc-1", "sha256": SHA_A, "name": "cert.pdf"},
    "photos": [{"id": "doc-2", "sha256": SHA_B, "name": "a.jpg", "size": 1024}],
    "address": {"street": "Jl. Merdeka 1"},
}


def test_rich_form_is_flattened_to_its_inputs_in_form_order() -> None:
    fields = form_fields_camunda(RICH)
    assert [(f.key, f.kind) for f in fields] == [
        ("name", Kind.TEXT), ("email", Kind.TEXT), ("notes", Kind.TEXT),
        ("quantity", Kind.NUMBER), ("price", Kind.NUMBER), ("weight", Kind.NUMBER),
        ("agree", Kind.BOOLEAN), ("scheme", Kind.CHOICE), ("priority", Kind.CHOICE),
        ("standards", Kind.CHOICES), ("tags", Kind.CHOICES), ("lab", Kind.CHOICE),
        ("auditDate", Kind.DATE), ("auditTime", Kind.TIME), ("auditAt", Kind.DATETIME),
        ("caseNumber", Kind.TEXT), ("fee", Kind.NUMBER), ("reviewer", Kind.TEXT),
        ("reason", Kind.TEXT), ("applicant.company.name", Kind.TEXT),
        ("applicant.phone", Kind.TEXT), ("city", Kind.TEXT), ("inspection.inspector", Kind.TEXT),
        ("products", Kind.LIST), ("certificate", Kind.FILE), ("photos", Kind.FILE),
        ("address.street", Kind.TEXT),
    ]
    by_key = {f.key: f for f in fields}
    assert [c.key for c in by_key["products"].children] == ["sku", "units"]
    assert by_key["scheme"].options == ("type1", "type5")
    assert by_key["tags"].options is None and by_key["lab"].options is None
    assert (by_key["caseNumber"].readonly, by_key["fee"].readonly,
            by_key["reviewer"].readonly) == (True, True, False)
    assert (by_key["reason"].conditional, by_key["inspection.inspector"].conditional,
            by_key["name"].conditional) == (True, True, False)


def test_rich_form_valid_submission_is_cleaned() -> None:
    assert validate_submission(VALID, schema=RICH, current=CURRENT) == EXPECTED


INVALID_CASES = [
    (("name",), DROP, "name", "is required"),
    (("name",), "", "name", "is required"),
    (("name",), None, "name", "is required"),
    (("name",), "Bo", "name", "must be at least 3 characters"),
    (("name",), "  Bo  ", "name", "must be at least 3 characters"),
    (("name",), "B" * 21, "name", "must be at most 20 characters"),
    (("name",), "Budi99", "name", "does not have the expected format"),
    (("name",), {"first": "Budi"}, "name", "must be text"),
    (("name",), ["Budi"], "name", "must be text"),
    (("name",), 12345, "name", "must be text"),
    (("email",), "budi@", "email", "must be an email address"),
    (("email",), "budi @example.com", "email", "must be an email address"),
    (("notes",), "x" * (TEXT_CAP + 1), "notes", "is too long"),
    (("quantity",), 0, "quantity", "must be at least 1"),
    (("quantity",), 101, "quantity", "must be at most 100"),
    (("quantity",), "2.5", "quantity", "must be a whole number"),
    (("quantity",), "abc", "quantity", "must be a number"),
    (("quantity",), "1e3", "quantity", "must be a number"),
    (("quantity",), True, "quantity", "must be a number"),
    (("quantity",), float("nan"), "quantity", "must be a number"),
    (("quantity",), float("inf"), "quantity", "must be a number"),
    (("quantity",), [3], "quantity", "must be a number"),
    (("price",), "1.005", "price", "must have at most 2 decimal digits"),
    (("price",), "1000.75", "price", "must be at most 1000.5"),
    (("price",), -1, "price", "must be at least 0"),
    (("price",), "1" * 400, "price", "must be at most 1000.5"),
    (("weight",), 1.2, "weight", "must be a multiple of 0.5"),
    (("weight",), "9" * 400, "weight", "is out of range"),
    (("agree",), "yes", "agree", "must be true or false"),
    (("agree",), 1, "agree", "must be true or false"),
    (("agree",), None, "agree", "is required"),
    (("scheme",), "type9", "scheme", "is not one of the options"),
    (("scheme",), ["type5"], "scheme", "must be a single value"),
    (("scheme",), "", "scheme", "is required"),
    (("priority",), "urgent", "priority", "is not one of the options"),
    (("standards",), ["SNI-1", "SNI-9"], "standards",
     "contains a value that is not one of the options"),
    (("standards",), "SNI-1", "standards", "must be a list"),
    (("tags",), [{"x": 1}], "tags", "must be a list of single values"),
    (("tags",), ["y" * (TEXT_CAP + 1)], "tags", "is too long"),
    (("lab",), {"id": 1}, "lab", "must be a single value"),
    (("auditDate",), "15/01/2027", "auditDate", "must be a date (YYYY-MM-DD)"),
    (("auditDate",), "2027-02-30", "auditDate", "must be a date (YYYY-MM-DD)"),
    (("auditDate",), 20270115, "auditDate", "must be a date (YYYY-MM-DD)"),
    (("auditTime",), "25:00", "auditTime", "must be a time (HH:MM)"),
    (("auditTime",), "9:30", "auditTime", "must be a time (HH:MM)"),
    (("auditAt",), "2027-01-15", "auditAt", "must be a date and time (ISO 8601)"),
    (("auditAt",), "2027-01-15T09:30:00+25:00", "auditAt",
     "must be a date and time (ISO 8601)"),
    (("auditAt",), "15/01/2027 09:30", "auditAt", "must be a date and time (ISO 8601)"),
    (("caseNumber",), "SPPT-999", "caseNumber", "is read-only"),
    (("caseNumber",), None, "caseNumber", "is read-only"),
    (("fee",), 1, "fee", "is read-only"),
    (("applicant", "company", "name"), DROP, "applicant.company.name", "is required"),
    (("applicant",), "PT Maju", "applicant.company.name", "is required"),
    (("applicant", "phone"), "call me", "applicant.phone", "must be a phone number"),
    (("applicant", "phone"), "+62 81", "applicant.phone", "must be a phone number"),
    (("products",), "P-1", "products", "must be a list"),
    (("products",), [{"sku": "P-1"}, "P-2"], "products[1]", "must be an object"),
    (("products",), [{"units": 2}], "products[0].sku", "is required"),
    (("certificate",), {"id": "doc-1", "name": "c.pdf"}, "certificate",
     "must be a file reference"),
    (("certificate",), {"id": "doc-1", "sha256": "xyz", "name": "c.pdf"}, "certificate",
     "must be a file reference"),
    (("certificate",), {"id": "doc-1", "sha256": SHA_A, "name": "c.pdf", "meta": {"a": 1}},
     "certificate", "must be a file reference"),
    (("certificate",), [{"id": "doc-1", "sha256": SHA_A, "name": "c.pdf"}], "certificate",
     "must be a file reference"),
    (("photos",), {"id": "doc-2", "sha256": SHA_B, "name": "a.jpg"}, "photos",
     "must be a list of file references"),
    (("photos",), ["doc-2"], "photos", "must be a list of file references"),
    (("address", "street"), "x" * (TEXT_CAP + 1), "address.street", "is too long"),
]


@pytest.mark.parametrize(("path", "value", "field", "message"), INVALID_CASES)
def test_rich_form_refuses(path: tuple[str, ...], value: Any, field: str, message: str) -> None:
    data = changed(VALID, path, value)
    assert errors_of(data, schema=RICH, current=CURRENT) == [FieldError(field, message)]


VALID_CASES = [
    (("quantity",), "12", 12),
    (("quantity",), " 7 ", 7),
    (("quantity",), 5.0, 5),
    (("quantity",), "5.00", 5),
    (("quantity",), None, None),
    (("quantity",), "", None),
    (("price",), "12.5", 12.5),
    (("price",), 0.1, 0.1),
    (("price",), "1000.5", 1000.5),
    (("price",), 0, 0),
    (("weight",), "2.5", 2.5),
    (("weight",), -3, -3),
    (("agree",), "false", False),
    (("agree",), "true", True),
    (("agree",), False, False),
    (("name",), "Ani", "Ani"),
    (("name",), "A" * 20, "A" * 20),
    (("email",), "", ""),
    (("notes",), "x" * TEXT_CAP, "x" * TEXT_CAP),
    (("priority",), None, None),
    (("standards",), [], []),
    (("tags",), [1, "two", True], [1, "two", True]),
    (("lab",), 7, 7),
    (("auditTime",), "09:30:15", "09:30:15"),
    (("auditTime",), "09:30+07:00", "09:30+07:00"),
    (("auditAt",), "2027-01-15T02:30:00Z", "2027-01-15T02:30:00Z"),
    (("auditAt",), "2027-01-15T09:30", "2027-01-15T09:30"),
    (("reviewer",), "Andi", "Andi"),
    (("reason",), "no inspection", "no inspection"),
    (("reason",), "", ""),
    (("inspection", "inspector"), "", ""),
    (("applicant", "phone"), "0812-3456-7890", "0812-3456-7890"),
    (("products",), [], []),
    (("products",), [{"sku": "P-9", "units": None}], [{"sku": "P-9", "units": None}]),
    (("certificate",), None, None),
    (("photos",), [], []),
]


@pytest.mark.parametrize(("path", "value", "expected"), VALID_CASES)
def test_rich_form_accepts_and_coerces(path: tuple[str, ...], value: Any, expected: Any) -> None:
    cleaned = validate_submission(changed(VALID, path, value), schema=RICH, current=CURRENT)
    result = dig(cleaned, path)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(("path", "value"), [
    (("caseNumber",), "SPPT-001"),  # sent back as it is stored
    (("caseNumber",), DROP),
    (("fee",), "150000"),  # the same value, typed as text by the browser
    (("fee",), 150000.0),
])
def test_read_only_fields_sent_back_unchanged_are_not_written(
    path: tuple[str, ...], value: Any
) -> None:
    cleaned = validate_submission(changed(VALID, path, value), schema=RICH, current=CURRENT)
    assert "caseNumber" not in cleaned and "fee" not in cleaned


def test_read_only_field_without_a_stored_value_may_come_back_empty() -> None:
    data = changed(changed(VALID, ("caseNumber",), ""), ("fee",), None)
    assert validate_submission(data, schema=RICH) == EXPECTED


STORED_REF = {"id": "doc-9", "sha256": SHA_A, "name": "signed.pdf"}


@pytest.mark.parametrize(("sent", "errors"), [
    (dict(STORED_REF), []),
    ({**STORED_REF, "name": "forged.pdf"}, [FieldError("signed", "is read-only")]),
    ({**STORED_REF, "size": 1}, [FieldError("signed", "is read-only")]),
    ([STORED_REF], [FieldError("signed", "is read-only")]),
])
def test_read_only_documents_compare_whole_references(
    sent: Any, errors: list[FieldError]
) -> None:
    schema = {"components": [{"type": "filepicker", "key": "signed", "readonly": True}]}
    current = {"signed": STORED_REF}
    if errors:
        assert errors_of({"signed": sent}, schema=schema, current=current) == errors
    else:
        assert validate_submission({"signed": sent}, schema=schema, current=current) == {}


def test_required_fields_already_stored_may_be_left_out() -> None:
    data = {k: v for k, v in VALID.items() if k not in ("name", "agree", "scheme", "applicant")}
    current = {**CURRENT, "name": "Budi", "agree": False, "scheme": "type1",
               "applicant": {"company": {"name": "PT Lama"}}}
    cleaned = validate_submission(data, schema=RICH, current=current)
    assert cleaned == {k: v for k, v in EXPECTED.items()
                       if k not in ("name", "agree", "scheme", "applicant")}


def test_a_stored_value_does_not_excuse_clearing_a_required_field() -> None:
    data = changed(VALID, ("name",), "")
    assert errors_of(data, schema=RICH, current={**CURRENT, "name": "Budi"}) == [
        FieldError("name", "is required")]


def test_every_failing_field_is_reported_once_in_form_order() -> None:
    data = copy.deepcopy(VALID)
    data.update({
        "photos": "nope",
        "name": "B",  # too short and does not match the pattern: only the first is told
        "quantity": "abc",
        "caseNumber": "changed",
        "products": [{"sku": "P-1"}, {"sku": "X-2", "units": 0}, {"sku": "P-3", "units": "u"}],
        "applicant": {"phone": "??"},
    })
    del data["agree"]
    assert errors_of(data, schema=RICH, current=CURRENT) == [
        FieldError("name", "must be at least 3 characters"),
        FieldError("quantity", "must be a number"),
        FieldError("agree", "is required"),
        FieldError("caseNumber", "is read-only"),
        FieldError("applicant.company.name", "is required"),
        FieldError("applicant.phone", "must be a phone number"),
        FieldError("products[1].sku", "does not have the expected format"),
        FieldError("products[1].units", "must be at least 1"),
        FieldError("products[2].units", "must be a number"),
        FieldError("photos", "must be a list of file references"),
    ]


def test_dynamic_list_rows_see_their_stored_row() -> None:
    schema = {"components": [{"type": "dynamiclist", "path": "rows", "components": [
        {"type": "textfield", "key": "code", "readonly": True},
        {"type": "textfield", "key": "note", "validate": {"required": True}},
    ]}]}
    current = {"rows": [{"code": "A", "note": "kept"}, {"code": "B"}]}
    cleaned = validate_submission({"rows": [{"code": "A"}, {"code": "B", "note": "new"}]},
                                  schema=schema, current=current)
    # Rows keep their read-only values; the list replaces the stored one as a whole.
    assert cleaned == {"rows": [{"code": "A", "note": "kept"}, {"code": "B", "note": "new"}]}
    assert errors_of({"rows": [{"code": "A"}, {"code": "Z"}]}, schema=schema,
                     current=current) == [FieldError("rows[1].code", "is read-only"),
                                          FieldError("rows[1].note", "is required")]


def test_a_list_that_only_shows_values_is_never_written() -> None:
    schema = {"components": [{"type": "dynamiclist", "path": "brands", "components": [
        {"type": "textfield", "key": "merek", "readonly": True},
        {"type": "textfield", "key": "kemasan", "disabled": True},
    ]}, {"type": "textfield", "key": "note"}]}
    current = {"brands": [{"merek": "Segar", "kemasan": "botol 600 ml", "id": 1}]}
    # A browser sends back the shown rows with nothing in them, or with their values.
    for sent in ([{}], [{"merek": "Segar", "kemasan": "botol 600 ml"}], []):
        cleaned = validate_submission({"brands": sent, "note": "ok"}, schema=schema,
                                      current=current)
        assert cleaned == {"note": "ok"}


def test_max_length_replaces_the_default_cap() -> None:
    schema = {"components": [{"type": "textarea", "key": "long",
                              "validate": {"maxLength": TEXT_CAP * 2}}]}
    text = "x" * (TEXT_CAP + 5)
    assert validate_submission({"long": text}, schema=schema) == {"long": text}


def test_the_error_carries_a_readable_summary() -> None:
    with pytest.raises(FormValidationError) as info:
        validate_submission({}, schema=load_form("start-form.form"))
    assert str(info.value) == "creditor: is required; amount: is required"


@pytest.mark.parametrize(("schema", "fragment"), [
    ({"components": [{"type": "textfield", "key": "a", "validate": {"pattern": "[0-9"}}]},
     "does not compile"),
    ({"components": [{"type": "textfield", "key": "a"}, {"type": "number", "key": "a"}]},
     "clash"),
    ({"components": [{"type": "textfield", "key": "a"}, {"type": "textfield", "key": "a.b"}]},
     "clash"),
    ({"components": [{"type": "textfield", "key": "a"},
                     {"type": "group", "path": "a", "components": [
                         {"type": "textfield", "key": "b"}]}]}, "clash"),
    ({"components": [{"type": "dynamiclist", "components": []}]}, "no key/path"),
    ({"components": [{"type": "textfield", "label": "No key"}]}, "no key/path"),
    ({"components": [{"type": "textfield", "key": "a..b"}]}, "invalid key"),
    ({"components": [{"type": "number", "key": "n", "validate": {"min": "ten"}}]},
     "not a number"),
    ({"components": [{"type": "datetime", "key": "d", "subtype": "week"}]}, "subtype"),
    ({"type": "default"}, "not a Camunda Form"),
])
def test_a_form_that_cannot_be_enforced_is_a_value_error(
    schema: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ValueError, match=fragment):
        validate_submission({"a": "1"}, schema=schema)


def test_feel_bounds_are_not_enforced() -> None:
    schema = {"components": [{"type": "number", "key": "n", "validate": {"min": "=lower"},
                              "increment": "=step"}]}
    assert validate_submission({"n": -5}, schema=schema) == {"n": -5}


def test_exactly_one_kind_of_form_is_given() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        validate_submission({})
    with pytest.raises(ValueError, match="exactly one"):
        validate_submission({}, schema={"components": []}, form_data=[])


# --- generated forms (camunda:formData) -----------------------------------------------------

FORM_DATA: list[dict[str, Any]] = [
    {"id": "applicantName", "label": "Applicant", "type": "string",
     "validation": [{"name": "required", "config": None}, {"name": "minlength", "config": "3"},
                    {"name": "maxlength", "config": "50"}]},
    {"id": "units", "label": "Units", "type": "long",
     "validation": [{"name": "min", "config": "1"}, {"name": "max", "config": "1000"}]},
    {"id": "urgent", "type": "boolean", "defaultValue": False},
    {"id": "dueDate", "type": "date"},
    {"id": "scheme", "type": "enum", "properties": {},
     "values": [{"id": "type1", "name": "Skema 1"}, {"id": "type5", "name": "Skema 5"}],
     "validation": [{"name": "required", "config": None}]},
    {"id": "caseNumber", "type": "string", "validation": [{"name": "readonly", "config": None}]},
    {"id": "colour", "type": "color"},
    {"id": "note", "type": "string",
     "validation": [{"name": "validator", "config": "com.example.NoteValidator"}]},
    {"id": "serial", "type": "long"},
]
GEN_CURRENT = {"caseNumber": "C-1"}
GEN_VALID: dict[str, Any] = {
    "applicantName": "PT Maju", "units": "25", "urgent": "true", "dueDate": "31/01/2027",
    "scheme": "type5", "caseNumber": "C-1", "colour": "#ff0000", "extra": 1,
}
GEN_EXPECTED: dict[str, Any] = {
    "applicantName": "PT Maju", "units": 25, "urgent": True, "dueDate": "2027-01-31",
    "scheme": "type5", "colour": "#ff0000",
}


def test_generated_form_fields() -> None:
    fields = form_fields_generated(FORM_DATA)
    assert [(f.key, f.kind, f.required, f.readonly) for f in fields] == [
        ("applicantName", Kind.TEXT, True, False), ("units", Kind.INTEGER, False, False),
        ("urgent", Kind.BOOLEAN, False, False), ("dueDate", Kind.LEGACY_DATE, False, False),
        ("scheme", Kind.CHOICE, True, False), ("caseNumber", Kind.TEXT, False, True),
        ("colour", Kind.SCALAR, False, False), ("note", Kind.TEXT, False, False),
        ("serial", Kind.INTEGER, False, False),
    ]


def test_generated_form_valid_submission_is_cleaned() -> None:
    assert validate_submission(GEN_VALID, form_data=FORM_DATA, current=GEN_CURRENT) == GEN_EXPECTED


GEN_CASES = [
    ("units", "2.5", None, "must be a whole number"),
    ("units", 2.5, None, "must be a whole number"),
    ("units", 0, None, "must be at least 1"),
    ("units", 1001, None, "must be at most 1000"),
    ("units", "abc", None, "must be a number"),
    ("units", False, None, "must be a number"),
    ("units", 7.0, 7, None),
    ("units", None, None, None),
    ("serial", 2**63, None, "is out of range"),
    ("serial", -(2**63), -(2**63), None),
    ("urgent", "yes", None, "must be true or false"),
    ("urgent", False, False, None),
    ("dueDate", "2027-01-31", "2027-01-31", None),
    ("dueDate", "01/12/2027", "2027-12-01", None),
    ("dueDate", "31/02/2027", None, "must be a date (dd/MM/yyyy or YYYY-MM-DD)"),
    ("dueDate", "2027-13-01", None, "must be a date (dd/MM/yyyy or YYYY-MM-DD)"),
    ("dueDate", "1/2/2027", None, "must be a date (dd/MM/yyyy or YYYY-MM-DD)"),
    ("scheme", "type9", None, "is not one of the options"),
    ("scheme", "Skema 5", None, "is not one of the options"),
    ("scheme", "", None, "is required"),
    ("scheme", DROP, None, "is required"),
    ("applicantName", "PT", None, "must be at least 3 characters"),
    ("applicantName", "x" * 51, None, "must be at most 50 characters"),
    ("applicantName", 42, None, "must be text"),
    ("caseNumber", "C-2", None, "is read-only"),
    ("colour", {"r": 255}, None, "must be a single value"),
    ("colour", 3, 3, None),
    ("note", "anything goes", "anything goes", None),
    ("note", "n" * (TEXT_CAP + 1), None, "is too long"),
]


@pytest.mark.parametrize(("key", "value", "expected", "message"), GEN_CASES)
def test_generated_form_rules(key: str, value: Any, expected: Any, message: str | None) -> None:
    data = changed(GEN_VALID, (key,), value)
    if message is not None:
        assert errors_of(data, form_data=FORM_DATA, current=GEN_CURRENT) == [
            FieldError(key, message)]
    else:
        cleaned = validate_submission(data, form_data=FORM_DATA, current=GEN_CURRENT)
        assert cleaned == {**GEN_EXPECTED, key: expected}
        assert type(cleaned[key]) is type(expected)


def test_generated_required_field_already_stored_may_be_left_out() -> None:
    data = {k: v for k, v in GEN_VALID.items() if k not in ("applicantName", "scheme")}
    current = {**GEN_CURRENT, "applicantName": "PT Lama", "scheme": "type1"}
    cleaned = validate_submission(data, form_data=FORM_DATA, current=current)
    assert cleaned == {k: v for k, v in GEN_EXPECTED.items() if k not in ("applicantName",
                                                                         "scheme")}


@pytest.mark.parametrize("form_data", [
    [{"id": "n", "type": "long", "validation": [{"name": "min", "config": "ten"}]}],
    [{"id": "s", "type": "string", "validation": [{"name": "maxlength", "config": "-1"}]}],
    [{"label": "no id", "type": "string"}],
    [{"id": "a", "type": "string"}, {"id": "a", "type": "long"}],
])
def test_a_generated_form_that_cannot_be_enforced_is_a_value_error(
    form_data: list[dict[str, Any]]
) -> None:
    with pytest.raises(ValueError):
        validate_submission({}, form_data=form_data)


def test_file_references_are_looked_up_in_one_call_and_each_checked() -> None:
    form = TaskForm("camunda-form", schema={"components": [
        {"type": "filepicker", "key": "certificate"},
        {"type": "filepicker", "key": "photos", "multiple": True},
        {"type": "filepicker", "key": "report"},
    ]})
    stored = {"doc-1": SimpleNamespace(instance_id="i-1", sha256=SHA_A),
              "doc-2": SimpleNamespace(instance_id="i-1", sha256=SHA_B),
              "doc-9": SimpleNamespace(instance_id="i-9", sha256=SHA_A)}
    calls: list[list[str]] = []

    def lookup(ids: list[str]) -> dict[str, Any]:
        calls.append(ids)
        return {i: stored[i] for i in ids if i in stored}

    good = {"certificate": {"id": "doc-1", "sha256": SHA_A},
            "photos": [{"id": "doc-2", "sha256": SHA_B}, {"id": "doc-1", "sha256": SHA_A}]}
    check_file_references(form, good, "i-1", lookup)
    assert calls == [["doc-1", "doc-2"]]
    bad = {**good, "photos": [{"id": "doc-2", "sha256": SHA_A}],  # forged digest
           "report": {"id": "doc-9", "sha256": SHA_A}}  # another instance's
    with pytest.raises(InvalidInput) as refused:
        check_file_references(form, {**bad, "certificate": {"id": "nope", "sha256": SHA_A}},
                              "i-1", lookup)
    assert set(refused.value.errors) == {"certificate", "photos", "report"}
    calls.clear()
    check_file_references(form, {"certificate": None}, "i-1", lookup)
    assert calls == []  # nothing referred to: nothing read


def test_a_forms_fields_are_read_from_its_schema_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # A deployed form's TaskForm is kept and read by every view and submission of its
    # tasks: its fields are worked out of the schema the first time only.
    from engine.tasks import form_submission, taskforms

    calls: list[int] = []
    real = taskforms.form_fields_camunda

    def counted(schema: Any) -> Any:
        calls.append(1)
        return real(schema)

    monkeypatch.setattr(taskforms, "form_fields_camunda", counted)
    monkeypatch.setattr(form_submission, "form_fields_camunda", counted)
    schema = {"components": [
        {"type": "textfield", "key": "nama", "label": "Nama", "validate": {"required": True}},
        {"type": "filepicker", "key": "berkas", "label": "Berkas"}]}
    form = TaskForm("camunda-form", schema=schema)
    assert form.field_keys() == ["nama", "berkas"]
    for _ in range(3):
        assert taskforms.check_submission(form, {"nama": "PT A"}, {}) == {"nama": "PT A"}
        assert taskforms.file_references(form, {"berkas": {"id": "d1"}}) == [
            ("berkas", {"id": "d1"})]
        with pytest.raises(InvalidInput):
            taskforms.check_submission(form, {"nama": ""}, {})
    assert form.field_keys() == ["nama", "berkas"]
    assert len(calls) == 1
