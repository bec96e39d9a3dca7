"""A call activity that calls a global task runs that task in its place (issue 17)."""

from __future__ import annotations

from typing import Any

from tests.api.bpmn_rest import flows, instance, open_tasks, start, trace
from tests.builders import definitions, process

GLOBAL_SCRIPT = ('<bpmn:globalScriptTask id="compute_fee" name="Hitung biaya" '
                 'scriptLanguage="python"><bpmn:script>fee = units * 150000</bpmn:script>'
                 "</bpmn:globalScriptTask>")
GLOBAL_USER = ('<bpmn:globalUserTask id="approve" name="Setujui" camunda:candidateGroups="upp">'
               "<bpmn:extensionElements><camunda:formData>"
               '<camunda:formField id="approved" label="Setuju" type="boolean" />'
               "</camunda:formData></bpmn:extensionElements></bpmn:globalUserTask>")


def deploy(client: Any, key: str, top: str, body: str) -> Any:
    xml = definitions(key, top + process(key, body))
    return client.post("/api/v1/deployments",
                       files=[("files", (f"{key}.bpmn", xml.encode(), "text/xml"))])


def call(element: str, called: str, extra: str = "") -> str:
    return f'<bpmn:callActivity id="{element}" calledElement="{called}">{extra}</bpmn:callActivity>'


def test_a_global_script_task_runs_for_each_call_on_the_callers_variables(
        as_user: Any) -> None:
    admin = as_user("admin1")
    body = ('<bpmn:startEvent id="s" />' + call("fee_a", "compute_fee")
            + '<bpmn:scriptTask id="more" scriptFormat="python">'
              "<bpmn:script>first = fee\nunits = units + 1</bpmn:script></bpmn:scriptTask>"
            + call("fee_b", "compute_fee") + '<bpmn:endEvent id="e" />'
            + flows("s", "fee_a", "more", "fee_b", "e"))
    assert deploy(admin, "glob_script", GLOBAL_SCRIPT, body).status_code == 201
    run = start(admin, "glob_script", {"units": 2})
    row = instance(admin, run)
    assert row["status"] == "completed"
    assert row["variables"]["first"] == 300000 and row["variables"]["fee"] == 450000
    assert trace(admin, run) == ["s", "fee_a", "more", "fee_b", "e"]


def test_a_global_user_task_is_a_task_of_its_role_with_its_form(as_user: Any) -> None:
    admin = as_user("admin1")
    body = ('<bpmn:startEvent id="s" />' + call("review", "approve")
            + '<bpmn:endEvent id="e" />' + flows("s", "review", "e"))
    assert deploy(admin, "glob_user", GLOBAL_USER, body).status_code == 201
    run = start(admin, "glob_user", {})
    tasks = open_tasks(admin, run)
    assert [(t["name"], t["title"], t["roles"]) for t in tasks] == [
        ("review", "Setujui", ["upp"])]
    detail = admin.get(f"/api/v1/tasks/{tasks[0]['id']}").json()
    assert [f["id"] for f in detail["form"]["fields"]] == ["approved"]
    done = as_user("upp1").post(f"/api/v1/tasks/{tasks[0]['id']}/complete",
                                json={"variables": {"approved": True}})
    assert done.status_code == 200, done.text
    row = instance(admin, run)
    assert row["status"] == "completed" and row["variables"]["approved"] is True


def test_a_global_script_in_another_language_is_refused_naming_the_call(
        as_user: Any) -> None:
    admin = as_user("admin1")
    top = ('<bpmn:globalScriptTask id="g" scriptLanguage="groovy">'
           "<bpmn:script>fee = 1</bpmn:script></bpmn:globalScriptTask>")
    body = ('<bpmn:startEvent id="s" />' + call("use_g", "g") + '<bpmn:endEvent id="e" />'
            + flows("s", "use_g", "e"))
    answer = deploy(admin, "glob_bad", top, body)
    assert answer.status_code == 422, answer.text
    assert "use_g" in answer.text and "groovy" in answer.text


def test_a_call_to_a_global_task_that_is_missing_is_refused(as_user: Any) -> None:
    admin = as_user("admin1")
    body = ('<bpmn:startEvent id="s" />' + call("use_x", "no_such_task")
            + '<bpmn:endEvent id="e" />' + flows("s", "use_x", "e"))
    answer = deploy(admin, "glob_missing", "", body)
    assert answer.status_code == 422, answer.text
    assert "use_x" in answer.text and "no_such_task" in answer.text
