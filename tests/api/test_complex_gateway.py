"""Complex gateways through the REST API (issue 17; engine/bpmn/gateways.py).

As a split the gateway takes its outgoing flows as an inclusive gateway does;
as a join it fires once when its activation condition holds (``activationCount``
tokens arrived) and consumes the rest of the round's tokens; without an
activation condition it joins as an inclusive gateway. Every step goes
through the database.
"""

from __future__ import annotations

from typing import Any

from tests.api.bpmn_rest import complete, deploy, flow, instance, script, start, trace
from tests.api.bpmn_rest import task_ids as open_tasks

XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


def gateway(element: str, activation: str | None = None, default: str | None = None) -> str:
    inner = (f'<bpmn:activationCondition {XSI} xsi:type="bpmn:tFormalExpression">'
             f"{activation}</bpmn:activationCondition>") if activation is not None else ""
    extra = f' default="{default}"' if default else ""
    return f'<bpmn:complexGateway id="{element}"{extra}>{inner}</bpmn:complexGateway>'


def conditional(source: str, target: str, condition: str) -> str:
    return (f'<bpmn:sequenceFlow id="f_{source}_{target}" sourceRef="{source}" '
            f'targetRef="{target}"><bpmn:conditionExpression {XSI} '
            f'xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>'
            "</bpmn:sequenceFlow>")


def reviews_joined_by(activation: str | None) -> str:
    """Three parallel reviews (user tasks of upp), each noted, joined by ``join``."""
    body = '<bpmn:startEvent id="start" />' + flow("start", "fork")
    body += '<bpmn:parallelGateway id="fork" />'
    for name in ("a", "b", "c"):
        body += (f'<bpmn:userTask id="review_{name}" camunda:candidateGroups="upp" />'
                 + script(f"note_{name}", f"trail = trail + ['{name}']")
                 + flow("fork", f"review_{name}") + flow(f"review_{name}", f"note_{name}")
                 + flow(f"note_{name}", "join"))
    return (body + gateway("join", activation)
            + script("decide", "trail = trail + ['decide']\ndecisions = decisions + 1")
            + flow("join", "decide") + flow("decide", "end") + '<bpmn:endEvent id="end" />')


def test_a_join_fires_once_two_of_three_and_consumes_the_third(as_user: Any) -> None:
    admin, upp = as_user("admin1"), as_user("upp1")
    body = reviews_joined_by("${activationCount &gt;= 2}")
    assert deploy(admin, "complex_two", body).status_code == 201
    instance_id = start(admin, "complex_two", {"trail": [], "decisions": 0})
    complete(upp, open_tasks(upp, instance_id)["review_b"])
    assert instance(admin, instance_id)["variables"]["decisions"] == 0
    complete(upp, open_tasks(upp, instance_id)["review_a"])
    # Two tokens: the gateway fired; the third review is still open.
    row = instance(admin, instance_id)
    assert row["status"] == "running"
    assert open_tasks(upp, instance_id).keys() == {"review_c"}
    complete(upp, open_tasks(upp, instance_id)["review_c"])
    row = instance(admin, instance_id)
    assert row["status"] == "completed"
    assert row["variables"]["decisions"] == 1
    assert row["variables"]["trail"] == ["b", "a", "decide", "c"]
    assert trace(admin, instance_id) == [
        "start", "fork", "review_b", "note_b", "join", "review_a", "note_a", "join",
        "decide", "end", "review_c", "note_c", "join"]


