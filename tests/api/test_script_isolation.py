"""Scripts share nothing between instances, stop at their limits, and leave only data.

Each test drives the REST API over real HTTP; the server, the engine and the
scripts' process all belong to this one worker process, as in `sertiflow run`.
"""

from __future__ import annotations

import json
import resource
import time
from dataclasses import replace
from typing import Any
from xml.sax.saxutils import escape

import pytest

from engine.config import Settings
from tests.builders import definitions, process

TIMEOUT = 0.5
MEMORY_MB = 32


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, script_timeout=TIMEOUT, script_memory_mb=MEMORY_MB)


def scripted(key: str, script: str) -> str:
    """A process: one script task, then a user task for the customer."""
    return definitions(key, process(key, f"""\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />
    <bpmn:scriptTask id="work" name="Compute" scriptFormat="python"><bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="look" />
    <bpmn:userTask id="look" name="Look at the result" camunda:candidateGroups="pelanggan" />
    <bpmn:sequenceFlow id="f3" sourceRef="look" targetRef="end" />
    <bpmn:endEvent id="end" />
"""))


def deploy(as_user: Any, key: str, script: str) -> None:
    answer = as_user("analyst1").post("/api/v1/deployments", files=[
        ("files", (f"{key}.bpmn", scripted(key, script), "text/xml"))])
    assert answer.status_code == 201, answer.text


