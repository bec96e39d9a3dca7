"""Compensation and transactions through the REST API (issue 17; engine/bpmn/compensation/).

Each test deploys a diagram over HTTP, starts it, drives it, and compares the
history's trace (the elements run, in order) with what Camunda 7 runs. The
server's engine keeps no workflow in memory between commands, so every step,
waiting at a user-task handler included, goes through a store and a restore.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from tests.api import bpmn_rest as rest
from tests.api.bpmn_rest import instance, trace
from tests.builders import definitions, process

# -- helpers ---------------------------------------------------------------------------------

def xml(key: str, body: str) -> bytes:
    return definitions(key, process(key, body)).encode()


def deploy(client: Any, key: str, body: str) -> None:
    answer = client.post("/api/v1/deployments",
                         files=[("files", (f"{key}.bpmn", xml(key, body), "text/xml"))])
    assert answer.status_code == 201, answer.text


def refusals(client: Any, key: str, body: str) -> list[tuple[str | None, str]]:
    """(element, message) of each problem of a refused deployment."""
    answer = client.post("/api/v1/deployments",
                         files=[("files", (f"{key}.bpmn", xml(key, body), "text/xml"))])
    assert answer.status_code == 422, answer.text
    return [(e["element"], e["message"]) for e in answer.json()["errors"]]


def start(client: Any, key: str, variables: dict[str, Any] | None = None) -> str:
    return rest.start(client, key, {"trail": [], **(variables or {})})


def open_tasks(client: Any, instance_id: str) -> list[str]:
    return sorted(t["name"] for t in instance(client, instance_id)["tasks"])


def complete(client: Any, instance_id: str, element: str,
             variables: dict[str, Any] | None = None) -> None:
    (task,) = [t for t in instance(client, instance_id)["tasks"] if t["name"] == element]
    answer = client.post(f"/api/v1/tasks/{task['id']}/complete",
                         json={"variables": variables or {}})
    assert answer.status_code == 200, answer.text


def finished(client: Any, instance_id: str) -> dict[str, Any]:
    row = instance(client, instance_id)
    assert row["status"] == "completed", row
    return dict(row["variables"])


def note(id: str, value: str, *, handler: bool = False) -> str:
    """A script task appending ``value`` to ``trail``; a compensation handler with ``handler``."""
    marker = ' isForCompensation="true"' if handler else ""
    return (f'<bpmn:scriptTask id="{id}"{marker} scriptFormat="python">'
            f"<bpmn:script>trail = trail + ['{value}']</bpmn:script></bpmn:scriptTask>")


def boundary(activity: str, id: str | None = None) -> str:
    return (f'<bpmn:boundaryEvent id="{id or "cb_" + activity}" attachedToRef="{activity}">'
            "<bpmn:compensateEventDefinition /></bpmn:boundaryEvent>")


def link(activity: str, handler: str, id: str | None = None) -> str:
    """The association from ``activity``'s compensation boundary event to its handler
    (artifacts come after the flow elements)."""
    source = id or f"cb_{activity}"
    return (f'<bpmn:association id="as_{source}_{handler}" associationDirection="One" '
            f'sourceRef="{source}" targetRef="{handler}" />')


def compensable(activity: str, value: str, undo: str) -> str:
    """``activity`` appends ``value``; its handler ``undo_<activity>`` appends ``undo``."""
    return note(activity, value) + boundary(activity) + note(f"undo_{activity}", undo,
                                                             handler=True)


def flows(*ids: str) -> str:
    return "".join(f'<bpmn:sequenceFlow id="f_{a}_{b}" sourceRef="{a}" targetRef="{b}" />'
                   for a, b in pairwise(ids))


def throw(id: str, ref: str | None = None) -> str:
    attribute = f' activityRef="{ref}"' if ref else ""
    return (f'<bpmn:intermediateThrowEvent id="{id}"><bpmn:compensateEventDefinition'
            f"{attribute} /></bpmn:intermediateThrowEvent>")


START, END = '<bpmn:startEvent id="s" />', '<bpmn:endEvent id="e" />'


# -- boundary events and a throw that compensates everything ------------------------------

def test_throw_runs_every_handler_newest_first(as_user: Any) -> None:
    admin = as_user("admin1")
    deploy(admin, "comp_all", START + compensable("a", "a", "undo a")
           + compensable("b", "b", "undo b") + throw("t") + note("z", "z") + END
           + flows("s", "a", "b", "t", "z", "e") + link("a", "undo_a") + link("b", "undo_b"))
    run = start(admin, "comp_all")
    assert finished(admin, run)["trail"] == ["a", "b", "undo b", "undo a", "z"]
    assert trace(admin, run) == ["s", "a", "b", "undo_b", "undo_a", "t", "z", "e"]


def test_only_completed_activities_with_handlers_each_once(as_user: Any) -> None:
    admin = as_user("admin1")
    # n has no handler; c completes after the first throw; the second throw undoes
    # c alone, since a was compensated already.
    deploy(admin, "comp_once", START + compensable("a", "a", "undo a") + note("n", "n")
           + throw("t1") + compensable("c", "c", "undo c") + throw("t2") + END
           + flows("s", "a", "n", "t1", "c", "t2", "e") + link("a", "undo_a")
           + link("c", "undo_c"))
    run = start(admin, "comp_once")
    assert finished(admin, run)["trail"] == ["a", "n", "undo a", "c", "undo c"]
    assert trace(admin, run) == ["s", "a", "n", "undo_a", "t1", "c", "undo_c", "t2", "e"]


def test_failing_handler_is_an_incident_and_a_retry_goes_on(as_user: Any) -> None:
    admin = as_user("admin1")
    failing = ('<bpmn:scriptTask id="undo_a" isForCompensation="true" scriptFormat="python">'
               "<bpmn:script>trail = trail + ['undo ' + reason]</bpmn:script></bpmn:scriptTask>")
    deploy(admin, "comp_fail", START + note("a", "a") + boundary("a") + failing + throw("t")
           + END + flows("s", "a", "t", "e") + link("a", "undo_a"))
    run = start(admin, "comp_fail")
    assert instance(admin, run)["status"] == "error"
    (incident,) = admin.get("/api/v1/incidents", params={"instance_id": run}).json()["items"]
    assert incident["element"] == "undo_a"
    retried = admin.post(f"/api/v1/incidents/{incident['id']}/retry",
                         json={"variables": {"reason": "late"}})
    assert retried.status_code == 200, retried.text
    assert finished(admin, run)["trail"] == ["a", "undo late"]
    assert trace(admin, run) == ["s", "a", "undo_a", "t", "e"]


def test_boundary_event_without_a_handler_is_refused(as_user: Any) -> None:
    problems = refusals(as_user("analyst1"), "comp_no_link", START + compensable(
        "a", "a", "undo a") + throw("t") + END + flows("s", "a", "t", "e"))
    assert ("cb_a", "compensation boundary event 'cb_a' has no handler: draw an association "
            "from it to the activity that undoes 'a', and mark that activity 'For "
            "compensation'") in problems
    assert not any("cannot be reached" in message for _, message in problems)


# -- activityRef ----------------------------------------------------------------------------

def test_activity_ref_compensates_only_that_activity(as_user: Any) -> None:
    admin = as_user("admin1")
    deploy(admin, "comp_ref", START + compensable("a", "a", "undo a")
           + compensable("b", "b", "undo b") + throw("t", ref="a") + END
           + flows("s", "a", "b", "t", "e") + link("a", "undo_a") + link("b", "undo_b"))
    run = start(admin, "comp_ref")
    assert finished(admin, run)["trail"] == ["a", "b", "undo a"]
    assert trace(admin, run) == ["s", "a", "b", "undo_a", "t", "e"]


def test_activity_ref_to_a_subprocess_compensates_what_it_did(as_user: Any) -> None:
    admin = as_user("admin1")
    inner = ('<bpmn:subProcess id="S"><bpmn:startEvent id="ss" />'
             + compensable("x", "x", "undo x") + compensable("y", "y", "undo y")
             + '<bpmn:endEvent id="se" />' + flows("ss", "x", "y", "se")
             + link("x", "undo_x") + link("y", "undo_y") + "</bpmn:subProcess>")
    deploy(admin, "comp_ref_sub", START + compensable("a", "a", "undo a") + inner
           + throw("t", ref="S") + END + flows("s", "a", "S", "t", "e") + link("a", "undo_a"))
    run = start(admin, "comp_ref_sub")
    assert finished(admin, run)["trail"] == ["a", "x", "y", "undo y", "undo x"]
    assert trace(admin, run) == ["s", "a", "ss", "x", "y", "se", "S", "undo_y", "undo_x",
                                 "t", "e"]


def test_activity_ref_naming_no_activity_is_refused(as_user: Any) -> None:
    analyst = as_user("analyst1")
    body = START + compensable("a", "a", "undo a") + note("b", "b")
    tail = END + flows("s", "a", "b", "t", "e") + link("a", "undo_a")
    problems = refusals(analyst, "comp_ref_bad", body + throw("t", ref="gone") + tail)
    assert ("t", "the compensation event's activityRef 'gone' names no activity of its "
            "process or sub-process (its activities: a, b)") in problems
    problems = refusals(analyst, "comp_ref_none", body + throw("t", ref="b") + tail)
    assert ("t", "the compensation event's activityRef 'b' names an activity without a "
            "compensation boundary event: nothing would undo it") in problems


# -- compensation end events -------------------------------------------------------------------

PAID = ('<bpmn:exclusiveGateway id="paid" default="f_paid_ok" />'
        '<bpmn:sequenceFlow id="f_paid_undo" sourceRef="paid" targetRef="undo">'
        "<bpmn:conditionExpression>paid == False</bpmn:conditionExpression></bpmn:sequenceFlow>"
        '<bpmn:sequenceFlow id="f_paid_ok" sourceRef="paid" targetRef="ok" />')


def test_compensation_end_event_compensates_then_ends(as_user: Any) -> None:
    admin = as_user("admin1")
    deploy(admin, "comp_end", START + compensable("a", "reserved", "released") + PAID
           + '<bpmn:endEvent id="undo"><bpmn:compensateEventDefinition /></bpmn:endEvent>'
           + note("ok", "confirmed") + END + flows("s", "a", "paid") + flows("ok", "e")
           + link("a", "undo_a"))
    unpaid = start(admin, "comp_end", {"paid": False})
    assert finished(admin, unpaid)["trail"] == ["reserved", "released"]
    assert trace(admin, unpaid) == ["s", "a", "paid", "undo_a", "undo"]
    paid = start(admin, "comp_end", {"paid": True})
    assert finished(admin, paid)["trail"] == ["reserved", "confirmed"]
    assert trace(admin, paid) == ["s", "a", "paid", "ok", "e"]


def test_end_event_in_a_subprocess_compensates_only_the_subprocess(as_user: Any) -> None:
    admin = as_user("admin1")
    inner = ('<bpmn:subProcess id="S"><bpmn:startEvent id="ss" />'
             + compensable("b", "b", "undo b")
             + '<bpmn:endEvent id="se"><bpmn:compensateEventDefinition /></bpmn:endEvent>'
             + flows("ss", "b", "se") + link("b", "undo_b") + "</bpmn:subProcess>")
    deploy(admin, "comp_end_sub", START + compensable("a", "a", "undo a") + inner
           + note("z", "z") + END + flows("s", "a", "S", "z", "e") + link("a", "undo_a"))
    run = start(admin, "comp_end_sub")
    assert finished(admin, run)["trail"] == ["a", "b", "undo b", "z"]
    assert trace(admin, run) == ["s", "a", "ss", "b", "undo_b", "se", "S", "z", "e"]


def test_handler_in_the_sequence_flow_is_refused(as_user: Any) -> None:
    problems = refusals(as_user("analyst1"), "comp_in_flow", START + compensable(
        "a", "a", "undo a") + '<bpmn:endEvent id="e"><bpmn:compensateEventDefinition />'
        "</bpmn:endEvent>" + flows("s", "a", "undo_a", "e") + link("a", "undo_a"))
    assert ("undo_a", "compensation handler 'undo_a' is part of the sequence flow (f_a_undo_a, "
            "f_undo_a_e): a handler runs only when its activity is compensated; remove its "
            "sequence flows") in problems


# -- sub-processes ---------------------------------------------------------------------------

def test_completed_subprocess_is_compensated_by_its_inner_handlers(as_user: Any) -> None:
    admin = as_user("admin1")
    inner = ('<bpmn:subProcess id="S"><bpmn:startEvent id="ss" />'
             + compensable("x", "x", "undo x") + compensable("y", "y", "undo y")
             + '<bpmn:endEvent id="se" />' + flows("ss", "x", "y", "se")
             + link("x", "undo_x") + link("y", "undo_y") + "</bpmn:subProcess>")
    deploy(admin, "comp_sub", START + inner + compensable("z", "z", "undo z") + throw("t")
           + END + flows("s", "S", "z", "t", "e") + link("z", "undo_z"))
    run = start(admin, "comp_sub")
    assert finished(admin, run)["trail"] == ["x", "y", "z", "undo z", "undo y", "undo x"]
    assert trace(admin, run) == ["s", "ss", "x", "y", "se", "S", "z", "undo_z", "undo_y",
                                 "undo_x", "t", "e"]


def test_subprocess_with_a_handler_of_its_own_uses_it(as_user: Any) -> None:
    admin = as_user("admin1")
    inner = ('<bpmn:subProcess id="S"><bpmn:startEvent id="ss" />'
             + compensable("x", "x", "undo x") + '<bpmn:endEvent id="se" />'
             + flows("ss", "x", "se") + link("x", "undo_x") + "</bpmn:subProcess>")
    deploy(admin, "comp_sub_own", START + inner + boundary("S")
           + note("undo_S", "undo the whole", handler=True) + throw("t") + END
           + flows("s", "S", "t", "e") + link("S", "undo_S"))
    run = start(admin, "comp_sub_own")
    assert finished(admin, run)["trail"] == ["x", "undo the whole"]
    assert trace(admin, run) == ["s", "ss", "x", "se", "S", "undo_S", "t", "e"]


def test_handler_outside_the_activitys_subprocess_is_refused(as_user: Any) -> None:
    inner = ('<bpmn:subProcess id="S"><bpmn:startEvent id="ss" />' + note("x", "x")
             + boundary("x") + '<bpmn:endEvent id="se" />' + flows("ss", "x", "se")
             + "</bpmn:subProcess>")
    problems = refusals(as_user("analyst1"), "comp_far", START + inner
                        + note("undo_x", "undo x", handler=True) + throw("t") + END
                        + flows("s", "S", "t", "e") + link("x", "undo_x"))
    assert ("undo_x", "compensation handler 'undo_x' must be in the same process or "
            "sub-process as the activity 'x' it undoes") in problems


# -- compensation event sub-processes ------------------------------------------------------

def event_subprocess(inner: str, *, throw_inside: bool = False) -> str:
    steps = ["es", "r"] + (["et"] if throw_inside else []) + ["ee"]
    return ('<bpmn:subProcess id="E" triggeredByEvent="true">'
            '<bpmn:startEvent id="es"><bpmn:compensateEventDefinition /></bpmn:startEvent>'
            + note("r", "recalled") + (throw("et") if throw_inside else "")
            + '<bpmn:endEvent id="ee" />' + flows(*steps) + "</bpmn:subProcess>" + inner)


def order(*, throw_inside: bool = False) -> str:
    return ('<bpmn:subProcess id="O"><bpmn:startEvent id="os" />'
            + compensable("ship", "shipped", "unshipped") + '<bpmn:endEvent id="oe" />'
            + flows("os", "ship", "oe")
            + event_subprocess(link("ship", "undo_ship"), throw_inside=throw_inside)
            + "</bpmn:subProcess>")


def test_compensation_event_subprocess_runs_when_its_subprocess_is_compensated(
        as_user: Any) -> None:
    admin = as_user("admin1")
    deploy(admin, "comp_event_sub", START + order() + throw("t") + END
           + flows("s", "O", "t", "e"))
    run = start(admin, "comp_event_sub")
    # The event sub-process stands for the sub-process: the inner handler does not run.
    assert finished(admin, run)["trail"] == ["shipped", "recalled"]
    assert trace(admin, run) == ["s", "os", "ship", "oe", "O", "es", "r", "ee", "E", "t", "e"]


def test_throw_in_the_event_subprocess_compensates_the_subprocess(as_user: Any) -> None:
    admin = as_user("admin1")
    deploy(admin, "comp_event_sub_throw", START + order(throw_inside=True) + throw("t")
           + throw("t2") + END + flows("s", "O", "t", "t2", "e"))
    run = start(admin, "comp_event_sub_throw")
    # The second throw finds nothing left to undo.
    assert finished(admin, run)["trail"] == ["shipped", "recalled", "unshipped"]
    assert trace(admin, run) == ["s", "os", "ship", "oe", "O", "es", "r", "undo_ship", "et",
                                 "ee", "E", "t", "t2", "e"]


def test_compensation_event_subprocess_at_the_top_is_refused(as_user: Any) -> None:
    problems = refusals(as_user("analyst1"), "comp_event_top", START + note("a", "a") + END
                        + flows("s", "a", "e") + event_subprocess(""))
    assert ("es", "a compensation event sub-process runs when the sub-process it is in is "
            "compensated; draw it inside a sub-process, not at the top of the process") \
        in problems


# -- transactions --------------------------------------------------------------------------

CANCEL_BOUNDARY = ('<bpmn:boundaryEvent id="cb" attachedToRef="T"><bpmn:cancelEventDefinition />'
                   "</bpmn:boundaryEvent>")
CANCEL_END = '<bpmn:endEvent id="c"><bpmn:cancelEventDefinition /></bpmn:endEvent>'


def transaction(inner: str) -> str:
    return (START + f'<bpmn:transaction id="T"><bpmn:startEvent id="ts" />{inner}'
            "</bpmn:transaction>" + note("ok", "confirmed") + END + CANCEL_BOUNDARY
            + note("inform", "informed") + '<bpmn:endEvent id="e2" />'
            + flows("s", "T", "ok", "e") + flows("cb", "inform", "e2"))


def test_cancel_end_event_compensates_and_leaves_by_the_boundary(as_user: Any) -> None:
    admin = as_user("admin1")
    deploy(admin, "comp_tx", transaction(
        compensable("book", "booked", "unbooked") + compensable("pay", "paid", "refunded")
        + CANCEL_END + flows("ts", "book", "pay", "c") + link("book", "undo_book")
        + link("pay", "undo_pay")))
    run = start(admin, "comp_tx")
    assert finished(admin, run)["trail"] == ["booked", "paid", "refunded", "unbooked",
                                             "informed"]
    # The transaction is cancelled, not completed: its normal flow (ok) is not taken.
    assert trace(admin, run) == ["s", "ts", "book", "pay", "undo_pay", "undo_book", "c",
                                 "cb", "inform", "e2"]


def test_cancel_interrupts_the_transaction_and_waits_for_a_user_task_handler(
        as_user: Any) -> None:
    admin = as_user("admin1")
    split = ('<bpmn:parallelGateway id="split" />'
             '<bpmn:userTask id="review" camunda:candidateGroups="upp" />'
             '<bpmn:userTask id="approve" camunda:candidateGroups="upp" />'
             '<bpmn:endEvent id="te" />')
    handler = '<bpmn:userTask id="unbook" isForCompensation="true" camunda:candidateGroups="upp" />'
    deploy(admin, "comp_tx_wait", transaction(
        split + note("book", "booked") + boundary("book") + handler + CANCEL_END
        + flows("ts", "split", "review", "te") + flows("split", "approve", "book", "c")
        + link("book", "unbook")))
    run = start(admin, "comp_tx_wait")
    assert open_tasks(admin, run) == ["approve", "review"]
    complete(admin, run, "approve")
    # The cancel end event ended the review and waits at the handler's user task.
    assert open_tasks(admin, run) == ["unbook"]
    assert instance(admin, run)["status"] == "running"
    tasks = as_user("upp1").get("/api/v1/tasks", params={"key": "comp_tx_wait"}).json()
    assert [t["name"] for t in tasks["items"]] == ["unbook"]
    complete(admin, run, "unbook", {"unbooked": True})
    variables = finished(admin, run)
    assert variables["trail"] == ["booked", "informed"] and variables["unbooked"] is True
    assert trace(admin, run) == ["s", "ts", "split", "approve", "book", "unbook", "c", "cb",
                                 "inform", "e2"]
    kinds = [e["kind"] for e in admin.get(f"/api/v1/process-instances/{run}/history",
                                          params={"per_page": 200}).json()["items"]]
    assert kinds.count("task_cancelled") == 1  # the review


def test_cancel_events_drawn_wrongly_are_refused(as_user: Any) -> None:
    analyst = as_user("analyst1")
    problems = refusals(analyst, "comp_tx_no_boundary", START
                        + '<bpmn:transaction id="T"><bpmn:startEvent id="ts" />' + CANCEL_END
                        + flows("ts", "c") + "</bpmn:transaction>" + END + flows("s", "T", "e"))
    assert ("c", "transaction 'T' has a cancel end event but no cancel boundary event to "
            "leave by: attach one to it") in problems
    problems = refusals(analyst, "comp_cancel_outside", START + note("a", "a") + CANCEL_END
                        + flows("s", "a", "c"))
    assert ("c", "a cancel end event ends a transaction: draw it inside a transaction "
            "sub-process") in problems


# -- user-task handlers --------------------------------------------------------------------

USER_HANDLER = START + note("a", "reserved") + boundary("a") + (
    '<bpmn:userTask id="release" isForCompensation="true" camunda:candidateGroups="upp" />'
    '<bpmn:userTask id="review" camunda:candidateGroups="upp" />') + throw("t") + note(
    "z", "closed") + END + flows("s", "a", "review", "t", "z", "e")
RELEASE = link("a", "release")


def test_user_task_handler_waits_in_the_task_list(as_user: Any) -> None:
    admin, clerk = as_user("admin1"), as_user("upp1")
    deploy(admin, "comp_user", USER_HANDLER + RELEASE)
    run = start(admin, "comp_user")
    complete(admin, run, "review")
    assert open_tasks(admin, run) == ["release"]
    listed = clerk.get("/api/v1/tasks", params={"key": "comp_user"}).json()["items"]
    assert [(t["name"], t["instance_id"]) for t in listed] == [("release", run)]
    answer = clerk.post(f"/api/v1/tasks/{listed[0]['id']}/complete",
                        json={"variables": {"released_by": "upp1"}})
    assert answer.status_code == 200, answer.text
    variables = finished(admin, run)
    assert variables["trail"] == ["reserved", "closed"]
    assert variables["released_by"] == "upp1"
    assert trace(admin, run) == ["s", "a", "review", "release", "t", "z", "e"]


def test_waiting_at_a_handler_survives_being_stored(as_user: Any) -> None:
    admin = as_user("admin1")
    deploy(admin, "comp_user_stored", USER_HANDLER + RELEASE)
    first, second = start(admin, "comp_user_stored"), start(admin, "comp_user_stored")
    for run in (first, second):
        complete(admin, run, "review")
    # Each command restores its instance from the database; both wait at their own handler.
    assert open_tasks(admin, first) == open_tasks(admin, second) == ["release"]
    assert instance(admin, first)["active_elements"] == ["t", "release"]
    complete(admin, second, "release")
    assert finished(admin, second)["trail"] == ["reserved", "closed"]
    assert open_tasks(admin, first) == ["release"]
    complete(admin, first, "release")
    assert finished(admin, first)["trail"] == ["reserved", "closed"]
    assert trace(admin, first) == trace(admin, second) == [
        "s", "a", "review", "release", "t", "z", "e"]


def test_handler_with_boundary_events_is_refused(as_user: Any) -> None:
    late = ('<bpmn:boundaryEvent id="late" attachedToRef="release"><bpmn:timerEventDefinition>'
            "<bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>"
            '</bpmn:boundaryEvent><bpmn:endEvent id="e3" />')
    problems = refusals(as_user("analyst1"), "comp_user_timer",
                        USER_HANDLER + late + flows("late", "e3") + RELEASE)
    assert ("release", "compensation handler 'release' has boundary events (late), which a "
            "handler cannot have") in problems


# -- loops and multi-instance ---------------------------------------------------------------

def test_activity_in_a_loop_is_compensated_once_per_completion(as_user: Any) -> None:
    admin = as_user("admin1")
    book = ('<bpmn:scriptTask id="book" scriptFormat="python"><bpmn:script>n = n + 1\n'
            "trail = trail + ['book ' + str(n)]</bpmn:script></bpmn:scriptTask>")
    loop = ('<bpmn:exclusiveGateway id="more" default="f_more_t" />'
            '<bpmn:sequenceFlow id="f_again" sourceRef="more" targetRef="book">'
            "<bpmn:conditionExpression>n &lt; 3</bpmn:conditionExpression></bpmn:sequenceFlow>")
    deploy(admin, "comp_loop", START + book + boundary("book") + note(
        "undo_book", "cancel", handler=True) + loop + throw("t") + END
        + flows("s", "book", "more", "t", "e") + link("book", "undo_book"))
    run = start(admin, "comp_loop", {"n": 0})
    assert finished(admin, run)["trail"] == ["book 1", "book 2", "book 3", "cancel", "cancel",
                                             "cancel"]
    assert trace(admin, run) == ["s", "book", "more", "book", "more", "book", "more",
                                 "undo_book", "undo_book", "undo_book", "t", "e"]


def test_multi_instance_instances_are_compensated_last_first(as_user: Any) -> None:
    admin = as_user("admin1")
    book = ('<bpmn:userTask id="book" camunda:candidateGroups="upp">'
            '<bpmn:multiInstanceLoopCharacteristics isSequential="true" '
            'camunda:collection="rooms" camunda:elementVariable="room" /></bpmn:userTask>')
    cancel = ('<bpmn:scriptTask id="cancel" isForCompensation="true" scriptFormat="python">'
              "<bpmn:script>trail = trail + ['cancel ' + room + ' #' + str(loopCounter)]"
              "</bpmn:script></bpmn:scriptTask>")
    deploy(admin, "comp_mi", START + book + boundary("book") + cancel + throw("t") + END
           + flows("s", "book", "t", "e") + link("book", "cancel"))
    run = start(admin, "comp_mi", {"rooms": ["101", "102", "103"]})
    for _ in range(3):
        complete(admin, run, "book")
    assert finished(admin, run)["trail"] == ["cancel 103 #2", "cancel 102 #1", "cancel 101 #0"]
    assert trace(admin, run) == ["s", "book", "book", "book", "book#multiInstanceBody",
                                 "cancel", "cancel", "cancel", "t", "e"]


def test_two_compensation_boundary_events_on_one_activity_are_refused(as_user: Any) -> None:
    problems = refusals(as_user("analyst1"), "comp_two", START + compensable("a", "a", "undo a")
                        + boundary("a", "cb_again") + note("undo_again", "again", handler=True)
                        + throw("t") + END + flows("s", "a", "t", "e") + link("a", "undo_a")
                        + link("a", "undo_again", "cb_again"))
    assert ("cb_again", "activity 'a' has more than one compensation boundary event; one "
            "handler undoes it") in problems


def test_interrupting_a_compensation_ends_its_handler(as_user: Any) -> None:
    admin = as_user("admin1")
    inner = ('<bpmn:subProcess id="S"><bpmn:startEvent id="ss" />' + note("a", "a")
             + boundary("a")
             + '<bpmn:userTask id="undo_a" isForCompensation="true" camunda:candidateGroups="upp" />'
             + throw("t") + '<bpmn:endEvent id="se" />' + flows("ss", "a", "t", "se")
             + link("a", "undo_a") + "</bpmn:subProcess>")
    stop = ('<bpmn:boundaryEvent id="stop" attachedToRef="S">'
            '<bpmn:messageEventDefinition messageRef="m" /></bpmn:boundaryEvent>'
            + note("stopped", "stopped") + '<bpmn:endEvent id="e2" />')
    body = START + inner + END + stop + flows("s", "S", "e") + flows("stop", "stopped", "e2")
    answer = admin.post("/api/v1/deployments", files=[("files", (
        "comp_stop.bpmn", xml("comp_stop", body).replace(
            b"  <bpmn:process", b'  <bpmn:message id="m" name="comp-stop" />\n  <bpmn:process',
            1), "text/xml"))])
    assert answer.status_code == 201, answer.text
    run = start(admin, "comp_stop")
    assert open_tasks(admin, run) == ["undo_a"]
    sent = admin.post("/api/v1/messages", json={"name": "comp-stop", "instance_id": run})
    assert sent.status_code == 200, sent.text
    # (What the sub-process set does not reach the boundary event's path yet, with or
    # without compensation: Camunda 7 would have trail = ["a", "stopped"].)
    assert finished(admin, run)["trail"][-1:] == ["stopped"]
    assert trace(admin, run) == ["s", "ss", "a", "stop", "stopped", "e2"]
    assert as_user("upp1").get("/api/v1/tasks", params={"key": "comp_stop"}).json()[
        "total"] == 0

    # An instance cancelled while it waits at a handler: the handler's task goes too.
    other = start(admin, "comp_stop")
    assert open_tasks(admin, other) == ["undo_a"]
    cancelled = admin.post(f"/api/v1/process-instances/{other}/cancel", json={})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert as_user("upp1").get("/api/v1/tasks", params={"key": "comp_stop"}).json()[
        "total"] == 0
