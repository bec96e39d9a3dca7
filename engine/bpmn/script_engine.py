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

from ..scripting import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, Sandbox, ScriptError
from .expressions import ExpressionError, compile_expression, translate

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
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except ExpressionError as exc:  # names the expression already
            raise _task_error(task, str(exc), exc, source=expression) from exc
        except ScriptError as exc:
            message = f"cannot evaluate expression {expression.strip()!r}: {exc}"
            raise _task_error(task, message, exc, source=expression) from exc

    def execute(self, task: Any, script: str,
                external_context: Mapping[str, Any] | None = None) -> bool:
        """Run a script task's script on the task's data."""
        try:
            return bool(self.environment.execute(script, task.data, external_context))
        except ScriptError as exc:
            raise _task_error(task, f"script failed: {exc}", exc, source=script) from exc

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        """Refuse: service tasks do not run through the script engine."""
        raise NotImplementedError(_NO_SERVICES)


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
