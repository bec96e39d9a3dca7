"""Conditional events as Camunda 7 runs them, through the REST API (issue 17).

Each diagram is deployed over HTTP, started, driven (user tasks, messages,
variables set from outside) and checked by the order of the elements its
history records, against what Camunda 7 does. The engine fixture keeps no
workflow cache, so every command reloads the instance from the database.
"""

from __future__ import annotations

from typing import Any

from tests.api.bpmn_rest import deploy, deployed, history, instance, start
from tests.builders import definitions, process

XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


# -- building diagrams ----------------------------------------------------------------------

def cond(expression: str, *, variable: str | None = None, events: str | None = None,
         language: str | None = None) -> str:
    attrs = f' camunda:variableName="{variable}"' if variable else ""
    attrs += f' camunda:variableEvents="{events}"' if events else ""
    lang = f' language="{language}"' if language else ""
    return (f"<bpmn:conditionalEventDefinition{attrs}>"
            f'<bpmn:condition xsi:type="bpmn:tFormalExpression" {XSI}{lang}>{expression}'
            "</bpmn:condition></bpmn:conditionalEventDefinition>")


def flows(*pairs: tuple[str, str]) -> str:
    return "".join(f'<bpmn:sequenceFlow id="f_{a}_{b}" sourceRef="{a}" targetRef="{b}" />'
                   for a, b in pairs)


def script(element: str, code: str) -> str:
    return (f'<bpmn:scriptTask id="{element}" scriptFormat="python">'
            f"<bpmn:script>{code}</bpmn:script></bpmn:scriptTask>")


def user(element: str) -> str:
    return f'<bpmn:userTask id="{element}" camunda:candidateGroups="upp" />'


def catch(element: str, definition: str) -> str:
    return f'<bpmn:intermediateCatchEvent id="{element}">{definition}</bpmn:intermediateCatchEvent>'


def boundary(element: str, attached: str, definition: str, *, interrupting: bool = True) -> str:
    cancel = "" if interrupting else ' cancelActivity="false"'
    return (f'<bpmn:boundaryEvent id="{element}" attachedToRef="{attached}"{cancel}>'
            f"{definition}</bpmn:boundaryEvent>")


def ends(*elements: str) -> str:
    return "".join(f'<bpmn:endEvent id="{e}" />' for e in elements)


def event_subprocess(definition: str, *, interrupting: bool, inner: str = "") -> str:
    return (f'<bpmn:subProcess id="es" triggeredByEvent="true">'
            f'<bpmn:startEvent id="es_start" isInterrupting="{str(interrupting).lower()}">'
            f"{definition}</bpmn:startEvent>"
            + (inner or script("es_note", "trail = trail + ['handled']"))
            + '<bpmn:endEvent id="es_end" />'
            + flows(("es_start", "es_note"), ("es_note", "es_end")) + "</bpmn:subProcess>")


# -- talking to the API ------------------------------------------------------------------------

def trace(client: Any, instance_id: str) -> list[str]:
    """The elements the instance ran, in order (user tasks and automatic steps)."""
    return [h["element"] for h in history(client, instance_id)
            if h["kind"] in ("element_completed", "task_completed")]


def complete(client: Any, instance_id: str, element: str,
             variables: dict[str, Any] | None = None) -> None:
    tasks = client.get("/api/v1/tasks", params={"per_page": 200}).json()["items"]
    task = next(t for t in tasks if t["instance_id"] == instance_id and t["name"] == element)
    answer = client.post(f"/api/v1/tasks/{task['id']}/complete",
                         json={"variables": variables or {}})
    assert answer.status_code == 200, answer.text


def open_tasks(client: Any, instance_id: str) -> list[str]:
    return sorted(t["name"] for t in instance(client, instance_id)["tasks"])


def set_variables(client: Any, instance_id: str, variables: dict[str, Any],
                  deletions: list[str] | None = None) -> Any:
    return client.post(f"/api/v1/process-instances/{instance_id}/variables",
                       json={"variables": variables, "deletions": deletions or []})


