"""What the benchmark scripts share: databases and server nodes.

Not a script of its own: ``bench/api.py``, ``bench/engine.py`` and the others
import it (``from bench.harness import ...``, the project root on ``sys.path``);
``bench/client.py`` holds the HTTP client side and the figures.

* Databases: :class:`Databases` hands out a database URL for ``sqlite`` (a file
  in a folder) or ``postgresql`` (a fresh database on a throw-away cluster it
  starts once, with ``tests/postgres.py``'s :class:`PostgresServer`, the way the
  tests do), and :func:`database_size` measures what the tables take.
* Servers: :func:`running_nodes` starts N ``sertiflow serve`` processes on their
  own ports sharing one database, as separate machines would (each its own
  instance folder, hence its own timer sweep; one documents folder and one
  secret key for all). The first migrates alone: the others start once it is
  healthy. :func:`tree_kib` and :func:`tree_cpu_seconds` read a node's memory
  and CPU from /proc.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import requests
import sqlalchemy as sa

if TYPE_CHECKING:
    from tests.postgres import PostgresServer

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-kata-sandi"
DATABASES = ("sqlite", "postgresql")


# -- databases ---------------------------------------------------------------------------


def postgres_bin_dir() -> Path | None:
    """Where the PostgreSQL server binaries are, or None when they are not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).resolve().parent if pg_ctl else None


def chosen_databases(choice: str) -> list[str]:
    """Turn ``--database sqlite|postgresql|both`` into the list to run, in that order.

    ``both`` quietly means SQLite alone when PostgreSQL is not installed; asking
    for ``postgresql`` then is an error.
    """
    if choice == "both":
        return list(DATABASES) if postgres_bin_dir() else ["sqlite"]
    if choice == "postgresql" and postgres_bin_dir() is None:
        raise SystemExit("PostgreSQL binaries not found in /usr/lib/postgresql/*/bin "
                         "(apt-get install postgresql)")
    return [choice]


class Databases:
    """Hands out fresh databases; starts one PostgreSQL cluster when first asked for one.

    Use as a context manager: the cluster is stopped and its folder removed at the end.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.postgres: PostgresServer | None = None
        self._base: Path | None = None
        self._count = 0

    def __enter__(self) -> Databases:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.postgres is not None:
            try:
                self.postgres.stop()
            finally:
                if self._base is not None:
                    shutil.rmtree(self._base, ignore_errors=True)

    def url(self, kind: str) -> str:
        """Return the URL of a new, empty database of ``kind`` (not migrated)."""
        self._count += 1
        if kind == "sqlite":
            return f"sqlite:///{self.folder / f'bench-{self._count}.db'}"
        if kind != "postgresql":
            raise ValueError(f"unknown database kind {kind!r}")
        if self.postgres is None:
            from tests.postgres import PostgresServer

            bin_dir = postgres_bin_dir()
            if bin_dir is None:
                raise SystemExit("PostgreSQL binaries not found (apt-get install postgresql)")
            # Not a private temporary folder: as root the server runs as the postgres user.
            self._base = Path(tempfile.mkdtemp(prefix="sertiflow-pg-"))
            server = PostgresServer(bin_dir, self._base)
            server.start()
            self.postgres = server
        return self.postgres.create_database()

    def server_cpu_seconds(self) -> float:
        """CPU seconds the PostgreSQL cluster (postmaster and backends) used so far; 0 if none.

        Backends that ended took their CPU with them: read it around work done on
        pooled connections that stay open.
        """
        if self.postgres is None:
            return 0.0
        try:
            pid = int((self.postgres.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return 0.0
        return tree_cpu_seconds(pid)

    @staticmethod
    def describe(kind: str) -> str:
        """How each database is set up, for the report's header."""
        if kind == "sqlite":
            return f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL, a local file)"
        found = postgres_bin_dir()
        version = found.parent.name if found else "?"
        return (f"PostgreSQL {version} (throw-away cluster on 127.0.0.1 over TCP, fsync=off "
                "as in the tests)")


@dataclass(frozen=True)
class TableSize:
    """One table's share of a compacted database."""

    bytes: int  # the table with its indexes (and TOAST on PostgreSQL)
    rows: int
    indexes: dict[str, int]  # index name -> bytes (SQLite: autoindexes included)


@dataclass(frozen=True)
class DatabaseSize:
    """What a database takes, compacted: the whole, and table by table."""

    total: int
    tables: dict[str, TableSize]

    def grown(self, before: DatabaseSize) -> dict[str, tuple[int, int]]:
        """Per table: (bytes, rows) added since ``before``, largest growth first."""
        growth = {name: (size.bytes - before.tables[name].bytes if name in before.tables
                         else size.bytes,
                         size.rows - before.tables[name].rows if name in before.tables
                         else size.rows)
                  for name, size in self.tables.items()}
        return dict(sorted(growth.items(), key=lambda item: -item[1][0]))


