"""An embedded sub-process shares the instance's variables with the branches beside it.

In Camunda 7 there is one set of variables: what a parallel branch sets while
a sub-process runs is seen inside it, and survives the sub-process's end.
"""

from __future__ import annotations

from typing import Any

from tests.api.bpmn_rest import deploy, flows, instance, open_tasks, script, start, trace


def test_a_branch_beside_a_sub_process_keeps_what_it_set(as_user: Any) -> None:
    admin = as_user("admin1")
    body = ('<bpmn:startEvent id="s" /><bpmn:parallelGateway id="fork" />'
            '<bpmn:subProcess id="sub"><bpmn:startEvent id="ss" />'
            '<bpmn:userTask id="inner" camunda:candidateGroups="upp" />'
            + script("inside", "seen_outside = outside\ninner_done = True")
            + '<bpmn:endEvent id="se" />' + flows("ss", "inner", "inside", "se")
            + "</bpmn:subProcess>"
            + script("beside", "outside = 'set beside'")
            + '<bpmn:parallelGateway id="join" /><bpmn:endEvent id="e" />'
            + flows("s", "fork", "sub", "join", "e") + flows("fork", "beside", "join"))
    assert deploy(admin, "emb_share", body).status_code == 201
    run = start(admin, "emb_share", {"outside": "initial"})
    task = open_tasks(admin, run)[0]
    assert admin.post(f"/api/v1/tasks/{task['id']}/complete",
                      json={"variables": {}}).status_code == 200
    row = instance(admin, run)
    assert row["status"] == "completed"
    assert row["variables"]["outside"] == "set beside"  # not lost when the sub-process ended
    assert row["variables"]["seen_outside"] == "set beside"  # seen inside it
    assert row["variables"]["inner_done"] is True
    assert trace(admin, run)[-3:] == ["sub", "join", "e"]


def test_a_call_activity_does_not_see_the_callers_later_changes(as_user: Any) -> None:
    """A called process has variables of its own: only its camunda:in mappings reach it."""
    admin = as_user("admin1")
    called = ('<bpmn:startEvent id="cs" /><bpmn:userTask id="cwait" camunda:candidateGroups="upp" />'
              + script("cread", "try:\n    saw = outside\nexcept NameError:\n    saw = 'nothing'")
              + '<bpmn:endEvent id="ce" />' + flows("cs", "cwait", "cread", "ce"))
    assert deploy(admin, "emb_called", called).status_code == 201
    body = ('<bpmn:startEvent id="s" /><bpmn:parallelGateway id="fork" />'
            '<bpmn:callActivity id="call" calledElement="emb_called"><bpmn:extensionElements>'
            '<camunda:out source="saw" target="saw" /></bpmn:extensionElements></bpmn:callActivity>'
            + script("beside", "outside = 'set beside'")
            + '<bpmn:parallelGateway id="join" /><bpmn:endEvent id="e" />'
            + flows("s", "fork", "call", "join", "e") + flows("fork", "beside", "join"))
    assert deploy(admin, "emb_caller", body).status_code == 201
    run = start(admin, "emb_caller", {})
    task = open_tasks(admin, run)[0]
    assert admin.post(f"/api/v1/tasks/{task['id']}/complete",
                      json={"variables": {}}).status_code == 200
    row = instance(admin, run)
    assert row["status"] == "completed", row
    assert row["variables"]["outside"] == "set beside"
    assert row["variables"]["saw"] == "nothing"