def variables_set(client: Any, instance_id: str, variables: dict[str, Any]) -> dict[str, Any]:
    answer = set_variables(client, instance_id, variables)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


# -- intermediate catch events ------------------------------------------------------------------

ALREADY_TRUE = ('<bpmn:startEvent id="s" />' + script("measure", "level = 120")
                + catch("high", cond("${level > 100}")) + script("alarm", "path = 'alarm'")
                + ends("e") + flows(("s", "measure"), ("measure", "high"), ("high", "alarm"),
                                    ("alarm", "e")))


def test_a_condition_true_on_arrival_passes_at_once(as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "cond_true_on_arrival", ALREADY_TRUE)
    started = start(admin, "cond_true_on_arrival")
    assert instance(admin, started)["status"] == "completed"
    assert trace(admin, started) == ["s", "measure", "high", "alarm", "e"]
    assert instance(admin, started)["variables"]["path"] == "alarm"


WAIT_FOR_BRANCH = ('<bpmn:startEvent id="s" /><bpmn:parallelGateway id="fork" />'
                   + catch("ready_yet", cond("${ready}")) + script("ship", "shipped = True")
                   + user("prepare") + '<bpmn:parallelGateway id="join" />' + ends("e")
                   + flows(("s", "fork"), ("fork", "ready_yet"), ("ready_yet", "ship"),
                           ("ship", "join"), ("fork", "prepare"), ("prepare", "join"),
                           ("join", "e")))


def test_a_catch_event_waits_until_a_parallel_branch_makes_it_true(as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "cond_wait_branch", WAIT_FOR_BRANCH)
    started = start(admin, "cond_wait_branch", {"ready": False})
    assert "ready_yet" in instance(admin, started)["active_elements"]
    complete(admin, started, "prepare", {"ready": True})
    assert trace(admin, started) == ["s", "fork", "prepare", "ready_yet", "ship", "join", "e"]
    assert instance(admin, started)["variables"]["shipped"] is True


def test_a_catch_event_waits_for_variables_set_from_outside(as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "cond_wait_outside", WAIT_FOR_BRANCH)
    started = start(admin, "cond_wait_outside")  # ready does not exist: false, no incident
    assert instance(admin, started)["incidents"] == []
    still = variables_set(admin, started, {"ready": False, "note": "not yet"})
    assert "ready_yet" in still["active_elements"]
    after = variables_set(admin, started, {"ready": True})
    assert after["variables"]["shipped"] is True
    assert trace(admin, started) == ["s", "fork", "ready_yet", "ship"]
    complete(admin, started, "prepare")
    assert instance(admin, started)["status"] == "completed"
    kinds = [(h["kind"], h["actor"]) for h in history(admin, started)]
    assert kinds.count(("variables_set", "admin1")) == 2


def test_a_condition_that_fails_is_an_incident_on_its_event_and_retry_evaluates_it(
        as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "cond_failing", '<bpmn:startEvent id="s" />'
             + catch("check", cond("${amount > 100}")) + script("big", "path = 'big'")
             + ends("e") + flows(("s", "check"), ("check", "big"), ("big", "e")))
    started = start(admin, "cond_failing", {"amount": "lots"})
    row = instance(admin, started)
    assert row["status"] == "error"
    [incident] = row["incidents"]
    assert incident["element"] == "check" and incident["kind"] == "condition"
    assert "${amount > 100}" in incident["message"] and "TypeError" in incident["message"]
    retried = admin.post(f"/api/v1/incidents/{incident['id']}/retry",
                         json={"variables": {"amount": 500}})
    assert retried.status_code == 200, retried.text
    assert instance(admin, started)["status"] == "completed"
    assert trace(admin, started) == ["s", "check", "big", "e"]