def database_size(url: str) -> DatabaseSize:
    """Bytes the database takes, compacted, in total and per table (rows and indexes too).

    SQLite: ``VACUUM INTO`` a copy, so the database is read as one consistent
    snapshot and left as it is, even while a server writes to it; the total is
    the copy's file, each table and index is summed from ``dbstat``.
    PostgreSQL: ``VACUUM FULL`` in place (a running database would reuse the
    space of dead rows), then ``pg_total_relation_size`` of each table of the
    ``public`` schema (indexes and TOAST included) and ``pg_relation_size`` of
    each index; the total is the sum of the tables.
    Compare two readings to get what some work added (:meth:`DatabaseSize.grown`).
    """
    if url.startswith("sqlite:///"):
        return _sqlite_size(Path(url.removeprefix("sqlite:///")))
    db = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with db.connect() as conn:
            conn.exec_driver_sql("VACUUM FULL")
            rows = conn.exec_driver_sql(
                "SELECT t.relname, i.relname, pg_total_relation_size(t.oid),"
                " pg_relation_size(i.oid) FROM pg_class t"
                " JOIN pg_namespace n ON n.oid = t.relnamespace"
                " LEFT JOIN pg_index x ON x.indrelid = t.oid"
                " LEFT JOIN pg_class i ON i.oid = x.indexrelid"
                " WHERE n.nspname = 'public' AND t.relkind = 'r'").all()
            totals: dict[str, int] = {}
            indexes: dict[str, dict[str, int]] = {}
            for table, index, total, index_bytes in rows:
                totals[table] = int(total)
                indexes.setdefault(table, {})
                if index is not None:
                    indexes[table][index] = int(index_bytes)
            tables = {table: TableSize(total, int(conn.exec_driver_sql(
                f'SELECT count(*) FROM "{table}"').scalar() or 0), indexes[table])
                for table, total in totals.items()}
            return DatabaseSize(sum(totals.values()), tables)
    finally:
        db.dispose()


def _sqlite_size(path: Path) -> DatabaseSize:
    with tempfile.TemporaryDirectory(prefix="sertiflow-size-") as tmp:
        copy = Path(tmp) / "copy.db"
        source = sqlite3.connect(path, timeout=60)
        try:
            source.execute("VACUUM INTO ?", (str(copy),))
        finally:
            source.close()
        compact = sqlite3.connect(copy)
        try:
            objects = compact.execute(
                "SELECT s.tbl_name, s.name, s.type, SUM(d.pgsize) FROM dbstat d"
                " JOIN sqlite_schema s ON s.name = d.name"
                " WHERE s.type IN ('table', 'index') GROUP BY s.name").fetchall()
            totals: dict[str, int] = {}
            indexes: dict[str, dict[str, int]] = {}
            for table, name, kind, size in objects:
                if table.startswith("sqlite_"):
                    continue
                totals[table] = totals.get(table, 0) + int(size)
                found = indexes.setdefault(table, {})
                if kind == "index":
                    found[name] = int(size)
            tables = {table: TableSize(size, int(compact.execute(
                f'SELECT count(*) FROM "{table}"').fetchone()[0]), indexes[table])
                for table, size in totals.items()}
        finally:
            compact.close()
        return DatabaseSize(copy.stat().st_size, tables)


# -- server nodes ------------------------------------------------------------------------


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(folder: Path, database: Path | str, *, documents: Path | None = None
               ) -> dict[str, str]:
    """Return the environment of a server (and CLI) on ``database``, with no processes.

    :param database: a database URL, or the path of an SQLite file.
    :param documents: the documents folder, shared by every node (default: the
        instance folder's own).
    """
    for name in ("processes", "forms"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    url = database if isinstance(database, str) else f"sqlite:///{database}"
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": url,
        "SERTIFLOW_INSTANCE_PATH": str(folder),
        "SERTIFLOW_SECRET_KEY": "bench",
        "SERTIFLOW_PROCESSES": str(folder / "processes"),
        "SERTIFLOW_FORMS": str(folder / "forms"),
        "PYTHONPATH": str(ROOT),
    })
    if documents is not None:
        env["SERTIFLOW_DOCUMENTS_PATH"] = str(documents)
    return env


