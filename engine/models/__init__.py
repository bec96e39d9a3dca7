"""The engine's tables. Import from here; the modules group them by concept."""

from .data_stores import DataStoreEntry
from .definitions import Deployment, DeploymentResource, FormDefinition, ProcessDefinition
from .documents import Document, DocumentRender
from .history import HistoryEvent, HistoryValue
from .identity import ApiToken, SignInFailure, User, UserRole
from .instances import (
    EventSubscription,
    Incident,
    ProcessInstance,
    ProcessInstanceStatePart,
    StartTimer,
    Timer,
)
from .search import InstanceSearchWord
from .sla import Notification, SlaBreach
from .tasks import Task, TaskCandidate

__all__ = [
    "ApiToken",
    "DataStoreEntry",
    "Deployment",
    "DeploymentResource",
    "Document",
    "DocumentRender",
    "EventSubscription",
    "FormDefinition",
    "HistoryEvent",
    "HistoryValue",
    "Incident",
    "InstanceSearchWord",
    "Notification",
    "ProcessDefinition",
    "ProcessInstance",
    "ProcessInstanceStatePart",
    "SignInFailure",
    "SlaBreach",
    "StartTimer",
    "Task",
    "TaskCandidate",
    "Timer",
    "User",
    "UserRole",
]
