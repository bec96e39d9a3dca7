"""The service-task contract: what a handler is told about a call, and what it returns.

A service task (``camunda:type="external" camunda:topic="..."``) calls the handler
registered for its topic (:mod:`engine.runtime.handlers`) with a :class:`ServiceCall`; the
handler returns the variables it sets. The SpiffWorkflow adapter builds the call
(``engine.bpmn.host``); handlers depend on this module only, not on the adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.runtime.handlers import HandlerContext


@dataclass(frozen=True)
class ServiceCall:
    """What a service-task handler is told about the call."""

    topic: str
    instance_id: str
    business_key: str | None
    element_id: str
    variables: Mapping[str, Any]
    #: The element's ``camunda:property`` entries: the handler's parameters.
    properties: Mapping[str, str] = field(default_factory=dict)
    #: What the engine lends the handler for this command.
    context: HandlerContext | None = None


# The function the engine gives the adapter to run a call: the variables it sets.
ServiceDispatcher = Callable[[ServiceCall], Mapping[str, Any] | None]