def add_user(env: dict[str, str], name: str, roles: Sequence[str],
             company: str | None = None, password: str = PASSWORD) -> None:
    """Create a user with ``sertiflow users add``, the way an operator would."""
    command = [sys.executable, "-m", "api.cli", "users", "add", name, "--password-stdin"]
    for role in roles:
        command += ["--role", role]
    if company:
        command += ["--company", company]
    done = subprocess.run(command, cwd=ROOT, env=env, input=password + "\n",
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise SystemExit(f"users add {name} failed:\n{done.stdout}{done.stderr}")


def add_users(env: dict[str, str], users: Mapping[str, tuple[Sequence[str], str | None]],
              password: str = PASSWORD) -> None:
    """Migrate the database of ``env`` and create ``users`` (name -> roles, company).

    In this process, with the engine the server would build: the CLI's
    ``users add`` (:func:`add_user`) spends 3 to 4 s per user starting Python.
    """
    from api.extensions import default_extensions
    from engine.composition import Engine
    from engine.config import load_settings

    engine = Engine(load_settings(env), extensions=default_extensions(env))
    try:
        engine.migrate()
        with engine.write() as services:
            for name, (roles, company) in users.items():
                services.identity.add_user(name, password, roles=roles, company=company)
    finally:
        engine.close()


@dataclass
class Server:
    """A ``sertiflow serve`` subprocess and where it answers."""

    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not ended within 20 s; reap it."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def launch(arguments: Callable[[int], list[str]], env: dict[str, str], log: Path) -> Server:
    """Start ``python <arguments(port)>`` on a free port, its output to ``log``, and wait
    until ``/healthz`` answers; a server that never does is stopped before the error."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, *arguments(port)], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        wait_healthy(server)
    except BaseException:
        server.stop()
        raise
    return server


def start_server(env: dict[str, str], log: Path, *, threads: int | None,
                 workers: int | None = None) -> Server:
    """Start ``sertiflow serve`` on a free port and wait until ``/healthz`` answers
    (with the server's own threads and processes for what is not given)."""
    return launch(lambda port: [
        "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
        *(["--workers", str(workers)] if workers else []),
        *(["--threads", str(threads)] if threads else [])],
        env, log)


@contextmanager
def running_server(env: dict[str, str], folder: Path, *, threads: int | None,
                   workers: int | None = None) -> Iterator[Server]:
    """Start ``sertiflow serve``, wait for ``/healthz``; terminate and reap it at the end."""
    server = start_server(env, folder / "server.log", threads=threads, workers=workers)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def running_nodes(env: dict[str, str], folder: Path, nodes: int, *, threads: int | None,
                  workers: int | Sequence[int | None] | None = None) -> Iterator[list[Server]]:
    """Start ``nodes`` servers on the database of ``env``, as separate machines would be.

    Node n has its own instance folder (``folder/node-n``: its own timer sweep,
    its own log ``server.log`` there); all share ``env``'s database, secret key
    and documents folder (``folder/documents`` unless ``env`` names one). Each
    starts after the one before answers: every start migrates, and two nodes
    must not run the migrations at the same moment. ``workers`` is each node's
    number of processes, or a list of them, node by node (None: the server's own).
    """
    counts = list(workers) if isinstance(workers, Sequence) else [workers] * nodes
    shared = dict(env)
    shared.setdefault("SERTIFLOW_DOCUMENTS_PATH", str(folder / "documents"))
    with ExitStack() as stack:
        servers = []
        for n in range(1, nodes + 1):
            own = folder / f"node-{n}"
            own.mkdir(parents=True, exist_ok=True)
            node_env = {**shared, "SERTIFLOW_INSTANCE_PATH": str(own)}
            server = start_server(node_env, own / "server.log", threads=threads,
                                  workers=counts[n - 1])
            stack.callback(server.stop)
            servers.append(server)
        yield servers


def wait_healthy(server: Server, timeout: float = 300.0) -> None:
    """Poll ``/healthz`` until it answers 200; give up on exit or after ``timeout``.

    A server that has not exited is still starting (migrating, deploying the
    processes): on a machine loaded many times over that took more than a minute,
    so the limit only catches a server that hangs.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"the server exited with {server.process.returncode}:\n"
                             f"{server.log_tail()}")
        try:
            if requests.get(f"{server.base_url}/healthz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the server did not become healthy in {timeout:.0f} s:\n"
                     f"{server.log_tail()}")


def process_tree(pid: int) -> list[int]:
    """Return ``pid`` and all its descendants, read from /proc."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                queue += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
    return found


def proc_status_kib(pid: int, field_name: str) -> int:
    """Read one ``kB`` field (``VmHWM``, ``VmRSS``) of /proc/<pid>/status."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0  # ended since the tree was read
    for line in lines:
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


def tree_kib(pid: int, field_name: str) -> int:
    """Sum one ``kB`` field of /proc/<pid>/status over ``pid`` and its descendants."""
    return sum(proc_status_kib(member, field_name) for member in process_tree(pid))


def cpu_seconds(pid: int) -> float:
    """Return user + system CPU seconds of ``pid`` so far (0 once it has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int, running: str | None = None) -> float:
    """CPU seconds of a process and its children (the server's workers) so far; with
    ``running``, only of those whose command line contains it."""
    return sum(cpu_seconds(p) for p in process_tree(pid)
               if running is None or running in command_line(p))


def command_line(pid: int) -> str:
    """The command line of ``pid``, its arguments joined by spaces ("" once it has ended)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