def test_an_event_based_gateway_takes_the_conditional_event_that_becomes_true(
        as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "cond_gateway", '<bpmn:startEvent id="s" /><bpmn:eventBasedGateway id="gw" />'
             + catch("paid", cond("${paid}")) + catch("cancelled", cond("${cancelled}"))
             + script("ship", "path = 'shipped'") + script("close", "path = 'closed'")
             + ends("e1", "e2")
             + flows(("s", "gw"), ("gw", "paid"), ("gw", "cancelled"), ("paid", "ship"),
                     ("ship", "e1"), ("cancelled", "close"), ("close", "e2")))
    waiting = start(admin, "cond_gateway", {"paid": False, "cancelled": False})
    assert instance(admin, waiting)["status"] == "running"
    variables_set(admin, waiting, {"cancelled": True})
    assert trace(admin, waiting) == ["s", "gw", "cancelled", "close", "e2"]
    at_once = start(admin, "cond_gateway", {"paid": True, "cancelled": False})
    assert trace(admin, at_once) == ["s", "gw", "paid", "ship", "e1"]


def test_a_change_in_the_process_reaches_a_catch_event_inside_a_subprocess(
        as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "cond_top_down", '<bpmn:startEvent id="s" /><bpmn:parallelGateway id="fork" />'
             '<bpmn:subProcess id="sub"><bpmn:startEvent id="sub_s" />' + catch("go_yet", cond(
                 "${go}")) + script("inner", "path = 'inner'") + '<bpmn:endEvent id="sub_e" />'
             + flows(("sub_s", "go_yet"), ("go_yet", "inner"), ("inner", "sub_e"))
             + "</bpmn:subProcess>" + user("decide") + ends("e1", "e2")
             + flows(("s", "fork"), ("fork", "sub"), ("sub", "e1"), ("fork", "decide"),
                     ("decide", "e2")))
    started = start(admin, "cond_top_down", {"go": False})
    complete(admin, started, "decide", {"go": True})
    row = instance(admin, started)
    assert row["status"] == "completed" and row["variables"]["path"] == "inner"
    assert trace(admin, started) == ["s", "fork", "sub_s", "decide", "go_yet", "inner", "sub_e",
                                     "sub", "e2", "e1"]


# -- boundary events, interrupting ---------------------------------------------------------------

REVIEW = ('<bpmn:startEvent id="s" /><bpmn:parallelGateway id="fork" />' + user("review")
          + boundary("changed", "review", cond("${changed}"))
          + script("reviewed", "path = 'reviewed'") + script("restart", "path = 'again'")
          + user("amend") + ends("e1", "e2", "e3")
          + flows(("s", "fork"), ("fork", "review"), ("review", "reviewed"), ("reviewed", "e1"),
                  ("changed", "restart"), ("restart", "e2"), ("fork", "amend"), ("amend", "e3")))


def test_an_interrupting_boundary_event_cancels_its_task_when_a_branch_changes_a_variable(
        as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "cond_boundary", REVIEW)
    started = start(admin, "cond_boundary", {"changed": False})
    assert open_tasks(admin, started) == ["amend", "review"]
    complete(admin, started, "amend", {"changed": True})
    row = instance(admin, started)
    assert row["status"] == "completed" and row["variables"]["path"] == "again"
    assert trace(admin, started) == ["s", "fork", "amend", "changed", "e3", "restart", "e2"]
    assert "task_cancelled" in [h["kind"] for h in history(admin, started)]


def test_an_interrupting_boundary_event_true_when_its_task_starts_takes_its_path_at_once(
        as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "cond_boundary_entry", REVIEW)
    started = start(admin, "cond_boundary_entry", {"changed": True})
    assert open_tasks(admin, started) == ["amend"]  # review was never offered
    complete(admin, started, "amend")
    assert instance(admin, started)["variables"]["path"] == "again"
    assert "review" not in trace(admin, started)