def test_an_interrupting_boundary_path_sees_what_the_sub_process_set(as_user: Any) -> None:
    from tests.builders import definitions, process

    admin = as_user("admin1")
    body = ('<bpmn:startEvent id="s" />'
            '<bpmn:subProcess id="sub"><bpmn:startEvent id="ss" />'
            + script("inside", "progress = 'half done'")
            + '<bpmn:userTask id="inner" camunda:candidateGroups="upp" />'
            '<bpmn:endEvent id="se" />' + flows("ss", "inside", "inner", "se")
            + "</bpmn:subProcess>"
            '<bpmn:boundaryEvent id="stop" attachedToRef="sub">'
            '<bpmn:messageEventDefinition messageRef="m_stop" /></bpmn:boundaryEvent>'
            + script("after_stop", "reported = progress")
            + '<bpmn:endEvent id="e_stop" /><bpmn:endEvent id="e" />'
            + flows("s", "sub", "e") + flows("stop", "after_stop", "e_stop"))
    xml = definitions("emb_stop", '<bpmn:message id="m_stop" name="emb-stop" />'
                      + process("emb_stop", body))
    answer = admin.post("/api/v1/deployments",
                        files=[("files", ("emb_stop.bpmn", xml.encode(), "text/xml"))])
    assert answer.status_code == 201, answer.text
    run = start(admin, "emb_stop", {})
    sent = admin.post("/api/v1/messages", json={"name": "emb-stop", "instance_id": run})
    assert sent.status_code == 200, sent.text
    row = instance(admin, run)
    assert row["status"] == "completed"
    assert row["variables"]["reported"] == "half done"
    assert open_tasks(admin, run) == []


def test_a_waiting_catch_event_keeps_what_another_branch_set(as_user: Any) -> None:
    """Branch A waits for a message; branch B sets x meanwhile; after the message, x is B's."""
    from tests.builders import definitions, process

    admin = as_user("admin1")
    body = ('<bpmn:startEvent id="s" /><bpmn:parallelGateway id="fork" />'
            '<bpmn:intermediateCatchEvent id="wait">'
            '<bpmn:messageEventDefinition messageRef="m_go" /></bpmn:intermediateCatchEvent>'
            + script("read", "seen = x")
            + '<bpmn:userTask id="set_x" camunda:candidateGroups="upp" />'
            '<bpmn:parallelGateway id="join" /><bpmn:endEvent id="e" />'
            + flows("s", "fork", "wait", "read", "join", "e") + flows("fork", "set_x", "join"))
    xml = definitions("wait_keep", '<bpmn:message id="m_go" name="wait-keep-go" />'
                      + process("wait_keep", body))
    answer = admin.post("/api/v1/deployments",
                        files=[("files", ("wait_keep.bpmn", xml.encode(), "text/xml"))])
    assert answer.status_code == 201, answer.text
    run = start(admin, "wait_keep", {"x": 1})
    (task,) = open_tasks(admin, run)
    assert admin.post(f"/api/v1/tasks/{task['id']}/complete",
                      json={"variables": {"x": 2}}).status_code == 200
    sent = admin.post("/api/v1/messages", json={"name": "wait-keep-go", "instance_id": run})
    assert sent.status_code == 200, sent.text
    row = instance(admin, run)
    assert row["status"] == "completed"
    assert row["variables"]["seen"] == 2
    assert row["variables"]["x"] == 2


def test_a_join_keeps_every_append_of_the_branches_it_merges(as_user: Any) -> None:
    """Three branches append the same word; the join must not merge the copies away."""
    admin = as_user("admin1")
    body = ('<bpmn:startEvent id="s" /><bpmn:parallelGateway id="fork" />'
            + script("a", "trail = trail + ['tick']") + script("b", "trail = trail + ['tick']")
            + '<bpmn:userTask id="c" camunda:candidateGroups="upp" />'
            + script("c2", "trail = trail + ['tick']")
            + '<bpmn:parallelGateway id="join" />' + script("after", "count = len(trail)")
            + '<bpmn:endEvent id="e" />'
            + flows("s", "fork", "a", "join", "after", "e") + flows("fork", "b", "join")
            + flows("fork", "c", "c2", "join"))
    assert deploy(admin, "join_keep", body).status_code == 201
    run = start(admin, "join_keep", {"trail": []})
    (task,) = open_tasks(admin, run)
    assert admin.post(f"/api/v1/tasks/{task['id']}/complete",
                      json={"variables": {}}).status_code == 200
    row = instance(admin, run)
    assert row["status"] == "completed"
    assert row["variables"]["trail"] == ["tick", "tick", "tick"]
    assert row["variables"]["count"] == 3
