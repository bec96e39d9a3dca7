"""Shared fixtures: a migrated database per test, a frozen clock, an engine.

The database is SQLite, or PostgreSQL under ``--database=postgresql`` (tests/databases.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.composition import Engine
from engine.config import Settings
from engine.runtime.handlers import TopicRegistry
from engine.runtime.links import register_links
from engine.time.clock import FrozenClock
from lspro import LsproExtension
from tests.settings import LSPRO, settings_for

pytest_plugins = ["tests.postgres", "tests.databases"]

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return settings_for(tmp_path, database_url)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2027, 3, 1, 2, 0, tzinfo=UTC))


@pytest.fixture
def topics() -> TopicRegistry:
    """The engine's own topics (process links); tests register theirs beside them."""
    registry = TopicRegistry()
    register_links(registry)
    return registry


@pytest.fixture
def engine(settings: Settings, clock: FrozenClock, topics: TopicRegistry) -> Iterator[Engine]:
    # No workflow cache: every command rebuilds the instance from the database,
    # so each test step goes through a save and a load (test_cache covers the cache).
    # With the LSPro's extension, as the product runs: its roles, topics and pages.
    # tests/example_extension/ shows the engine without it.
    built = Engine(settings, clock=clock, topics=topics, extensions=[LsproExtension(LSPRO)],
                   workflow_cache_size=0)
    yield built
    built.close()


@pytest.fixture
def lspro_engine(engine: Engine) -> Engine:
    """The engine, named for tests of the LSPro's processes and services."""
    return engine
