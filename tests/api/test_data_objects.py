"""Data objects, data stores and ioSpecification, through the REST API (issue 17).

A data object is a variable of the (sub-)process that declares it, seen by a task
through its data associations (engine.bpmn.data); a data store is one value in
the database that every instance shares; an ioSpecification names the variables
a task or process needs and gives. Each test deploys over HTTP, starts, drives,
and compares the order of the elements run (the history) with the expected one.
The engine fixture keeps no workflow cache: every command restores the instance
from the database.
"""

from __future__ import annotations

from typing import Any

from tests.api.bpmn_rest import (
    END,
    START,
    bpmn,
    deployed,
    flows,
    history,
    incidents,
    instance,
    ready_task,
    refusal,
    retry,
    script,
    start,
    trace,
)
from tests.api.bpmn_rest import complete_task as complete


def deploy(client: Any, *files: tuple[str, bytes]) -> Any:
    return client.post("/api/v1/deployments", files=[
        ("files", (f"{name}.bpmn", content, "text/xml")) for name, content in files])


# -- building blocks ---------------------------------------------------------------------

def data_object(name: str, ref: str | None = None) -> str:
    """A data object and its reference, as the Modeler writes them (the name on the ref)."""
    ref = ref or f"ref_{name}"
    return (f'<bpmn:dataObjectReference id="{ref}" name="{name}" dataObjectRef="obj_{ref}" />'
            f'<bpmn:dataObject id="obj_{ref}" />')


def reads(ref: str, n: int = 1) -> str:
    return (f'<bpmn:property id="prop_{n}" name="__targetRef_placeholder" />'
            f'<bpmn:dataInputAssociation id="in_{n}"><bpmn:sourceRef>{ref}</bpmn:sourceRef>'
            f"<bpmn:targetRef>prop_{n}</bpmn:targetRef></bpmn:dataInputAssociation>")


def writes(ref: str, n: int = 1) -> str:
    return (f'<bpmn:dataOutputAssociation id="out_{n}"><bpmn:targetRef>{ref}</bpmn:targetRef>'
            "</bpmn:dataOutputAssociation>")


def io(inputs: list[str], outputs: list[str], prefix: str = "io",
       optional: list[str] | None = None) -> str:
    optional = optional or []
    items = "".join(f'<bpmn:dataInput id="{prefix}_in_{v}" name="{v}" />' for v in inputs)
    items += "".join(f'<bpmn:dataOutput id="{prefix}_out_{v}" name="{v}" />' for v in outputs)
    in_refs = "".join(f"<bpmn:{'optionalInputRefs' if v in optional else 'dataInputRefs'}>"
                      f"{prefix}_in_{v}</bpmn:"
                      f"{'optionalInputRefs' if v in optional else 'dataInputRefs'}>"
                      for v in inputs)
    out_refs = "".join(f"<bpmn:dataOutputRefs>{prefix}_out_{v}</bpmn:dataOutputRefs>"
                       for v in outputs)
    return (f"<bpmn:ioSpecification>{items}<bpmn:inputSet>{in_refs}</bpmn:inputSet>"
            f"<bpmn:outputSet>{out_refs}</bpmn:outputSet></bpmn:ioSpecification>")




# -- data objects ------------------------------------------------------------------------

def test_a_data_object_written_by_one_task_is_read_by_a_later_one(as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "order_flow", START + script("take", "order = {'units': 4}", writes("ref_o"))
             + '<bpmn:userTask id="check" camunda:candidateGroups="upp" />'
             + script("price", "total = order['units'] * 2500", reads("ref_o"))
             + END + data_object("order", "ref_o") + flows("s", "take", "check", "price", "e"))
    instance_id = start(admin, "order_flow")
    # The data object shows among the variables by its name, while the user task waits
    # (the task itself sees no data object: it has no association).
    row = instance(admin, instance_id)
    assert row["variables"]["order"] == {"units": 4}
    answer = admin.get(f"/api/v1/tasks/{ready_task(admin, instance_id, 'check')}")
    assert "order" not in (answer.json().get("variables") or {})
    assert complete(admin, ready_task(admin, instance_id, "check"), {}).status_code == 200
    row = instance(admin, instance_id)
    assert row["status"] == "completed"
    assert row["variables"]["total"] == 10000
    assert row["variables"]["order"] == {"units": 4}
    assert trace(admin, instance_id) == ["s", "take", "check", "price", "e"]
    written = [h for h in history(admin, instance_id) if h["element"] == "take"]
    assert written[0]["data"]["data_objects"] == {"order": {"units": 4}}


