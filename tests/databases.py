"""The database each test runs on: SQLite, or PostgreSQL when the run says so.

``pytest --database=postgresql`` puts the ordinary fixtures (``settings``, the
engine, the API server...) on the session's throw-away PostgreSQL server
(tests/postgres.py) instead of SQLite files. Either way each test gets its own
database: a copy of a template that the session migrates once. Tests of what
only SQLite has are marked ``sqlite_only("why")`` and skipped on PostgreSQL with
that reason.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.persistence.db import create_db_engine
from engine.persistence.migrate import upgrade
from lspro.extension import MIGRATIONS as LSPRO_MIGRATIONS
from tests.postgres import PostgresServer

DATABASES = ("sqlite", "postgresql")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database", choices=DATABASES, default="sqlite",
        help="the database of the settings, engine and server fixtures (default: sqlite; "
             "postgresql starts a throw-away server)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("database") == "sqlite":
        return
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None:
            reason = marker.args[0] if marker.args else marker.kwargs["reason"]
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))


def on_postgres(config: pytest.Config) -> bool:
    return bool(config.getoption("database") == "postgresql")


def new_database(request: pytest.FixtureRequest, folder: Path, *, migrated: bool) -> str:
    """Make a database for the fixture or test of ``request`` and return its URL.

    A migrated one is a copy of the session's template; a blank one has no tables
    (for tests whose commands migrate it). SQLite's is a file in ``folder``;
    PostgreSQL's is dropped when ``request``'s scope ends.
    """
    if on_postgres(request.config):
        server: PostgresServer = request.getfixturevalue("postgres_server")
        template = request.getfixturevalue("postgres_template") if migrated else None
        url = server.create_database(template=template)
        request.addfinalizer(lambda: server.drop_database(url))
        return url
    database = folder / "sertiflow.db"
    if migrated:
        shutil.copy(request.getfixturevalue("migrated_template"), database)
    return f"sqlite:///{database}"


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
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of this test's own migrated database."""
    return new_database(request, tmp_path, migrated=True)


@pytest.fixture
def blank_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of this test's own database without tables, for commands that migrate it."""
    return new_database(request, tmp_path, migrated=False)
