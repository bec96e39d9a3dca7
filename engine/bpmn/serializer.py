"""Turn specs and workflow state into JSON-able dicts and back.

A process definition version stores its parsed spec once; an instance stores
only its own state. SpiffWorkflow's stock serializer writes the whole spec into
every workflow it serializes and re-creates it on every load, which dominates a
save/load cycle; the converter here leaves the spec out and takes it back from
the definition's (cached) spec objects on restore. The converters and their
registries are in :mod:`engine.bpmn.state_converters` and
:mod:`engine.bpmn.registries`; the compressed stream in :mod:`engine.bpmn.state_codec`.
"""

from __future__ import annotations

import gc
import json
import zlib
from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.workflow import VERSION
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .registries import ENCODER as _ENCODER
from .registries import REGISTRY as _REGISTRY
from .registries import STATE as _STATE
from .registries import STATE_REGISTRY as _STATE_REGISTRY
from .state_codec import TaskMemo, compress_state, read_state, seed_memo
from .state_converters import PLAIN_TASKS, compact_task, escape_data, parse_uuid

# sertiflow-4 writes a subprocess's tasks beside the top-level ones, each under
# "<subprocess id>/<task id>" (SUBPROCESS_TASK), not inside the subprocess's own part;
# sertiflow-3 writes a predicted task that holds nothing in a short form
# (state_converters.compact_task); sertiflow-2 wrote every task as a dict, with
# process data in PLAIN_DICT envelopes. sertiflow-1 states have none, and read the
# same way: their typed values are SpiffWorkflow's markers.
STATE_FORMAT = f"sertiflow-4/spiff-{VERSION}"
READABLE_FORMATS = frozenset({STATE_FORMAT, f"sertiflow-3/spiff-{VERSION}",
                              f"sertiflow-2/spiff-{VERSION}", f"sertiflow-1/spiff-{VERSION}"})
# What separates a subprocess's id from its task's in the key of the task's part.
SUBPROCESS_TASK = "/"

__all__ = ["READABLE_FORMATS", "STATE_FORMAT", "TaskMemo", "decode_value", "dump_state",
           "encode_value", "escape_data", "load_state", "spec_from_dict", "spec_to_dict"]


def spec_to_dict(spec: BpmnProcessSpec) -> dict[str, Any]:
    """Return the JSON-able form of a process spec."""
    result: dict[str, Any] = _REGISTRY.convert(spec)
    return result


def spec_from_dict(dct: dict[str, Any]) -> BpmnProcessSpec:
    # restore() consumes parts of the dict it is given; keep the caller's intact.
    spec: BpmnProcessSpec = _REGISTRY.restore(json.loads(json.dumps(dct)))
    return spec


# Tasks whose JSON cannot change until their own state or their parent's does:
# finished ones, and predicted ones (no data and no event values yet; their
# stored data delta is relative to the parent). Ready, waiting, started and
# failed tasks change in place and are always encoded afresh.
_STABLE = (TaskState.COMPLETED | TaskState.CANCELLED | TaskState.FUTURE | TaskState.LIKELY
           | TaskState.MAYBE)
# Finished tasks: once their JSON is in the compressed prefix it stays there.
_FINISHED = TaskState.COMPLETED | TaskState.CANCELLED
_SEPARATORS = (",", ":")


# The attribute a stable task carries its JSON in, with what the JSON was made from:
# its state and children, its parent and the parent's state. On the task itself,
# so that a save looks each task up at the cost of one attribute read.
_JSON = "_sertiflow_json"


def _remember(task: Task, parent: Task | None, part: str) -> None:
    if parent is None:
        entry = (task._state, task.last_state_change, len(task._children), None, None, None,
                 part)
    else:
        entry = (task._state, task.last_state_change, len(task._children), parent,
                 parent._state, parent.last_state_change, part)
    setattr(task, _JSON, entry)


def _encode_task(task: Task) -> str:
    short = compact_task(task)
    if short is not None:
        return json.dumps(short, separators=_SEPARATORS)
    return json.dumps(_STATE_REGISTRY.convert(task), separators=_SEPARATORS, cls=_ENCODER)


