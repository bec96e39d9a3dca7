"""``camunda:historyTimeToLive``: read per definition version, checked at deployment,
and honoured by ``Archiver.run_by_history_ttl`` as Camunda's history cleanup would.

Against the real database of the test run (SQLite, or PostgreSQL with
``--database=postgresql``), on a frozen clock.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.archive import Archiver
from engine.bpmn.parser import history_ttl_days
from engine.bpmn.validation import parse_history_ttl
from engine.composition import Engine
from engine.errors import DeploymentRejected
from engine.time.clock import FrozenClock
from tests.builders import linear_user_tasks
from tests.instances import live, the_ready_task


def with_ttl(key: str, ttl: str | None, *, steps: int = 1) -> bytes:
    """A one-task process, with ``camunda:historyTimeToLive`` when ``ttl`` is given."""
    xml = linear_user_tasks(key, steps)
    if ttl is not None:
        xml = xml.replace('isExecutable="true"',
                          f'isExecutable="true" camunda:historyTimeToLive="{ttl}"', 1)
    return xml.encode()


def deploy(engine: Engine, key: str, ttl: str | None, *, steps: int = 1) -> str:
    with engine.write() as s:
        s.deployments.deploy([(f"{key}.bpmn", with_ttl(key, ttl, steps=steps))])
        return s.deployments.latest(key).id


def finished(engine: Engine, key: str) -> str:
    with engine.write() as s:
        instance_id = s.runtime.start_instance(key).id
    task = the_ready_task(engine, instance_id)
    with engine.write() as s:
        s.runtime.complete_task(task.id, {}, actor="bob")
    return instance_id


@pytest.mark.parametrize(("text", "days"), [("0", 0), ("180", 180), ("P180D", 180),
                                             (" P7D ", 7)])
def test_days_and_day_durations_are_read(text: str, days: int) -> None:
    assert parse_history_ttl(text) == days


@pytest.mark.parametrize("text", ["-1", "P6M", "PT12H", "P1Y", "1.5", "P-1D", "P180", "lama"])
def test_other_values_are_not_days(text: str) -> None:
    with pytest.raises(ValueError):
        parse_history_ttl(text)


def test_each_deployed_version_keeps_its_own_ttl(engine: Engine, archiver: Archiver) -> None:
    first = deploy(engine, "kept", "30")
    second = deploy(engine, "kept", "P100D", steps=2)
    none = deploy(engine, "forever", None)

    assert archiver.history_ttls() == {first: 30, second: 100}
    with engine.read() as s:
        xml = s.deployments.get(none).bpmn_xml
    assert history_ttl_days(xml, "forever") is None


@pytest.mark.parametrize("ttl", ["P6M", "-5", "PT12H"])
def test_a_ttl_that_is_not_days_is_refused_at_deployment(engine: Engine, ttl: str) -> None:
    with pytest.raises(DeploymentRejected) as caught, engine.write() as s:
        s.deployments.deploy([("kept.bpmn", with_ttl("kept", ttl))])

    (problem,) = caught.value.problems
    assert problem.element == "kept" and problem.line is not None
    assert f'history time to live "{ttl}" is not a number of days' in str(problem)
    with engine.read() as s:
        assert s.deployments.definitions() == []


def test_a_version_stored_before_the_check_with_months_keeps_its_instances(
        engine: Engine, clock: FrozenClock, archiver: Archiver) -> None:
    definition_id = deploy(engine, "kept", "30")
    instance_id = finished(engine, "kept")
    with engine.write() as s:  # as an older sertiflow, which did not check it, stored it
        stored = s.deployments.get(definition_id)
        stored.bpmn_xml = stored.bpmn_xml.replace('"30"', '"P6M"')
    clock.advance(timedelta(days=400))

    assert archiver.history_ttls() == {}
    assert archiver.run_by_history_ttl().instances == 0 and live(engine, instance_id)


def test_only_instances_past_their_versions_ttl_are_archived(
        engine: Engine, clock: FrozenClock, archiver: Archiver) -> None:
    deploy(engine, "kept", "30")
    deploy(engine, "forever", None)
    old = [finished(engine, "kept"), finished(engine, "kept")]
    never = finished(engine, "forever")
    deploy(engine, "kept", "P100D", steps=2)  # a new version keeps its history longer
    with engine.write() as s:
        running = s.runtime.start_instance("kept").id
    clock.advance(timedelta(days=20))
    recent = finished(engine, "forever")
    clock.advance(timedelta(days=15))

    run = archiver.run_by_history_ttl(batch_size=1)

    assert run.instances == 2 and run.batches == 2 and run.completed_before is None
    assert not any(live(engine, i) for i in old)
    assert all(live(engine, i) for i in (never, recent, running))
    assert {r["instance"] for f in archiver.files() for r in f.records()} == set(old)
    assert run.path is not None and archiver.files()[0].header()["history_ttl_days"]
    # Nothing else is due: the next run leaves no file.
    assert archiver.run_by_history_ttl().path is None


def test_a_version_with_a_longer_ttl_keeps_its_instances_until_then(
        engine: Engine, clock: FrozenClock, archiver: Archiver) -> None:
    deploy(engine, "kept", "30")
    deploy(engine, "kept", "P100D", steps=2)
    with engine.write() as s:
        instance_id = s.runtime.start_instance("kept").id
    for _ in range(2):
        task = the_ready_task(engine, instance_id)
        with engine.write() as s:
            s.runtime.complete_task(task.id, {}, actor="bob")

    clock.advance(timedelta(days=99))
    assert archiver.run_by_history_ttl().instances == 0
    clock.advance(timedelta(days=2))
    assert archiver.run_by_history_ttl().instances == 1
    assert not live(engine, instance_id)
