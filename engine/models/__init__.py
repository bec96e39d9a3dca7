"""The engine's tables. Import from here; the modules group them by concept."""

from .billing import INVOICE_STATES, Invoice
from .certificates import CERTIFICATE_STATES, Certificate, CertificateEvent
from .data_stores import DataStoreEntry
from .definitions import Deployment, DeploymentResource, FormDefinition, ProcessDefinition
from .documents import Document
from .history import HistoryEvent
from .identity import ROLES, ApiToken, SignInFailure, User, UserRole
from .instances import EventSubscription, Incident, ProcessInstance, StartTimer, Timer
from .panels import PanelMember
from .sequences import Sequence
from .sla import Notification, SlaBreach
from .tasks import Task, TaskCandidate

__all__ = [
    "CERTIFICATE_STATES",
    "INVOICE_STATES",
    "ROLES",
    "ApiToken",
    "Certificate",
    "CertificateEvent",
    "DataStoreEntry",
    "Deployment",
    "DeploymentResource",
    "Document",
    "EventSubscription",
    "FormDefinition",
    "HistoryEvent",
    "Incident",
    "Invoice",
    "Notification",
    "PanelMember",
    "ProcessDefinition",
    "ProcessInstance",
    "Sequence",
    "SignInFailure",
    "SlaBreach",
    "StartTimer",
    "Task",
    "TaskCandidate",
    "Timer",
    "User",
    "UserRole",
]
