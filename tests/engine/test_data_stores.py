"""Data stores kept in the database (engine.data_stores): shared, exact, and no lost write.

Instances that read, add to and write one store at the same moment must not lose
each other's additions: on SQLite writers take turns; on PostgreSQL the read locks
the store's row (and a store never written gets its row at the first read).
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from engine.composition import Engine
from engine.config import load_settings
from engine.persistence.migrate import upgrade
from engine.runtime.data_stores import read_data_store
from engine.time.clock import FrozenClock
from tests.builders import definitions, process

RACERS = 6
COUNTER = definitions("counter", process("counter", (
    '<bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="count" />'
    '<bpmn:scriptTask id="count" scriptFormat="python">'
    '<bpmn:property id="p1" name="__targetRef_placeholder" />'
    '<bpmn:dataInputAssociation id="in1"><bpmn:sourceRef>ref</bpmn:sourceRef>'
    "<bpmn:targetRef>p1</bpmn:targetRef></bpmn:dataInputAssociation>"
    '<bpmn:dataOutputAssociation id="out1"><bpmn:targetRef>ref</bpmn:targetRef>'
    "</bpmn:dataOutputAssociation>"
    "<bpmn:script>tally = tally + [who]</bpmn:script>"
    '</bpmn:scriptTask><bpmn:sequenceFlow id="f2" sourceRef="count" targetRef="e" />'
    '<bpmn:endEvent id="e" /><bpmn:dataStoreReference id="ref" name="tally" />')))


def _race(engine: Engine) -> list[str]:
    barrier = threading.Barrier(RACERS)
    errors: list[str] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            with engine.write() as s:
                s.runtime.start_instance("counter", variables={"tally": [], "who": i})
        except Exception as exc:  # reported by the assertion below
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


def _check(engine: Engine) -> None:
    with engine.write() as s:
        s.deployments.deploy([("counter.bpmn", COUNTER.encode())])
    assert _race(engine) == []
    with engine.read() as s:
        found, value = read_data_store(s.session, "tally")
    assert found
    assert sorted(value) == list(range(RACERS))


def test_instances_adding_to_one_store_at_once_on_sqlite(engine: Engine) -> None:
    _check(engine)


@pytest.mark.postgres
def test_instances_adding_to_one_store_at_once_on_postgres(postgres_url: str,
                                                           tmp_path: Path) -> None:
    settings = load_settings({"DATABASE_URL": postgres_url, "SERTIFLOW_SECRET_KEY": "x",
                              "SERTIFLOW_INSTANCE_PATH": str(tmp_path)})
    engine = Engine(settings, clock=FrozenClock(datetime(2027, 3, 1, tzinfo=UTC)))
    upgrade(engine.db.engine)
    try:
        _check(engine)
    finally:
        engine.close()


def test_a_store_keeps_what_a_script_left_exactly(engine: Engine) -> None:
    """Dates stay dates, and a dict with a "typename" key stays a dict."""
    body = COUNTER.replace("tally = tally + [who]",
                           "tally = {'typename': 'x', 'at': date(2027, 1, 2)}")
    with engine.write() as s:
        s.deployments.deploy([("counter.bpmn", body.encode())])
        s.runtime.start_instance("counter", variables={"tally": None, "who": 0})
    with engine.read() as s:
        assert read_data_store(s.session, "tally") == (
            True, {"typename": "x", "at": date(2027, 1, 2)})
        assert read_data_store(s.session, "never_written") == (False, None)
