"""Ad-hoc sub-processes through the REST API (issue 17; engine/bpmn/adhoc.py).

Nobody picks the inner activities: those without an incoming flow start, all
at once or one after the other (``ordering="Sequential"``); the completion
condition is evaluated after each inner activity and ends the rest; without
it the sub-process ends when nothing inside runs. Every step goes through the
database (the test engine keeps no workflow in memory).
"""

from __future__ import annotations

from typing import Any

from tests.api.bpmn_rest import complete, deploy, flow, history, instance, script, start, trace
from tests.api.bpmn_rest import task_ids as open_tasks

CONDITION = ('<bpmn:completionCondition xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
             'xsi:type="bpmn:tFormalExpression">{}</bpmn:completionCondition>')


def around(inside: str, attributes: str = "", condition: str | None = None) -> str:
    """start -> ad-hoc sub-process ``work`` (``inside``) -> script ``after`` -> end."""
    completion = CONDITION.format(condition) if condition else ""
    return ('<bpmn:startEvent id="start" />' + flow("start", "work")
            + f'<bpmn:adHocSubProcess id="work" {attributes}>{inside}{completion}'
            "</bpmn:adHocSubProcess>" + flow("work", "after")
            + script("after", "trail = trail + ['after']") + flow("after", "end")
            + '<bpmn:endEvent id="end" />')


USER_TASKS = (
    '<bpmn:userTask id="inspect" name="Inspect" camunda:candidateGroups="auditor" />'
    '<bpmn:userTask id="sample" name="Sample" camunda:candidateGroups="ppc" />'
    '<bpmn:userTask id="report" name="Report" camunda:candidateGroups="auditor" />'
    + flow("inspect", "report") + script("register", "trail = trail + ['register']"))


def test_all_inner_elements_without_incoming_flow_start_and_users_see_their_tasks(
        as_user: Any) -> None:
    admin, auditor, ppc = as_user("admin1"), as_user("auditor1"), as_user("ppc1")
    assert deploy(admin, "adhoc_all", around(USER_TASKS)).status_code == 201
    instance_id = start(admin, "adhoc_all", {"trail": []})
    # Both user tasks without an incoming flow wait at once, each for its role; the
    # script ran; the report waits for the inspection.
    assert open_tasks(auditor, instance_id).keys() == {"inspect"}
    assert open_tasks(ppc, instance_id).keys() == {"sample"}
    complete(ppc, open_tasks(ppc, instance_id)["sample"], {"sampled": True})
    assert instance(admin, instance_id)["status"] == "running"
    complete(auditor, open_tasks(auditor, instance_id)["inspect"])
    assert open_tasks(auditor, instance_id).keys() == {"report"}
    complete(auditor, open_tasks(auditor, instance_id)["report"])
    row = instance(admin, instance_id)
    assert row["status"] == "completed"
    assert row["variables"]["trail"] == ["register", "after"]
    assert row["variables"]["sampled"] is True
    assert trace(admin, instance_id) == [
        "start", "register", "sample", "inspect", "report", "work", "after", "end"]


def test_the_completion_condition_cancels_what_still_runs(as_user: Any) -> None:
    admin, auditor, upp = as_user("admin1"), as_user("auditor1"), as_user("upp1")
    inside = ('<bpmn:userTask id="desk" name="Desk review" camunda:candidateGroups="upp" />'
              '<bpmn:userTask id="expert" name="Expert" camunda:candidateGroups="auditor" />'
              '<bpmn:userTask id="visit" name="Visit" camunda:candidateGroups="auditor" />'
              + flow("expert", "visit"))
    body = around(inside, condition="${score >= 70}")
    assert deploy(admin, "adhoc_cancel", body).status_code == 201
    low = start(admin, "adhoc_cancel", {"trail": [], "score": 0})
    high = start(admin, "adhoc_cancel", {"trail": [], "score": 0})

    # A score below the condition: the rest keeps running, then all ends.
    complete(upp, open_tasks(upp, low)["desk"], {"score": 40})
    assert open_tasks(auditor, low).keys() == {"expert"}
    complete(auditor, open_tasks(auditor, low)["expert"])
    complete(auditor, open_tasks(auditor, low)["visit"])
    assert instance(admin, low)["status"] == "completed"
    assert trace(admin, low) == ["start", "desk", "expert", "visit", "work", "after", "end"]

    # The condition holds after the desk review: the expert's task is cancelled and
    # the visit after it never starts.
    expert_task = open_tasks(auditor, high)["expert"]
    complete(upp, open_tasks(upp, high)["desk"], {"score": 80})
    assert open_tasks(auditor, high) == {}
    row = instance(admin, high)
    assert row["status"] == "completed"
    assert row["variables"]["trail"] == ["after"]
    assert trace(admin, high) == ["start", "desk", "work", "after", "end"]
    cancelled = [e["task_id"] for e in history(admin, high) if e["kind"] == "task_cancelled"]
    assert cancelled == [expert_task]