def test_a_task_without_an_association_does_not_see_the_data_object(as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "hidden_note", START + script("write", "note = 'urgent'", writes("ref_n"))
             + script("peek", "copy = note") + END + data_object("note", "ref_n")
             + flows("s", "write", "peek", "e"))
    instance_id = start(admin, "hidden_note")
    assert instance(admin, instance_id)["status"] == "error"
    (incident,) = incidents(admin, instance_id)
    assert incident["element"] == "peek"
    assert "note" in incident["message"]
    # An admin gives the script what it needs, and the instance runs on.
    retry(admin, incident["id"], {"note": "given"})
    row = instance(admin, instance_id)
    assert row["status"] == "completed"
    assert row["variables"]["copy"] == "given"
    assert row["variables"]["note"] == "urgent"  # the data object, not the retry's variable
    assert trace(admin, instance_id) == ["s", "write", "peek", "e"]


def test_a_data_object_of_a_sub_process_is_its_own(as_user: Any) -> None:
    """Inside the sub-process the tasks share its data object; a process variable of the
    same name is hidden from them and comes back; the data object ends with it."""
    admin = as_user("admin1")
    inner = ('<bpmn:startEvent id="ss" />'
             + script("draft", "label = 'inner'", writes("ref_label"))
             + '<bpmn:userTask id="review" camunda:candidateGroups="upp">'
             + reads("ref_label", 2) + "</bpmn:userTask>"
             + script("check", "checked = label + '-checked'", reads("ref_label", 3))
             + '<bpmn:endEvent id="se" />' + data_object("label", "ref_label")
             + flows("ss", "draft", "review", "check", "se"))
    deployed(admin, "sub_scope", START + f'<bpmn:subProcess id="sub">{inner}</bpmn:subProcess>'
             + script("after", "seen = label") + END + flows("s", "sub", "after", "e"))
    instance_id = start(admin, "sub_scope", {"label": "outer"})
    row = instance(admin, instance_id)
    assert row["variables"]["label"] == "inner"  # the sub-process's data object, while it runs
    task = ready_task(admin, instance_id, "review")
    assert admin.get(f"/api/v1/tasks/{task}").json()["variables"]["label"] == "inner"
    assert complete(admin, task, {}).status_code == 200
    row = instance(admin, instance_id)
    assert row["status"] == "completed"
    assert row["variables"]["checked"] == "inner-checked"
    assert row["variables"]["seen"] == "outer"
    assert row["variables"]["label"] == "outer"
    assert trace(admin, instance_id) == ["s", "ss", "draft", "review", "check", "se", "sub",
                                         "after", "e"]


def test_a_data_object_named_unlike_a_variable_is_refused(as_user: Any) -> None:
    errors = refusal(as_user("analyst1"), "bad_name", START
                     + script("write", "x = 1", writes("ref_ba")) + END
                     + data_object("Berita Acara", "ref_ba") + flows("s", "write", "e"))
    assert [(e["element"], "name it like a variable" in e["message"]) for e in errors] == [
        ("obj_ref_ba", True)]
    errors = refusal(as_user("analyst1"), "two_labels", START
                     + script("write", "x = 1", writes("ref_a")) + END
                     + '<bpmn:dataObjectReference id="ref_a" name="a" dataObjectRef="obj" />'
                     + '<bpmn:dataObjectReference id="ref_b" name="b" dataObjectRef="obj" />'
                     + '<bpmn:dataObject id="obj" />' + flows("s", "write", "e"))
    assert errors[0]["element"] == "obj"
    assert "labelled a, b" in errors[0]["message"]


# -- data stores ---------------------------------------------------------------------------

COUNTER = (START + script("count", "visits = visits + 1", reads("ref_v") + writes("ref_v", 2))
           + END + '<bpmn:dataStoreReference id="ref_v" name="visits" />'
           + flows("s", "count", "e"))
PEEK = (START + script("peek", "seen = visits", reads("ref_v")) + END
        + '<bpmn:dataStoreReference id="ref_v" name="Visit counter" dataStoreRef="store" />'
        + flows("s", "peek", "e"))


def test_a_data_store_outlives_its_instances_and_is_shared(as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "counter", COUNTER)
    # The process that only looks names the store through a bpmn:dataStore.
    deployed(admin, "peek_store", PEEK, '<bpmn:dataStore id="store" name="visits" />\n')
    first = start(admin, "counter", {"visits": 0})  # the store is empty: the variable counts
    for _ in range(2):
        start(admin, "counter", {"visits": 100})  # the store's value hides the variable
    row = instance(admin, first)
    assert row["status"] == "completed"
    assert row["variables"]["visits"] == 0  # the store is not one of the instance's variables
    assert trace(admin, first) == ["s", "count", "e"]
    written = [h for h in history(admin, first) if h["kind"] == "data_store_written"]
    assert [(h["element"], h["data"]) for h in written] == [
        ("count", {"store": "visits", "value": 1})]
    looked = start(admin, "peek_store")
    assert instance(admin, looked)["variables"]["seen"] == 3
    assert trace(admin, looked) == ["s", "peek", "e"]


