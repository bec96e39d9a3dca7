"""Evaluating a conditional event's condition, and failing its task when it raises.

Also the keys a conditional event keeps in its task's internal data, which
every part of the package reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.util.task import TaskState

from engine.scripting.expressions import ExpressionError, compile_expression

from ...scripting import ScriptError
from ..hooks.start_end import context_info
from ..script_engine import loop_variables, uses_context

# Keys of a task's internal data.
ARMED = "sertiflow_conditional_armed"  # when the event began to listen (time.time())
FAILED = "sertiflow_conditional_failed"  # the condition raised; the message
TRIGGERED = "sertiflow_conditional_triggered"  # an event sub-process its condition started
# What other steps changed since the event began to wait: {"set": {...}, "deleted": [...]}.
KNOWN = "sertiflow_conditional_known"

Changes = dict[str, tuple[str, Any]]  # variable -> (create | update | delete, new value)


class ConditionFailed(Exception):
    """A condition raised (anything but a variable that does not exist)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def condition_holds(sandbox: Any, expression: str, data: Mapping[str, Any],
                    context: Mapping[str, Any], extra: Mapping[str, Any] | None = None
                    ) -> bool:
    """Evaluate ``expression`` on ``data`` in the sandbox; an unknown variable is false.

    :raises ConditionFailed: with a message naming the expression.
    """
    try:
        code = compile_expression(expression)
        if uses_context(code):
            value, _ = sandbox.evaluate_in_context(code, dict(data), context)
        else:
            value = sandbox.evaluate(code, dict(data), extra=extra)
    except ExpressionError as exc:
        raise ConditionFailed(f"the condition cannot be evaluated: {exc}") from exc
    except ScriptError as exc:
        if isinstance(exc.__cause__, NameError):
            return False
        raise ConditionFailed(f"the condition {expression.strip()!r} cannot be evaluated: "
                              f"{exc}") from exc
    return bool(value)


def task_condition_holds(task: Any, definition: Any) -> bool:
    return condition_holds(task.workflow.script_engine.sandbox, definition.expression, task.data,
                           context_info(task), loop_variables(task) or None)


def fail(task: Any, message: str) -> None:
    """Fail a conditional event's task; the engine opens an incident on its element."""
    task.internal_data[FAILED] = message
    task.workflow.top_workflow.event_manager.remove_task(task)
    task._set_state(TaskState.ERROR)
    report(task, message)


class ConditionError(WorkflowTaskException):
    """A condition failed; reported to the engine as an incident on ``element_id``
    (the task's element when None)."""

    element_id: str | None = None


def report(task: Any, message: str, element_id: str | None = None) -> None:
    error = ConditionError(message, task=task)
    error.element_id = element_id
    failures = getattr(task.workflow.script_engine, "hook_failures", None)
    if failures is None:
        raise error
    failures.append(error)