def test_an_interrupting_boundary_event_fires_on_a_message_s_variables(as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "cond_boundary_message", '<bpmn:startEvent id="s" />'
             '<bpmn:parallelGateway id="fork" />' + user("review")
             + boundary("changed", "review", cond("${changed}"))
             + '<bpmn:receiveTask id="letter" messageRef="msg_letter" />'
             + script("restart", "path = 'again'") + ends("e1", "e2", "e3")
             + flows(("s", "fork"), ("fork", "review"), ("review", "e1"), ("changed", "restart"),
                     ("restart", "e2"), ("fork", "letter"), ("letter", "e3")),
             '<bpmn:message id="msg_letter" name="cond-letter" />\n')
    started = start(admin, "cond_boundary_message")
    sent = admin.post("/api/v1/messages", json={"name": "cond-letter", "instance_id": started,
                                                "variables": {"changed": True}})
    assert sent.status_code == 200, sent.text
    assert instance(admin, started)["status"] == "completed"
    assert trace(admin, started) == ["s", "fork", "letter", "changed", "e3", "restart", "e2"]


def test_an_interrupting_boundary_event_on_a_subprocess_stops_it_at_once(as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "cond_boundary_sub", '<bpmn:startEvent id="s" />'
             '<bpmn:subProcess id="checks"><bpmn:startEvent id="c_s" />'
             + script("c_find", "fraud = True") + script("c_more", "more = True")
             + '<bpmn:endEvent id="c_e" />'
             + flows(("c_s", "c_find"), ("c_find", "c_more"), ("c_more", "c_e"))
             + "</bpmn:subProcess>" + boundary("fraud_found", "checks", cond("${fraud}"))
             + script("ok", "path = 'checked'") + script("stop", "path = 'stopped'")
             + ends("e1", "e2")
             + flows(("s", "checks"), ("checks", "ok"), ("ok", "e1"), ("fraud_found", "stop"),
                     ("stop", "e2")))
    started = start(admin, "cond_boundary_sub", {"fraud": False})
    row = instance(admin, started)
    assert row["status"] == "completed" and row["variables"]["path"] == "stopped"
    assert "more" not in row["variables"]
    assert trace(admin, started) == ["s", "c_s", "c_find", "fraud_found", "stop", "e2"]


# -- boundary events, non-interrupting ----------------------------------------------------------

def non_interrupting(definition: str) -> str:
    return ('<bpmn:startEvent id="s" /><bpmn:parallelGateway id="fork" />' + user("work")
            + boundary("hint", "work", definition, interrupting=False)
            + script("count", "notes = notes + 1") + user("raise") + ends("e1", "e2", "e3")
            + flows(("s", "fork"), ("fork", "work"), ("work", "e1"), ("hint", "count"),
                    ("count", "e2"), ("fork", "raise"), ("raise", "e3")))


def test_a_non_interrupting_boundary_event_fires_on_each_change_that_makes_it_true(
        as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "cond_nonint", non_interrupting(cond("${level > 5}", variable="level")))
    started = start(admin, "cond_nonint", {"notes": 0, "level": 0})
    variables_set(admin, started, {"level": 3})  # false: nothing
    variables_set(admin, started, {"level": 7})
    variables_set(admin, started, {"comment": "other"})  # not level: not evaluated
    variables_set(admin, started, {"level": 9})
    assert instance(admin, started)["variables"]["notes"] == 2
    assert open_tasks(admin, started) == ["raise", "work"]  # work goes on
    complete(admin, started, "work")
    complete(admin, started, "raise", {"level": 11})  # work is over: no more firing
    row = instance(admin, started)
    assert row["status"] == "completed" and row["variables"]["notes"] == 2
    assert trace(admin, started) == ["s", "fork", "hint", "count", "e2", "hint", "count", "e2",
                                     "work", "e1", "raise", "e3"]


def test_variable_events_limit_what_triggers_the_event(as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "cond_events", non_interrupting(
        cond("${watch}", variable="flag", events="create, delete")))
    started = start(admin, "cond_events", {"notes": 0, "watch": False})
    variables_set(admin, started, {"watch": True})  # not flag: not evaluated
    assert instance(admin, started)["variables"]["notes"] == 0
    variables_set(admin, started, {"flag": 1})  # create: fires
    variables_set(admin, started, {"flag": 2})  # update: not listened to
    assert instance(admin, started)["variables"]["notes"] == 1
    answer = set_variables(admin, started, {}, deletions=["flag"])  # delete: fires
    assert answer.status_code == 200, answer.text
    assert "flag" not in answer.json()["variables"]
    assert answer.json()["variables"]["notes"] == 2


