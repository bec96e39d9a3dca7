"""The SpiffWorkflow script engine that runs everything through the sandbox.

SpiffWorkflow's default engine calls ``eval``/``exec`` on task data with the
real builtins. Here every condition, timer value and ``camunda:expression``
goes through :func:`expressions.compile_expression` (JUEL and ISO 8601
literals translated, sandbox check applied) and :class:`engine.scripting.Sandbox`,
and script tasks run with :meth:`engine.scripting.Sandbox.run`. Failures become
``WorkflowTaskException`` with the task, line and message, which the caller
turns into an incident.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import BasePythonScriptEngineEnvironment, PythonScriptEngine
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.util.task import TaskState

from engine.scripting.expressions import (
    ExpressionError,
    compile_expression,
    compile_template,
    translate,
)

from ..scripting import (
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT,
    Sandbox,
    SandboxViolation,
    ScriptError,
    compile_restricted,
)
from ..scripting.context import CONTEXT_NAMES
from ..scripting.restricted import facts
from .hooks import context_info

_NO_SERVICES = ("sertiflow runs service tasks itself (camunda:topic handlers or "
                "camunda:expression), not through the script engine")


class SandboxedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow's environment interface on top of the sandbox.

    SpiffWorkflow calls the environment directly for a few things (completion
    conditions of ad-hoc sub-processes, message correlation), so it must be
    sandboxed too, not only the engine's methods.
    """

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__({})
        self.sandbox = sandbox

    def evaluate(self, expression: str, context: Mapping[str, Any],
                 external_context: Mapping[str, Any] | None = None) -> Any:
        """Evaluate an expression as written in the BPMN file on ``context``."""
        return self.sandbox.evaluate(compile_expression(expression), context,
                                     extra=external_context)

    def execute(self, script: str, context: dict[str, Any],
                external_context: Mapping[str, Any] | None = None) -> bool:
        """Run a script on ``context`` (a task's data), updating it in place."""
        self.sandbox.run(script, context, extra=external_context)
        return True

    def call_service(self, context: Mapping[str, Any], **kwargs: Any) -> Any:
        """Refuse: service tasks do not run through the script engine."""
        raise NotImplementedError(_NO_SERVICES)


class SandboxedScriptEngine(PythonScriptEngine):
    """A PythonScriptEngine whose scripts and expressions run in the sandbox.

    ``timeout`` bounds each script or expression in seconds, ``memory_mb`` the
    memory a script may use.
    """

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT,
                 memory_mb: int = DEFAULT_MEMORY_MB) -> None:
        self.sandbox = Sandbox(timeout=timeout, memory_mb=memory_mb)
        # Failures of listeners and mappings at an element's start (engine.bpmn.hooks),
        # for the engine to take as incidents after the step.
        self.hook_failures: list[WorkflowTaskException] = []
        super().__init__(environment=SandboxedEnvironment(self.sandbox))

    def validate(self, expression: str) -> None:
        """Raise SyntaxError or ExpressionError if ``expression`` cannot be evaluated.

        SpiffWorkflow's DMN engine probes fragments such as "> 5" and expects a
        SyntaxError for them, so syntax problems keep that type.
        """
        ast.parse(translate(expression).strip(), mode="eval")
        compile_expression(expression)

    def evaluate(self, task: Any, expression: str,
                 external_context: Mapping[str, Any] | None = None) -> Any:
        """Evaluate a condition, timer value or expression on the task's data."""
        external_context = _with_loop_variables(task, external_context)
        try:
            code = compile_expression(expression)
            if uses_context(code):  # ${execution.getVariable('x')}, now()...
                value, _ = self.sandbox.evaluate_in_context(code, task.data, context_info(task))
                return value
            return self.environment.evaluate(expression, task.data, external_context)
        except ExpressionError as exc:  # names the expression already
            raise _task_error(task, str(exc), exc, source=expression) from exc
        except ScriptError as exc:
            message = f"cannot evaluate expression {expression.strip()!r}: {exc}"
            raise _task_error(task, message, exc, source=expression) from exc

    def execute(self, task: Any, script: str,
                external_context: Mapping[str, Any] | None = None) -> bool:
        """Run a script task's script on the task's data."""
        external_context = _with_loop_variables(task, external_context)
        try:
            if _script_uses_context(script):  # execution.setVariable(...), as in Camunda
                self.sandbox.run(script, task.data, context=context_info(task))
                return True
            return bool(self.environment.execute(script, task.data, external_context))
        except ScriptError as exc:
            raise _task_error(task, f"script failed: {exc}", exc, source=script) from exc

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        """Refuse: service tasks do not run through the script engine."""
        raise NotImplementedError(_NO_SERVICES)

    # -- Camunda's mappings and listeners (engine.bpmn.hooks) ---------------------------

    def evaluate_template(self, task: Any, text: str, *, what: str,
                          context: Mapping[str, Any],
                          data: dict[str, Any] | None = None) -> Any:
        """The value of a mapping written as text: a constant, ``${...}``, or both mixed."""
        data = task.data if data is None else data
        try:
            code = compile_template(text)
            if uses_context(code):
                value, _ = self.sandbox.evaluate_in_context(code, data, context)
                return value
            return self.sandbox.evaluate(code, data)
        except (ExpressionError, ScriptError) as exc:
            raise _task_error(task, f"{what}: {exc}", exc, source=text) from exc

    def script_value(self, task: Any, script: str, *, what: str,
                     context: Mapping[str, Any]) -> Any:
        """The value of a mapping written as a script: its last expression's value.

        The script's own assignments stay inside it, as a Groovy or JavaScript
        mapping script's local variables do in Camunda.
        """
        try:
            source = _capture_last_expression(script)
            scratch = dict(task.data)
            self.sandbox.run(source, scratch, context=context)
            return scratch.get(SCRIPT_VALUE)
        except (ScriptError, SyntaxError) as exc:
            raise _task_error(task, f"{what}: script failed: {exc}", exc, source=script) from exc

    def run_listener_script(self, task: Any, script: str, *, what: str,
                            context: Mapping[str, Any]) -> dict[str, Any]:
        """Run a listener's script on the task's data; return its effects."""
        try:
            return self.sandbox.run(script, task.data, context=context)
        except ScriptError as exc:
            raise _task_error(task, f"{what}: script failed: {exc}", exc, source=script) from exc

    def run_listener_expression(self, task: Any, expression: str, *, what: str,
                                context: Mapping[str, Any]) -> dict[str, Any]:
        """Evaluate a listener's expression (for what it does) on the task's data."""
        try:
            _, effects = self.sandbox.evaluate_in_context(compile_expression(expression),
                                                          task.data, context)
            return effects
        except (ExpressionError, ScriptError) as exc:
            raise _task_error(task, f"{what}: {exc}", exc, source=expression) from exc


