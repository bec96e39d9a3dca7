"""The state dump: incremental dumps equal full ones; data round-trips exactly."""

from __future__ import annotations

import gc
import json
import zlib
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from SpiffWorkflow.bpmn import BpmnEvent

from engine.bpmn import serializer
from engine.bpmn.compiler import compile_processes
from engine.bpmn.events import MergingMessageEventDefinition
from engine.bpmn.host import WorkflowScriptEngine
from engine.bpmn.live_workflow import LiveSubWorkflow
from engine.bpmn.registries import ENCODER
from engine.bpmn.registries import STATE as _STATE
from engine.bpmn.serializer import STATE_FORMAT, dump_state, escape_data, load_state
from engine.bpmn.state_codec import state_dict
from engine.bpmn.validation import read_bpmn
from engine.bpmn.workflow import DefinitionSpecs, ProcessRun
from engine.time.clock import FrozenClock
from tests.builders import calling, definitions, linear_user_tasks, process

LOOP = process("loop", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="split" />
    <bpmn:parallelGateway id="split" />
    <bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="work" />
    <bpmn:sequenceFlow id="f3" sourceRef="split" targetRef="side" />
    <bpmn:userTask id="side" />
    <bpmn:sequenceFlow id="f4" sourceRef="side" targetRef="join" />
    <bpmn:userTask id="work" />
    <bpmn:boundaryEvent id="late" cancelActivity="false" attachedToRef="work">
      <bpmn:timerEventDefinition id="t"><bpmn:timeCycle>R2/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f5" sourceRef="late" targetRef="note" />
    <bpmn:scriptTask id="note" scriptFormat="python"><bpmn:script>late_count = late_count + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f6" sourceRef="note" targetRef="noted" />
    <bpmn:endEvent id="noted" />
    <bpmn:sequenceFlow id="f7" sourceRef="work" targetRef="check" />
    <bpmn:exclusiveGateway id="check" default="again" />
    <bpmn:sequenceFlow id="done" sourceRef="check" targetRef="join"><bpmn:conditionExpression>${round &gt;= 2}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="again" sourceRef="check" targetRef="work" />
    <bpmn:parallelGateway id="join" />
    <bpmn:sequenceFlow id="f8" sourceRef="join" targetRef="end" />
    <bpmn:endEvent id="end" />
""")


def _specs() -> DefinitionSpecs:
    doc = read_bpmn("loop.bpmn", definitions("loop", LOOP).encode())
    assert doc.problems == []
    compiled, problems = compile_processes([doc], {})
    assert problems == []
    return DefinitionSpecs.from_stored(compiled["loop"].stored_spec)


def _full(run: ProcessRun) -> dict[str, object]:
    # No memo: everything encoded; the same notes (the search words) as the run's own.
    return state_dict(dump_state(run._wf, notes=run.notes()))


def test_dump_with_memo_equals_full_dump_at_every_step() -> None:
    clock = FrozenClock(datetime(2027, 1, 4, 1, 0, tzinfo=UTC))
    engine = WorkflowScriptEngine(clock=clock, timezone=UTC, instance_id="i",
                                  business_key=None, dispatch=lambda call: None)
    specs = _specs()
    run = ProcessRun.start(specs, {"late_count": 0, "round": 0}, engine)
    steps = 0
    while not run.completed:
        run.advance()
        incremental = state_dict(run.dump())
        assert incremental == _full(run)
        # A restored copy dumps to the same state too.
        notes: dict[str, Any] = {}
        copy = load_state(run.dump(), specs.spec, specs.subprocess_specs, notes=notes)
        assert state_dict(dump_state(copy, notes=notes)) == incremental
        ready = sorted(run.ready_user_tasks(), key=lambda v: v.element_id)
        if steps in (1, 2):
            # A cycle timer changes its own state (next due time) while it waits.
            clock.advance(timedelta(hours=1, seconds=1))
            run.fire_timers()
        elif ready:
            view = ready[0]
            data = {"round": view.data.get("round", 0) + 1} if view.element_id == "work" else {}
            run.complete_user_task(view.id, data)
        steps += 1
        assert steps < 20
    assert run.variables()["round"] == 2
    # The non-interrupting timer's branch ran twice (its data stays on its own branch).
    notes = [t for t in run._wf.get_tasks() if t.task_spec.name == "note"]
    assert [t.data["late_count"] for t in notes] == [1, 1]


# -- process data -----------------------------------------------------------------------

def _script_engine() -> WorkflowScriptEngine:
    clock = FrozenClock(datetime(2027, 1, 4, 1, 0, tzinfo=UTC))
    return WorkflowScriptEngine(clock=clock, timezone=UTC, instance_id="i",
                                business_key=None, dispatch=lambda call: None)


# Plain data shaped like SpiffWorkflow's markers of typed values, at several depths.
MARKED: dict[str, Any] = {
    "x": {"typename": "datetime", "value": "2020-01-01T00:00:00"},
    "y": {"typename": "BpmnProcessSpec"},
    "z": {"typename": "NoSuchType", "a": [1, {"typename": "date"}]},
    "envelope": {"typename": "sertiflow.PlainDict", "dict": {"typename": "Task"}},
    "deep": ({"k": [{"typename": {"typename": "UUID"}}]},),
}
# Values the engine itself keeps as objects, alone and inside marker-shaped dicts.
TYPED: dict[str, Any] = {
    "when": datetime(2027, 1, 31, 8, 30, tzinfo=UTC),
    "day": date(2027, 1, 31),
    "span": timedelta(days=2, seconds=5),
    "ref": UUID("12345678-1234-5678-1234-567812345678"),
}
MIXED = {"typename": "datetime", "at": TYPED["when"], "inner": [TYPED["day"], MARKED["y"]]}


def _as_stored(value: Any) -> Any:
    """What a value reads back as: JSON has no tuples."""
    if isinstance(value, dict):
        return {k: _as_stored(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_as_stored(v) for v in value]
    return value


def _reloaded(run: ProcessRun, specs: DefinitionSpecs) -> ProcessRun:
    return ProcessRun.restore(run.dump(), specs, _script_engine())


def test_data_round_trips_exactly_whatever_keys_it_has() -> None:
    specs = _specs()
    start = {**MARKED, **TYPED, "mixed": MIXED, "late_count": 0, "round": 0}
    run = ProcessRun.start(specs, start, _script_engine())
    run.advance()
    expected = _as_stored(start)
    assert _reloaded(run, specs).variables() == expected

    # A completion is stored as a delta against the parent task's data.
    (work,) = [v for v in run.ready_user_tasks() if v.element_id == "work"]
    more = {"round": 1, "typed_later": dict(TYPED), "mixed_later": [MIXED],
            **{f"{k}_later": v for k, v in MARKED.items()}}
    run.complete_user_task(work.id, more)
    run.advance()
    copy = _reloaded(run, specs)
    expected.update(_as_stored(more))
    assert copy.variables() == expected
    variables = copy.variables()
    for name, value in TYPED.items():
        assert type(variables[name]) is type(value)
        assert type(variables["typed_later"][name]) is type(value)
    assert type(variables["mixed"]["inner"][0]) is date
    # A copy dumps to the same state as the original.
    assert state_dict(copy.dump()) == state_dict(run.dump())


def test_workflow_data_and_pending_event_payloads_round_trip() -> None:
    specs = _specs()
    run = ProcessRun.start(specs, {"late_count": 0, "round": 0}, _script_engine())
    run.advance()
    run._wf.data.update({"typename": "BpmnWorkflow", "marked": MARKED["z"]})
    run._wf.bpmn_events.append(BpmnEvent(
        MergingMessageEventDefinition("payment_confirmed"),
        payload={"payload": {**MARKED, "mixed": MIXED}, "result_var": None},
        correlations={"key": {"typename": "NoSuchType"}, "typename": MARKED["x"]}))
    run._wf.bpmn_events.append(BpmnEvent(MergingMessageEventDefinition("due"),
                                         payload=TYPED["day"]))
    copy = _reloaded(run, specs)
    assert copy._wf.data == {"typename": "BpmnWorkflow", "marked": MARKED["z"]}
    event, dated = copy._wf.bpmn_events
    assert event.payload == _as_stored({"payload": {**MARKED, "mixed": MIXED},
                                        "result_var": None})
    assert event.correlations == {"key": {"typename": "NoSuchType"}, "typename": MARKED["x"]}
    assert dated.payload == TYPED["day"] and type(dated.payload) is date


NESTED = process("nested", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="sub" />
    <bpmn:subProcess id="sub">
      <bpmn:startEvent id="sub_start" />
      <bpmn:sequenceFlow id="g1" sourceRef="sub_start" targetRef="inner" />
      <bpmn:userTask id="inner" />
      <bpmn:sequenceFlow id="g2" sourceRef="inner" targetRef="sub_end" />
      <bpmn:endEvent id="sub_end" />
    </bpmn:subProcess>
    <bpmn:sequenceFlow id="f2" sourceRef="sub" targetRef="end" />
    <bpmn:endEvent id="end" />
""")


