"""What the deployment decides about running instances: :class:`RuntimeSettings`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.bpmn.host import add_calendar_duration
from engine.scripting import DEFAULT_MEMORY_MB


@dataclass(frozen=True)
class RuntimeSettings:
    """The timezone of dates in processes, the scripts' limits, and how durations add up."""

    timezone: Any
    script_timeout: float = 2.0
    script_memory_mb: int = DEFAULT_MEMORY_MB
    add_duration: Callable[[datetime, str, str | None], datetime] = add_calendar_duration
    #: Variables whose words an instance is searched by, besides its business key and
    #: company (``Setup.search_variables``).
    search_variables: tuple[str, ...] = ()