def test_a_non_interrupting_event_its_own_path_keeps_triggering_is_stopped(
        as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "cond_runaway", non_interrupting(cond("${true}")))  # any change fires
    started = start(admin, "cond_runaway", {"notes": 0})  # fires, its path changes notes...
    row = instance(admin, started)
    assert row["status"] == "error"
    assert trace(admin, started).count("count") == 50
    assert any(i["element"] == "hint" and "camunda:variableName" in i["message"]
               for i in row["incidents"])


# -- event subprocesses ----------------------------------------------------------------------

WITHDRAW = ('<bpmn:startEvent id="s" /><bpmn:parallelGateway id="fork" />' + user("work")
            + script("withdraw", "withdrawn = True") + script("after", "went_on = True")
            + '<bpmn:parallelGateway id="join" />' + ends("e")
            + flows(("s", "fork"), ("fork", "work"), ("work", "join"), ("fork", "withdraw"),
                    ("withdraw", "after"), ("after", "join"), ("join", "e")))


def test_an_interrupting_event_subprocess_stops_the_process_at_once(as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "cond_evsub", WITHDRAW + event_subprocess(
        cond("${withdrawn}"), interrupting=True))
    for _ in range(2):  # a second instance of the same version behaves the same
        started = start(admin, "cond_evsub", {"withdrawn": False, "trail": []})
        row = instance(admin, started)
        assert row["status"] == "completed"
        assert row["variables"]["trail"] == ["handled"] and "went_on" not in row["variables"]
        assert trace(admin, started) == ["s", "fork", "withdraw", "es_start", "es_note",
                                         "es_end", "es"]


def test_an_event_subprocess_condition_that_fails_is_an_incident_on_its_start_event(
        as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "cond_evsub_failing", '<bpmn:startEvent id="s" />' + user("work")
             + ends("e") + flows(("s", "work"), ("work", "e"))
             + event_subprocess(cond("${level > 3}"), interrupting=True))
    started = start(admin, "cond_evsub_failing", {"level": 1, "trail": []})
    answer = set_variables(admin, started, {"level": "high"})
    assert answer.status_code == 200, answer.text
    [incident] = answer.json()["incidents"]
    assert incident["element"] == "es_start" and incident["kind"] == "condition"
    assert "TypeError" in incident["message"]
    retried = admin.post(f"/api/v1/incidents/{incident['id']}/retry", json={})
    assert retried.status_code == 200, retried.text
    assert variables_set(admin, started, {"level": 5})["variables"]["trail"] == ["handled"]
    assert trace(admin, started) == ["s", "es_start", "es_note", "es_end", "es"]


def test_an_event_subprocess_true_when_the_process_starts_runs_before_anything_else(
        as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "cond_evsub_entry", WITHDRAW + event_subprocess(
        cond("${withdrawn}"), interrupting=True))
    started = start(admin, "cond_evsub_entry", {"withdrawn": True, "trail": []})
    assert instance(admin, started)["status"] == "completed"
    assert trace(admin, started) == ["es_start", "es_note", "es_end", "es"]


def test_a_non_interrupting_event_subprocess_runs_beside_the_process_once_per_change(
        as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "cond_evsub_nonint", '<bpmn:startEvent id="s" />' + user("work")
             + ends("e") + flows(("s", "work"), ("work", "e"))
             + event_subprocess(cond("${urgent}", variable="urgent"), interrupting=False,
                                inner=script("es_note", "escalations = escalations + 1")))
    quiet = start(admin, "cond_evsub_nonint", {"urgent": False, "escalations": 0})
    started = start(admin, "cond_evsub_nonint", {"urgent": False, "escalations": 0})
    variables_set(admin, started, {"urgent": True})
    variables_set(admin, started, {"other": 1})  # not urgent: nothing
    variables_set(admin, started, {"urgent": "very"})
    assert open_tasks(admin, started) == ["work"]
    complete(admin, started, "work")
    row = instance(admin, started)
    assert row["status"] == "completed" and row["variables"]["escalations"] == 2
    assert trace(admin, started).count("es_note") == 2
    complete(admin, quiet, "work")  # never triggered: it ends as if there were none
    assert instance(admin, quiet)["status"] == "completed"
    assert "es_note" not in trace(admin, quiet)


