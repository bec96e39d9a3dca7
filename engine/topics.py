"""The service-task topics a sertiflow server offers: process links and the LSPro's domain."""

from __future__ import annotations

from .handlers import TopicRegistry
from .links import register_links


def default_topics() -> TopicRegistry:
    """A registry with every topic the processes in ``processes/`` use."""
    registry = TopicRegistry()
    register_links(registry)
    return registry
