"""Every operation of the OpenAPI document, fuzzed by schemathesis through real HTTP.

The schema is read from the running server (``/api/v1/openapi.json``). Before the run
the database holds real data: deployed processes with a form, running instances with
open tasks, an uploaded document and an open incident. Their ids go into schemathesis
dictionaries, so about half of the generated path parameters name a thing that exists
(and the other half do not). The run is repeated as three callers: a staff user with
every staff role (admin included), a customer, and nobody (no token).

Each response must: not be a 5xx, have a status code the document declares for the
operation (it declares no catch-all ``default``), have the declared content type
(errors: ``application/problem+json``) and headers, match the declared response
schema, and be a 4xx for generated invalid input. Besides, an operation that needs a
token must refuse the request without it, and a method the document does not list
for a path must get 405. The run is deterministic (fixed seed, derandomized
Hypothesis, no example database).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi import checks as openapi_checks

from engine.composition import Engine
from tests.api.conftest import Client
from tests.builders import definitions
from tests.people import PASSWORD
from tests.samples import CERTIFICATION, FORM, PDF, SCRIPTED

pytestmark = pytest.mark.slow

# Fuzzed cases per operation (the coverage phase adds its own, about 30 per operation:
# boundary values, missing and wrong-typed fields, other methods); about a minute in all.
MAX_EXAMPLES = {"staff": 20, "customer": 10, "anonymous": 5}

STAFF_ROLES = ["admin", "analyst", "upp", "auditor", "ppc", "tim-teknis"]

CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.negative_data_rejection,
    openapi_checks.ignored_auth,
    openapi_checks.unsupported_method,
]


def _ok(answer: Any, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return answer.json()


def seed(server: str) -> dict[str, list[Any]]:
    """Deploy, start and act a little; return the ids that exist, by dictionary name."""
    analyst, cust1, upp1 = (Client(server, name) for name in ("analyst1", "cust1", "upp1"))
    _ok(analyst.post("/api/v1/deployments", files=[
        ("files", ("certification.bpmn", definitions("certification", CERTIFICATION),
                   "text/xml")),
        ("files", ("application.form", json.dumps(FORM), "application/json")),
        ("files", ("scripted.bpmn", definitions("scripted", SCRIPTED), "text/xml")),
    ]), 201)
    start = "/api/v1/process-definitions/certification/start"
    first = _ok(cust1.post(start, json={"business_key": "APP-1"}), 201)
    second = _ok(cust1.post(start, json={"business_key": "APP-2"}), 201)
    tasks = {t["instance_id"]: t for t in _ok(cust1.get("/api/v1/tasks"))["items"]}
    apply_first, apply_second = tasks[first["id"]], tasks[second["id"]]
    document = _ok(cust1.post(f"/api/v1/tasks/{apply_first['id']}/documents",
                              files={"file": ("nib.pdf", PDF, "application/pdf")},
                              data={"field": "nib"}), 201)
    _ok(cust1.post(f"/api/v1/tasks/{apply_second['id']}/complete",
                   json={"variables": {"product": "Helm", "units": 5}}))
    (check,) = _ok(upp1.get("/api/v1/tasks", params={"instance_id": second["id"]}))["items"]
    # Suspended, resumed and cancelled by the run, apart from those whose tasks it acts on.
    third = _ok(cust1.post(start, json={"business_key": "APP-3"}), 201)
    scripted = _ok(upp1.post("/api/v1/process-definitions/scripted/start", json={}), 201)
    assert scripted["status"] == "error"
    (incident,) = _ok(Client(server, "admin1").get("/api/v1/incidents"))["items"]
    return {
        "keys": ["certification", "scripted"],
        "instances": [first["id"], second["id"], scripted["id"]],
        "instances-to-change": [third["id"], scripted["id"]],
        # apply_second is completed already: acting on it must be a clean 409.
        "tasks": [apply_first["id"], apply_second["id"], check["id"]],
        "documents": [document["id"]],
        "incidents": [incident["id"]],
    }


PATH_PARAMETERS = {
    "key": "keys",
    "instance_id": "instances",
    "task_id": "tasks",
    "document_id": "documents",
    "incident_id": "incidents",
}


def issue_token(engine: Engine, username: str) -> str:
    with engine.write() as s:
        issued = s.identity.issue_token(s.identity.user(username), name="schemathesis")
    return issued.token


@pytest.fixture(params=list(MAX_EXAMPLES))
def caller(request: pytest.FixtureRequest, server: str, engine: Engine) -> str | None:
    """The user the run is made as (None: no token); created after the seed users."""
    if request.param == "staff":
        with engine.write() as s:
            s.identity.add_user("fuzz-staff", PASSWORD, roles=STAFF_ROLES)
        return "fuzz-staff"
    return {"customer": "cust1", "anonymous": None}[str(request.param)]


@pytest.fixture
def api_schema(request: pytest.FixtureRequest, server: str, engine: Engine,
               caller: str | None) -> BaseSchema:
    # schemathesis 4.32's lazy loader renames the running item through ``Item._nodeid``
    # for its per-operation reports; pytest 9.2 keeps the id elsewhere (``_id``), so
    # give this item the attribute to read and write (it only names the reports).
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
    ids = seed(server)
    run = request.node.callspec.params["caller"]
    config: dict[str, Any] = {
        "seed": 20270301,
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES[run],
                       "deterministic": True, "database": "none"},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True},
                   "fuzzing": {"enabled": True}, "stateful": {"enabled": False}},
        "dictionaries": {name: {"values": values} for name, values in ids.items()},
        "parameters": {f"path.{parameter}": {"dictionary": dictionary, "probability": 0.5}
                       for parameter, dictionary in PATH_PARAMETERS.items()},
        "operations": [{
            "include-path-regex": r"/process-instances/\{instance_id\}/(suspend|resume|cancel)$",
            "parameters": {"path.instance_id": {"dictionary": "instances-to-change",
                                                "probability": 0.5}},
        }],
        "request-timeout": 30,
    }
    if caller is not None:
        config["headers"] = {"Authorization": f"Bearer {issue_token(engine, caller)}"}
    return schemathesis.openapi.from_url(f"{server}/api/v1/openapi.json",
                                        config=SchemathesisConfig.from_dict(config))


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_no_server_error_and_responses_as_documented(
        case: Any, caller: str | None, engine: Engine) -> None:
    headers = None
    if caller is not None and case.method == "DELETE" and case.path == "/api/v1/auth/token":
        # Revoke a token of its own, not the one the rest of the run is signed in with.
        headers = {"Authorization": f"Bearer {issue_token(engine, caller)}"}
    case.call_and_validate(checks=CHECKS, headers=headers, timeout=30)


# -- what the run found, pinned down ----------------------------------------------------------

@pytest.mark.parametrize("body", [b"\x00", b"{", b"\x89PNG\r\n\x1a\n"])
def test_a_body_that_is_not_json_is_a_400_problem(as_user: Any, body: bytes) -> None:
    answer = as_user("upp1").post("/api/v1/messages", data=body,
                                  headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["detail"] == "Invalid JSON body."


def test_errors_are_documented_as_problems(anonymous: Client) -> None:
    spec = anonymous.get("/api/v1/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            assert "default" not in responses, (method, path)
            for code, response in responses.items():
                if int(code) >= 400:
                    ref = response.get("$ref", "").rsplit("/", 1)[-1]
                    declared = spec["components"]["responses"][ref] if ref else response
                    assert list(declared["content"]) == ["application/problem+json"], (
                        method, path, code)
