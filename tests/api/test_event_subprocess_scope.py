"""Event subprocesses belong to their instance and do not keep it from ending (issue 17).

SpiffWorkflow rewired the shared process spec when a message started an event
subprocess, so every later instance of the definition ran it at once; and a
timer event subprocess that never fired kept its instance from completing.
"""

from __future__ import annotations

from typing import Any

from tests.api.bpmn_rest import deploy, flows, instance, open_tasks, script, start, trace

MESSAGE = '<bpmn:message id="m_q" name="scope-question" />'


def with_event_subprocess(start_definition: str, interrupting: bool = False) -> str:
    flag = "true" if interrupting else "false"
    return ('<bpmn:startEvent id="s" /><bpmn:userTask id="work" camunda:candidateGroups="upp" />'
            '<bpmn:endEvent id="e" />' + flows("s", "work", "e")
            + '<bpmn:subProcess id="side" triggeredByEvent="true">'
            f'<bpmn:startEvent id="side_start" isInterrupting="{flag}">{start_definition}'
            "</bpmn:startEvent>" + script("note", "noted = True")
            + '<bpmn:endEvent id="side_end" />' + flows("side_start", "note", "side_end")
            + "</bpmn:subProcess>")


def complete_work(client: Any, instance_id: str) -> None:
    (task,) = open_tasks(client, instance_id)
    answer = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"variables": {}})
    assert answer.status_code == 200, answer.text


def test_a_message_event_subprocess_in_one_instance_leaves_the_next_alone(
        as_user: Any) -> None:
    admin = as_user("admin1")
    body = with_event_subprocess('<bpmn:messageEventDefinition messageRef="m_q" />')
    assert deploy(admin, "scope_msg", body, MESSAGE).status_code == 201
    first = start(admin, "scope_msg")
    sent = admin.post("/api/v1/messages", json={"name": "scope-question", "instance_id": first})
    assert sent.status_code == 200, sent.text
    assert instance(admin, first)["variables"]["noted"] is True
    second = start(admin, "scope_msg")
    print(instance(admin, second)["incidents"])
    assert "noted" not in instance(admin, second)["variables"]  # nothing ran by itself
    assert instance(admin, second)["active_elements"] == ["work"]  # "side" is not begun
    assert trace(admin, second) == ["s"]
    complete_work(admin, second)
    assert instance(admin, second)["status"] == "completed"
    complete_work(admin, first)
    assert instance(admin, first)["status"] == "completed"


def test_a_timer_event_subprocess_that_never_fired_does_not_hold_the_end(
        as_user: Any) -> None:
    admin = as_user("admin1")
    body = with_event_subprocess(
        '<bpmn:timerEventDefinition><bpmn:timeDuration>P30D</bpmn:timeDuration>'
        "</bpmn:timerEventDefinition>")
    assert deploy(admin, "scope_timer", body).status_code == 201
    run = start(admin, "scope_timer")
    assert instance(admin, run)["timers"], "the event subprocess's timer waits"
    complete_work(admin, run)
    row = instance(admin, run)
    assert row["status"] == "completed", [i["message"] + i["traceback"][-3000:] for i in row["incidents"]]
    assert row["status"] == "completed"
    assert row["timers"] == []
    assert "noted" not in row["variables"]
    assert trace(admin, run) == ["s", "work", "e"]


def test_a_running_event_subprocess_keeps_its_instance_open_until_it_ends(
        as_user: Any) -> None:
    admin = as_user("admin1")
    body = ('<bpmn:startEvent id="s" /><bpmn:userTask id="work" camunda:candidateGroups="upp" />'
            '<bpmn:endEvent id="e" />' + flows("s", "work", "e")
            + '<bpmn:subProcess id="side" triggeredByEvent="true">'
            '<bpmn:startEvent id="side_start" isInterrupting="false">'
            '<bpmn:messageEventDefinition messageRef="m_q2" /></bpmn:startEvent>'
            '<bpmn:userTask id="answer" camunda:candidateGroups="upp" />'
            '<bpmn:endEvent id="side_end" />' + flows("side_start", "answer", "side_end")
            + "</bpmn:subProcess>")
    top = '<bpmn:message id="m_q2" name="scope-question-2" />'
    assert deploy(admin, "scope_open", body, top).status_code == 201
    run = start(admin, "scope_open")
    assert admin.post("/api/v1/messages", json={"name": "scope-question-2",
                                                "instance_id": run}).status_code == 200
    work = next(t for t in open_tasks(admin, run) if t["name"] == "work")
    assert admin.post(f"/api/v1/tasks/{work['id']}/complete",
                      json={"variables": {}}).status_code == 200
    assert instance(admin, run)["status"] == "running"  # "answer" is still open
    (answer,) = open_tasks(admin, run)
    assert admin.post(f"/api/v1/tasks/{answer['id']}/complete",
                      json={"variables": {}}).status_code == 200
    row = instance(admin, run)
    assert row["status"] == "completed", [i["message"] + i["traceback"][-3000:] for i in row["incidents"]]