# The variable a mapping script's last expression is kept in, for the engine to read.
SCRIPT_VALUE = "camunda_script_value"


def _capture_last_expression(script: str) -> str:
    """``script`` with its last statement, when an expression, assigned to SCRIPT_VALUE."""
    tree = ast.parse(script)
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        return script
    last = tree.body[-1]
    lines = script.splitlines()
    head = lines[:last.lineno - 1]
    first = lines[last.lineno - 1]
    expression_lines = [first[last.col_offset:], *lines[last.lineno:last.end_lineno or 0]]
    return "\n".join([*head, f"{SCRIPT_VALUE} = (", *expression_lines, ")"])


def _with_loop_variables(task: Any, extra: Mapping[str, Any] | None
                         ) -> Mapping[str, Any] | None:
    """``extra`` plus Camunda's multi-instance variables, for a task inside a loop."""
    found = loop_variables(task)
    if not found:
        return extra
    return {**found, **(extra or {})}


def loop_variables(task: Any) -> dict[str, int]:
    """``loopCounter``, ``nrOfInstances``, ``nrOfActiveInstances``, ``nrOfCompletedInstances``.

    Camunda 7 defines them for each instance of a multi-instance activity (the
    completion condition reads them); SpiffWorkflow keeps the same facts in
    the internal data of the loop task and its instances.
    """
    parent = task.parent
    spec = getattr(parent, "task_spec", None)
    if not isinstance(spec, MultiInstanceTask):
        return {}
    instances = [c for c in parent.children if c.task_spec.name == spec.task_spec]
    merged = parent.internal_data.get("merged", [])
    active = sum(1 for c in instances if not c.has_state(TaskState.FINISHED_MASK))
    if "cardinality" in parent.internal_data:
        total = int(parent.internal_data["cardinality"])
    elif "remaining" in parent.internal_data:  # sequential over a collection
        total = len(merged) + active + len(parent.internal_data["remaining"])
    else:
        total = len(instances)
    position = task.internal_data.get("key_or_index")
    if not isinstance(position, int) or isinstance(position, bool):
        position = task.internal_data.get("item")
    if not isinstance(position, int) or isinstance(position, bool):
        position = next((i for i, c in enumerate(instances) if c is task), 0)
    return {"loopCounter": position, "nrOfInstances": total,
            "nrOfActiveInstances": active, "nrOfCompletedInstances": len(merged)}


def _script_uses_context(script: str) -> bool:
    try:
        return uses_context(compile_restricted(script, "exec"))
    except (SyntaxError, SandboxViolation):
        return False  # the sandbox reports it when it runs the script


def uses_context(code: Any) -> bool:
    """Whether compiled code names Camunda's execution/task objects or now()."""
    found = facts(code)
    return found is not None and bool(found.names & CONTEXT_NAMES)


def _task_error(task: Any, message: str, exc: Exception, *, source: str) -> WorkflowTaskException:
    """Wrap a sandbox or expression error for SpiffWorkflow, with line and source line."""
    line = getattr(exc, "line", None)
    lines = source.splitlines()
    error_line = lines[line - 1] if line and 0 < line <= len(lines) else None
    # The original exception (NameError...) gives SpiffWorkflow the error type and
    # its "did you mean" hint.
    cause = exc.__cause__ if isinstance(exc.__cause__, Exception) else exc
    if isinstance(cause, NameError) and not str(cause).startswith("name '"):
        cause = exc  # SpiffWorkflow's hint parser only understands "name 'x' is not defined"
    return WorkflowTaskException(message, task=task, exception=cause, line_number=line,
                                 error_line=error_line)
