"""Large values in the history are stored once per instance and read back unchanged.

Against the real database of the test run (SQLite, or PostgreSQL with
``--database=postgresql``): the rows of ``history_value`` and the bytes of the
events are counted, and what the readers give back is compared with what was
recorded.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import sqlalchemy as sa

from engine.composition import Engine
from engine.identity.access import ADMIN, Actor
from engine.models import HistoryEvent, HistoryValue
from engine.queries import history_values
from engine.queries.history import HistoryLog, jsonable
from tests.builders import linear_user_tasks
from tests.instances import ready as ready_tasks


def big_results(seed: str = "ok") -> list[dict[str, Any]]:
    """About 20 KB of JSON: a list of test results, as a laboratory report gives."""
    return [{"clause": f"7.{n}", "result": seed, "measured": n * 1.5, "note": "x" * 40}
            for n in range(200)]


def deploy(engine: Engine, steps: int = 3) -> None:
    with engine.write() as s:
        s.deployments.deploy([("linear.bpmn", linear_user_tasks("linear", steps).encode())])


def stored_values(engine: Engine, instance_id: str) -> list[HistoryValue]:
    with engine.read() as s:
        rows = list(s.session.scalars(sa.select(HistoryValue).where(
            HistoryValue.instance_id == instance_id)))
        s.session.expunge_all()
        return rows


def raw_events(engine: Engine, instance_id: str) -> list[tuple[str, Any]]:
    """Kind and data of each event as stored (references not resolved)."""
    with engine.read() as s:
        return [(kind, data) for kind, data in s.session.execute(
            sa.select(HistoryEvent.kind, HistoryEvent.data)
            .where(HistoryEvent.instance_id == instance_id).order_by(HistoryEvent.id))]


def read_history(engine: Engine, instance_id: str) -> list[tuple[str, Any]]:
    """Kind and data of each event as the API reads them (one page)."""
    with engine.read() as s:
        page = s.queries.history(Actor.of("admin", [ADMIN]), instance_id, per_page=100)
        return [(e.kind, e.data) for e in page.items]


def run_resubmitting(engine: Engine, big: Any) -> str:
    """Start with ``big``; every task's form sends it back unchanged with a small answer."""
    with engine.write() as s:
        instance = s.runtime.start_instance(
            "linear", business_key="APP-1", variables={"hasil_uji": big, "produk": "helm"})
    for step in (1, 2, 3):
        (task,) = ready_tasks(engine, instance.id)
        with engine.write() as s:
            s.runtime.complete_task(task.id, {"hasil_uji": big, "langkah": step}, actor="bob")
    return instance.id


def test_a_large_value_resubmitted_at_every_task_is_stored_once(engine: Engine) -> None:
    deploy(engine)
    big = big_results()
    instance_id = run_resubmitting(engine, big)

    (row,) = stored_values(engine, instance_id)
    text = json.dumps(big, separators=(",", ":")).encode()
    assert row.size == len(text) and len(row.value) < len(text) / 4  # compressed
    # The events keep only references: together far smaller than one copy of the value.
    stored = raw_events(engine, instance_id)
    assert sum(len(json.dumps(data)) for _, data in stored) < len(text) / 4
    started = dict(stored)["instance_started"]
    assert started["variables"] == {"hasil_uji": None, "produk": "helm"}
    assert started[history_values.REFS] == [[["variables", "hasil_uji"], row.hash]]

    history = read_history(engine, instance_id)
    assert [k for k, _ in history].count("task_completed") == 3
    assert history[0] == ("instance_started", {
        "variables": {"hasil_uji": big, "produk": "helm"}, "business_key": "APP-1",
        "definition_id": started["definition_id"]})
    completions = [data for kind, data in history if kind == "task_completed"]
    assert completions == [{"variables": {"hasil_uji": big, "langkah": n}} for n in (1, 2, 3)]


