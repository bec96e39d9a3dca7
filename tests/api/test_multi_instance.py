"""Multi-instance activities share the process's variables, as in Camunda 7 (issue 17).

What an instance sets is a process variable: the next instance, the completion
condition and the activities after the loop see it. Only the element variable
is each instance's own. Everything goes through HTTP; the traces are read from
the instance's history.
"""

from __future__ import annotations

from typing import Any

from tests.api.bpmn_rest import deploy, flows, instance, open_tasks, script, start, trace
from tests.builders import definitions, process


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


SIGNAL_TOP = ('<bpmn:signal id="sig_done" name="one-instance-done" />'
              '<bpmn:signalEventDefinition id="def_done" signalRef="sig_done" />'
              '<bpmn:escalation id="esc_many" name="many" escalationCode="MANY" />')


def behavior_process(key: str, loop_xml: str, boundary_definition: str,
                     interrupting: bool = False) -> str:
    cancel = "true" if interrupting else "false"
    return (
        '<bpmn:startEvent id="s" />'
        '<bpmn:scriptTask id="work" scriptFormat="python">' + loop_xml
        + "<bpmn:script>done = done + [item]</bpmn:script></bpmn:scriptTask>"
        f'<bpmn:boundaryEvent id="heard" attachedToRef="work" cancelActivity="{cancel}">'
        + boundary_definition + "</bpmn:boundaryEvent>"
        + script("note", "heard_count = heard_count + 1")
        + '<bpmn:endEvent id="e_note" />'
        + script("after", "path = 'after'") + '<bpmn:endEvent id="e" />'
        + flows("s", "work", "after", "e") + flows("heard", "note", "e_note"))


def deploy_top(client: Any, key: str, body: str) -> Any:
    xml = definitions(key, SIGNAL_TOP + process(key, body))
    return client.post("/api/v1/deployments",
                       files=[("files", (f"{key}.bpmn", xml.encode(), "text/xml"))])


def mi_loop(attributes: str, inner: str = "") -> str:
    return ('<bpmn:multiInstanceLoopCharacteristics isSequential="true" '
            f'camunda:collection="items" camunda:elementVariable="item" {attributes}>'
            f"{inner}</bpmn:multiInstanceLoopCharacteristics>")


def test_behavior_none_throws_an_event_for_each_instance(as_user: Any) -> None:
    admin = as_user("admin1")
    body = behavior_process("mi_none", mi_loop('behavior="None" noneBehaviorEventRef="def_done"'),
                            '<bpmn:signalEventDefinition signalRef="sig_done" />')
    assert deploy_top(admin, "mi_none", body).status_code == 201
    run = start(admin, "mi_none", {"items": [1, 2, 3], "done": [], "heard_count": 0})
    row = instance(admin, run)
    assert row["status"] == "completed", row
    assert row["variables"]["heard_count"] == 3
    assert row["variables"]["path"] == "after"
    assert trace(admin, run).count("note") == 3


def test_behavior_one_throws_once_and_all_throws_nothing(as_user: Any) -> None:
    admin = as_user("admin1")
    boundary = '<bpmn:signalEventDefinition signalRef="sig_done" />'
    one = behavior_process("mi_one", mi_loop('behavior="One" oneBehaviorEventRef="def_done"'),
                           boundary)
    every = behavior_process("mi_all", mi_loop('behavior="All"'), boundary)
    assert deploy_top(admin, "mi_one", one).status_code == 201
    assert deploy_top(admin, "mi_all", every).status_code == 201
    start_vars = {"items": [1, 2, 3], "done": [], "heard_count": 0}
    first = instance(admin, start(admin, "mi_one", start_vars))
    assert first["status"] == "completed" and first["variables"]["heard_count"] == 1
    second = instance(admin, start(admin, "mi_all", start_vars))
    assert second["status"] == "completed" and second["variables"]["heard_count"] == 0
    assert second["variables"]["done"] == [1, 2, 3]


def test_behavior_complex_throws_when_its_condition_holds_and_can_interrupt(
        as_user: Any) -> None:
    admin = as_user("admin1")
    complex_def = ('<bpmn:complexBehaviorDefinition id="cbd">'
                   "<bpmn:condition>${nrOfCompletedInstances == 2}</bpmn:condition>"
                   '<bpmn:event id="ev"><bpmn:escalationEventDefinition escalationRef="esc_many" />'
                   "</bpmn:event></bpmn:complexBehaviorDefinition>")
    body = behavior_process("mi_complex", mi_loop('behavior="Complex"', complex_def),
                            '<bpmn:escalationEventDefinition escalationRef="esc_many" />',
                            interrupting=True)
    assert deploy_top(admin, "mi_complex", body).status_code == 201
    run = start(admin, "mi_complex", {"items": [1, 2, 3, 4], "done": [], "heard_count": 0})
    row = instance(admin, run)
    assert row["status"] == "completed", row
    # The escalation after the second instance interrupts the loop: no third, no "after".
    assert row["variables"]["done"] == [1, 2]
    assert row["variables"]["heard_count"] == 1
    assert "path" not in row["variables"]
    assert "after" not in trace(admin, run)


def test_a_missing_collection_is_an_incident_that_says_what_to_set(as_user: Any) -> None:
    admin = as_user("admin1")
    body = ('<bpmn:startEvent id="s" />'
            + script("greet", "x = 1", loop("names", "name", sequential=False))
            + '<bpmn:endEvent id="e" />' + flows("s", "greet", "e"))
    assert deploy(admin, "mi_missing", body).status_code == 201
    run = start(admin, "mi_missing", {})
    row = instance(admin, run)
    assert row["status"] == "error"
    incidents = admin.get("/api/v1/incidents", params={"instance_id": run}).json()["items"]
    assert [i["element"] for i in incidents] == ["greet"]
    assert "the collection 'names' (camunda:collection) is not set" in incidents[0]["message"]
    retried = admin.post(f"/api/v1/incidents/{incidents[0]['id']}/retry",
                         json={"variables": {"names": ["a", "b"]}})
    assert retried.status_code == 200, retried.text
    assert instance(admin, run)["status"] == "completed"
