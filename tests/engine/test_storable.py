"""What a variable may hold: the quick check agrees with the encoder on every value,
a completion re-checks only the values it changes, and a reader gets its own copy."""

from __future__ import annotations

import random
from collections import OrderedDict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from engine.composition import Engine
from engine.errors import InvalidInput
from engine.models import Task
from engine.scripting import UnstorableValue, check_storable
from engine.scripting.values import _STORABLE, MAX_DEPTH, copy_data
from tests.builders import linear_user_tasks

_LEAVES: list[Any] = [None, True, 0, -7, 10**5000, 1.5, -0.0, float("nan"), float("inf"),
                      "teks", date(2027, 1, 2), datetime(2027, 1, 2, 3, tzinfo=UTC),
                      time(8), timedelta(days=1), b"x", {1, 2}, OrderedDict(a=1)]


def _value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.5:
        return rng.choice(_LEAVES)
    items = [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if roll < 0.7:
        return items
    if roll < 0.8:
        return tuple(items)
    keys: list[Any] = ["a", "b", "\x00", 3]
    return {rng.choice(keys) if rng.random() < 0.2 else f"k{n}": item
            for n, item in enumerate(items)}


def _nested(depth: int, leaf: Any) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def _encoder_says(value: Any) -> str | None:
    try:
        _STORABLE.encode(value, "x")
    except UnstorableValue as exc:
        return exc.message
    return None


def _check_says(value: Any) -> str | None:
    try:
        check_storable("x", value)
    except UnstorableValue as exc:
        return exc.message
    return None


def test_the_quick_check_refuses_exactly_what_the_encoder_refuses() -> None:
    rng = random.Random(20)
    values = [_value(rng, 0) for _ in range(3000)]
    values += [_nested(MAX_DEPTH - 1, 1), _nested(MAX_DEPTH, 1),
               _nested(MAX_DEPTH - 1, date(2027, 1, 1)), _nested(MAX_DEPTH, date(2027, 1, 1)),
               _nested(MAX_DEPTH + 5, "teks")]
    refused = 0
    for value in values:
        expected = _encoder_says(value)
        assert _check_says(value) == expected, value
        refused += expected is not None
    assert 0 < refused < len(values)  # both kinds were tried


def _ready(engine: Engine, instance_id: str) -> str:
    with engine.read() as s:
        task_id: str = s.session.scalars(sa.select(Task.id).where(
            Task.instance_id == instance_id, Task.state == "ready")).one()
        return task_id


def test_a_completion_refuses_a_changed_value_and_takes_an_unchanged_one(
        engine: Engine) -> None:
    rows = [{"no": n, "hasil": "memenuhi"} for n in range(50)]
    with engine.write() as s:
        s.deployments.deploy([("linear.bpmn", linear_user_tasks("linear", 3).encode())])
        instance_id = s.runtime.start_instance("linear", variables={"rows": rows}).id
    first = _ready(engine, instance_id)
    bad = [*rows[:-1], {"no": 49, "hasil": {1, 2}}]
    with pytest.raises(InvalidInput) as refused, engine.write() as s:
        s.runtime.complete_task(first, {"rows": bad}, actor="u")
    assert "rows[49]['hasil'] holds a set" in refused.value.errors["rows"]
    # The same data sent back (a fresh copy, as a form posts it): taken, nothing changes.
    with engine.write() as s:
        s.runtime.complete_task(first, {"rows": [dict(row) for row in rows]}, actor="u")
    second = _ready(engine, instance_id)
    with engine.read() as s:
        assert s.runtime.task_data(s.runtime.instance(instance_id), second) == {"rows": rows}
    with pytest.raises(InvalidInput), engine.write() as s:
        s.runtime.complete_task(second, {"rows": [*rows, float("inf")]}, actor="u")


def test_a_readers_copy_shares_no_container_with_the_data() -> None:
    inner = {"nilai": [1, 2]}
    data = {"rows": [inner, inner], "pair": ([3], "x"), "odd": {5, 6},
            "when": datetime(2027, 1, 2, tzinfo=UTC), "n": 1.5}
    copied = copy_data(data)
    assert copied == data
    copied["rows"][0]["nilai"].append(3)
    copied["rows"][1]["nilai"].append(4)
    copied["pair"][0].append(4)
    copied["odd"].add(7)
    assert data == {"rows": [inner, inner], "pair": ([3], "x"), "odd": {5, 6},
                    "when": datetime(2027, 1, 2, tzinfo=UTC), "n": 1.5}
    assert inner == {"nilai": [1, 2]}