def test_sequential_ordering_starts_one_element_after_the_other(as_user: Any) -> None:
    admin, upp = as_user("admin1"), as_user("upp1")
    inside = ('<bpmn:userTask id="first" camunda:candidateGroups="upp" />'
              '<bpmn:userTask id="second" camunda:candidateGroups="upp" />'
              + script("third", "trail = trail + ['third:' + str(rating)]"))
    assert deploy(admin, "adhoc_seq", around(inside, 'ordering="Sequential"')).status_code == 201
    instance_id = start(admin, "adhoc_seq", {"trail": []})
    assert open_tasks(upp, instance_id).keys() == {"first"}
    complete(upp, open_tasks(upp, instance_id)["first"], {"rating": 3})
    assert open_tasks(upp, instance_id).keys() == {"second"}
    complete(upp, open_tasks(upp, instance_id)["second"], {"rating": 4})
    row = instance(admin, instance_id)
    assert row["status"] == "completed"
    assert row["variables"]["trail"] == ["third:4", "after"]
    assert trace(admin, instance_id) == [
        "start", "first", "second", "third", "work", "after", "end"]


def test_running_activities_finish_when_remaining_instances_are_not_cancelled(
        as_user: Any) -> None:
    admin, upp = as_user("admin1"), as_user("upp1")
    inside = (script("fast", "trail = trail + ['fast']")
              + '<bpmn:userTask id="slow" camunda:candidateGroups="upp" />'
              + script("after_slow", "trail = trail + ['after_slow']") + flow("slow", "after_slow"))
    body = around(inside, 'cancelRemainingInstances="false"', condition="'fast' in trail")
    assert deploy(admin, "adhoc_keep", body).status_code == 201
    instance_id = start(admin, "adhoc_keep", {"trail": []})
    # The condition held after the script, but the user task still runs.
    assert open_tasks(upp, instance_id).keys() == {"slow"}
    assert instance(admin, instance_id)["status"] == "running"
    complete(upp, open_tasks(upp, instance_id)["slow"])
    row = instance(admin, instance_id)
    assert row["status"] == "completed"
    assert row["variables"]["trail"] == ["fast", "after"]
    assert trace(admin, instance_id) == ["start", "fast", "slow", "work", "after", "end"]


def test_a_failing_completion_condition_is_an_incident_on_the_sub_process(
        as_user: Any) -> None:
    admin = as_user("admin1")
    body = around(script("check", "trail = trail + ['check']"), condition="needed in trail")
    assert deploy(admin, "adhoc_broken", body).status_code == 201
    instance_id = start(admin, "adhoc_broken", {"trail": []})
    assert instance(admin, instance_id)["status"] == "error"
    (incident,) = admin.get("/api/v1/incidents",
                            params={"instance_id": instance_id}).json()["items"]
    assert incident["element"] == "work"
    assert "the completion condition of the ad-hoc sub-process 'work' failed" in (
        incident["message"])
    assert "needed" in incident["message"]
    retried = admin.post(f"/api/v1/incidents/{incident['id']}/retry",
                         json={"variables": {"needed": "check"}})
    assert retried.status_code == 200, retried.text
    row = instance(admin, instance_id)
    assert row["status"] == "completed"
    assert trace(admin, instance_id) == ["start", "check", "work", "after", "end"]


def test_start_and_end_events_inside_are_refused_by_name(as_user: Any) -> None:
    admin = as_user("admin1")
    inside = ('<bpmn:startEvent id="inner_start" />' + flow("inner_start", "check")
              + script("check", "trail = trail + ['check']") + flow("check", "inner_end")
              + '<bpmn:endEvent id="inner_end" />')
    answer = deploy(admin, "adhoc_events", around(inside))
    assert answer.status_code == 422, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    errors = {e["element"]: e["message"] for e in answer.json()["errors"]}
    assert errors.keys() == {"inner_start", "inner_end"}
    assert errors["inner_start"].startswith("an ad-hoc sub-process has no start event")
    assert errors["inner_end"].startswith("an ad-hoc sub-process has no end event")
    assert admin.get("/api/v1/process-definitions",
                     params={"key": "adhoc_events"}).json()["total"] == 0


def test_an_empty_ad_hoc_sub_process_is_refused(as_user: Any) -> None:
    admin = as_user("admin1")
    answer = deploy(admin, "adhoc_empty", around(""))
    assert answer.status_code == 422, answer.text
    (error,) = answer.json()["errors"]
    assert error["element"] == "work"
    assert "needs at least one activity" in error["message"]
