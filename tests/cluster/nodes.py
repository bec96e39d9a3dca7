"""Two ``sertiflow serve`` nodes on one PostgreSQL database, as a cluster runs.

The fixtures that start them are in tests/cluster/conftest.py.

Each node is its own process group (the granian master and its worker) on its
own port with its own instance folder, so each holds its own scheduler lock
and runs its own timer sweep, as on separate machines. The first node migrates
the database and creates the demo users; the second starts once the first
answers. A node can be stopped (SIGTERM), killed (SIGKILL to its whole group,
as a machine that loses power) and started again under its name.

Which node wrote a history event is not something the engine records, so the
test database carries an instrument of its own: each node connects with its
name as PostgreSQL's ``application_name``, and a trigger copies that name, for
every history event inserted, into the table ``cluster_event_node``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

from tests.people import ROOT, free_port

START_TIMEOUT_S = 120.0
PASSWORD = "demo"  # the demo users' (SERTIFLOW_DEMO=true)

# The instrument: which node (application_name) inserted each history event.
NODE_TRIGGER = """
CREATE TABLE cluster_event_node (history_id bigint PRIMARY KEY, node text NOT NULL);
CREATE FUNCTION cluster_note_node() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cluster_event_node VALUES (NEW.id, current_setting('application_name'));
    RETURN NEW;
END $$;
CREATE TRIGGER cluster_note_node AFTER INSERT ON history_event
    FOR EACH ROW EXECUTE FUNCTION cluster_note_node();
"""


@dataclass
class Node:
    """One ``sertiflow serve`` process group, its port and its log file."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    tokens: dict[str, str] = field(default_factory=dict)
    killed: bool = False

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the master and its workers at once: nothing gets to clean up."""
        self.killed = True
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if not self.alive():
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def token(self, user: str) -> str:
        """A bearer token of ``user`` signed in on this node (kept for the node)."""
        if user not in self.tokens:
            answer = requests.post(f"{self.base}/api/v1/auth/token",
                                   json={"username": user, "password": PASSWORD}, timeout=30)
            assert answer.status_code == 201, answer.text
            self.tokens[user] = str(answer.json()["token"])
        return self.tokens[user]

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"}


def start_node(name: str, database_url: str, folder: Path) -> Node:
    """Run ``sertiflow serve`` as node ``name``; return once it answers ``/healthz``."""
    home = folder / name
    (home / "processes").mkdir(parents=True, exist_ok=True)
    port = free_port()
    environ = dict(os.environ)
    environ.update({
        "SERTIFLOW_INSTANCE_PATH": str(home / "instance"),
        "DATABASE_URL": f"{database_url}?application_name={name}",
        "SERTIFLOW_SECRET_KEY": "cluster-test",
        "SERTIFLOW_DEMO": "true",
        "SERTIFLOW_PROCESSES": str(home / "processes"),
        "SERTIFLOW_FORMS": str(home / "forms"),
        "PYTHONPATH": str(ROOT),
    })
    log = home / "node.log"
    with log.open("ab") as out:  # a node started again writes on
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", "2"],
            cwd=ROOT, env=environ, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)  # its own group: kill() reaches the workers too
    node = Node(name, process, port, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and node.alive():
        try:
            if requests.get(f"{node.base}/healthz", timeout=2).status_code == 200:
                return node
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    node.stop()
    raise AssertionError(f"node {name} did not answer /healthz:\n{node.output()}")


@dataclass
class Cluster:
    """Two nodes on one database, and a connection of the test's own to read it."""

    nodes: list[Node]
    db: sa.Engine
    url: str
    folder: Path

    def revive(self) -> None:
        """Start again any node a test killed, under the same name."""
        for i, node in enumerate(self.nodes):
            if not node.alive():
                self.nodes[i] = start_node(node.name, self.url, self.folder)

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.db.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()

    def rows(self, sql: str, **params: Any) -> list[sa.Row[Any]]:
        with self.db.connect() as conn:
            return list(conn.execute(sa.text(sql), params))

    def counts(self, sql: str, **params: Any) -> dict[str, int]:
        """A two-column query (name, count) as a dict."""
        return {str(name): int(count) for name, count in map(tuple, self.rows(sql, **params))}

    def tracebacks(self) -> list[str]:
        """The node logs that show an unhandled error (an answer 500 logs one)."""
        return [f"{node.name}:\n{node.output()}" for node in self.nodes
                if "Traceback" in node.output()]
