"""Multi-instance activities share the process's variables, as in Camunda 7 (issue 17).

What an instance sets is a process variable: the next instance, the completion
condition and the activities after the loop see it. Only the element variable
is each instance's own. Everything goes through HTTP; the traces are read from
the instance's history.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from tests.builders import definitions, process


def deploy(client: Any, key: str, body: str) -> Any:
    xml = definitions(key, process(key, body))
    return client.post("/api/v1/deployments",
                       files=[("files", (f"{key}.bpmn", xml.encode(), "text/xml"))])


def start(client: Any, key: str, variables: dict[str, Any]) -> str:
    answer = client.post(f"/api/v1/process-definitions/{key}/start",
                         json={"variables": variables})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def instance(client: Any, instance_id: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/process-instances/{instance_id}")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def trace(client: Any, instance_id: str) -> list[str]:
    """The elements the instance ran, in order (engine steps and completed user tasks)."""
    answer = client.get(f"/api/v1/process-instances/{instance_id}/history",
                        params={"per_page": 200})
    assert answer.status_code == 200, answer.text
    items = sorted(answer.json()["items"], key=lambda h: h["id"])
    return [h["element"] for h in items
            if h["kind"] in ("element_completed", "task_completed") and h["element"]]


def open_tasks(client: Any, instance_id: str) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/tasks", params={"instance_id": instance_id, "per_page": 50})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def script(element: str, code: str, loop: str = "") -> str:
    return (f'<bpmn:scriptTask id="{element}" scriptFormat="python">{loop}'
            f"<bpmn:script>{code}</bpmn:script></bpmn:scriptTask>")


def flows(*chain: str) -> str:
    return "".join(f'<bpmn:sequenceFlow id="f_{a}_{b}" sourceRef="{a}" targetRef="{b}" />'
                   for a, b in pairwise(chain))


def loop(collection: str, element: str, *, sequential: bool, condition: str = "") -> str:
    cond = (f"<bpmn:completionCondition>{condition}</bpmn:completionCondition>"
            if condition else "")
    return (f'<bpmn:multiInstanceLoopCharacteristics isSequential="{str(sequential).lower()}" '
            f'camunda:collection="{collection}" camunda:elementVariable="{element}">'
            f"{cond}</bpmn:multiInstanceLoopCharacteristics>")


def test_sequential_instances_build_one_list_and_the_element_stays_local(
        as_user: Any) -> None:
    admin = as_user("admin1")
    body = ('<bpmn:startEvent id="s" />'
            + script("greet", "greetings = greetings + ['Halo ' + name]",
                     loop("${names}", "name", sequential=True))
            + script("after", "count = len(greetings)")
            + '<bpmn:endEvent id="e" />' + flows("s", "greet", "after", "e"))
    assert deploy(admin, "mi_seq", body).status_code == 201
    run = start(admin, "mi_seq", {"names": ["Ani", "Budi", "Citra"], "greetings": []})
    row = instance(admin, run)
    assert row["status"] == "completed"
    assert row["variables"]["greetings"] == ["Halo Ani", "Halo Budi", "Halo Citra"]
    assert row["variables"]["count"] == 3
    assert "name" not in row["variables"]
    assert row["variables"]["names"] == ["Ani", "Budi", "Citra"]  # not written back
    assert trace(admin, run) == ["s", *["greet"] * 3, "greet#multiInstanceBody", "after", "e"]


def test_parallel_instances_update_one_variable_one_after_the_other(as_user: Any) -> None:
    admin = as_user("admin1")
    body = ('<bpmn:startEvent id="s" />'
            + script("count", "counted = counted + 1", loop("items", "item", sequential=False))
            + '<bpmn:endEvent id="e" />' + flows("s", "count", "e"))
    assert deploy(admin, "mi_par", body).status_code == 201
    # A process variable named like the element variable is shadowed, not overwritten.
    run = start(admin, "mi_par", {"items": ["a", "b", "c", "d"], "counted": 0,
                                  "item": "mine"})
    row = instance(admin, run)
    assert row["status"] == "completed"
    assert row["variables"]["counted"] == 4
    assert row["variables"]["item"] == "mine"
    assert trace(admin, run) == ["s", *["count"] * 4, "count#multiInstanceBody", "e"]


def test_a_form_answer_in_one_instance_ends_the_loop_and_stays_a_variable(
        as_user: Any) -> None:
    admin = as_user("admin1")
    body = ('<bpmn:startEvent id="s" />'
            '<bpmn:userTask id="approve" camunda:candidateGroups="upp">'
            '<bpmn:extensionElements><camunda:formData>'
            '<camunda:formField id="approved" label="Setuju" type="boolean" />'
            "</camunda:formData></bpmn:extensionElements>"
            + loop("approvers", "approver", sequential=False, condition="${approved}")
            + "</bpmn:userTask>"
            + script("after", "result = 'approved' if approved else 'refused'")
            + '<bpmn:endEvent id="e" />' + flows("s", "approve", "after", "e"))
    assert deploy(admin, "mi_form", body).status_code == 201
    run = start(admin, "mi_form", {"approvers": ["x", "y", "z"], "approved": False})
    tasks = open_tasks(admin, run)
    assert len(tasks) == 3
    form = admin.get(f"/api/v1/tasks/{tasks[0]['id']}").json()["form"]
    assert [f["id"] for f in form["fields"]] == ["approved"]  # each instance has the form
    first = admin.post(f"/api/v1/tasks/{tasks[0]['id']}/complete",
                       json={"variables": {"approved": False}})
    assert first.status_code == 200, first.text
    assert len(open_tasks(admin, run)) == 2  # the condition does not hold yet
    second = open_tasks(admin, run)[0]
    answer = admin.post(f"/api/v1/tasks/{second['id']}/complete",
                        json={"variables": {"approved": True}})
    assert answer.status_code == 200, answer.text
    row = instance(admin, run)
    assert row["status"] == "completed"
    assert open_tasks(admin, run) == []  # the third instance was cancelled
    assert row["variables"]["approved"] is True
    assert row["variables"]["result"] == "approved"
    assert "approver" not in row["variables"]
    assert trace(admin, run) == ["s", "approve", "approve", "approve#multiInstanceBody", "after",
                                 "e"]


def test_a_cardinality_loop_counts_with_loop_counter(as_user: Any) -> None:
    admin = as_user("admin1")
    body = ('<bpmn:startEvent id="s" />'
            '<bpmn:scriptTask id="tick" scriptFormat="python">'
            '<bpmn:multiInstanceLoopCharacteristics isSequential="true">'
            "<bpmn:loopCardinality>${n}</bpmn:loopCardinality>"
            "</bpmn:multiInstanceLoopCharacteristics>"
            "<bpmn:script>seen = seen + [loopCounter]</bpmn:script></bpmn:scriptTask>"
            '<bpmn:endEvent id="e" />' + flows("s", "tick", "e"))
    assert deploy(admin, "mi_card", body).status_code == 201
    run = start(admin, "mi_card", {"n": 3, "seen": []})
    row = instance(admin, run)
    assert row["status"] == "completed"
    assert row["variables"]["seen"] == [0, 1, 2]
    assert trace(admin, run) == ["s", "tick", "tick", "tick", "tick#multiInstanceBody", "e"]


def test_a_collection_that_is_no_variable_is_refused_naming_the_element(as_user: Any) -> None:
    admin = as_user("admin1")
    body = ('<bpmn:startEvent id="s" />'
            + script("greet", "x = 1", loop("${names.subList(0, 2)}", "name",
                                             sequential=True))
            + '<bpmn:endEvent id="e" />' + flows("s", "greet", "e"))
    answer = deploy(admin, "mi_bad", body)
    assert answer.status_code == 422, answer.text
    assert "greet" in answer.text and "camunda:collection" in answer.text
