"""A throw-away PostgreSQL server for the test session, and databases on it.

The server is Debian's ``postgresql`` package (installed by ``.ci/run``), started
by the test session in a temporary folder on a free 127.0.0.1 port and stopped
at the end. PostgreSQL refuses to run as root, so as root the server runs as the
``postgres`` system user.

Two kinds of test use it: those marked ``postgres`` ask for ``postgres_url`` (an
empty database) and migrate it themselves; under ``--database=postgresql`` the
ordinary ``settings`` fixture gets a database copied from a template that the
session migrates once (``CREATE DATABASE ... TEMPLATE``, far cheaper than running
the migrations for every test).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.persistence.db import create_db_engine
from engine.persistence.migrate import upgrade
from lspro.extension import MIGRATIONS as LSPRO_MIGRATIONS
from tests.people import free_port

# The migrated database every test database under --database=postgresql is copied from.
TEMPLATE = "sertiflow_template"


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).resolve().parent if pg_ctl else None


class PostgresServer:
    def __init__(self, bin_dir: Path, base: Path) -> None:
        self.bin_dir = bin_dir
        self.data = base / "data"
        self.sockets = base / "sockets"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        self._admin: sa.Engine | None = None

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self.sockets.mkdir(parents=True)
        if self.as_root:
            shutil.chown(self.data.parent, "postgres")
            self.data.parent.chmod(0o755)
            shutil.chown(self.sockets, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "--no-sync", "-E", "UTF8")
        options = (f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-w", "-l",
                  str(self.data / "server.log"), "start")

    def stop(self) -> None:
        if self._admin is not None:
            self._admin.dispose()
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _admin_sql(self, statement: str) -> None:
        # CREATE and DROP DATABASE cannot run inside a transaction.
        if self._admin is None:
            self._admin = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with self._admin.connect() as conn:
            conn.execute(sa.text(statement))

    def create_database(self, *, template: str | None = None, name: str | None = None) -> str:
        """Create a database (empty, or a copy of ``template``) and return its URL."""
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        copy = f' TEMPLATE "{template}"' if template else ""
        self._admin_sql(f'CREATE DATABASE "{name}"{copy}')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop the database of ``url``, ending any connection a test left open."""
        name = sa.make_url(url).database
        self._admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server(request: pytest.FixtureRequest) -> Iterator[PostgresServer]:
    bin_dir = _bin_dir()
    if bin_dir is None:
        # A run asked to be on PostgreSQL must not pass by skipping every test.
        if os.environ.get("CI") or request.config.getoption("database") == "postgresql":
            pytest.fail("PostgreSQL is not installed; .ci/run installs Debian's postgresql")
        pytest.skip("PostgreSQL binaries not found (apt-get install postgresql)")
    # Not under pytest's tmp folder: that one is private to root, and the server
    # runs as the postgres user when the tests run as root.
    base = Path(tempfile.mkdtemp(prefix="sertiflow-pg-"))
    server = PostgresServer(bin_dir, base)
    try:
        server.start()
        yield server
        server.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database on the session's PostgreSQL server."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """The name of a database with every migration applied, for tests to copy."""
    url = postgres_server.create_database(name=TEMPLATE)
    db_engine = create_db_engine(url)
    # The LSPro's branch too, as in the SQLite template (tests/databases.py).
    upgrade(db_engine, extension_folders=[LSPRO_MIGRATIONS])
    # A template must have no connections while it is copied.
    db_engine.dispose()
    return TEMPLATE