def test_a_data_store_written_by_a_form_is_read_by_another_process(as_user: Any) -> None:
    admin = as_user("admin1")
    store = '<bpmn:dataStoreReference id="ref_d" name="deadline" />'
    deployed(admin, "form_store", START
             + '<bpmn:userTask id="enter" camunda:candidateGroups="upp">'
             + writes("ref_d") + "</bpmn:userTask>" + END + store + flows("s", "enter", "e"))
    deployed(admin, "use_store", START + script(
        "stamp", "when = deadline.isoformat()", reads("ref_d")) + END + store
        + flows("s", "stamp", "e"))
    deployed(admin, "date_store", START + script(
        "set_date", "deadline = date(2027, 6, 1)", writes("ref_d")) + END + store
        + flows("s", "set_date", "e"))
    instance_id = start(admin, "form_store")
    task = ready_task(admin, instance_id, "enter")
    assert complete(admin, task, {"deadline": "2027-05-02"}).status_code == 200
    row = instance(admin, instance_id)
    assert row["status"] == "completed"
    assert "deadline" not in row["variables"]
    assert trace(admin, instance_id) == ["s", "enter", "e"]
    # A text has no isoformat(): the reader fails, and says so.
    reader = start(admin, "use_store")
    assert "isoformat" in incidents(admin, reader)[0]["message"]
    # A date a script keeps in the store is a date when the next one reads it.
    start(admin, "date_store")
    reader = start(admin, "use_store")
    row = instance(admin, reader)
    assert (row["status"], row["variables"]["when"]) == ("completed", "2027-06-01")
    assert trace(admin, reader) == ["s", "stamp", "e"]


def test_a_data_store_without_a_name_is_refused(as_user: Any) -> None:
    errors = refusal(as_user("analyst1"), "nameless_store", START
                     + script("write", "x = 1", writes("ref_s")) + END
                     + '<bpmn:dataStoreReference id="ref_s" />' + flows("s", "write", "e"))
    assert [e["element"] for e in errors] == ["write"]
    assert "neither a data object, a named data store" in errors[0]["message"]
    errors = refusal(as_user("analyst1"), "spaced_store", START
                     + script("write", "x = 1", writes("ref_s")) + END
                     + '<bpmn:dataStoreReference id="ref_s" name="Certificate register" />'
                     + flows("s", "write", "e"))
    assert "certificate_register" in errors[0]["message"]


# -- ioSpecification ------------------------------------------------------------------------

# The task's associations with the process's data input and output (as a BPMN tool
# draws them) read and give process variables.
FEE = io(["amount"], ["fee"], "p") + START + script(
    "compute", "fee = amount * 3", reads("p_in_amount") + writes("p_out_fee")) + END + flows(
    "s", "compute", "e")


def test_a_process_needs_its_data_inputs_to_start(as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "fee", FEE)
    answer = admin.post("/api/v1/process-definitions/fee/start", json={"variables": {}})
    assert answer.status_code == 422, answer.text
    assert "amount" in answer.json()["detail"]
    assert admin.get("/api/v1/process-instances", params={"key": "fee"}).json()["total"] == 0
    instance_id = start(admin, "fee", {"amount": 200})
    row = instance(admin, instance_id)
    assert (row["status"], row["variables"]["fee"]) == ("completed", 600)
    assert trace(admin, instance_id) == ["s", "compute", "e"]


def test_a_process_that_ends_without_its_data_output_is_an_incident(as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "no_fee", io([], ["fee"], "p") + START + script("compute", "cost = 1")
             + END + flows("s", "compute", "e"))
    instance_id = start(admin, "no_fee")
    row = instance(admin, instance_id)
    assert row["status"] == "error"
    (incident,) = incidents(admin, instance_id)
    assert incident["element"] == "e"
    assert "'fee'" in incident["message"]
    retry(admin, incident["id"], {"fee": 5})
    row = instance(admin, instance_id)
    assert (row["status"], row["variables"]["fee"]) == ("completed", 5)
    assert trace(admin, instance_id) == ["s", "compute", "e"]


