"""A node killed with SIGKILL under load: nothing lost, nothing twice, the other goes on.

Clients drive instances of a three-step process over both nodes; once a third
of their requests are done, and while node 1 is answering some, node 1 and its
worker are killed. The clients carry on against node 2. A request that got no
answer is never blindly repeated: the client reads the state first (does the
instance with that business key exist, is that task completed?) and acts on it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from .flows import chain, deploy, user_task
from .nodes import Cluster, Node

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CLIENTS = 4
INSTANCES_PER_CLIENT = 10
STEPS = ("check", "decide", "hand_over")
# A request is answered, or its connection drops when its node dies.
DROPPED = (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)


@dataclass
class Traffic:
    """The clients' requests, spread over the nodes that are still up, and their fate."""

    cluster: Cluster
    lock: threading.Lock = field(default_factory=threading.Lock)
    down: set[str] = field(default_factory=set)
    in_flight: Counter[str] = field(default_factory=Counter)
    answered: Counter[tuple[str, int]] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)
    # What the clients found when they checked after a dropped request.
    found: Counter[str] = field(default_factory=Counter)
    sent: int = 0

    def send(self, turn: int, method: str, path: str, **options: Any) -> requests.Response | None:
        """Send to a node that is up (taking turns); None when the connection dropped."""
        with self.lock:
            up = [n for n in self.cluster.nodes if n.name not in self.down]
            node = up[turn % len(up)]
            self.in_flight[node.name] += 1
        try:
            answer = requests.request(method, f"{node.base}{path}", headers=node.headers("upp"),
                                      timeout=120, **options)
        except DROPPED:
            with self.lock:
                self.in_flight[node.name] -= 1
                self.dropped[node.name] += 1
                self.down.add(node.name)
            self.settle(node)
            return None
        with self.lock:
            self.in_flight[node.name] -= 1
            self.answered[(node.name, answer.status_code)] += 1
            self.sent += 1
        assert answer.status_code < 500, answer.text
        return answer

    def by(self, node: str) -> int:
        """How many requests ``node`` answered."""
        return sum(n for (name, _), n in self.answered.items() if name == node)

    def settle(self, node: Node) -> None:
        """Wait until the dead node's database sessions are gone (rolled back or committed).

        A COMMIT the node sent just before it died may still be on its way into the
        database; reading the state before that would take a done command for undone.
        """
        assert node.killed, f"{node.name} dropped a connection though nobody killed it"
        deadline = time.monotonic() + 60
        while self.cluster.scalar("SELECT count(*) FROM pg_stat_activity "
                                  "WHERE application_name = :n", n=node.name):
            assert time.monotonic() < deadline, f"{node.name}'s sessions stay open"
            time.sleep(0.2)


def drive(traffic: Traffic, client: int, key: str) -> None:
    """Take one instance from its start through its three steps, as a careful client."""
    turn = client
    instance: str | None = None
    while instance is None:
        turn += 1
        started = traffic.send(turn, "POST", "/api/v1/process-definitions/steps/start",
                               json={"variables": {}, "business_key": key})
        if started is not None:
            assert started.status_code == 201, started.text
            instance = str(started.json()["id"])
            continue
        # No answer: was it started? Ask (again, until some node answers).
        while (found := traffic.send(turn, "GET", "/api/v1/process-instances",
                                     params={"business_key": key})) is None:
            turn += 1
        items = found.json()["items"]
        traffic.found["start done" if items else "start not done"] += 1
        if items:
            instance = str(items[0]["id"])
    while True:
        turn += 1
        listed = traffic.send(turn, "GET", "/api/v1/tasks", params={"instance_id": instance})
        if listed is None:
            continue
        ready = listed.json()["items"]
        if not ready:
            return
        task = ready[0]["id"]
        turn += 1
        completed = traffic.send(turn, "POST", f"/api/v1/tasks/{task}/complete",
                                 json={"variables": {}})
        if completed is not None:
            assert completed.status_code == 200, completed.text
            continue
        # No answer: read the task before doing anything more with it.
        while (read := traffic.send(turn, "GET", f"/api/v1/tasks/{task}")) is None:
            turn += 1
        state = read.json()["state"]
        assert state in ("ready", "completed"), read.text
        traffic.found[f"completion {'done' if state == 'completed' else 'not done'}"] += 1


