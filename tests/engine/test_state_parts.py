"""An instance state's unchanging beginning in rows of its own (revision 0019): written
once, read back with the rest, gone when the instance finishes, joined again by the
downgrade."""

from __future__ import annotations

import json
import random
import tracemalloc
import zlib
from typing import Any

import sqlalchemy as sa
from alembic import command as alembic_command
from sqlalchemy.dialects import sqlite

from engine.archive.rows import instance_links
from engine.bpmn.state_codec import (
    PART,
    TaskMemo,
    compress_state,
    has_parts,
    split_state,
    whole_state,
)
from engine.composition import Engine
from engine.models import ProcessInstance, ProcessInstanceStatePart, Task
from engine.models.history import HistoryData
from engine.persistence.migrate import alembic_config
from tests.builders import linear_user_tasks
from tests.instances import stored_state

# Some 60 KB of JSON that compresses to well over a part's length.
BIG = [{"no": i, "hasil": f"uji-{i * 7919 % 100003}"} for i in range(2500)]


def _parts(engine: Engine, instance_id: str) -> list[tuple[int, bytes]]:
    with engine.read() as s:
        return [(seq, bytes(data)) for seq, data in s.session.execute(
            sa.select(ProcessInstanceStatePart.seq, ProcessInstanceStatePart.data)
            .where(ProcessInstanceStatePart.instance_id == instance_id)
            .order_by(ProcessInstanceStatePart.seq))]


def _rest(engine: Engine, instance_id: str) -> bytes:
    with engine.read() as s:
        return bytes(s.session.scalars(sa.select(ProcessInstance.state)
                                       .where(ProcessInstance.id == instance_id)).one())


def _complete_next(engine: Engine, instance_id: str, data: dict[str, Any]) -> None:
    with engine.write() as s:
        task_id = s.session.scalars(sa.select(Task.id).where(
            Task.instance_id == instance_id, Task.state == "ready")).one()
        s.runtime.complete_task(task_id, data, actor="u")


def _start(engine: Engine, steps: int) -> str:
    with engine.write() as s:
        s.deployments.deploy([("linear.bpmn", linear_user_tasks("linear", steps).encode())])
        return s.runtime.start_instance("linear", variables={"hasil_uji": BIG, "n": 0}).id


def test_a_big_unchanged_variable_is_written_once_in_a_part(engine: Engine) -> None:
    # The engine fixture keeps no workflow cache: every command rebuilds the instance
    # from its parts and the rest.
    instance_id = _start(engine, 4)
    first = _parts(engine, instance_id)
    assert first and len(first[0][1]) > len(zlib.compress(b"x" * 8000))
    for step in range(2):
        _complete_next(engine, instance_id, {"n": step + 1})
        rest = _rest(engine, instance_id)
        parts = _parts(engine, instance_id)
        # The part holding the variable is not written again; the row keeps a small rest.
        assert parts[:len(first)] == first
        assert len(rest) < 2 * PART < len(first[0][1])
        assert b"uji-" in zlib.decompress(stored_state(engine, instance_id))
    with engine.read() as s:
        variables = s.runtime.variables(s.runtime.instance(instance_id))
    assert variables == {"hasil_uji": BIG, "n": 2}


def test_a_finished_instance_is_stored_whole_without_parts(engine: Engine) -> None:
    instance_id = _start(engine, 2)
    assert _parts(engine, instance_id)
    for step in range(2):
        _complete_next(engine, instance_id, {"n": step + 1})
    with engine.read() as s:
        row = s.runtime.instance(instance_id)
        variables = s.runtime.variables(row)
        assert row.status == "completed"
    assert _parts(engine, instance_id) == []
    assert b"uji-" in zlib.decompress(_rest(engine, instance_id))
    assert variables == {"hasil_uji": BIG, "n": 2}


def test_a_state_stored_whole_before_is_read_and_then_cut(engine: Engine) -> None:
    instance_id = _start(engine, 3)
    whole = stored_state(engine, instance_id)
    with engine.write() as s:  # the row as the code before 0019 wrote it
        s.session.execute(sa.delete(ProcessInstanceStatePart))
        s.session.execute(sa.update(ProcessInstance).where(ProcessInstance.id == instance_id)
                          .values(state=whole))
    _complete_next(engine, instance_id, {"n": 1})
    parts = _parts(engine, instance_id)
    assert parts and len(_rest(engine, instance_id)) < 2 * PART
    _complete_next(engine, instance_id, {"n": 2})
    with engine.read() as s:
        assert s.runtime.variables(s.runtime.instance(instance_id)) == {"hasil_uji": BIG, "n": 2}


