"""Process tests run the real files against the real domain handlers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.clock import FrozenClock
from engine.config import Settings
from engine.engine import Engine
from engine.topics import default_topics


@pytest.fixture
def lspro_engine(settings: Settings, clock: FrozenClock) -> Iterator[Engine]:
    """An engine with every domain topic, no workflow cache (each step saves and reloads)."""
    built = Engine(settings, clock=clock, topics=default_topics(), workflow_cache_size=0)
    yield built
    built.close()
