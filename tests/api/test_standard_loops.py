"""Standard loops (standardLoopCharacteristics), through the REST API (issue 17).

The activity runs again while its loopCondition holds (BPMN's loop condition is a
*while* condition); testBefore="true" asks before the first iteration too, so the
body may never run; loopMaximum caps the iterations; loopCounter numbers them
(engine.bpmn.loops). Each test deploys over HTTP, starts, drives and compares the
order of the elements run with the expected one: an iteration is the element
once, and the loop's own end is the element once more. The engine fixture keeps
no workflow cache, so every command restores the instance from the database.
"""

from __future__ import annotations

from typing import Any

from tests.api.bpmn_rest import (
    END,
    START,
    bpmn,
    deployed,
    flows,
    incidents,
    instance,
    ready_task,
    refusal,
    retry,
    start,
    trace,
)
from tests.api.bpmn_rest import complete_task as complete


def loop(condition: str | None = None, maximum: int | None = None,
         test_before: bool = False) -> str:
    inner = (f'<bpmn:loopCondition xsi:type="bpmn:tFormalExpression">{condition}'
             "</bpmn:loopCondition>") if condition is not None else ""
    attributes = (' testBefore="true"' if test_before else "") + (
        f' loopMaximum="{maximum}"' if maximum is not None else "")
    return f"<bpmn:standardLoopCharacteristics{attributes}>{inner}</bpmn:standardLoopCharacteristics>"


def script(element: str, code: str, marker: str) -> str:
    return (f'<bpmn:scriptTask id="{element}" scriptFormat="python">{marker}'
            f"<bpmn:script>{code}</bpmn:script></bpmn:scriptTask>")


COUNT = "n = n + 1\nseen = seen + [loopCounter]"


def test_the_body_runs_then_the_condition_decides(as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "after_test", START + script("count", COUNT, loop("n &lt; 3")) + END
             + flows("s", "count", "e"))
    instance_id = start(admin, "after_test", {"n": 0, "seen": []})
    row = instance(admin, instance_id)
    assert row["status"] == "completed"
    assert (row["variables"]["n"], row["variables"]["seen"]) == (3, [0, 1, 2])
    assert "loopCounter" not in row["variables"]
    assert trace(admin, instance_id) == ["s", "count", "count", "count", "count", "e"]
    # The body runs once even when the condition never held (a do-while loop).
    once = start(admin, "after_test", {"n": 10, "seen": []})
    assert instance(admin, once)["variables"]["seen"] == [0]
    assert trace(admin, once) == ["s", "count", "count", "e"]


def test_test_before_may_run_the_body_zero_times(as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "before_test", START
             + script("count", COUNT, loop("${n lt 3}", test_before=True))
             + script("after", "path = 'after'", "") + END + flows("s", "count", "after", "e"))
    never = start(admin, "before_test", {"n": 5, "seen": []})
    row = instance(admin, never)
    assert (row["status"], row["variables"]["n"], row["variables"]["path"]) == (
        "completed", 5, "after")
    assert trace(admin, never) == ["s", "count", "after", "e"]
    twice = start(admin, "before_test", {"n": 1, "seen": []})
    assert instance(admin, twice)["variables"]["seen"] == [0, 1]
    assert trace(admin, twice) == ["s", "count", "count", "count", "after", "e"]


def test_loop_maximum_caps_a_user_task_loop_over_several_commands(as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "reviews", START + '<bpmn:userTask id="review" camunda:candidateGroups="upp">'
             + loop("${!approved}", maximum=3) + "</bpmn:userTask>" + END
             + flows("s", "review", "e"))
    instance_id = start(admin, "reviews", {"approved": False})
    for round_number in range(3):
        task = ready_task(admin, instance_id, "review")
        seen = admin.get(f"/api/v1/tasks/{task}").json()["variables"]
        assert seen["loopCounter"] == round_number
        assert complete(admin, task, {"approved": False}).status_code == 200
    row = instance(admin, instance_id)
    assert row["status"] == "completed"  # three refusals: the maximum ends the loop
    assert row["tasks"] == []
    assert trace(admin, instance_id) == ["s", "review", "review", "review", "review", "e"]
    approved = start(admin, "reviews", {"approved": False})
    assert complete(admin, ready_task(admin, approved, "review"),
                    {"approved": True}).status_code == 200
    assert instance(admin, approved)["status"] == "completed"
    assert trace(admin, approved) == ["s", "review", "review", "e"]


def test_a_body_that_shortens_a_list_ends_the_loop(as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "queue", START + script(
        "take", "done = done + [queue[0]]\nqueue = queue[1:]",
        loop("len(queue) &gt; 0", maximum=10)) + END + flows("s", "take", "e"))
    instance_id = start(admin, "queue", {"queue": ["a", "b"], "done": []})
    row = instance(admin, instance_id)
    assert (row["variables"]["queue"], row["variables"]["done"]) == ([], ["a", "b"])
    assert trace(admin, instance_id) == ["s", "take", "take", "take", "e"]


def test_a_failing_condition_is_an_incident_on_the_loop_and_a_retry_decides_again(
        as_user: Any) -> None:
    admin = as_user("admin1")
    deployed(admin, "broken_condition", START
             + script("count", "n = n + 1", loop("n &lt; limit")) + END
             + flows("s", "count", "e"))
    instance_id = start(admin, "broken_condition", {"n": 0})
    assert instance(admin, instance_id)["status"] == "error"
    (incident,) = incidents(admin, instance_id)
    assert incident["element"] == "count"
    assert "limit" in incident["message"]
    retry(admin, incident["id"], {"limit": 2})
    row = instance(admin, instance_id)
    assert (row["status"], row["variables"]["n"]) == ("completed", 2)
    assert trace(admin, instance_id) == ["s", "count", "count", "count", "e"]


def test_a_standard_loop_without_condition_or_maximum_is_refused(as_user: Any) -> None:
    errors = refusal(as_user("analyst1"), "endless", START
                     + script("again", "n = 1", loop()) + END + flows("s", "again", "e"))
    assert [e["element"] for e in errors] == ["again"]
    assert "a standard loop needs a loopCondition" in errors[0]["message"]
    errors = refusal(as_user("analyst1"), "negative", START
                     + script("again", "n = 1", loop("True", maximum=-1)) + END
                     + flows("s", "again", "e"))
    assert "loopMaximum is -1" in errors[0]["message"]


def test_a_definition_stored_with_spiffworkflows_loop_class_runs_as_a_standard_loop() -> None:
    """Definitions deployed before this change name SpiffWorkflow's own class; they load
    as the loop described here (engine.bpmn.serializer)."""
    from engine.bpmn.compiler import compile_processes
    from engine.bpmn.loops import WhileLoopTask
    from engine.bpmn.serializer import spec_from_dict
    from engine.bpmn.validation import read_bpmn

    doc = read_bpmn("old.bpmn", bpmn("old_loop", START + script("count", COUNT, loop(
        "n &lt; 3")) + END + flows("s", "count", "e")))
    compiled, problems = compile_processes([doc], {})
    assert problems == []
    stored = compiled["old_loop"].stored_spec["spec"]
    assert stored["task_specs"]["count"]["typename"] == "WhileLoopTask"
    stored["task_specs"]["count"]["typename"] = "StandardLoopTask"
    restored = spec_from_dict(stored).task_specs["count"]
    assert isinstance(restored, WhileLoopTask)
    assert (restored.condition, restored.maximum, restored.test_before) == ("n < 3", None, False)