# -- conditional start events of a process (POST /engine-rest/condition) -----------------------

def started_by_condition(key: str, condition: str) -> str:
    return (f'<bpmn:startEvent id="s">{condition}</bpmn:startEvent>'
            + script("mark", f"path = '{key}'") + ends("e") + flows(("s", "mark"), ("mark", "e")))


def test_post_condition_starts_the_processes_whose_condition_holds(as_user: Any) -> None:
    analyst = as_user("analyst1")
    deployed(analyst, "cond_start_big", started_by_condition("big", cond("${amount > 1000}")))
    deployed(analyst, "cond_start_small", started_by_condition("small", cond("amount &lt;= 1000")))
    answer = as_user("admin1").post("/engine-rest/condition", json={
        "variables": {"amount": {"value": 5000, "type": "Integer"}},
        "businessKey": "ORD-1"})
    assert answer.status_code == 200, answer.text
    [started] = answer.json()
    assert started["definitionId"].startswith("cond_start_big:")
    assert started["businessKey"] == "ORD-1" and started["ended"] is True
    admin = as_user("admin1")
    row = instance(admin, started["id"])
    assert row["variables"] == {"amount": 5000, "path": "big"}
    assert trace(admin, started["id"]) == ["s", "mark", "e"]


def test_post_condition_honours_variable_name_and_process_definition_id(as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "cond_start_named", started_by_condition(
        "named", cond("${trigger}", variable="trigger")))
    none = admin.post("/engine-rest/condition", json={"variables": {}})
    assert none.status_code == 200 and none.json() == []  # trigger not given
    definition = admin.get("/api/v1/process-definitions/cond_start_named").json()["id"]
    some = admin.post("/engine-rest/condition", json={
        "variables": {"trigger": {"value": True, "type": "Boolean"}},
        "processDefinitionId": definition})
    assert some.status_code == 200, some.text
    assert [s["definitionId"] for s in some.json()] == [definition]


def test_post_condition_without_conditional_start_events_is_a_bad_request(
        as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "cond_plain", '<bpmn:startEvent id="s" /><bpmn:endEvent id="e" />'
             + flows(("s", "e")))
    definition = admin.get("/api/v1/process-definitions/cond_plain").json()["id"]
    answer = admin.post("/engine-rest/condition", json={"processDefinitionId": definition})
    assert answer.status_code == 400
    assert answer.json()["type"] == "InvalidRequestException"
    assert "no process has a conditional start event" in answer.json()["message"]


def test_a_customer_may_not_start_a_process_closed_to_customers_by_condition(
        as_user: Any) -> None:
    xml_key = "cond_start_staff"
    body = started_by_condition("staff", cond("${true}"))
    admin = as_user("admin1")
    answer = admin.post("/api/v1/deployments", files=[("files", (f"{xml_key}.bpmn", definitions(
        xml_key, process(xml_key, body).replace(
            'isExecutable="true"', 'isExecutable="true" camunda:candidateStarterGroups="upp"')
    ).encode(), "text/xml"))])
    assert answer.status_code == 201, answer.text
    refused = as_user("cust1").post("/engine-rest/condition", json={"variables": {}})
    assert refused.status_code == 403
    assert admin.get("/api/v1/process-instances", params={"key": xml_key}).json()["total"] == 0


# -- setting variables from outside ------------------------------------------------------------

