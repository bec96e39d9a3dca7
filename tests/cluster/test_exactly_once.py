"""Exactly once across two nodes on one PostgreSQL: completions, timers, messages.

Both nodes are real ``sertiflow serve`` processes (tests/cluster/conftest.py);
the requests race from threads of this process through both at once, and what
happened is counted in the database afterwards.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from .flows import chain, deploy, message_catch, timer_at_variable, user_task, with_message
from .nodes import Cluster, Node

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def race(calls: list[Callable[[], requests.Response]]) -> list[requests.Response]:
    """Run ``calls`` in threads released together; return their answers in order."""
    barrier = threading.Barrier(len(calls))
    answers: list[requests.Response | None] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        answers[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(a is not None for a in answers), "a request did not come back"
    return [a for a in answers if a is not None]


def start(node: Node, key: str, variables: dict[str, Any] | None = None,
          business_key: str | None = None) -> str:
    answer = requests.post(f"{node.base}/api/v1/process-definitions/{key}/start",
                           json={"variables": variables or {}, "business_key": business_key},
                           headers=node.headers("upp"), timeout=60)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def in_parallel(jobs: list[Callable[[], Any]], threads: int = 6) -> list[Any]:
    """Run ``jobs`` on ``threads`` threads; return their results in order."""
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []
    lock = threading.Lock()
    queue = list(enumerate(jobs))

    def worker() -> None:
        while True:
            with lock:
                if not queue or errors:
                    return
                i, job = queue.pop()
            try:
                results[i] = job()
            except BaseException as exc:  # re-raised in the test's thread
                with lock:
                    errors.append(exc)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if errors:
        raise errors[0]
    return results


# -- 1. racing completions of one task ---------------------------------------------------

RACERS_PER_NODE = 6


def test_racing_completions_of_one_task_have_one_winner(cluster: Cluster) -> None:
    one, two = cluster.nodes
    deploy(one, "race", chain("race", user_task("first"), user_task("second")))
    instances = [start(cluster.nodes[i % 2], "race") for i in range(6)]
    for node in cluster.nodes:
        node.token("upp")  # signed in before the race, on each node
    for instance in instances:
        task = cluster.scalar("SELECT id FROM task WHERE instance_id = :i AND element_id = 'first'",
                              i=instance)

        def complete(node: Node, task: str = task) -> requests.Response:
            return requests.post(f"{node.base}/api/v1/tasks/{task}/complete",
                                 json={"variables": {"by": node.name}},
                                 headers=node.headers("upp"), timeout=120)

        answers = race([lambda n=node: complete(n)  # type: ignore[misc]
                        for node in (one, two) for _ in range(RACERS_PER_NODE)])
        statuses = Counter(a.status_code for a in answers)
        assert statuses == {200: 1, 409: 2 * RACERS_PER_NODE - 1}, \
            [(a.status_code, a.text[:200]) for a in answers]
        winner = next(a for a in answers if a.status_code == 200).json()
        assert winner["instance_status"] == "running"
        assert len(winner["next_tasks"]) == 1
        for loser in (a for a in answers if a.status_code == 409):
            assert loser.json()["type"] == "/problems/conflict", loser.text
        # One completion recorded, with the winner's values; the next task made once.
        completed = cluster.rows(
            "SELECT data FROM history_event WHERE task_id = :t AND kind = 'task_completed'",
            t=task)
        assert len(completed) == 1
        seconds = cluster.rows(
            "SELECT id, state FROM task WHERE instance_id = :i AND element_id = 'second'",
            i=instance)
        assert [(str(r.id), r.state) for r in seconds] == [(winner["next_tasks"][0], "ready")]
    assert cluster.tracebacks() == []


# -- 2. timers due at once, swept by both nodes --------------------------------------------

TIMER_INSTANCES = 200
# How far ahead the timers fall due: time enough to start every instance first on a
# loaded machine, so that they all fall due together while both sweeps run.
TIMER_MARGIN = timedelta(seconds=10)


def test_timers_due_at_once_fire_once_each_spread_over_both_nodes(
        cluster: Cluster) -> None:
    one, _ = cluster.nodes
    deploy(one, "alarm", chain("alarm", timer_at_variable("wait", "fire_at"),
                               user_task("after")))
    for node in cluster.nodes:
        node.token("upp")
    began = time.monotonic()
    fire_at = (datetime.now(UTC) + TIMER_MARGIN).isoformat()
    instances = set(in_parallel([
        lambda i=i: start(cluster.nodes[i % 2], "alarm", {"fire_at": fire_at})  # type: ignore[misc]
        for i in range(TIMER_INSTANCES)]))
    assert len(instances) == TIMER_INSTANCES
    # Every instance waits on its timer until then (nothing fired early).
    waiting = cluster.scalar(
        "SELECT count(DISTINCT t.instance_id) FROM timer t JOIN process_instance p "
        "ON p.id = t.instance_id WHERE p.definition_key = 'alarm'")
    print(f"{TIMER_INSTANCES} instances started in {time.monotonic() - began:.1f} s; "
          f"{waiting} timers were waiting then")
    passed = wait_for(lambda: cluster.scalar(
        "SELECT count(*) FROM task t JOIN process_instance p ON p.id = t.instance_id "
        "WHERE p.definition_key = 'alarm' AND t.element_id = 'after'") >= TIMER_INSTANCES,
        timeout=TIMER_MARGIN.total_seconds() + 120)
    assert passed, "the timers did not all fire"
    # Each instance's timer fired once, and led to one task after it.
    fired = cluster.rows(
        "SELECT h.instance_id, count(*) AS times, min(h.actor) AS actor FROM history_event h "
        "JOIN process_instance p ON p.id = h.instance_id "
        "WHERE p.definition_key = 'alarm' AND h.kind = 'timer_fired' GROUP BY h.instance_id")
    assert {r.instance_id for r in fired} == instances
    assert {(r.times, r.actor) for r in fired} == {(1, "scheduler")}
    afters = cluster.rows(
        "SELECT t.instance_id, count(*) AS tasks FROM task t JOIN process_instance p "
        "ON p.id = t.instance_id WHERE p.definition_key = 'alarm' AND t.element_id = 'after' "
        "GROUP BY t.instance_id")
    assert {r.instance_id for r in afters} == instances
    assert {r.tasks for r in afters} == {1}
    assert cluster.scalar("SELECT count(*) FROM timer t JOIN process_instance p "
                          "ON p.id = t.instance_id WHERE p.definition_key = 'alarm'") == 0
    # Both nodes' sweeps took part.
    by_node = cluster.counts(
        "SELECT n.node, count(*) FROM history_event h JOIN cluster_event_node n "
        "ON n.history_id = h.id JOIN process_instance p ON p.id = h.instance_id "
        "WHERE p.definition_key = 'alarm' AND h.kind = 'timer_fired' GROUP BY n.node")
    print(f"timers fired per node: {by_node}")
    assert set(by_node) == {"node-1", "node-2"}, by_node
    assert sum(by_node.values()) == TIMER_INSTANCES
    assert cluster.tracebacks() == []


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll ``condition`` twice a second until it holds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return condition()


# -- 3. messages correlated from both nodes -----------------------------------------------

MESSAGE_INSTANCES = 30


def test_messages_from_both_nodes_reach_each_instance_once(cluster: Cluster) -> None:
    one, two = cluster.nodes
    deploy(one, "await", with_message(
        chain("await", message_catch("paid", "Message_paid"), user_task("after")),
        "Message_paid", "payment-confirmed"))
    for node in cluster.nodes:
        node.token("upp")
    keys = [f"pay-{i}" for i in range(MESSAGE_INSTANCES)]
    instances = dict(zip(keys, in_parallel([
        lambda key=key, i=i: start(cluster.nodes[i % 2], "await",  # type: ignore[misc]
                                   business_key=key)
        for i, key in enumerate(keys)]), strict=True))

    def by_api(node: Node, key: str) -> requests.Response:
        return requests.post(f"{node.base}/api/v1/messages", headers=node.headers("upp"),
                             json={"name": "payment-confirmed", "business_key": key,
                                   "variables": {"paid_via": node.name}}, timeout=120)

    def by_engine_rest(node: Node, key: str) -> requests.Response:
        return requests.post(f"{node.base}/engine-rest/message", headers=node.headers("upp"),
                             json={"messageName": "payment-confirmed",
                                   "processInstanceId": instances[key], "resultEnabled": True,
                                   "processVariables": {
                                       "paid_via": {"value": node.name, "type": "String"}}},
                             timeout=120)

    def pair(i: int, key: str) -> tuple[str, list[requests.Response]]:
        # Both nodes at the same moment; one through /api/v1, the other /engine-rest.
        first, second = (one, two) if i % 2 else (two, one)
        return key, race([lambda: by_api(first, key), lambda: by_engine_rest(second, key)])

    # Three such pairs run at once.
    pairs = in_parallel([lambda i=i, key=key: pair(i, key)  # type: ignore[misc]
                         for i, key in enumerate(keys)], threads=3)
    for key, answers in pairs:
        statuses = sorted(a.status_code for a in answers)
        assert statuses in ([200, 404], [200, 409]), \
            [(a.status_code, a.text[:200]) for a in answers]
        winner, loser = sorted(answers, key=lambda a: a.status_code)
        won = winner.json()
        assert (won["instance"]["id"] if "instance" in won else
                won[0]["processInstance"]["id"]) == instances[key], winner.text
        failure = loser.json()
        # /api/v1 answers a problem document, /engine-rest Camunda's error; both say why.
        assert "payment-confirmed" in failure.get("detail", failure.get("message")), loser.text
    print("losers:", Counter(f"{a.url.split('/')[3]} {a.status_code}"
                             for _, answers in pairs for a in answers if a.status_code != 200))
    received = cluster.rows(
        "SELECT h.instance_id, count(*) AS times FROM history_event h "
        "JOIN process_instance p ON p.id = h.instance_id "
        "WHERE p.definition_key = 'await' AND h.kind = 'message_received' "
        "GROUP BY h.instance_id")
    assert {r.instance_id for r in received} == set(instances.values())
    assert {r.times for r in received} == {1}
    afters = cluster.rows(
        "SELECT t.instance_id, count(*) AS tasks FROM task t JOIN process_instance p "
        "ON p.id = t.instance_id WHERE p.definition_key = 'await' AND t.element_id = 'after' "
        "GROUP BY t.instance_id")
    assert {r.instance_id for r in afters} == set(instances.values())
    assert {r.tasks for r in afters} == {1}
    assert cluster.scalar("SELECT count(*) FROM event_subscription s JOIN process_instance p "
                          "ON p.id = s.instance_id WHERE p.definition_key = 'await'") == 0
    assert cluster.tracebacks() == []
