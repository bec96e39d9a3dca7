"""The stored state of a finished instance: only what its readers still ask for.

Once an instance has completed or been cancelled nothing runs it again, so its
workflow (every task of the tree, each with its own copy of the data, the
subprocesses, the event bookkeeping) need not be kept. What is still read of it
is its final variables (instance page, variables REST, incident and message
pages), the data each of its user tasks held (a completed task's form shows the
values it was completed with) and its active elements (none). The history and
the task table hold the rest (which elements ran, who did what).

The state is one zlib stream of JSON,
``{"format": FINISHED_FORMAT, "variables": {...}, "names": [...], "tasks": [[task id,
set, deleted]...]}``, the values written as the serializer writes process data
(dates stay dates). The user tasks come in the order they changed state, each with
what its data has that the previous one's has not (``set``) and the names the
previous one had that it has not (``deleted``): a task's data is the replay up to
it, exactly, while each task stores what it added (an SOP's 24 tasks each held a
whole copy of the data). The final variables are the last task's data too, for the
most part: ``variables`` holds only those that differ from it, ``names`` all of
them in their order (format 1 wrote every variable again, a 100-KB one twice in
the state; it is still read). States of finished instances written
before these formats keep their whole workflow and are read as before.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import UserTask

from ...scripting.values import same_data
from ..serializer import decode_value, encode_value
from .tasks import all_tasks

FINISHED_FORMAT = "sertiflow-finished-2"
_FORMAT_1 = "sertiflow-finished-1"  # every final variable written out; still read
# The marker every finished state starts with once decompressed (json.dumps' order).
_HEAD = '{"format": "' + FINISHED_FORMAT + '"'
_HEADS = (_HEAD.encode(), ('{"format": "' + _FORMAT_1 + '"').encode())  # of one length


def dump_finished(workflow: Any, variables: dict[str, Any]) -> bytes:
    """The finished state of ``workflow``: ``variables`` and each user task's data."""
    # User tasks in the order they changed state: each adds little to the data
    # of the one before. Values are compared as written (1, 1.0 and True differ).
    user_tasks = sorted((t for t in all_tasks(workflow) if isinstance(t.task_spec, UserTask)),
                        key=lambda t: t.last_state_change)
    entries: list[str] = []
    before: dict[str, tuple[Any, str]] = {}
    for task in user_tasks:
        written = {name: _written(before.get(name), value) for name, value in task.data.items()}
        changed = ", ".join(f"{json.dumps(name)}: {text}" for name, (_, text) in written.items()
                            if name not in before or before[name][1] != text)
        deleted = [name for name in before if name not in written]
        entries.append(f'["{task.id}", {{{changed}}}, {json.dumps(deleted)}]')
        before = written
    if "typename" in variables or any(type(name) is not str for name in variables):
        # The whole dict goes in an envelope (escape_data), or json turns its keys to text;
        # the last task's data is not its base.
        final, names = encode_value(variables), None
    else:
        # The final variables are mostly the last task's values: only the others are
        # written (the same data as the task's is found by an identity test, mostly).
        own = []
        for name, value in variables.items():
            kept, text = _written(before.get(name), value)
            if name not in before or kept is not before[name][0]:
                own.append(f"{json.dumps(name)}:{text}")
        final, names = "{" + ",".join(own) + "}", list(variables)
    text = (f'{_HEAD}, "variables": {final}, "names": {json.dumps(names)}, "tasks": ['
            + ", ".join(entries) + "]}")
    # Level 6: level 9 took 2.7 times as long on a 100-KB variable for 0.5 % fewer bytes.
    return zlib.compress(text.encode(), 6)


def _written(previous: tuple[Any, str] | None, value: Any) -> tuple[Any, str]:
    """``value`` with its text: the previous task's text when the value is the same data
    (a task's data is a copy of the one before: a 100-KB value is encoded once per
    instance, not once per task), else its own."""
    if previous is not None and same_data(previous[0], value):
        return previous[0], previous[1]
    return value, encode_value(value)


def read_finished(blob: bytes) -> FinishedRun | None:
    """The finished run stored in ``blob``, or None when it holds a whole workflow."""
    # Only the head is decompressed to tell: a running instance's state is read
    # on every command that rebuilds it.
    if zlib.decompressobj().decompress(blob, len(_HEAD)) not in _HEADS:
        return None
    raw = json.loads(zlib.decompress(blob))
    own = decode_value(json.dumps(raw["variables"]))
    names = raw.get("names")  # None: every variable is written out (or format 1)
    tasks = raw["tasks"]
    if names is None:
        return FinishedRun(own, tasks)
    last = FinishedRun({}, tasks).task_data(tasks[-1][0]) if tasks else {}
    return FinishedRun({name: own[name] if name in own else last[name] for name in names},
                       tasks)


class FinishedRun:
    """A finished instance as its readers see it; it runs no command.

    A task's data is rebuilt when asked for: a reader wants one task, if any.
    """

    completed = True

    def __init__(self, variables: dict[str, Any], tasks: list[list[Any]]) -> None:
        self._variables = variables
        self._tasks = tasks

    def variables(self) -> dict[str, Any]:
        return dict(self._variables)

    def task_data(self, task_id: str) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for entry_id, changed, deleted in self._tasks:
            for name in deleted:
                data.pop(name, None)
            # Each value decoded on its own: encode_value wrote it so.
            data.update({name: decode_value(json.dumps(value))
                         for name, value in changed.items()})
            if entry_id == task_id:
                return data
        return {}

    def active_element_ids(self) -> list[str]:
        return []

    def ready_user_task_ids(self) -> set[str]:
        return set()

    def failed_task_ids(self) -> list[str]:
        return []
