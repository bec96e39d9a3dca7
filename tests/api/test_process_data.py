"""Process data through the REST API: what a client sends comes back exactly as sent.

The engine stores an instance's state as JSON in which SpiffWorkflow marks typed
values with a ``typename`` key; client data shaped like such a marker must still
be plain data when it is read back. The API also speaks strict JSON both ways: no
``NaN`` or ``Infinity`` goes in or comes out.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from engine.composition import Engine
from engine.config import Settings
from engine.errors import InvalidInput
from engine.models import ProcessInstance
from tests.api.conftest import Client
from tests.builders import definitions, process
from tests.people import PASSWORD

# Client data that looks like SpiffWorkflow's own markers: a registered data type,
# a spec class, an unknown name, nested at several depths.
MARKED: dict[str, Any] = {
    "x": {"typename": "datetime", "value": "2020-01-01T00:00:00"},
    "y": {"typename": "BpmnProcessSpec"},
    "z": {"typename": "NoSuchType", "a": [1, {"typename": "date"}]},
    "deep": [[{"k": {"typename": "UUID", "value": "not-a-uuid"}}], {"typename": None}],
    "envelope": {"typename": "timedelta", "days": 1, "seconds": 2, "typename2": "x"},
}

DATA = definitions("data", process("data", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="first" />
    <bpmn:userTask id="first" camunda:candidateGroups="upp" />
    <bpmn:sequenceFlow id="f2" sourceRef="first" targetRef="paid" />
    <bpmn:intermediateCatchEvent id="paid">
      <bpmn:messageEventDefinition id="m" messageRef="msg" />
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="paid" targetRef="fee" />
    <bpmn:scriptTask id="fee" scriptFormat="python"><bpmn:script>total = base * 2</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f4" sourceRef="fee" targetRef="second" />
    <bpmn:userTask id="second" camunda:candidateGroups="upp" />
    <bpmn:sequenceFlow id="f5" sourceRef="second" targetRef="end" />
    <bpmn:endEvent id="end" />
""") + '  <bpmn:message id="msg" name="payment_confirmed" />\n')


def _deploy(as_user: Any) -> None:
    answer = as_user("analyst1").post("/api/v1/deployments", files=[
        ("files", ("data.bpmn", DATA, "text/xml"))])
    assert answer.status_code == 201, answer.text