def test_a_part_is_cut_only_from_the_unchanging_beginning() -> None:
    memo = TaskMemo()
    memo.reset()
    noise = random.Random(1).randbytes(3 * PART)
    memo.append(b'"t1":' + noise)  # the finished tasks, hard to compress
    stable = 2 + sum(map(len, memo.compressed))
    blob = b"\x78\x01" + b"".join(memo.compressed) + b"the rest"
    first = split_state(memo, blob)
    assert (first.part, first.seq, first.rest, first.drop) == (blob[:stable], 0, b"the rest",
                                                               False)
    # Nothing new in the beginning: no part, the rest only.
    again = split_state(memo, blob + b"!")
    assert (again.part, again.rest, again.drop) == (None, b"the rest!", False)
    # A small addition stays in the rest until it makes a part's length.
    memo.append(b',"t2":{}')
    small = split_state(memo, b"\x78\x01" + b"".join(memo.compressed) + b"end")
    assert small.part is None and small.rest.endswith(b"end") and len(small.rest) > 3
    # The beginning compressed anew: the rows stored before go, a new first part comes.
    memo.reset()
    memo.append(b'"t1":' + noise[::-1])
    anew = split_state(memo, b"\x78\x01" + b"".join(memo.compressed) + b"end")
    assert anew.drop and anew.seq == 0 and anew.part is not None and anew.rest == b"end"
    # A rest after parts never begins with zlib's first byte, as a whole state does:
    # the cut moves back past it.
    fresh = TaskMemo()
    fresh.reset()
    fresh.append(b'"t1":' + noise)
    stable = 2 + sum(map(len, fresh.compressed))
    stream = b"\x78\x01" + b"".join(fresh.compressed) + b"\x78\x78rest"
    moved = split_state(fresh, stream)
    assert moved.part == stream[:stable - 1] and moved.rest == stream[stable - 1:]
    assert moved.rest[:1] != b"\x78" and has_parts(moved.rest)
    assert not has_parts(stream) and not has_parts(zlib.compress(b"{}", 6))
    # A finished state is written whole, instead of the rows.
    assert whole_state(memo, b"finished") == type(anew)(b"finished", drop=True)
    assert whole_state(memo, b"again").drop is False


def test_the_downgrade_joins_the_parts_back_into_the_state(engine: Engine) -> None:
    running = _start(engine, 3)
    _complete_next(engine, running, {"n": 1})
    stream = stored_state(engine, running)
    assert _parts(engine, running)
    db = engine.db.engine
    with db.begin() as conn:
        config = alembic_config(db.url.render_as_string(hide_password=False),
                                engine.setup.migration_folders)
        config.attributes["connection"] = conn
        alembic_command.downgrade(config, "0018")
    try:
        with db.connect() as conn:
            assert "process_instance_state_part" not in sa.inspect(conn).get_table_names()
        assert _rest(engine, running) == stream
    finally:
        engine.migrate()
    # Back at the head, the state whole in the row reads and runs on.
    _complete_next(engine, running, {"n": 2})
    with engine.read() as s:
        assert s.runtime.variables(s.runtime.instance(running)) == {"hasil_uji": BIG, "n": 2}


def test_the_parts_go_with_their_instance(engine: Engine) -> None:
    instance_id = _start(engine, 3)
    assert _parts(engine, instance_id)
    # The archive moves (and its copies in bench/ clone) every table that refers to
    # an instance; the parts are found so.
    assert "process_instance_state_part" in {link.name for link in instance_links()}
    with engine.write() as s:
        s.session.execute(sa.delete(ProcessInstance).where(ProcessInstance.id == instance_id))
    assert _parts(engine, instance_id) == []


def test_a_state_without_parts_is_rebuilt_without_reading_them(engine: Engine) -> None:
    with engine.write() as s:
        s.deployments.deploy([("linear.bpmn", linear_user_tasks("linear", 3).encode())])
        small = s.runtime.start_instance("linear", variables={"n": 0}).id
    big = _start(engine, 3)
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    sa.event.listen(engine.db.engine, "before_cursor_execute", record)
    try:
        # No workflow cache (the engine fixture): each completion rebuilds its instance.
        _complete_next(engine, small, {"n": 1})
        without = [q for q in seen if "process_instance_state_part" in q]
        seen.clear()
        _complete_next(engine, big, {"n": 1})
        with_parts = [q for q in seen if "process_instance_state_part" in q]
    finally:
        sa.event.remove(engine.db.engine, "before_cursor_execute", record)
    assert _parts(engine, small) == [] and without == []
    assert [q.split()[0] for q in with_parts][:1] == ["SELECT"]


def test_a_save_compresses_with_small_compressors() -> None:
    # zlib's default compressor takes about 270 KB, which the server's fixed malloc
    # thresholds (api.server) handed back and took again for every one of a save's
    # compressors; the state's and the history's take about 70 KB.
    parts = [f'"t{n}":' + json.dumps({"state": 64, "data": {"n": n, "note": "ok" * n}})
             for n in range(40)]
    head = json.dumps({"format": "test", "data": {"a": 1}})
    history = {"variables": {f"field_{n}": f"value {n}" for n in range(50)}}
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        memo = TaskMemo()
        first = compress_state(memo, parts, 30, head)
        second = compress_state(memo, [*parts, '"t40":{}'], 35, head)
        packed = HistoryData().process_bind_param(history, sqlite.dialect())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - before < 150 * 1024
    # The same text comes back, from any zlib reader.
    assert json.loads(zlib.decompress(first))["format"] == "test"
    assert '"t40":{}' in zlib.decompress(second).decode()
    assert type(packed) is bytes
    assert HistoryData().process_result_value(packed, sqlite.dialect()) == history
