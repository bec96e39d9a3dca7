"""Service-task handlers, looked up by the topic of ``camunda:topic``.

A handler receives a :class:`~engine.runtime.service_call.ServiceCall`: the topic, the
element's ``camunda:property`` parameters, the process variables, and a
:class:`HandlerContext` with what the engine lends it for the command (the
transaction's session, the clock, the document store). It returns the variables
it sets; an exception it raises becomes an incident on the instance.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.orm import Session

from engine.config import Settings
from engine.documents.service import DocumentService
from engine.errors import InvalidInput
from engine.runtime.service_call import ServiceCall
from engine.time.calendar import WorkingCalendar
from engine.time.clock import Clock

if TYPE_CHECKING:
    from engine.composition import Services
    from engine.runtime.commands import Runtime

T = TypeVar("T")

Handler = Callable[[ServiceCall], Mapping[str, Any] | None]


class UnknownTopic(LookupError):
    pass


@dataclass
class HandlerContext:
    """The command's resources, lent to a handler while it runs.

    The instance fields describe the instance whose service task is running; a
    handler must not commit or roll back ``session``.
    """

    session: Session
    clock: Clock
    settings: Settings
    calendar: WorkingCalendar
    documents: DocumentService
    runtime: Runtime
    #: The transaction's services, through which extension services are reached.
    services: Services | None = None

    def service(self, kind: type[T]) -> T:
        """The extension service ``kind`` for this command's transaction."""
        if self.services is None:
            raise LookupError(f"no services are lent to this handler for {kind.__name__}")
        return self.services.get(kind)

    @property
    def instance_id(self) -> str:
        return self.runtime.current_instance().id

    @property
    def business_key(self) -> str | None:
        return self.runtime.current_instance().business_key

    @property
    def company(self) -> str | None:
        return self.runtime.current_instance().company

    @property
    def started_by(self) -> str | None:
        return self.runtime.current_instance().started_by

    @property
    def definition_key(self) -> str:
        return self.runtime.current_instance().definition_key

    def set_business_key(self, key: str) -> None:
        """Give the running instance its business key (it must not have one yet)."""
        self.runtime.assign_business_key(key)

    def after_command(self, effect: Callable[[Runtime], Any]) -> None:
        """Run ``effect(runtime)`` once this instance is saved, in the same transaction."""
        self.runtime.defer(effect)


def context_of(call: ServiceCall) -> HandlerContext:
    """The handler context the engine attached to ``call``."""
    if not isinstance(call.context, HandlerContext):
        raise RuntimeError(f"topic '{call.topic}' needs the engine's handler context")
    return call.context


def property_of(call: ServiceCall, name: str, default: str | None = None) -> str:
    """The service task's ``camunda:property`` ``name``; missing, an incident says so."""
    value = (call.properties.get(name) or "").strip() or default
    if not value:
        raise InvalidInput(f"{call.topic}: the service task needs the property '{name}'",
                           {name: "missing property"})
    return value


class TopicRegistry:
    """Maps topics to Python handlers; a handler returns the variables it sets."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, topic: str, handler: Handler | None = None) -> Any:
        """Register ``handler`` for ``topic``; usable as a decorator without ``handler``."""
        if handler is None:
            def decorate(func: Handler) -> Handler:
                self.register(topic, func)
                return func
            return decorate
        if topic in self._handlers:
            raise ValueError(f"topic '{topic}' already has a handler")
        self._handlers[topic] = handler
        return handler

    def topics(self) -> set[str]:
        return set(self._handlers)

    def dispatch(self, call: ServiceCall, context: HandlerContext | None = None
                 ) -> Mapping[str, Any] | None:
        try:
            handler = self._handlers[call.topic]
        except KeyError:
            raise UnknownTopic(f"no handler is registered for topic '{call.topic}'") from None
        if context is not None:
            call = replace(call, context=context)
        return handler(call)
