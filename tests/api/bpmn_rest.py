"""Small helpers for tests that deploy BPMN and drive it through the REST API."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from tests.builders import definitions, process


def deploy(client: Any, key: str, body: str) -> Any:
    xml = definitions(key, process(key, body))
    return client.post("/api/v1/deployments",
                       files=[("files", (f"{key}.bpmn", xml.encode(), "text/xml"))])


def start(client: Any, key: str, variables: dict[str, Any]) -> str:
    answer = client.post(f"/api/v1/process-definitions/{key}/start",
                         json={"variables": variables})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def instance(client: Any, instance_id: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/process-instances/{instance_id}")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def trace(client: Any, instance_id: str) -> list[str]:
    """The elements the instance ran, in order (engine steps and completed user tasks)."""
    answer = client.get(f"/api/v1/process-instances/{instance_id}/history",
                        params={"per_page": 200})
    assert answer.status_code == 200, answer.text
    items = sorted(answer.json()["items"], key=lambda h: h["id"])
    return [h["element"] for h in items
            if h["kind"] in ("element_completed", "task_completed") and h["element"]]


def open_tasks(client: Any, instance_id: str) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/tasks", params={"instance_id": instance_id, "per_page": 50})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def script(element: str, code: str, loop: str = "") -> str:
    return (f'<bpmn:scriptTask id="{element}" scriptFormat="python">{loop}'
            f"<bpmn:script>{code}</bpmn:script></bpmn:scriptTask>")


def flows(*chain: str) -> str:
    return "".join(f'<bpmn:sequenceFlow id="f_{a}_{b}" sourceRef="{a}" targetRef="{b}" />'
                   for a, b in pairwise(chain))
