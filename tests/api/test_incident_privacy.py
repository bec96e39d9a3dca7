"""Incidents through the REST API: staff see what failed, a customer only that it did.

An incident keeps the exception's text and traceback, which name server files; a
customer's answers hold neither, and carry a short message in their language.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.runtime.handlers import TopicRegistry
from tests.builders import definitions, process

ROOT = Path(__file__).resolve().parent.parent.parent
CUSTOMER_ID = "Terjadi kendala teknis pada langkah ini; petugas sudah diberi tahu."
CUSTOMER_EN = "A technical problem occurred at this step; our staff have been notified."
# What must never reach a customer: a traceback, the server's paths, source file names.
SECRETS = ("Traceback", "/work/", '.py"', '.py\\"', str(ROOT), "ZeroDivisionError",
           "division by zero", "/srv/secret")

def _failing(key: str, element_id: str, element: str) -> str:
    """A process that runs ``element`` (which fails) right after its start."""
    return definitions(key, process(key, f"""\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="{element_id}" />
    {element}
    <bpmn:sequenceFlow id="f2" sourceRef="{element_id}" targetRef="end" />
    <bpmn:endEvent id="end" />
"""))


# A script that raises, and a service handler whose exception names a server path.
SCRIPT = _failing("failing", "fee", '<bpmn:scriptTask id="fee" scriptFormat="python">'
                  "<bpmn:script>x = 1/0</bpmn:script></bpmn:scriptTask>")
HANDLER = _failing("archiving", "archive", '<bpmn:serviceTask id="archive" '
                   'camunda:type="external" camunda:topic="archive" />')


def _fail_to_archive(call: Any) -> None:
    raise FileNotFoundError(2, "No such file or directory", "/srv/secret/archive/app.py")


def _start_and_fail(as_user: Any, topics: TopicRegistry) -> list[str]:
    """Deploy both processes, have the customer start each; return the instance ids."""
    topics.register("archive", _fail_to_archive)
    deployed = as_user("analyst1").post("/api/v1/deployments", files=[
        ("files", ("failing.bpmn", SCRIPT, "text/xml")),
        ("files", ("archiving.bpmn", HANDLER, "text/xml"))])
    assert deployed.status_code == 201, deployed.text
    ids = []
    for key in ("failing", "archiving"):
        started = as_user("cust1").post(f"/api/v1/process-definitions/{key}/start", json={})
        assert started.status_code == 201, started.text
        assert started.json()["status"] == "error"
        ids.append(started.json()["id"])
    return ids


def _assert_nothing_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} reached the customer: {text}"


def test_customer_sees_a_short_message_and_no_traceback(as_user: Any,
                                                        topics: TopicRegistry) -> None:
    customer = as_user("cust1")
    for instance_id in _start_and_fail(as_user, topics):
        path = f"/api/v1/process-instances/{instance_id}"
        detail = customer.get(path)
        assert detail.status_code == 200, detail.text
        _assert_nothing_secret(detail.text)
        (incident,) = detail.json()["incidents"]
        assert incident["message"] == CUSTOMER_ID
        assert incident["traceback"] is None
        assert incident["element"] in ("fee", "archive")

        english = customer.get(path, headers={"Accept-Language": "en-GB,en;q=0.8"})
        assert [i["message"] for i in english.json()["incidents"]] == [CUSTOMER_EN]

        history = customer.get(f"{path}/history")
        assert history.status_code == 200
        _assert_nothing_secret(history.text)
        (opened,) = [e for e in history.json()["items"] if e["kind"] == "incident_opened"]
        assert opened["data"]["message"] == CUSTOMER_ID


def test_staff_and_admins_keep_the_detail(as_user: Any, topics: TopicRegistry) -> None:
    script, handler = _start_and_fail(as_user, topics)
    for user in ("admin1", "upp1"):
        incidents = {}
        for instance_id in (script, handler):
            detail = as_user(user).get(f"/api/v1/process-instances/{instance_id}")
            assert detail.status_code == 200, detail.text
            (incident,) = detail.json()["incidents"]
            incidents[incident["element"]] = incident
            assert "Traceback (most recent call last)" in incident["traceback"]
            assert '.py"' in incident["traceback"]
        assert "division by zero" in incidents["fee"]["message"]
        assert "/srv/secret/archive/app.py" in incidents["archive"]["message"]
        history = as_user(user).get(f"/api/v1/process-instances/{script}/history")
        (opened,) = [e for e in history.json()["items"] if e["kind"] == "incident_opened"]
        assert "division by zero" in opened["data"]["message"]
    listed = as_user("admin1").get("/api/v1/incidents").json()["items"]
    assert len(listed) == 2 and all(i["traceback"] for i in listed)


def test_error_answers_carry_no_traceback(as_user: Any, topics: TopicRegistry) -> None:
    instance_id, _ = _start_and_fail(as_user, topics)
    customer = as_user("cust1")
    answers = [
        customer.post(f"/api/v1/process-instances/{instance_id}/cancel", json={}),
        customer.get("/api/v1/incidents"),
        customer.post("/api/v1/process-definitions/failing/start", data="{not json",
                      headers={"Content-Type": "application/json"}),
        customer.get("/api/v1/process-instances/nope"),
    ]
    for answer in answers:
        assert answer.status_code >= 400
        assert answer.headers["Content-Type"] == "application/problem+json"
        _assert_nothing_secret(answer.text)