def test_only_admins_set_variables_of_running_instances(as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "cond_vars", WAIT_FOR_BRANCH)
    started = start(admin, "cond_vars")
    assert set_variables(as_user("upp1"), started, {"ready": True}).status_code == 403
    assert set_variables(admin, "no-such-instance", {"ready": True}).status_code == 404
    bad = set_variables(admin, started, {"not a name": 1})
    assert bad.status_code == 422
    assert bad.json()["errors"] == [{"field": "not a name",
                                     "message": "not a valid variable name"}]
    empty = set_variables(admin, started, {})
    assert empty.status_code == 422
    admin.post(f"/api/v1/process-instances/{started}/cancel", json={})
    assert set_variables(admin, started, {"ready": True}).status_code == 409
    assert trace(admin, started) == ["s", "fork"]


def test_engine_rest_modifies_variables_with_camunda_s_typed_values(as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "cond_rest_vars", WAIT_FOR_BRANCH)
    started = start(admin, "cond_rest_vars", {"old": "x", "ready": False})
    answer = admin.post(f"/engine-rest/process-instance/{started}/variables", json={
        "modifications": {"ready": {"value": "true", "type": "Boolean"},
                          "order": {"value": '{"units": 3}', "type": "Json"}},
        "deletions": ["old"]})
    assert answer.status_code == 204, answer.text
    variables = instance(admin, started)["variables"]
    assert variables["ready"] is True and variables["order"] == {"units": 3}
    assert "old" not in variables and variables["shipped"] is True
    assert trace(admin, started) == ["s", "fork", "ready_yet", "ship"]
    bad = admin.post(f"/engine-rest/process-instance/{started}/variables", json={
        "modifications": {"blob": {"value": "AA==", "type": "Bytes"}}})
    assert bad.status_code == 400 and bad.json()["type"] == "InvalidRequestException"
    staff = as_user("upp1").post(f"/engine-rest/process-instance/{started}/variables",
                                 json={"modifications": {"ready": {"value": False}}})
    assert staff.status_code == 403 and staff.json()["type"] == "AuthorizationException"


# -- models refused at deployment ---------------------------------------------------------------

def refusal(client: Any, key: str, definition: str) -> list[dict[str, Any]]:
    answer = deploy(client, key, '<bpmn:startEvent id="s" />' + catch("wait", definition)
                    + ends("e") + flows(("s", "wait"), ("wait", "e")))
    assert answer.status_code == 422, answer.text
    return list(answer.json()["errors"])


def test_a_conditional_event_without_a_condition_is_refused(as_user: Any) -> None:
    analyst = as_user("analyst1")
    [error] = refusal(analyst, "cond_empty", '<bpmn:conditionalEventDefinition><bpmn:condition '
                      f'xsi:type="bpmn:tFormalExpression" {XSI} /></bpmn:conditionalEventDefinition>')
    assert error["element"] == "wait" and "has no condition" in error["message"]
    [schema] = refusal(analyst, "cond_none", "<bpmn:conditionalEventDefinition />")
    assert "condition" in schema["message"] and schema["line"]


def test_conditions_in_other_languages_or_bad_juel_are_refused_by_element(
        as_user: Any) -> None:
    analyst = as_user("analyst1")
    [groovy] = refusal(analyst, "cond_groovy", cond("ready == true", language="groovy"))
    assert groovy["element"] == "wait"
    assert "condition language 'groovy' is not supported" in groovy["message"]
    [juel] = refusal(analyst, "cond_juel", cond("${orders.find(x -> x.big)}"))
    assert juel["element"] == "wait" and "the condition does not compile" in juel["message"]
    [events] = refusal(analyst, "cond_events_bad", cond("${ready}", events="change"))
    assert events["element"] == "wait" and "camunda:variableEvents" in events["message"]


def test_a_conditional_start_event_beside_another_start_event_is_refused(
        as_user: Any) -> None:
    answer = deploy(as_user("analyst1"), "cond_two_starts",
                    f'<bpmn:startEvent id="plain" /><bpmn:startEvent id="when">'
                    f'{cond("${ready}")}</bpmn:startEvent>' + ends("e")
                    + flows(("plain", "e"), ("when", "e")))
    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert error["element"] == "when" and "no other start event" in error["message"]
