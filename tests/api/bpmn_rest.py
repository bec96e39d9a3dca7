"""Small helpers for tests that deploy BPMN and drive it through the REST API."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from tests.builders import definitions, process

XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
START, END = '<bpmn:startEvent id="s" />', '<bpmn:endEvent id="e" />'


def bpmn(key: str, body: str, top: str = "") -> bytes:
    """The file of one process ``key`` (``top``: root elements before it: messages, signals)."""
    xml = definitions(key, top + process(key, body)).replace(
        "xmlns:camunda=", XSI + "xmlns:camunda=", 1)
    return xml.encode()


def deploy(client: Any, key: str, body: str, top: str = "") -> Any:
    """Deploy one process ``key`` (``top``: root elements before it: messages, signals)."""
    return client.post("/api/v1/deployments",
                       files=[("files", (f"{key}.bpmn", bpmn(key, body, top), "text/xml"))])


def deployed(client: Any, key: str, body: str, top: str = "") -> None:
    answer = deploy(client, key, body, top)
    assert answer.status_code == 201, answer.text


def refusal(client: Any, key: str, body: str, top: str = "") -> list[dict[str, Any]]:
    """The errors of a deployment that must be refused."""
    answer = deploy(client, key, body, top)
    assert answer.status_code == 422, answer.text
    return list(answer.json()["errors"])


def start(client: Any, key: str, variables: dict[str, Any] | None = None,
          business_key: str | None = None) -> str:
    body: dict[str, Any] = {"variables": variables or {}}
    if business_key:
        body["business_key"] = business_key
    answer = client.post(f"/api/v1/process-definitions/{key}/start", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def instance(client: Any, instance_id: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/process-instances/{instance_id}")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def history(client: Any, instance_id: str) -> list[dict[str, Any]]:
    """The instance's history, oldest first."""
    answer = client.get(f"/api/v1/process-instances/{instance_id}/history",
                        params={"per_page": 200})
    assert answer.status_code == 200, answer.text
    return sorted(answer.json()["items"], key=lambda h: h["id"])


def trace(client: Any, instance_id: str) -> list[str]:
    """The elements the instance ran, in order (engine steps and completed user tasks)."""
    return [h["element"] for h in history(client, instance_id)
            if h["kind"] in ("element_completed", "task_completed") and h["element"]]


def open_tasks(client: Any, instance_id: str) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/tasks", params={"instance_id": instance_id, "per_page": 50})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def ready_task(client: Any, instance_id: str, element: str) -> str:
    """The id of the one open task of ``element``."""
    tasks = [t for t in instance(client, instance_id)["tasks"] if t["name"] == element]
    assert len(tasks) == 1, instance(client, instance_id)["tasks"]
    return str(tasks[0]["id"])


def complete_task(client: Any, task_id: str, variables: dict[str, Any] | None = None) -> Any:
    return client.post(f"/api/v1/tasks/{task_id}/complete", json={"variables": variables or {}})


def complete(client: Any, task_id: str, variables: dict[str, Any] | None = None) -> None:
    """Complete a task, which must succeed."""
    answer = complete_task(client, task_id, variables)
    assert answer.status_code == 200, answer.text


def task_ids(client: Any, instance_id: str) -> dict[str, str]:
    """The element id and task id of each open task of the instance the client sees."""
    answer = client.get("/api/v1/tasks", params={"instance_id": instance_id})
    assert answer.status_code == 200, answer.text
    return {t["name"]: t["id"] for t in answer.json()["items"]}


def incidents(client: Any, instance_id: str) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/incidents", params={"instance_id": instance_id})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def retry(client: Any, incident_id: int, variables: dict[str, Any]) -> None:
    answer = client.post(f"/api/v1/incidents/{incident_id}/retry", json={"variables": variables})
    assert answer.status_code == 200, answer.text


def script(element: str, code: str, inner: str = "") -> str:
    """A Python script task (``inner``: a loop marker or data associations before it)."""
    return (f'<bpmn:scriptTask id="{element}" scriptFormat="python">{inner}'
            f"<bpmn:script>{code}</bpmn:script></bpmn:scriptTask>")


def flow(source: str, target: str) -> str:
    return (f'<bpmn:sequenceFlow id="f_{source}_{target}" sourceRef="{source}" '
            f'targetRef="{target}" />')


def flows(*chain: str) -> str:
    return "".join(flow(a, b) for a, b in pairwise(chain))