def dump_state(workflow: BpmnWorkflow, memo: TaskMemo | None = None,
               notes: Mapping[str, Any] | None = None) -> bytes:
    """Return the instance state of ``workflow``, compressed, without its specs.

    :param memo: kept with the live workflow between saves (:class:`TaskMemo`);
        without one everything is encoded and compressed afresh.
    :param notes: JSON values the runtime keeps with the state, outside the
        workflow, for whoever rebuilds it (:func:`load_state` gives them back).
    """
    # Every workflow's tasks are parts of their own: the top-level workflow's first,
    # then each subprocess's (a call activity's process, an embedded subprocess, a
    # compensation handler), so that a subprocess's unchanged tasks are neither
    # encoded nor compressed again either. The rest of each workflow is the head.
    owners = [("", workflow, workflow.tasks)] + [
        (f"{sub_id}{SUBPROCESS_TASK}", sub, sub.tasks)
        for sub_id, sub in workflow.subprocesses.items()]
    for _, owner, _ in owners:
        owner.tasks = {}
    try:
        dct = _STATE.to_dict(workflow)
    finally:
        for _, owner, tasks in owners:
            owner.tasks = tasks
    del dct["tasks"]
    for sub_dct in dct["subprocesses"].values():
        del sub_dct["tasks"]
    dct["format"] = STATE_FORMAT
    if notes:
        dct["notes"] = notes
    head = json.dumps(dct, separators=_SEPARATORS, cls=_ENCODER)
    parts: list[str] = []
    leading = -1  # the number of leading finished tasks
    cached = memo is not None
    memo = TaskMemo() if memo is None else memo
    # Once per task per save: an unchanged stable task costs an attribute read and a
    # few comparisons here, no encoding and (in the blocks) no compression.
    for key, _, tasks in owners:
        for task_id, task in tasks.items():
            state = task._state
            if state & _STABLE:
                hit = getattr(task, _JSON, None) if cached else None
                if (hit is not None and hit[0] == state and hit[1] == task.last_state_change
                        and hit[2] == len(task._children)
                        and ((parent := hit[3]) is None
                             or (parent._state == hit[4]
                                 and parent.last_state_change == hit[5]))):
                    part = hit[6]
                else:
                    part = f'"{key}{task_id}":{_encode_task(task)}'
                    _remember(task, tasks.get(task._parent), part)
            else:
                part = f'"{key}{task_id}":{_encode_task(task)}'
            if leading < 0 and not state & _FINISHED:
                leading = len(parts)
            parts.append(part)
    if leading < 0:
        leading = len(parts)
    return compress_state(memo, parts, leading, head)


def load_state(
    blob: bytes, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec],
    memo: TaskMemo | None = None, notes: dict[str, Any] | None = None,
) -> BpmnWorkflow:
    """Rebuild a workflow from :func:`dump_state` output and the definition's specs.

    :param memo: filled with the stored compressed blocks; the stable tasks keep
        their stored JSON, so that the first save of the rebuilt workflow encodes
        and compresses only what its command changed.
    :param notes: filled with the notes stored with the state (none in a state
        written before notes were kept).
    """
    # The collector is held off while the state is read: a long process's hundreds of
    # new tasks, lists and dicts set off collections that walk the whole heap (a
    # server's, with its caches, is large), and none of them is garbage yet.
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        return _load_state(blob, spec, subprocess_specs, memo, notes)
    finally:
        if paused:
            gc.enable()


def _load_state(
    blob: bytes, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec],
    memo: TaskMemo | None, notes: dict[str, Any] | None,
) -> BpmnWorkflow:
    text = zlib.decompress(blob)
    dct, texts = read_state(text.decode())
    layout = dct.pop("stream", None)
    stored_notes = dct.pop("notes", None)
    if notes is not None and stored_notes:
        notes.update(stored_notes)
    if dct.pop("format", None) not in READABLE_FORMATS:
        raise ValueError("instance state was written by an unknown serializer version")
    # A task whose JSON has no marker but its own holds no typed value: its data is
    # used as read, not walked value by value for markers (the cost of a large variable).
    plain = {task_id for task_id, text in texts.items() if text.count('"typename"') == 1}
    _give_subprocesses_their_tasks(dct, plain)
    workflow = _STATE.restore(dct, spec, subprocess_specs, plain)
    if memo is not None:
        owners: dict[str, dict[Any, Task]] = {"": workflow.tasks}
        owners.update((f"{sub_id}{SUBPROCESS_TASK}", sub.tasks)
                      for sub_id, sub in workflow.subprocesses.items())
        parts: list[str | None] = []
        for key, task_text in texts.items():
            cut = key.find(SUBPROCESS_TASK) + 1
            tasks = owners.get(key[:cut], {})
            task = tasks.get(parse_uuid(key[cut:]))
            part = None
            if task is not None and task._state & _STABLE:
                part = f'"{key}":{task_text}'
                _remember(task, tasks.get(task._parent), part)
            parts.append(part)
        if layout is not None:
            seed_memo(memo, blob, text, layout, parts)
    return workflow


def _give_subprocesses_their_tasks(dct: dict[str, Any], plain: set[str]) -> None:
    """Move each subprocess's tasks (sertiflow-4: among the top-level ones, their keys
    prefixed with the subprocess's id) into the subprocess's own part, as SpiffWorkflow
    keeps them; with them the ids of those of its tasks that hold no typed value."""
    tasks: dict[str, Any] = dct["tasks"]
    subprocesses: dict[str, dict[str, Any]] = dct.get("subprocesses", {})
    for key in [key for key in tasks if SUBPROCESS_TASK in key]:
        sub_id, _, task_id = key.partition(SUBPROCESS_TASK)
        sub_dct = subprocesses.get(sub_id)
        if sub_dct is None:
            raise ValueError(f"instance state holds a task of an unknown subprocess {sub_id}")
        sub_dct.setdefault("tasks", {})[task_id] = tasks.pop(key)
        if key in plain:
            sub_dct.setdefault(PLAIN_TASKS, set()).add(task_id)


def encode_value(value: Any) -> str:
    """A process-data value as JSON text that :func:`decode_value` gives back exactly
    (dates stay dates, dicts with a ``typename`` key stay dicts)."""
    return json.dumps(escape_data(value), separators=(",", ":"), cls=_ENCODER)


def decode_value(text: str) -> Any:
    return _STATE_REGISTRY.restore(json.loads(text))
