"""What a thrown signal carries: nothing, unless its definition says (Camunda 7, issue 17).

Camunda 7 passes variables with a signal only through ``camunda:in`` on the
signal event definition (``source``/``target``, ``sourceExpression``,
``variables="all"``); ``POST /signals`` passes the variables it is given.
"""

from __future__ import annotations

from typing import Any

from tests.api.bpmn_rest import flows, instance, script, start, trace
from tests.builders import definitions, process


def deploy(client: Any, key: str, signal: str, body: str) -> None:
    top = f'<bpmn:signal id="sig" name="{signal}" />'
    xml = definitions(key, top + process(key, body))
    answer = client.post("/api/v1/deployments",
                         files=[("files", (f"{key}.bpmn", xml.encode(), "text/xml"))])
    assert answer.status_code == 201, answer.text


def waiter(mark: str = "heard = True") -> str:
    return ('<bpmn:startEvent id="s" /><bpmn:intermediateCatchEvent id="wait">'
            '<bpmn:signalEventDefinition signalRef="sig" /></bpmn:intermediateCatchEvent>'
            + script("mark", mark) + '<bpmn:endEvent id="e" />' + flows("s", "wait", "mark", "e"))


def thrower(mappings: str = "") -> str:
    extension = (f"<bpmn:extensionElements>{mappings}</bpmn:extensionElements>"
                 if mappings else "")
    return ('<bpmn:startEvent id="s" /><bpmn:intermediateThrowEvent id="tell">'
            f'<bpmn:signalEventDefinition signalRef="sig">{extension}'
            "</bpmn:signalEventDefinition></bpmn:intermediateThrowEvent>"
            '<bpmn:endEvent id="e" />' + flows("s", "tell", "e"))


def test_a_signal_without_mappings_carries_no_variables(as_user: Any) -> None:
    admin = as_user("admin1")
    deploy(admin, "sv_wait_a", "sv-plain", waiter())
    deploy(admin, "sv_throw_a", "sv-plain", thrower())
    waiting = start(admin, "sv_wait_a", {"own": 1})
    start(admin, "sv_throw_a", {"secret": "thrower's", "own": 2})
    row = instance(admin, waiting)
    assert row["status"] == "completed"
    assert row["variables"] == {"own": 1, "heard": True}
    assert trace(admin, waiting) == ["s", "wait", "mark", "e"]


def test_camunda_in_chooses_what_the_signal_carries(as_user: Any) -> None:
    admin = as_user("admin1")
    deploy(admin, "sv_wait_b", "sv-mapped", waiter())
    deploy(admin, "sv_throw_b", "sv-mapped", thrower(
        '<camunda:in source="result" target="lab_result" />'
        '<camunda:in sourceExpression="${units * 2}" target="doubled" />'))
    waiting = start(admin, "sv_wait_b", {})
    start(admin, "sv_throw_b", {"result": "lulus", "units": 4, "secret": "x"})
    row = instance(admin, waiting)
    assert row["status"] == "completed"
    assert row["variables"] == {"lab_result": "lulus", "doubled": 8, "heard": True}


def test_camunda_in_all_carries_every_variable(as_user: Any) -> None:
    admin = as_user("admin1")
    deploy(admin, "sv_wait_c", "sv-all", waiter())
    deploy(admin, "sv_throw_c", "sv-all", thrower('<camunda:in variables="all" />'))
    waiting = start(admin, "sv_wait_c", {})
    start(admin, "sv_throw_c", {"result": "lulus", "units": 4})
    row = instance(admin, waiting)
    assert row["variables"] == {"result": "lulus", "units": 4, "heard": True}


def test_signals_from_the_api_carry_their_variables(as_user: Any) -> None:
    admin = as_user("admin1")
    deploy(admin, "sv_wait_d", "sv-api", waiter())
    waiting = start(admin, "sv_wait_d", {})
    answer = admin.post("/api/v1/signals", json={"name": "sv-api", "variables": {"k": 7}})
    assert answer.status_code == 200, answer.text
    assert instance(admin, waiting)["variables"] == {"k": 7, "heard": True}


def test_a_mapping_without_a_target_is_refused(as_user: Any) -> None:
    admin = as_user("admin1")
    top = '<bpmn:signal id="sig" name="sv-bad" />'
    xml = definitions("sv_bad", top + process("sv_bad", thrower(
        '<camunda:in sourceExpression="${1}" />')))
    answer = admin.post("/api/v1/deployments",
                        files=[("files", ("sv_bad.bpmn", xml.encode(), "text/xml"))])
    assert answer.status_code == 422, answer.text
    assert "tell" in answer.text and "target" in answer.text
