"""Call activities that call a global task (BPMN 2.0.2, 10.3.6), made plain tasks.

A global task (``globalTask``, ``globalUserTask``, ``globalScriptTask``,
``globalManualTask``, ``globalBusinessRuleTask``) is a task drawn once at the
top of a file, outside any process, for call activities to reuse. Calling it
runs that task in place of the call activity, on the caller's variables.
Camunda 7 has no global tasks and SpiffWorkflow's parser does not know them.

:func:`inline_global_tasks` replaces each call activity whose
``calledElement`` names a global task of the same file by that task, written
where the call activity is: the call activity's id, name, flows, loop and
boundary events stay; the task's type, attributes (``scriptFormat``,
``camunda:candidateGroups``, ...) and content (its script, form, listeners)
come from the global task. Listeners drawn on the call activity itself are
kept after the global task's. ``camunda:in``/``camunda:out`` mean nothing for
a task that shares the caller's variables, and are dropped.

The validator runs this before its checks, so what the global task holds is
checked as any task is, and reported with the call activity's id, the element
that runs it.
"""

from __future__ import annotations

import copy
from typing import Any

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"

# A global task's tag and the task it runs as.
GLOBAL_TASKS = {
    "globalTask": "task",
    "globalUserTask": "userTask",
    "globalScriptTask": "scriptTask",
    "globalManualTask": "manualTask",
    "globalBusinessRuleTask": "businessRuleTask",
}

# What stays of the call activity.
_KEPT_CHILDREN = frozenset({"incoming", "outgoing", "documentation",
                            "standardLoopCharacteristics", "multiInstanceLoopCharacteristics"})
_KEPT_ATTRIBUTES = frozenset({"id", "name", "default", "isForCompensation"})


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def inline_global_tasks(root: Any) -> None:
    """Replace, in place, each call activity of ``root`` that calls a global task."""
    globals_by_id = {el.get("id"): el for el in root
                     if _local(el.tag) in GLOBAL_TASKS and el.get("id")}
    if not globals_by_id:
        return
    for call in list(root.iter(f"{{{BPMN_NS}}}callActivity")):
        task = globals_by_id.get(call.get("calledElement"))
        if task is not None:
            _become(call, task)


def _become(call: Any, task: Any) -> None:
    kept = [child for child in call if _local(child.tag) in _KEPT_CHILDREN]
    own_listeners = [copy.deepcopy(listener) for listener in call.iterfind(
        f"./{{{BPMN_NS}}}extensionElements/{{{CAMUNDA_NS}}}executionListener")]
    attributes = {k: v for k, v in call.attrib.items() if k in _KEPT_ATTRIBUTES}
    for child in list(call):
        call.remove(child)
    call.attrib.clear()
    call.tag = f"{{{BPMN_NS}}}{GLOBAL_TASKS[_local(task.tag)]}"
    for name, value in task.attrib.items():
        if name not in ("id", "name"):
            # A global script task names its language as the schema says;
            # a script task as the Modeler writes it.
            call.set("scriptFormat" if name == "scriptLanguage" else name, value)
    call.attrib.update(attributes)
    if not call.get("name") and task.get("name"):
        call.set("name", str(task.get("name")))
    content = [copy.deepcopy(child) for child in task if isinstance(child.tag, str)]
    # The schema's order: documentation, extensionElements, flows, the activity's
    # data and resources, its loop, then what the task type adds (script, rendering).
    documentation = [c for c in kept if _local(c.tag) == "documentation"]
    extensions = [c for c in content if _local(c.tag) == "extensionElements"]
    if own_listeners:
        if not extensions:
            extensions = [call.makeelement(f"{{{BPMN_NS}}}extensionElements", {})]
        extensions[0].extend(own_listeners)
    flows = [c for c in kept if _local(c.tag) in ("incoming", "outgoing")]
    loops = [c for c in kept if _local(c.tag).endswith("LoopCharacteristics")]
    activity = [c for c in content if _local(c.tag) in _ACTIVITY_PARTS]
    own = [c for c in content if _local(c.tag) in ("script", "rendering")]
    for child in [*documentation, *extensions, *flows, *activity, *loops, *own]:
        call.append(child)


# The parts of a global task that an activity has too, in the schema's order.
_ACTIVITY_PARTS = ("ioSpecification", "property", "dataInputAssociation",
                   "dataOutputAssociation", "resourceRole", "performer", "humanPerformer",
                   "potentialOwner")
