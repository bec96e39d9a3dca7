"""The typed face of a running SpiffWorkflow workflow.

The runtime speaks in the engine's own terms (user tasks, timers, message
subscriptions, failures); this package translates them to and from
SpiffWorkflow's task tree. Nothing outside ``engine.bpmn`` touches a Spiff object.

- :mod:`.run`: :class:`ProcessRun`, the runtime's handle on one instance;
- :mod:`.definitions`: a definition version's specs and its start events;
- :mod:`.records`: what a workflow reports (user tasks, waits, steps, failures);
- :mod:`.steps`: running the engine's own steps;
- :mod:`.user_tasks`: ready user tasks and their completion;
- :mod:`.waiting`: timers, messages and signals in and out;
- :mod:`.incidents`: failures and retries;
- :mod:`.tasks`: reading SpiffWorkflow's task tree.
"""

from __future__ import annotations

from .definitions import DefinitionSpecs, start_events
from .incidents import TaskHookFailed
from .records import StepFailure, StepRecord, ThrownEvent, UserTaskView
from .run import ProcessRun

__all__ = [
    "DefinitionSpecs",
    "ProcessRun",
    "StepFailure",
    "StepRecord",
    "TaskHookFailed",
    "ThrownEvent",
    "UserTaskView",
    "start_events",
]
