"""No task that nobody may act on: default roles, admins, assignment with history (issue 16)."""

from __future__ import annotations

from typing import Any

from tests.builders import definitions, process


def deploy(as_user: Any, key: str, starters: str | None = None) -> None:
    body = process(key, """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="look" />
    <bpmn:userTask id="look" name="Look at it" />
    <bpmn:sequenceFlow id="f2" sourceRef="look" targetRef="end" />
    <bpmn:endEvent id="end" />
""")
    if starters:
        body = body.replace('isExecutable="true"',
                            f'isExecutable="true" camunda:candidateStarterGroups="{starters}"')
    answer = as_user("analyst1").post("/api/v1/deployments", files=[
        ("files", (f"{key}.bpmn", definitions(key, body), "text/xml"))])
    assert answer.status_code == 201, answer.text
    (deployed,) = answer.json()["processes"]
    goes_to = f"the roles that start the process ({starters})" if starters else "admin"
    assert deployed["warnings"] == [
        "user task 'look' names no lane, candidate group, candidate user or assignee; "
        f"it goes to {goes_to}"]


def the_task(client: Any, instance_id: str) -> dict[str, Any]:
    (task,) = client.get("/api/v1/tasks", params={"instance_id": instance_id}).json()["items"]
    return dict(task)


def test_a_task_without_roles_goes_to_the_roles_that_start_its_process(as_user: Any) -> None:
    deploy(as_user, "for_starters", starters="upp")
    started = as_user("upp1").post("/api/v1/process-definitions/for_starters/start", json={})
    assert started.status_code == 201, started.text
    task = the_task(as_user("upp1"), started.json()["id"])
    assert task["roles"] == ["upp"]
    done = as_user("upp1").post(f"/api/v1/tasks/{task['id']}/complete", json={})
    assert done.status_code == 200, done.text


def test_a_task_without_roles_or_starters_goes_to_the_admins(as_user: Any) -> None:
    deploy(as_user, "for_nobody")
    started = as_user("upp1").post("/api/v1/process-definitions/for_nobody/start", json={})
    assert started.status_code == 201, started.text
    assert as_user("upp1").get("/api/v1/tasks").json()["total"] == 0
    task = the_task(as_user("admin1"), started.json()["id"])
    assert task["roles"] == ["admin"]
    assert as_user("admin1").post(f"/api/v1/tasks/{task['id']}/complete",
                                  json={}).status_code == 200


def test_admins_assign_tasks_to_users_and_roles_with_history(as_user: Any) -> None:
    deploy(as_user, "handed", starters="upp")
    instance_id = as_user("upp1").post("/api/v1/process-definitions/handed/start",
                                       json={}).json()["id"]
    task = the_task(as_user("upp1"), instance_id)
    path = f"/api/v1/tasks/{task['id']}/assign"
    refused = as_user("upp1").post(path, json={"assignee": "auditor1"})
    assert refused.status_code == 403
    unknown = as_user("admin1").post(path, json={"assignee": "nobody-here"})
    assert unknown.status_code == 422 and "assignee" in unknown.text
    # To another role: the old one no longer sees it, the new one does.
    moved = as_user("admin1").post(path, json={"roles": ["ppc"]})
    assert moved.status_code == 200, moved.text
    assert moved.json()["roles"] == ["ppc"]
    assert as_user("upp1").get("/api/v1/tasks").json()["total"] == 0
    assert the_task(as_user("ppc1"), instance_id)["id"] == task["id"]
    # To a user (a sick colleague's work): it is theirs.
    given = as_user("admin1").post(path, json={"assignee": "auditor1"})
    assert given.status_code == 200 and given.json()["assignee"] == "auditor1"
    assert as_user("auditor1").post(f"/api/v1/tasks/{task['id']}/complete",
                                    json={}).status_code == 200
    history = as_user("admin1").get(f"/api/v1/process-instances/{instance_id}/history").json()
    assigned = [e["data"] for e in history["items"] if e["kind"] == "task_assigned"]
    assert assigned == [
        {"roles": ["ppc"], "previous_roles": ["upp"], "previous_users": []},
        {"assignee": "auditor1", "previous_assignee": None},
    ]