def test_a_split_takes_each_flow_whose_condition_holds_else_the_default(
        as_user: Any) -> None:
    admin = as_user("admin1")
    body = ('<bpmn:startEvent id="start" />' + flow("start", "route")
            + gateway("route", default="f_route_fast")
            + conditional("route", "full", "risk &gt; 7") + conditional("route", "docs", "risk &gt; 4")
            + flow("route", "fast")
            + "".join(script(n, f"trail = trail + ['{n}']") + flow(n, f"end_{n}")
                      + f'<bpmn:endEvent id="end_{n}" />' for n in ("full", "docs", "fast")))
    assert deploy(admin, "complex_split", body).status_code == 201
    both = start(admin, "complex_split", {"trail": [], "risk": 9})
    assert instance(admin, both)["status"] == "completed"
    assert trace(admin, both) == ["start", "route", "full", "docs", "end_full", "end_docs"]
    neither = start(admin, "complex_split", {"trail": [], "risk": 1})
    row = instance(admin, neither)
    assert row["status"] == "completed"
    assert row["variables"]["trail"] == ["fast"]
    assert trace(admin, neither) == ["start", "route", "fast", "end_fast"]


def test_without_activation_condition_it_waits_for_every_token_that_can_come(
        as_user: Any) -> None:
    admin, ppc = as_user("admin1"), as_user("ppc1")
    body = ('<bpmn:startEvent id="start" />' + flow("start", "needs")
            + '<bpmn:inclusiveGateway id="needs" />'
            + conditional("needs", "lab", "needs_lab") + conditional("needs", "docs", "needs_docs")
            + conditional("needs", "visit", "needs_visit")
            + '<bpmn:userTask id="lab" camunda:candidateGroups="ppc" />'
            + script("docs", "trail = trail + ['docs']")
            + script("visit", "trail = trail + ['visit']")
            + flow("lab", "join") + flow("docs", "join") + flow("visit", "join") + gateway("join")
            + script("after", "trail = trail + ['after']") + flow("join", "after")
            + flow("after", "end") + '<bpmn:endEvent id="end" />')
    assert deploy(admin, "complex_all", body).status_code == 201
    instance_id = start(admin, "complex_all", {
        "trail": [], "needs_lab": True, "needs_docs": True, "needs_visit": False})
    # The documents' token waits for the lab test's; the visit was not started.
    assert instance(admin, instance_id)["variables"]["trail"] == ["docs"]
    complete(ppc, open_tasks(ppc, instance_id)["lab"])
    row = instance(admin, instance_id)
    assert row["status"] == "completed"
    assert row["variables"]["trail"] == ["docs", "after"]
    assert trace(admin, instance_id) == [
        "start", "needs", "docs", "join", "lab", "join", "after", "end"]


def test_a_condition_that_can_never_hold_is_an_incident_on_the_gateway(as_user: Any) -> None:
    admin, upp = as_user("admin1"), as_user("upp1")
    body = reviews_joined_by("activationCount &gt;= needed")
    assert deploy(admin, "complex_never", body).status_code == 201
    instance_id = start(admin, "complex_never", {"trail": [], "decisions": 0, "needed": 4})
    for name in ("review_a", "review_b", "review_c"):
        complete(upp, open_tasks(upp, instance_id)[name])
    assert instance(admin, instance_id)["status"] == "error"
    (incident,) = admin.get("/api/v1/incidents",
                            params={"instance_id": instance_id}).json()["items"]
    assert incident["element"] == "join"
    assert "is false with 3 token(s) arrived, and no further token can arrive" in (
        incident["message"])
    retried = admin.post(f"/api/v1/incidents/{incident['id']}/retry",
                         json={"variables": {"needed": 3}})
    assert retried.status_code == 200, retried.text
    row = instance(admin, instance_id)
    assert row["status"] == "completed"
    assert row["variables"]["decisions"] == 1
    assert trace(admin, instance_id)[-3:] == ["join", "decide", "end"]


def test_an_activation_condition_that_does_not_compile_is_refused(as_user: Any) -> None:
    admin = as_user("admin1")
    answer = deploy(admin, "complex_broken", reviews_joined_by("${activationCount &gt;=}"))
    assert answer.status_code == 422, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    (error,) = answer.json()["errors"]
    assert error["element"] == "join"
    assert error["message"].startswith("activation condition does not compile")
    assert admin.get("/api/v1/process-definitions",
                     params={"key": "complex_broken"}).json()["total"] == 0