def test_a_node_killed_under_load_loses_nothing_and_doubles_nothing(cluster: Cluster) -> None:
    one, two = cluster.nodes
    deploy(two, "steps", chain("steps", *(user_task(step) for step in STEPS)))
    for node in cluster.nodes:
        node.token("upp")
    traffic = Traffic(cluster)
    keys = [[f"run-{c}-{i}" for i in range(INSTANCES_PER_CLIENT)] for c in range(CLIENTS)]
    failures: list[BaseException] = []

    def client(number: int) -> None:
        try:
            for key in keys[number]:
                drive(traffic, number, key)
        except BaseException as exc:  # reported by the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
    for thread in threads:
        thread.start()
    # About a third of the way, while node 1 has requests in hand: kill it.
    per_instance = 1 + 2 * len(STEPS) + 1
    third = CLIENTS * INSTANCES_PER_CLIENT * per_instance // 3
    deadline = time.monotonic() + 120
    while (traffic.sent < third or not traffic.in_flight[one.name]) and not failures:
        assert time.monotonic() < deadline, "the clients made no progress"
        time.sleep(0.005)
    with traffic.lock:
        sent_before, in_hand = traffic.sent, traffic.in_flight[one.name]
        by_two_before = traffic.by(two.name)
    one.kill()
    for thread in threads:
        thread.join(timeout=300)
    if failures:
        raise failures[0]
    print(f"killed node 1 after {sent_before} answers with {in_hand} request(s) in hand; "
          f"answers {dict(traffic.answered)}; dropped {dict(traffic.dropped)}; "
          f"checked {dict(traffic.found)}")
    assert one.process.returncode is not None and not one.alive()
    # Node 2 never dropped a request, and answered after the kill.
    assert traffic.dropped[two.name] == 0 and traffic.dropped[one.name] >= 1
    assert two.alive()
    assert traffic.by(two.name) > by_two_before

    every_key = {key for client_keys in keys for key in client_keys}
    instances = cluster.rows("SELECT id, business_key, status FROM process_instance "
                             "WHERE definition_key = 'steps'")
    # No instance lost, none started twice, all of them completed.
    assert sorted(r.business_key for r in instances) == sorted(every_key)
    assert {r.status for r in instances} == {"completed"}
    # Each step made once per instance and completed once.
    tasks = cluster.rows(
        "SELECT t.instance_id, t.element_id, t.state, "
        "(SELECT count(*) FROM history_event h WHERE h.task_id = t.id "
        " AND h.kind = 'task_completed') AS completions "
        "FROM task t JOIN process_instance p ON p.id = t.instance_id "
        "WHERE p.definition_key = 'steps'")
    assert Counter((r.instance_id, r.element_id) for r in tasks) == {
        (r.id, step): 1 for r in instances for step in STEPS}
    assert {(r.state, r.completions) for r in tasks} == {("completed", 1)}
    # No history event recorded twice.
    doubled = cluster.rows(
        "SELECT h.instance_id, h.kind, h.element_id, h.task_id, count(*) FROM history_event h "
        "JOIN process_instance p ON p.id = h.instance_id WHERE p.definition_key = 'steps' "
        "GROUP BY h.instance_id, h.kind, h.element_id, h.task_id HAVING count(*) > 1")
    assert doubled == []
    kinds = Counter(kind for (kind,) in cluster.rows(
        "SELECT h.kind FROM history_event h JOIN process_instance p ON p.id = h.instance_id "
        "WHERE p.definition_key = 'steps'"))
    total = len(every_key)
    assert kinds["task_completed"] == len(STEPS) * total
    assert kinds["instance_completed"] == total
    # Both nodes did part of the work.
    by_node = cluster.counts(
        "SELECT n.node, count(*) FROM cluster_event_node n JOIN history_event h "
        "ON h.id = n.history_id JOIN process_instance p ON p.id = h.instance_id "
        "WHERE p.definition_key = 'steps' GROUP BY n.node")
    assert set(by_node) == {one.name, two.name}, by_node
    assert "Traceback" not in two.output(), two.output()
