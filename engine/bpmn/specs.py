"""Task specs sertiflow adds to SpiffWorkflow's."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import ManualTask, NoneTask, ServiceTask


class TopicServiceTask(ServiceTask):
    """A service task run by the engine: a Python handler for its topic, or a Python expression.

    ``camunda:type="external" camunda:topic="x"`` calls the handler registered for
    ``x``; ``camunda:expression`` evaluates a (sandboxed) expression and stores the
    result in ``camunda:resultVariable``. The script engine does the work, because
    it is the one collaborator SpiffWorkflow hands to every task at run time.
    """

    extensions: dict[str, Any]

    def _execute(self, task: Any) -> bool:
        task.workflow.script_engine.run_service_task(task, self.extensions.get("camunda", {}))
        return True


class TopicSendTask(TopicServiceTask):
    """A send task; Camunda 7 runs it exactly like a service task."""


class PassThroughTask(NoneTask):
    """A plain ``bpmn:task``: Camunda 7 passes through it.

    SpiffWorkflow marks it manual and waits for someone to run it, but nobody
    is asked to, so the instance would wait forever.
    """

    def __init__(self, wf_spec: Any, bpmn_id: str, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.manual = False


class PassThroughManualTask(ManualTask):
    """A ``bpmn:manualTask``: work done outside any system, so Camunda 7 passes through it."""

    def __init__(self, wf_spec: Any, bpmn_id: str, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.manual = False
