"""Service-task handlers, looked up by the topic of ``camunda:topic``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .bpmn.host import ServiceCall

Handler = Callable[[ServiceCall], Mapping[str, Any] | None]


class UnknownTopic(LookupError):
    pass


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

    def dispatch(self, call: ServiceCall) -> Mapping[str, Any] | None:
        try:
            handler = self._handlers[call.topic]
        except KeyError:
            raise UnknownTopic(f"no handler is registered for topic '{call.topic}'") from None
        return handler(call)
