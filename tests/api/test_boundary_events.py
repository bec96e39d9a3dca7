"""Boundary events as Camunda 7 runs them (issue 17), through the REST API.

A non-interrupting boundary event keeps listening while its activity runs: each
message starts one more branch. The branch sees the variables as they are when
the event arrives, not as they were when the activity began. An interrupting
one ends the activity.
"""

from __future__ import annotations

from typing import Any

from tests.api.bpmn_rest import flows, instance, open_tasks, script, start, trace
from tests.builders import definitions, process

MESSAGE = '<bpmn:message id="msg_q" name="customer-question" />'


def boundary_process(cancel: bool) -> str:
    return (
        '<bpmn:startEvent id="s" />'
        '<bpmn:userTask id="review" camunda:candidateGroups="upp" />'
        f'<bpmn:boundaryEvent id="question" attachedToRef="review" '
        f'cancelActivity="{str(cancel).lower()}">'
        '<bpmn:messageEventDefinition messageRef="msg_q" /></bpmn:boundaryEvent>'
        + script("answer", "answered = answered + [topic]")
        + '<bpmn:endEvent id="e_answer" />'
        + script("close", "closed = True") + '<bpmn:endEvent id="e" />'
        + flows("s", "review", "close", "e") + flows("question", "answer", "e_answer"))


def deploy_with_message(client: Any, key: str, body: str) -> None:
    xml = definitions(key, MESSAGE + process(key, body))
    answer = client.post("/api/v1/deployments",
                         files=[("files", (f"{key}.bpmn", xml.encode(), "text/xml"))])
    assert answer.status_code == 201, answer.text


def send(client: Any, instance_id: str, variables: dict[str, Any]) -> Any:
    return client.post("/api/v1/messages", json={
        "name": "customer-question", "instance_id": instance_id, "variables": variables})


def test_a_non_interrupting_boundary_event_fires_once_per_message(as_user: Any) -> None:
    admin = as_user("admin1")
    deploy_with_message(admin, "bnd_twice", boundary_process(cancel=False))
    run = start(admin, "bnd_twice", {"answered": []})
    for topic in ("fees", "dates"):
        answer = send(admin, run, {"topic": topic})
        assert answer.status_code == 200, answer.text
    assert instance(admin, run)["status"] == "running"
    assert instance(admin, run)["variables"]["answered"] == ["fees", "dates"]
    task = open_tasks(admin, run)[0]
    done = admin.post(f"/api/v1/tasks/{task['id']}/complete", json={"variables": {}})
    assert done.status_code == 200, done.text
    row = instance(admin, run)
    assert row["status"] == "completed"
    assert row["variables"]["closed"] is True
    assert trace(admin, run) == ["s", "question", "answer", "e_answer", "question", "answer",
                                 "e_answer", "review", "close", "e"]
    # Once the activity ended, nothing listens any more.
    assert send(admin, run, {"topic": "late"}).status_code == 404


def test_the_boundary_branch_sees_variables_set_after_the_activity_began(
        as_user: Any) -> None:
    admin = as_user("admin1")
    deploy_with_message(admin, "bnd_current", boundary_process(cancel=False))
    run = start(admin, "bnd_current", {"answered": []})
    assert send(admin, run, {"topic": "fees"}).status_code == 200
    # The first branch appended to the list; the second sees its append.
    assert send(admin, run, {"topic": "scope"}).status_code == 200
    assert instance(admin, run)["variables"]["answered"] == ["fees", "scope"]


def test_an_interrupting_boundary_event_ends_the_activity(as_user: Any) -> None:
    admin = as_user("admin1")
    deploy_with_message(admin, "bnd_cancel", boundary_process(cancel=True))
    run = start(admin, "bnd_cancel", {"answered": []})
    assert send(admin, run, {"topic": "withdraw"}).status_code == 200
    row = instance(admin, run)
    assert row["status"] == "completed"
    assert open_tasks(admin, run) == []
    assert "closed" not in row["variables"]
    assert trace(admin, run) == ["s", "question", "answer", "e_answer"]
