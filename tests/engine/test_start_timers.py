"""Processes with a timer start event start by themselves, on the engine's clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from engine.composition import Engine
from engine.config import Settings
from engine.models import HistoryEvent, ProcessInstance, StartTimer, Task
from engine.time.clock import FrozenClock
from engine.time.timers import TimerSweep
from tests.builders import definitions, process


def _process(timer: str, task: str = "work") -> str:
    return definitions("tick", process("tick", f"""\
    <bpmn:startEvent id="start"><bpmn:timerEventDefinition id="t">{timer}</bpmn:timerEventDefinition></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="{task}" />
    <bpmn:userTask id="{task}" camunda:candidateGroups="ppc" />
    <bpmn:sequenceFlow id="f2" sourceRef="{task}" targetRef="end" />
    <bpmn:endEvent id="end" />
"""))


def _deploy(engine: Engine, xml: str) -> None:
    with engine.write() as s:
        s.deployments.deploy([("tick.bpmn", xml.encode())])


def _instances(engine: Engine) -> int:
    with engine.read() as s:
        return int(s.session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance)) or 0)


def test_cycle_starts_an_instance_each_time_then_stops(engine: Engine, clock: FrozenClock
                                                      ) -> None:
    _deploy(engine, _process("<bpmn:timeCycle>R3/PT1H</bpmn:timeCycle>"))
    with engine.read() as s:
        (row,) = s.session.scalars(sa.select(StartTimer)).all()
    assert (row.due_at, row.remaining) == (clock.now() + timedelta(hours=1), 3)
    sweep = TimerSweep(engine)
    assert sweep.run_once() == 0 and _instances(engine) == 0
    for expected in (1, 2, 3, 3):
        clock.advance(timedelta(hours=1))
        sweep.run_once()
        assert _instances(engine) == expected
    with engine.read() as s:
        assert s.session.scalar(sa.select(sa.func.count()).select_from(StartTimer)) == 0
        tasks = s.session.scalars(sa.select(Task.element_id).where(Task.state == "ready")).all()
        starts = s.session.scalars(sa.select(HistoryEvent.data).where(
            HistoryEvent.kind == "timer_fired")).all()
    assert tasks == ["work"] * 3
    assert [d["kind"] for d in starts] == ["start"] * 3


def test_date_start_fires_once(engine: Engine, clock: FrozenClock) -> None:
    _deploy(engine, _process("<bpmn:timeDate>2027-03-02T08:00:00+07:00</bpmn:timeDate>"))
    sweep = TimerSweep(engine)
    clock.set(datetime(2027, 3, 2, 0, 59, tzinfo=UTC))
    sweep.run_once()
    assert _instances(engine) == 0
    clock.set(datetime(2027, 3, 2, 1, 0, tzinfo=UTC))
    sweep.run_once()
    clock.advance(timedelta(days=30))
    sweep.run_once()
    assert _instances(engine) == 1


def test_a_new_version_replaces_the_schedule(engine: Engine, clock: FrozenClock) -> None:
    _deploy(engine, _process("<bpmn:timeCycle>R/P1D</bpmn:timeCycle>"))
    _deploy(engine, _process("<bpmn:timeCycle>R/P1D</bpmn:timeCycle>"))  # unchanged
    with engine.read() as s:
        (first,) = s.session.scalars(sa.select(StartTimer)).all()
    _deploy(engine, _process("<bpmn:timeCycle>R/PT6H</bpmn:timeCycle>", task="other"))
    with engine.read() as s:
        (second,) = s.session.scalars(sa.select(StartTimer)).all()
    assert first.definition_id.startswith("tick:1:") and first.remaining == -1
    assert second.definition_id.startswith("tick:2:")
    assert second.due_at == clock.now() + timedelta(hours=6)
    clock.advance(timedelta(hours=13))
    TimerSweep(engine).run_once()
    with engine.read() as s:
        tasks = s.session.scalars(sa.select(Task.element_id)).all()
    assert tasks == ["other", "other"]


def test_start_timers_count_wall_clock_time_under_the_working_day_default(
        settings: Settings) -> None:
    """Saturday noon in Jakarta, SERTIFLOW_CALENDAR=working-days: R2/PT1H is due at one."""
    saturday = datetime(2026, 12, 5, 5, 0, tzinfo=UTC)
    engine = Engine(replace(settings, calendar="working-days"), clock=FrozenClock(saturday))
    _deploy(engine, _process("<bpmn:timeCycle>R2/PT1H</bpmn:timeCycle>"))
    with engine.read() as s:
        (row,) = s.session.scalars(sa.select(StartTimer)).all()
    assert row.due_at == saturday + timedelta(hours=1)
    engine.close()