def test_data_inside_a_subprocess_round_trips() -> None:
    doc = read_bpmn("nested.bpmn", definitions("nested", NESTED).encode())
    compiled, problems = compile_processes([doc], {})
    assert doc.problems == [] and problems == []
    specs = DefinitionSpecs.from_stored(compiled["nested"].stored_spec)
    run = ProcessRun.start(specs, {**MARKED, "mixed": MIXED}, _script_engine())
    run.advance()
    (subprocess,) = run._wf.subprocesses.values()
    subprocess.data.update({"typename": "BpmnSubWorkflow", "z": MARKED["z"]})
    copy = _reloaded(run, specs)
    assert copy.variables() == _as_stored({**MARKED, "mixed": MIXED})
    (restored,) = copy._wf.subprocesses.values()
    assert restored.data == {"typename": "BpmnSubWorkflow", "z": MARKED["z"]}
    (inner,) = copy.ready_user_tasks()
    copy.complete_user_task(inner.id, {"typename": "Task"})
    copy.advance()
    assert copy.completed
    assert _reloaded(copy, specs).variables()["typename"] == "Task"


def test_data_without_typename_keys_is_not_copied() -> None:
    data = {"a": [1, {"b": (2, {"c": TYPED["when"]})}], "d": {"e": "typename"}}
    assert escape_data(data) is data
    marked = {"a": [1, {"typename": "x"}], "d": {"e": 1}}
    escaped = escape_data(marked)
    assert escaped["d"] is marked["d"]
    assert marked == {"a": [1, {"typename": "x"}], "d": {"e": 1}}  # left as it was


