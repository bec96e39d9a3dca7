"""The engine's tables. Import from here; the modules group them by concept."""

from .definitions import Deployment, DeploymentResource, FormDefinition, ProcessDefinition
from .history import HistoryEvent
from .instances import EventSubscription, Incident, ProcessInstance, Timer
from .tasks import Task, TaskCandidate

__all__ = [
    "Deployment",
    "DeploymentResource",
    "EventSubscription",
    "FormDefinition",
    "HistoryEvent",
    "Incident",
    "ProcessDefinition",
    "ProcessInstance",
    "Task",
    "TaskCandidate",
    "Timer",
]
