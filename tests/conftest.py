"""Shared fixtures: a migrated SQLite database per test, a frozen clock, an engine."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.composition import Engine
from engine.config import Settings
from engine.persistence.db import create_db_engine
from engine.persistence.migrate import upgrade
from engine.runtime.handlers import TopicRegistry
from engine.runtime.links import register_links
from engine.time.clock import FrozenClock
from lspro import LsproExtension
from lspro.extension import MIGRATIONS as LSPRO_MIGRATIONS
from tests.settings import LSPRO, settings_for

pytest_plugins = ["tests.postgres"]

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with every migration applied, copied by each test that needs a DB."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    db_engine = create_db_engine(f"sqlite:///{path}")
    # The LSPro's branch too: its tests share the template with the engine's.
    upgrade(db_engine, extension_folders=[LSPRO_MIGRATIONS])
    db_engine.dispose()
    return path


@pytest.fixture
def settings(tmp_path: Path, migrated_template: Path) -> Settings:
    database = tmp_path / "sertiflow.db"
    shutil.copy(migrated_template, database)
    return settings_for(tmp_path, database)


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