DATED = process("dated", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="compute" />
    <bpmn:scriptTask id="compute" scriptFormat="python"><bpmn:script>day = date(2027, 1, 31)
when = datetime(2027, 1, 31, 8, 30)
record = {"typename": "datetime", "value": "x", "due": day, "at": [when]}</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="compute" targetRef="wait" />
    <bpmn:userTask id="wait" />
    <bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="end" />
    <bpmn:endEvent id="end" />
""")


def test_dates_a_script_keeps_round_trip_as_dates() -> None:
    doc = read_bpmn("dated.bpmn", definitions("dated", DATED).encode())
    compiled, problems = compile_processes([doc], {})
    assert doc.problems == [] and problems == []
    specs = DefinitionSpecs.from_stored(compiled["dated"].stored_spec)
    run = ProcessRun.start(specs, {}, _script_engine())
    _, failure = run.advance()
    assert failure is None
    variables = _reloaded(run, specs).variables()
    day, when = date(2027, 1, 31), datetime(2027, 1, 31, 8, 30)
    assert variables == {"day": day, "when": when, "record": {
        "typename": "datetime", "value": "x", "due": day, "at": [when]}}
    assert type(variables["day"]) is date and type(variables["record"]["due"]) is date
    assert type(variables["when"]) is datetime


def _with_format(blob: bytes, fmt: str) -> bytes:
    dct = state_dict(blob)
    assert dct["format"] == STATE_FORMAT
    dct["format"] = fmt
    return zlib.compress(json.dumps(dct).encode())


def test_states_written_before_the_envelopes_still_load() -> None:
    # Without marker-shaped data the sertiflow-1 writer wrote what this one writes,
    # apart from the format; its datetime markers must still restore as datetimes.
    specs = _specs()
    run = ProcessRun.start(specs, {**TYPED, "late_count": 0, "round": 0}, _script_engine())
    run.advance()
    version = STATE_FORMAT.split("/", 1)[1]
    old = _with_format(run.dump(), f"sertiflow-1/{version}")
    variables = load_state(old, specs.spec, specs.subprocess_specs)
    restored = ProcessRun(variables).variables()
    assert restored == {**TYPED, "late_count": 0, "round": 0}
    assert type(restored["when"]) is datetime
    with pytest.raises(ValueError, match="unknown serializer version"):
        load_state(_with_format(run.dump(), "sertiflow-0/spiff-1"), specs.spec,
                   specs.subprocess_specs)


def test_predicted_tasks_are_stored_short_and_states_with_them_whole_still_load(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A predicted task that holds nothing is a short list; a sertiflow-2 state (every
    task a dict) restores to the same workflow, whose next save writes the short form."""
    specs = _linear_specs(30)
    run = ProcessRun.start(specs, {**BIG, "day": TYPED["day"]}, _script_engine())
    run.advance()
    (first,) = run.ready_user_tasks()
    run.complete_user_task(first.id, {"n": 1})
    run.advance()
    new = state_dict(run.dump())
    short = [task for task in new["tasks"].values() if isinstance(task, list)]
    assert len(short) >= 28 and all(len(task) == 5 for task in short)
    with monkeypatch.context() as patched:  # the writer before the short form
        patched.setattr(serializer, "compact_task", lambda task: None)
        whole = dump_state(run._wf)
    old = state_dict(whole)
    assert not any(isinstance(task, list) for task in old["tasks"].values())
    version = STATE_FORMAT.split("/", 1)[1]
    old_blob = _with_format(whole, f"sertiflow-2/{version}")
    for blob in (old_blob, _with_format(whole, f"sertiflow-1/{version}")):
        copy = ProcessRun.restore(blob, specs, _script_engine())
        assert copy.search_words is None  # saved before the notes were
        copy.search_words = run.search_words
        assert state_dict(copy.dump()) == new
        assert copy.variables() == run.variables()
        assert copy.task_data(first.id) == run.task_data(first.id)
        (ready,) = copy.ready_user_tasks()
        copy.complete_user_task(ready.id, {"n": 2})
        copy.advance()
        assert [t.element_id for t in copy.ready_user_tasks()] == ["task_3"]


# -- what a save costs: the finished tasks compressed once, restored copies memoised ------

def _linear_specs(steps: int) -> DefinitionSpecs:
    doc = read_bpmn("p.bpmn", linear_user_tasks("p", steps).encode())
    compiled, problems = compile_processes([doc], {})
    assert doc.problems == [] and problems == []
    return DefinitionSpecs.from_stored(compiled["p"].stored_spec)


BIG = {"products": [{"no": i, "name": f"Produk {i}", "typed": i % 3 == 0} for i in range(500)]}


def test_each_save_and_each_restored_copy_writes_the_full_state() -> None:
    specs = _linear_specs(6)
    run = ProcessRun.start(specs, {**BIG, "day": TYPED["day"]}, _script_engine())
    run.advance()
    while True:
        stored = run.dump()
        assert state_dict(stored) == _full(run)
        # A copy rebuilt from the stored state (its memo filled from it) saves the same.
        copy = ProcessRun.restore(stored, specs, _script_engine())
        assert state_dict(copy.dump()) == _full(run)
        assert copy.variables() == run.variables()
        assert type(copy.variables()["day"]) is date
        if run.completed:
            break
        (view,) = run.ready_user_tasks()
        # The copy goes on as the original: its memo, filled on restore, stays right.
        run.complete_user_task(view.id, {"step": view.element_id})
        copy.complete_user_task(view.id, {"step": view.element_id})
        run.advance()
        copy.advance()
        assert state_dict(copy.dump()) == _full(copy)
        assert copy.variables() == run.variables()
    assert run.variables()["products"] == BIG["products"]


def test_a_large_variable_set_at_the_start_is_compressed_once() -> None:
    specs = _linear_specs(4)
    run = ProcessRun.start(specs, dict(BIG), _script_engine())
    run.advance()
    run.dump()
    prefix = list(run._memo.compressed)
    (view,) = run.ready_user_tasks()
    run.complete_user_task(view.id, {"note": "ok"})
    run.advance()
    run.dump()
    # The blocks written before are kept as they were; only new ones were added.
    assert run._memo.compressed[:len(prefix)] == prefix
    assert all(a is b for a, b in zip(prefix, run._memo.compressed, strict=False))


def test_states_with_the_tasks_last_still_load() -> None:
    # The writer before this one put the workflow's own part first and the tasks last.
    specs = _linear_specs(3)
    run = ProcessRun.start(specs, {**BIG, **TYPED, "marked": MARKED["z"]}, _script_engine())
    run.advance()
    state = state_dict(run.dump())
    tasks = state.pop("tasks")
    old = zlib.compress(json.dumps({**state, "tasks": tasks}, separators=(",", ":")).encode())
    copy = ProcessRun.restore(old, specs, _script_engine())
    assert copy.variables() == run.variables()
    assert type(copy.variables()["when"]) is datetime
    assert state_dict(copy.dump()) == _full(run)


def test_the_predicted_rest_of_a_long_process_is_compressed_once() -> None:
    specs = _linear_specs(60)
    run = ProcessRun.start(specs, {"applicant": "pt-contoh"}, _script_engine())
    run.advance()
    run.dump()
    blocks = dict(run._memo.blocks)
    assert len(blocks) >= 3  # the predicted tasks, in blocks after the first ones
    (view,) = run.ready_user_tasks()
    run.complete_user_task(view.id, {"note": "ok"})
    run.advance()
    stored = run.dump()
    assert state_dict(stored) == _full(run)
    # The next task became ready among the first tasks: no block was compressed again.
    assert all(run._memo.blocks[start] is block for start, block in blocks.items())
    # A copy rebuilt from storage takes the stored blocks and prefix; its first save
    # compresses none of them again.
    copy = ProcessRun.restore(stored, specs, _script_engine())
    assert copy._memo.blocks.keys() == blocks.keys()
    assert all(copy._memo.blocks[s].deflated == blocks[s].deflated for s in blocks)
    seeded = dict(copy._memo.blocks)
    prefix = list(copy._memo.compressed)
    assert state_dict(copy.dump()) == _full(run)
    assert all(copy._memo.blocks[start] is block for start, block in seeded.items())
    assert all(a is b for a, b in zip(prefix, copy._memo.compressed, strict=False))


def test_a_short_process_rebuilt_from_storage_keeps_its_compressed_prefix() -> None:
    specs = _linear_specs(3)
    run = ProcessRun.start(specs, dict(BIG), _script_engine())
    run.advance()
    (view,) = run.ready_user_tasks()
    run.complete_user_task(view.id, {"note": "ok"})
    run.advance()
    stored = run.dump()
    assert not run._memo.blocks  # too few tasks for a block after the finished ones
    copy = ProcessRun.restore(stored, specs, _script_engine())
    prefix = list(copy._memo.compressed)
    assert prefix  # the finished tasks, the large variable with them, as stored
    assert state_dict(copy.dump()) == _full(run)
    assert all(a is b for a, b in zip(prefix, copy._memo.compressed, strict=False))


def test_reading_a_state_leaves_the_collector_as_it_found_it() -> None:
    specs = _linear_specs(3)
    run = ProcessRun.start(specs, {}, _script_engine())
    run.advance()
    blob = run.dump()
    was = gc.isenabled()
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            load_state(blob, specs.spec, specs.subprocess_specs)
            assert gc.isenabled() is enabled
            with pytest.raises(ValueError, match="unknown serializer version"):
                load_state(_with_format(blob, "sertiflow-0/spiff-1"), specs.spec,
                           specs.subprocess_specs)
            assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


# -- subprocesses -------------------------------------------------------------------------


def _called_specs(steps: int) -> DefinitionSpecs:
    """A process calling one that calls ``steps`` user tasks, as the LSPro's procedure
    runs its steps two call activities down."""
    docs = [read_bpmn("top.bpmn", calling("top", "middle").encode()),
            read_bpmn("middle.bpmn", calling("middle", "steps").encode()),
            read_bpmn("steps.bpmn", linear_user_tasks("steps", steps).encode())]
    compiled, problems = compile_processes(docs, {})
    assert problems == [] and all(doc.problems == [] for doc in docs)
    return DefinitionSpecs.from_stored(compiled["top"].stored_spec)


def _complete_next(run: ProcessRun, n: int) -> None:
    (ready,) = run.ready_user_tasks()
    run.complete_user_task(ready.id, {f"note_{n}": f"catatan {n}", "day": date(2027, 1, n + 1)})
    run.advance()


def test_a_subprocess_tasks_are_parts_of_the_stream_and_dump_as_a_full_dump_does() -> None:
    specs = _called_specs(12)
    run = ProcessRun.start(specs, {"applicant": "PT Contoh"}, _script_engine())
    run.advance()
    subprocesses = run._wf.subprocesses
    assert len(subprocesses) == 2
    state = state_dict(run.dump())
    # Each subprocess's part holds no task; its tasks are keyed by the subprocess's id.
    assert all("tasks" not in sub for sub in state["subprocesses"].values())
    keyed = {key.split("/")[0] for key in state["tasks"] if "/" in key}
    assert keyed == {str(sub_id) for sub_id in subprocesses}
    assert sum("/" in key for key in state["tasks"]) == sum(
        len(sub.tasks) for sub in subprocesses.values())
    n = 0
    while not run.completed:
        _complete_next(run, n)
        n += 1
        incremental = state_dict(run.dump())
        assert incremental == _full(run)
        copy = _reloaded(run, specs)
        assert state_dict(copy.dump()) == incremental
        assert copy.variables() == run.variables()
        # Made and read back as sertiflow's subprocesses (written as SpiffWorkflow's).
        assert {type(sub) for sub in [*run._wf.subprocesses.values(),
                                      *copy._wf.subprocesses.values()]} <= {LiveSubWorkflow}
    assert n == 12 and run.variables()["note_11"] == "catatan 11"
    assert run.variables()["day"] == date(2027, 1, 12)


def test_a_save_in_a_subprocess_encodes_the_tasks_that_changed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The subprocesses' tasks were written inside their part of the state, all of them
    # encoded afresh by every save: the cost of a save grew with the called process.
    specs = _called_specs(30)
    run = ProcessRun.start(specs, {"applicant": "PT Contoh"}, _script_engine())
    run.advance()
    for n in range(3):
        _complete_next(run, n)
    run.dump()
    encoded: list[str] = []
    real = serializer._STATE_REGISTRY.convert

    def counted(obj: Any) -> Any:
        if type(obj).__name__ == "Task":
            encoded.append(obj.task_spec.name)
        return real(obj)

    monkeypatch.setattr(serializer._STATE_REGISTRY, "convert", counted)
    for n in range(3, 6):
        encoded.clear()
        _complete_next(run, n)
        run.dump()
        # The task completed, the next one made ready and (short, not counted) the one
        # predicted after it; the call activities' tasks (started, waiting) always.
        assert len(encoded) <= 5, encoded
    tasks = sum(len(sub.tasks) for sub in run._wf.subprocesses.values())
    assert tasks > 30


def test_states_with_the_subprocess_tasks_in_their_part_still_load() -> None:
    """A sertiflow-3 state (each subprocess's tasks inside its part, every task a dict)
    restores to the same workflow, whose next save writes them as parts."""
    specs = _called_specs(6)
    run = ProcessRun.start(specs, {"applicant": "PT Contoh"}, _script_engine())
    run.advance()
    _complete_next(run, 0)
    whole = _STATE.to_dict(run._wf)
    whole["format"] = STATE_FORMAT.replace("sertiflow-4/", "sertiflow-3/")
    old = zlib.compress(json.dumps(whole, cls=ENCODER).encode())
    assert any(sub["tasks"] for sub in json.loads(zlib.decompress(old))["subprocesses"].values())
    copy = ProcessRun.restore(old, specs, _script_engine())
    copy.search_words = run.search_words
    assert state_dict(copy.dump()) == state_dict(run.dump())
    for n in range(1, 6):
        _complete_next(copy, n)
    assert copy.completed and copy.variables()["note_5"] == "catatan 5"