def test_a_changed_value_is_stored_again_and_each_event_shows_its_own(engine: Engine) -> None:
    deploy(engine, 2)
    first, second = big_results("ok"), big_results("gagal")
    with engine.write() as s:
        instance = s.runtime.start_instance("linear", variables={"hasil_uji": first})
    (task,) = ready_tasks(engine, instance.id)
    with engine.write() as s:
        s.runtime.complete_task(task.id, {"hasil_uji": second}, actor="bob")
    assert len(stored_values(engine, instance.id)) == 2
    history = dict(read_history(engine, instance.id))
    assert history["instance_started"]["variables"] == {"hasil_uji": first}
    assert history["task_completed"] == {"variables": {"hasil_uji": second}}


def test_each_instance_keeps_its_own_copy(engine: Engine) -> None:
    # Stored per instance, so that a value goes with its instance and one
    # instance's history never depends on another's.
    deploy(engine)
    big = big_results()
    one, two = run_resubmitting(engine, big), run_resubmitting(engine, big)
    assert len(stored_values(engine, one)) == len(stored_values(engine, two)) == 1
    assert dict(read_history(engine, two))["instance_started"]["variables"]["hasil_uji"] == big


def test_small_values_and_other_types_stay_in_the_event(engine: Engine) -> None:
    deploy(engine, 1)
    variables = {"tanggal": date(2027, 3, 1), "jumlah": 5, "catatan": "a" * 500,
                 "daftar": ["x"] * 10, "kosong": {}}
    with engine.write() as s:
        instance = s.runtime.start_instance("linear", variables=variables)
    assert stored_values(engine, instance.id) == []
    started = dict(raw_events(engine, instance.id))["instance_started"]
    assert history_values.REFS not in started
    assert started["variables"] == {**variables, "tanggal": "2027-03-01"}


def test_large_top_level_values_and_strings_and_the_history_log_reader(engine: Engine) -> None:
    deploy(engine, 1)
    reason = "Pemohon menarik permohonan. " * 200
    text = "é" * 3000  # non-ASCII: bytes count, not characters
    with engine.write() as s:
        instance = s.runtime.start_instance("linear", variables={"uraian": text})
    with engine.write() as s:
        s.runtime.cancel(instance.id, actor="admin", reason=reason)
    assert len(stored_values(engine, instance.id)) == 2
    assert dict(raw_events(engine, instance.id))["instance_cancelled"]["reason"] is None
    with engine.read() as s:
        events = HistoryLog(s.session, engine.clock).events(instance.id)
        got = {e.kind: e.data for e in events}
        # Resolving only shows the values: nothing is written back by the session.
        assert not s.session.dirty
    assert got["instance_cancelled"] == {"reason": reason}
    assert got["instance_started"]["variables"] == {"uraian": text}


def test_split_and_join_give_the_data_back() -> None:
    big = big_results()
    data = {"variables": {"a": big, "b": 1, "c": big}, "reason": "x" * 5000, "n": None}
    stored, rows = history_values.split("i-1", data)
    assert len(rows) == 2  # the same value twice in one event: one row
    assert stored["variables"] == {"a": None, "b": 1, "c": None}
    assert data["variables"]["a"] is big  # the caller's data is left alone
    values = {("i-1", r["hash"]): json.loads(r["text"]) for r in rows}
    assert history_values.joined("i-1", stored, values) == data
    assert history_values.split("i-1", {"variables": {"b": 1}}) == ({"variables": {"b": 1}}, [])


def test_a_non_finite_number_in_a_large_value_reads_back_as_null() -> None:
    # As in the event's own JSON column (PostgreSQL has no NaN in json).
    data = {"variables": {"a": [1.5, float("nan")] * 600}}
    stored, (row,) = history_values.split("i-1", data)
    values = {("i-1", row["hash"]): json.loads(row["text"])}
    assert history_values.joined("i-1", stored, values) == {"variables": {"a": [1.5, None] * 600}}


def test_jsonable_turns_process_data_into_plain_json() -> None:
    class Code(str):
        pass

    data = {1: {2}, "a": (date(2027, 3, 1), None, True, 1.5, [{"k": Code("x"), "o": object}])}
    assert jsonable(data) == {"1": [2], "a": ["2027-03-01", None, True, 1.5,
                                              [{"k": "x", "o": str(object)}]]}
