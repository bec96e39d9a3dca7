"""Form fields shown or hidden by FEEL rules, and options given under ``valuesKey``.

The server evaluates a field's ``conditional.hide`` as the browser does: a hidden
field is neither required nor written, a shown required field is required.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.tasks.feel import compile_feel
from engine.tasks.form_submission import FieldError, FormValidationError, validate_submission

FORM: dict[str, Any] = {"components": [
    {"type": "radio", "key": "makloon", "validate": {"required": True},
     "values": [{"label": "Ya", "value": True}, {"label": "Tidak", "value": False}]},
    {"type": "select", "key": "produk", "values": [{"label": "A", "value": "AIR_MINERAL"},
                                                    {"label": "B", "value": "BISKUIT"}]},
    {"type": "filepicker", "key": "dok_makloon", "validate": {"required": True},
     "conditional": {"hide": "=makloon != true"}},
    {"type": "group", "path": "amdk",
     "conditional": {"hide": '=not(produk in ["AIR_MINERAL", "AIR_DEMINERAL"])'},
     "components": [{"type": "textfield", "key": "sumber_air",
                     "validate": {"required": True}}]},
]}
DOC = {"id": "doc-1", "sha256": "a" * 64, "name": "perjanjian.pdf"}


def errors(data: dict[str, Any], current: dict[str, Any] | None = None) -> list[FieldError]:
    with pytest.raises(FormValidationError) as caught:
        validate_submission(data, schema=FORM, current=current)
    return caught.value.errors


def test_a_shown_required_field_is_required() -> None:
    assert errors({"makloon": True, "produk": "BISKUIT"}) == [
        FieldError("dok_makloon", "is required")]
    assert errors({"makloon": True, "produk": "BISKUIT", "dok_makloon": None}) == [
        FieldError("dok_makloon", "is required")]


def test_a_hidden_field_is_neither_required_nor_written() -> None:
    cleaned = validate_submission({"makloon": False, "produk": "BISKUIT", "dok_makloon": DOC},
                                  schema=FORM)
    assert cleaned == {"makloon": False, "produk": "BISKUIT"}


def test_the_rule_reads_stored_values_under_the_submission() -> None:
    # makloon stored true earlier, not sent again: the document is still asked for.
    assert errors({"produk": "BISKUIT"}, current={"makloon": True}) == [
        FieldError("dok_makloon", "is required")]
    # A submission changing it wins over what is stored.
    assert validate_submission({"makloon": False, "produk": "BISKUIT"}, schema=FORM,
                               current={"makloon": True}) == {"makloon": False,
                                                              "produk": "BISKUIT"}


def test_a_group_rule_hides_the_fields_inside() -> None:
    assert errors({"makloon": False, "produk": "AIR_MINERAL"}) == [
        FieldError("amdk.sumber_air", "is required")]
    assert validate_submission({"makloon": False, "produk": "AIR_MINERAL",
                                "amdk": {"sumber_air": "Mata air"}}, schema=FORM) == {
        "makloon": False, "produk": "AIR_MINERAL", "amdk": {"sumber_air": "Mata air"}}


@pytest.mark.parametrize(("rule", "scope", "value"), [
    ("=a = 1", {"a": 1}, True),
    ("=a = 1", {"a": 1.0}, True),
    ("=a = \"1\"", {"a": 1}, None),  # different types: null, as FEEL
    ("=a != true", {}, True),  # null != true
    ("=a = null", {}, True),
    ("=a > 2 and b", {"a": 3, "b": True}, True),
    ("=a > 2 and b", {"a": 1, "b": None}, False),
    ("=a > 2 or b", {"a": "x", "b": False}, None),
    ("=not(x.y = \"k\")", {"x": {"y": "k"}}, False),
    ("=not(a)", {"a": "text"}, None),
    ("=t in [\"p\", \"q\"]", {"t": "q"}, True),
    ("=(a <= 2)", {"a": 2}, True),
])
def test_feel_subset(rule: str, scope: dict[str, Any], value: Any) -> None:
    compiled = compile_feel(rule)
    assert compiled is not None
    assert compiled(scope) is value


@pytest.mark.parametrize("rule", ["=is defined(a)", "=a +", "=if a then b else c",
                                  "=a = 'x'", "=[a", "=a b"])
def test_feel_outside_the_subset_is_not_compiled(rule: str) -> None:
    assert compile_feel(rule) is None


PICKER: dict[str, Any] = {"components": [
    {"type": "select", "key": "lead", "valuesKey": "users:auditor",
     "validate": {"required": True}},
    {"type": "taglist", "key": "members", "valuesKey": "users:auditor"},
    {"type": "select", "key": "pabrik", "valuesKey": "daftar_pabrik"},
]}
AUDITORS = [{"label": "Dedi", "value": "dedi"}, {"label": "Eko", "value": "eko"}]


def test_values_key_options_are_checked_against_the_list_given() -> None:
    lists = {"users:auditor": AUDITORS}
    assert validate_submission({"lead": "dedi", "members": ["eko"]}, schema=PICKER,
                               option_lists=lists) == {"lead": "dedi", "members": ["eko"]}
    with pytest.raises(FormValidationError) as caught:
        validate_submission({"lead": "mallory", "members": ["eko", "zed"]}, schema=PICKER,
                            option_lists=lists)
    assert caught.value.errors == [
        FieldError("lead", "is not one of the options"),
        FieldError("members", "contains a value that is not one of the options")]


def test_values_key_list_may_be_a_stored_variable() -> None:
    current = {"lead": "dedi", "daftar_pabrik": [{"label": "Pabrik Bekasi", "value": "1"}]}
    assert validate_submission({"pabrik": "1"}, schema=PICKER, current=current) == {
        "pabrik": "1"}
    with pytest.raises(FormValidationError):
        validate_submission({"pabrik": "2"}, schema=PICKER, current=current)


def test_values_key_without_a_list_is_not_checked() -> None:
    assert validate_submission({"lead": "anyone"}, schema=PICKER) == {"lead": "anyone"}