def start(client: Any, key: str, variables: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(f"/api/v1/process-definitions/{key}/start",
                         json={"variables": variables})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def strict_json(text: str) -> Any:
    """Parse as JSON proper: the bare tokens NaN and Infinity are not JSON."""
    def refuse(token: str) -> Any:
        raise ValueError(f"{token} is not JSON")
    return json.loads(text, parse_constant=refuse)


# Every place a script could keep state between runs in one process: attributes
# of the helper functions it is given, and of the builtin types and functions.
LEAKY = """\
found = []
for holder in [map, filter, range, round, pow, print, len, sum, str, dict, date, Exception]:
    try:
        found.append(holder.secret)
    except AttributeError:
        pass
    try:
        holder.secret = secret
    except (AttributeError, TypeError):
        pass
"""


def test_two_companies_scripts_in_one_worker_share_nothing(as_user: Any) -> None:
    deploy(as_user, "leaky", LEAKY)
    first = start(as_user("cust1"), "leaky", {"secret": "secret of instance A"})
    second = start(as_user("cust2"), "leaky", {"secret": "secret of instance B"})
    third = start(as_user("cust1"), "leaky", {"secret": "secret of instance C"})
    for instance in (first, second, third):
        read = as_user("admin1").get(f"/api/v1/process-instances/{instance['id']}")
        assert read.status_code == 200, read.text
        assert read.json()["status"] == "running"
        assert read.json()["variables"]["found"] == []


def test_c_level_work_stops_at_the_time_limit(as_user: Any) -> None:
    # sum() with a list as start concatenates in C, quadratically: minutes, with
    # no Python line in between where a check could run.
    deploy(as_user, "slow", "total = len(sum([[1]] * 200000, []))")
    started = time.monotonic()
    instance = start(as_user("cust1"), "slow", {})
    took = time.monotonic() - started
    assert instance["status"] == "error"
    assert took < TIMEOUT + 3, f"the start took {took:.1f} s"
    (incident,) = as_user("admin1").get("/api/v1/incidents").json()["items"]
    assert incident["element"] == "work"
    assert f"exceeded the time limit of {TIMEOUT:g} s" in incident["message"]


@pytest.mark.parametrize("script", [
    "x = 'x'.ljust(10 ** 9)",
    "x = ''.join(['y' * 1000] * 10 ** 6)",
    "x = '%1000000000s' % ''",
    "x = f'{0:1000000000}'",
])
def test_memory_past_the_budget_is_an_incident_and_the_worker_stays_small(
        as_user: Any, script: str) -> None:
    deploy(as_user, "greedy", script)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
    instance = start(as_user("cust1"), "greedy", {})
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert instance["status"] == "error"
    (incident,) = as_user("admin1").get("/api/v1/incidents").json()["items"]
    assert f"more than the {MEMORY_MB} MB of memory a script may use" in incident["message"]
    assert grown_mib < 100, f"the worker's peak memory grew by {grown_mib:.0f} MiB"
    # The worker goes on: the next instance runs its script.
    deploy(as_user, "modest", "x = 'x'.ljust(1000)")
    assert start(as_user("cust1"), "modest", {})["status"] == "running"


@pytest.mark.parametrize(("script", "words"), [
    ("x = (n for n in [1, 2])", "variable x holds a generator"),
    ("x = b'raw'", "variable x holds bytes"),
    ("x = timezone.utc", "variable x holds a time zone"),
    ("x = timedelta(days=3)", "variable x holds a duration (timedelta)"),
    ("x = {'due': [1, {'at': float('nan')}]}", "variable x['due'][1]['at'] holds the number nan"),
    ("x = float('inf')", "variable x holds the number inf"),
    ("x = []\nfor _ in range(200):\n    x = [x]", "nested more than 64 levels deep"),
    ("x = {1: 'one'}", "a dictionary with the key 1, which is not text"),
    ("x = {'a': {2, 3}}", "variable x['a'] holds a set"),
])
def test_values_that_are_not_data_become_an_incident_naming_the_variable(
        as_user: Any, script: str, words: str) -> None:
    deploy(as_user, "odd", f"before = 1\n{script}")
    instance = start(as_user("cust1"), "odd", {"kept": "as sent"})
    assert instance["status"] == "error"
    read = as_user("admin1").get(f"/api/v1/process-instances/{instance['id']}")
    assert read.status_code == 200
    document = strict_json(read.text)
    assert document["variables"] == {"kept": "as sent"}  # the failed script changed nothing
    (incident,) = document["incidents"]
    assert incident["element"] == "work" and words in incident["message"]
    assert strict_json(as_user("cust1").get(
        f"/api/v1/process-instances/{instance['id']}").text)["status"] == "error"


def test_dates_and_nested_data_a_script_leaves_are_kept(as_user: Any) -> None:
    deploy(as_user, "dates", "due = date(2027, 1, 31)\nat = datetime(2027, 1, 31, 8, 30, "
                             "tzinfo=timezone.utc)\nrows = [{'n': i, 'ok': i > 1} for i in "
                             "range(3)]\nlabel = name.upper()")
    instance = start(as_user("cust1"), "dates", {"name": "helm", "typename": {"x": 1}})
    read = strict_json(as_user("admin1").get(
        f"/api/v1/process-instances/{instance['id']}").text)
    assert read["status"] == "running"
    variables = read["variables"]
    assert variables["label"] == "HELM"
    assert variables["rows"] == [{"n": 0, "ok": False}, {"n": 1, "ok": False},
                                 {"n": 2, "ok": True}]
    assert variables["due"].startswith("2027-01-31")
    assert variables["at"].startswith("2027-01-31T08:30")


def gateway(key: str, condition: str) -> str:
    return definitions(key, process(key, f"""\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="choose" />
    <bpmn:exclusiveGateway id="choose" default="f3" />
    <bpmn:sequenceFlow id="f2" sourceRef="choose" targetRef="yes">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{escape(condition)}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f3" sourceRef="choose" targetRef="no" />
    <bpmn:userTask id="yes" camunda:candidateGroups="pelanggan" />
    <bpmn:userTask id="no" camunda:candidateGroups="pelanggan" />
"""))


def expression_task(key: str, expression: str) -> str:
    return definitions(key, process(key, f"""\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />
    <bpmn:serviceTask id="work" camunda:expression="{escape(expression, {'"': '&quot;'})}" camunda:resultVariable="x" />
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="look" />
    <bpmn:userTask id="look" camunda:candidateGroups="pelanggan" />
"""))


@pytest.mark.parametrize(("document", "words"), [
    (gateway("slowgate", "len(sum([[1]] * 200000, [])) > 0"),
     f"the expression exceeded the time limit of {TIMEOUT:g} s"),
    (expression_task("slowexpr", "len(sum([[1]] * 200000, []))"),
     f"the expression exceeded the time limit of {TIMEOUT:g} s"),
    (gateway("greedygate", "len('x'.ljust(10 ** 9)) > 0"),
     f"more than the {MEMORY_MB} MB of memory a script may use"),
    (expression_task("method", "name.upper"), "variable x holds a function"),
    (expression_task("gen", "(c for c in name)"), "the result holds a generator"),
], ids=["condition-time", "expression-time", "condition-memory", "method-result",
        "generator-result"])
def test_conditions_and_expressions_have_the_same_limits(
        as_user: Any, document: str, words: str) -> None:
    key = document.split('<bpmn:process id="')[1].split('"')[0]
    answer = as_user("analyst1").post("/api/v1/deployments", files=[
        ("files", (f"{key}.bpmn", document, "text/xml"))])
    assert answer.status_code == 201, answer.text
    started = time.monotonic()
    instance = start(as_user("cust1"), key, {"name": "helm"})
    assert time.monotonic() - started < TIMEOUT + 3
    assert instance["status"] == "error"
    (incident,) = as_user("admin1").get("/api/v1/incidents").json()["items"]
    assert words in incident["message"], incident["message"]
    read = as_user("admin1").get(f"/api/v1/process-instances/{instance['id']}")
    assert read.status_code == 200 and "x" not in strict_json(read.text)["variables"]