def test_a_task_sees_its_inputs_and_gives_only_its_outputs(as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "task_io", START + script(
        "total", "scratch = price * 2\ntotal = scratch",
        io(["price", "bonus"], ["total"], "t", optional=["bonus"]))
        + script("after", "seen = other") + END + flows("s", "total", "after", "e"))
    instance_id = start(admin, "task_io", {"price": 10, "other": "kept"})
    row = instance(admin, instance_id)
    assert row["status"] == "completed"
    assert (row["variables"]["total"], row["variables"]["seen"]) == (20, "kept")
    assert "scratch" not in row["variables"]
    assert trace(admin, instance_id) == ["s", "total", "after", "e"]
    # Without its input the task does not start: an incident names the variable, and a
    # retry with it runs the task.
    missing = start(admin, "task_io", {"other": "kept"})
    (incident,) = incidents(admin, missing)
    assert incident["element"] == "total"
    assert "'price'" in incident["message"]
    retry(admin, incident["id"], {"price": 1})
    row = instance(admin, missing)
    assert (row["status"], row["variables"]["total"]) == ("completed", 2)


def test_a_user_task_completed_without_its_data_output_is_refused(as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "verdict", START + '<bpmn:userTask id="decide" camunda:candidateGroups="upp">'
             + io([], ["verdict"], "d") + "</bpmn:userTask>" + END + flows("s", "decide", "e"))
    instance_id = start(admin, "verdict")
    task = ready_task(admin, instance_id, "decide")
    answer = complete(admin, task, {"note": "no verdict"})
    assert answer.status_code == 422, answer.text
    assert "'verdict'" in answer.text
    assert complete(admin, task, {"verdict": "granted", "note": "x"}).status_code == 200
    row = instance(admin, instance_id)
    assert (row["status"], row["variables"]["verdict"]) == ("completed", "granted")
    assert "note" not in row["variables"]
    assert trace(admin, instance_id) == ["s", "decide", "e"]


def test_a_called_process_needs_its_data_inputs(as_user: Any) -> None:
    admin = as_user("admin1")
    called = bpmn("assess", io(["sample"], ["grade"], "c") + START
                  + script("grade_it", "grade = sample.upper()") + END
                  + flows("s", "grade_it", "e"))
    caller = bpmn("lab", START + '<bpmn:callActivity id="call" calledElement="assess">'
                  '<bpmn:extensionElements><camunda:in source="sample" target="sample" />'
                  '<camunda:out source="grade" target="grade" /></bpmn:extensionElements>'
                  "</bpmn:callActivity>" + END + flows("s", "call", "e"))
    assert deploy(admin, ("assess", called), ("lab", caller)).status_code == 201
    instance_id = start(admin, "lab", {"sample": "a"})
    row = instance(admin, instance_id)
    assert (row["status"], row["variables"]["grade"]) == ("completed", "A")
    missing = start(admin, "lab")
    (incident,) = incidents(admin, missing)
    assert incident["element"] == "call"
    assert "'sample'" in incident["message"]
    retry(admin, incident["id"], {"sample": "b"})
    row = instance(admin, missing)
    assert (row["status"], row["variables"]["grade"]) == ("completed", "B")
    assert trace(admin, missing) == ["s", "s", "grade_it", "e", "call", "e"]


def test_a_data_input_association_fills_a_task_input(as_user: Any) -> None:
    """An association whose target is the task's own dataInput gives that input."""
    admin = as_user("admin1")
    deployed(admin, "assoc_io", START + script("write", "doc = 'draft'", writes("ref_doc"))
             + script("read", "size = len(text)",
                      io(["text"], ["size"], "r")
                      + '<bpmn:dataInputAssociation id="in_doc">'
                      "<bpmn:sourceRef>ref_doc</bpmn:sourceRef>"
                      "<bpmn:targetRef>r_in_text</bpmn:targetRef></bpmn:dataInputAssociation>")
             + END + data_object("doc", "ref_doc") + flows("s", "write", "read", "e"))
    instance_id = start(admin, "assoc_io")
    row = instance(admin, instance_id)
    assert (row["status"], row["variables"]["size"]) == ("completed", 5)
    assert "text" not in row["variables"]
    assert trace(admin, instance_id) == ["s", "write", "read", "e"]


def test_an_io_specification_naming_no_variable_is_refused(as_user: Any) -> None:
    errors = refusal(as_user("analyst1"), "bad_io", START + script(
        "t", "x = 1", '<bpmn:ioSpecification><bpmn:dataInput id="di" name="nomor surat" />'
        '<bpmn:inputSet><bpmn:dataInputRefs>di</bpmn:dataInputRefs></bpmn:inputSet>'
        "<bpmn:outputSet /></bpmn:ioSpecification>") + END + flows("s", "t", "e"))
    assert [e["element"] for e in errors] == ["t"]
    assert "not a variable name" in errors[0]["message"]