def _variables(client: Client, instance_id: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/process-instances/{instance_id}")
    assert answer.status_code == 200, answer.text
    variables: dict[str, Any] = answer.json()["variables"]
    return variables


def _ready(client: Client, instance_id: str) -> dict[str, Any]:
    (task,) = client.get("/api/v1/tasks", params={"instance_id": instance_id}).json()["items"]
    return task


def _fresh_variables(settings: Settings, instance_id: str) -> dict[str, Any]:
    """The variables as a new engine (no cache, nothing in memory) reads them."""
    fresh = Engine(settings, workflow_cache_size=0)
    try:
        with fresh.read() as s:
            return s.runtime.variables(s.runtime.instance(instance_id))
    finally:
        fresh.close()


def _renamed(data: dict[str, Any], suffix: str) -> dict[str, Any]:
    return {f"{key}_{suffix}": value for key, value in data.items()}


def test_marker_shaped_data_round_trips_through_start_complete_message_and_retry(
        as_user: Any, settings: Settings) -> None:
    _deploy(as_user)
    staff, admin = as_user("upp1"), as_user("admin1")
    started = staff.post("/api/v1/process-definitions/data/start", json={"variables": MARKED})
    assert started.status_code == 201, started.text
    instance_id = started.json()["id"]
    assert _variables(admin, instance_id) == MARKED
    assert _variables(staff, instance_id) == MARKED

    sent = _renamed(MARKED, "done")
    first = _ready(staff, instance_id)
    detail = staff.get(f"/api/v1/tasks/{first['id']}")
    assert detail.status_code == 200, detail.text
    assert detail.json()["variables"] == MARKED
    done = staff.post(f"/api/v1/tasks/{first['id']}/complete", json={"variables": sent})
    assert done.status_code == 200, done.text
    assert _variables(admin, instance_id) == {**MARKED, **sent}

    # The message carries no ``base``: the script fails, and the retry supplies it.
    payload = _renamed(MARKED, "paid")
    message = staff.post("/api/v1/messages", json={
        "name": "payment_confirmed", "instance_id": instance_id, "variables": payload})
    assert message.status_code == 200, message.text
    assert message.json()["instance"]["status"] == "error"
    assert _variables(admin, instance_id) == {**MARKED, **sent, **payload}

    (incident,) = admin.get("/api/v1/incidents", params={"instance_id": instance_id}
                            ).json()["items"]
    fix = {"base": 2, **_renamed(MARKED, "retry")}
    retried = admin.post(f"/api/v1/incidents/{incident['id']}/retry", json={"variables": fix})
    assert retried.status_code == 200, retried.text
    expected = {**MARKED, **sent, **payload, **fix, "total": 4}
    assert _variables(admin, instance_id) == expected
    assert _fresh_variables(settings, instance_id) == expected
    assert _ready(staff, instance_id)["name"] == "second"


def test_variables_named_like_markers_round_trip(as_user: Any, settings: Settings) -> None:
    # ``typename`` and ``value`` are valid variable names: the whole data is marker-shaped.
    _deploy(as_user)
    sent = {"typename": "datetime", "value": "2020-01-01T00:00:00"}
    started = as_user("upp1").post("/api/v1/process-definitions/data/start",
                                   json={"variables": sent})
    assert started.status_code == 201, started.text
    instance_id = started.json()["id"]
    assert _variables(as_user("admin1"), instance_id) == sent
    first = _ready(as_user("upp1"), instance_id)
    more = {"typename": "BpmnWorkflow", "other": 1}
    done = as_user("upp1").post(f"/api/v1/tasks/{first['id']}/complete",
                                json={"variables": more})
    assert done.status_code == 200, done.text
    assert _fresh_variables(settings, instance_id) == {**sent, **more}


def test_customer_reads_an_instance_started_with_marker_shaped_data(as_user: Any) -> None:
    _deploy(as_user)
    customer = as_user("cust1")
    started = customer.post("/api/v1/process-definitions/data/start", json={"variables": MARKED})
    assert started.status_code == 201, started.text
    detail = customer.get(f"/api/v1/process-instances/{started.json()['id']}")
    assert detail.status_code == 200, detail.text
    assert detail.json()["active_elements"] == ["first"]
    assert _variables(as_user("admin1"), started.json()["id"]) == MARKED


# -- strict JSON --------------------------------------------------------------------------

def _no_constants(token: str) -> Any:
    raise AssertionError(f"the answer holds the non-JSON token {token}")


def strict_json(text: str) -> Any:
    """Parse ``text`` as JSON proper: NaN, Infinity and -Infinity are refused."""
    return json.loads(text, parse_constant=_no_constants)


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_refused_on_input(as_user: Any, token: str) -> None:
    _deploy(as_user)
    staff = as_user("upp1")
    body = '{"variables": {"ratio": TOKEN}}'.replace("TOKEN", token)
    headers = {"Content-Type": "application/json"}
    refused = staff.post("/api/v1/process-definitions/data/start", data=body, headers=headers)
    assert refused.status_code in (400, 422), refused.text
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert token.lstrip("-") in strict_json(refused.text)["detail"]
    assert staff.get("/api/v1/process-instances").json()["total"] == 0

    started = staff.post("/api/v1/process-definitions/data/start", json={})
    instance_id = started.json()["id"]
    first = _ready(staff, instance_id)
    complete = staff.post(f"/api/v1/tasks/{first['id']}/complete", data=body, headers=headers)
    assert complete.status_code in (400, 422), complete.text
    assert _ready(staff, instance_id)["id"] == first["id"]
    message = staff.post("/api/v1/messages", headers=headers, data=(
        '{"name": "payment_confirmed", "instance_id": "ID", "variables": {"r": [TOKEN]}}'
        .replace("ID", instance_id).replace("TOKEN", token)))
    assert message.status_code in (400, 422), message.text


# Clients and scripts cannot store NaN (both are refused); a service handler, the
# engine's own code, still could, and data stored by earlier versions may hold it.
ODD_NUMBERS = definitions("odd_numbers", process("odd_numbers", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="measure" />
    <bpmn:serviceTask id="measure" camunda:type="external" camunda:topic="numbers.odd" />
    <bpmn:sequenceFlow id="f2" sourceRef="measure" targetRef="first" />
    <bpmn:userTask id="first" camunda:candidateGroups="upp" />
"""))


def test_non_finite_numbers_in_process_data_leave_as_null(
        as_user: Any, engine: Engine) -> None:
    engine.topics.register("numbers.odd", lambda call: {
        "nan": float("nan"), "inf": float("inf"), "deep": [{"minus": float("-inf")}],
        "fine": 1.5})
    with engine.write() as s:
        s.deployments.deploy([("odd.bpmn", ODD_NUMBERS.encode())], actor="analyst1")
        instance_id = s.runtime.start_instance("odd_numbers").id
    for client in (as_user("admin1"), as_user("upp1")):
        answer = client.get(f"/api/v1/process-instances/{instance_id}")
        assert answer.status_code == 200, answer.text
        assert strict_json(answer.text)["variables"] == {
            "nan": None, "inf": None, "deep": [{"minus": None}], "fine": 1.5}
        first = _ready(client, instance_id)
        task = client.get(f"/api/v1/tasks/{first['id']}")
        assert task.status_code == 200
        assert strict_json(task.text)["variables"]["nan"] is None


def test_camunda_start_refuses_non_finite_numbers(as_user: Any, server: str) -> None:
    _deploy(as_user)
    path = f"{server}/engine-rest/process-definition/key/data/start"
    auth = ("upp1", PASSWORD)
    for variables in ({"r": {"value": "NaN", "type": "Double"}},
                      {"r": {"value": "-Infinity", "type": "Double"}},
                      {"r": {"value": '{"a": [Infinity]}', "type": "Json"}}):
        answer = requests.post(path, json={"variables": variables}, auth=auth, timeout=30)
        assert answer.status_code == 400, answer.text
        assert "r: " in strict_json(answer.text)["message"]
    raw = requests.post(path, data='{"variables": {"r": {"value": NaN, "type": "Double"}}}',
                        headers={"Content-Type": "application/json"}, auth=auth, timeout=30)
    assert raw.status_code == 400, raw.text
    assert "NaN at variables.r.value" in strict_json(raw.text)["message"]
    assert as_user("upp1").get("/api/v1/process-instances").json()["total"] == 0


# -- nesting ------------------------------------------------------------------------------

@pytest.mark.parametrize(("depth", "status", "words"), [
    (900, 422, "nested more than 64 levels deep"),
    (100_000, 400, "nested too deeply"),
])
def test_deeply_nested_variables_are_refused_with_nothing_started(
        as_user: Any, depth: int, status: int, words: str) -> None:
    _deploy(as_user)
    staff = as_user("upp1")
    first = staff.post("/api/v1/process-definitions/data/start", json={})
    assert first.status_code == 201, first.text
    task = _ready(staff, first.json()["id"])
    nested = "[" * depth + "]" * depth
    for path, body in (
            ("/api/v1/process-definitions/data/start", '{"variables": {"x": %s}}'),
            (f"/api/v1/tasks/{task['id']}/complete", '{"variables": {"x": %s}}')):
        refused = staff.post(path, data=body.replace("%s", nested),
                             headers={"Content-Type": "application/json"})
        assert refused.status_code == status, refused.text
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert words in refused.text
    listed = staff.get("/api/v1/process-instances", params={"key": "data"}).json()
    assert listed["total"] == 1
    assert _ready(staff, first.json()["id"])["id"] == task["id"]  # not completed


def test_the_engine_refuses_variables_that_are_not_process_data(
        as_user: Any, engine: Engine) -> None:
    _deploy(as_user)
    with pytest.raises(InvalidInput) as caught, engine.write() as s:
        s.runtime.start_instance("data", variables={
            "ratio": float("nan"), "raw": b"bytes", "fine": [1, {"a": "b"}]})
    assert set(caught.value.errors) == {"ratio", "raw"}
    assert "holds the number nan" in caught.value.errors["ratio"]
    with engine.read() as s:
        assert s.session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance)) == 0


@pytest.mark.parametrize("where", ["query", "path", "body", "key", "form", "utf16"])
def test_a_nul_character_is_refused_with_400_and_changes_nothing(
        as_user: Any, where: str) -> None:
    """PostgreSQL cannot store a NUL in text: it is refused at the door on both databases."""
    _deploy(as_user)
    staff = as_user("upp1")
    if where == "query":
        answer = staff.get("/api/v1/tasks", params={"business_key": "A\x00B"})
    elif where == "path":
        answer = staff.get("/api/v1/process-definitions/da%00ta")
    elif where == "body":
        answer = staff.post("/api/v1/process-definitions/data/start",
                            json={"business_key": "PRM\x002027", "variables": {}})
    elif where == "key":
        answer = staff.post("/api/v1/process-definitions/data/start",
                            json={"variables": {"a\x00b": 1}})
    elif where == "utf16":  # JSON in UTF-16, which json reads: its escape is no b"\\u0000"
        answer = staff.post("/api/v1/process-definitions/data/start",
                            data=json.dumps({"business_key": "A\x00B"}).encode("utf-16"),
                            headers={"Content-Type": "application/json"})
    else:
        answer = staff.post("/api/v1/deployments", files=[
            ("files", ("x\x00.bpmn", b"<x/>", "text/xml"))])
    assert answer.status_code == 400, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert "NUL character" in answer.json()["detail"]
    assert staff.get("/api/v1/process-instances").json()["total"] == 0


def test_long_names_are_cut_or_refused_never_a_server_error(
        as_user: Any, engine: Engine, tmp_path: Any) -> None:
    analyst = as_user("analyst1")
    long_key = "p" + "x" * 220
    xml = definitions(long_key, process(long_key, '<bpmn:startEvent id="s" />'))
    refused = analyst.post("/api/v1/deployments", files=[
        ("files", ("long.bpmn", xml.encode(), "text/xml"))])
    assert refused.status_code == 422, refused.text
    assert "process id is longer than 200 characters" in refused.text
    folder = tmp_path / "many"
    folder.mkdir()
    paths = []
    for number in range(40):
        key = f"proses_dengan_nama_yang_cukup_panjang_{number:02d}"
        path = folder / f"{key}.bpmn"
        path.write_text(definitions(key, process(key, '<bpmn:startEvent id="s" />')))
        paths.append(path)
    result = engine.deploy_paths(paths, actor="analyst1")
    assert len(result.processes) == 40
    with engine.read() as s:
        names = list(s.session.scalars(sa.text("SELECT name FROM deployment")))
    assert any(len(name) == 255 and name.endswith("…") for name in names)
