"""Camunda Modeler's "Deploy" and "Start current diagram" against /engine-rest, over HTTP.

The requests are built as the Modeler (Camunda 7 plugin) sends them: multipart
fields ``deployment-name``, ``deployment-source``, ``enable-duplicate-filtering``,
the diagram and its forms as file parts named by their file names, and typed
variables on start.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
import requests
import sqlalchemy as sa

import engine.identity.users as users_module
from engine.composition import Engine
from engine.identity.passwords import verify_password
from engine.models import ApiToken
from tests.api.conftest import Client
from tests.builders import definitions, process
from tests.people import PASSWORD

ORDER = definitions("order", process("order", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check" />
    <bpmn:userTask id="check" name="Check the order" camunda:candidateGroups="upp" />
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="end" />
    <bpmn:endEvent id="end" />
""", name="Order"))

WITH_FORM = definitions("apply", process("apply", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fill" />
    <bpmn:userTask id="fill" name="Fill in" camunda:formKey="camunda-forms:deployment:apply.form" />
    <bpmn:sequenceFlow id="f2" sourceRef="fill" targetRef="end" />
    <bpmn:endEvent id="end" />
"""))

APPLY_FORM = {
    "id": "apply-form", "type": "default",
    "components": [{"key": "product", "label": "Product", "type": "textfield"}],
}

JAVA = definitions("bad", process("bad", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="java" />
    <bpmn:serviceTask id="java" camunda:class="com.example.Delegate" />
    <bpmn:sequenceFlow id="f2" sourceRef="java" targetRef="end" />
    <bpmn:endEvent id="end" />
"""))

BASIC = ("analyst1", PASSWORD)


def modeler_deploy(server: str, file_name: str, xml: str, *, auth: Any = BASIC,
                   attachments: list[tuple[str, str]] | None = None,
                   headers: dict[str, str] | None = None) -> requests.Response:
    """POST deployment/create as CamundaAPI.deployDiagram builds it."""
    fields: list[tuple[str, Any]] = [
        ("deployment-name", (None, "order deployment")),
        ("deployment-source", (None, "Camunda Modeler")),
        ("enable-duplicate-filtering", (None, "true")),
        ("deploy-changed-only", (None, "true")),
        (file_name, (file_name, xml.encode(), "application/octet-stream")),
    ]
    for name, content in attachments or []:
        fields.append((name, (name, content.encode(), "application/octet-stream")))
    return requests.post(f"{server}/engine-rest/deployment/create", files=fields,
                         auth=auth, headers=headers, timeout=30)


def deployed_one(answer: requests.Response) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    (definition,) = answer.json()["deployedProcessDefinitions"].values()
    return definition


def test_connection_check_with_basic_auth(server: str) -> None:
    version = requests.get(f"{server}/engine-rest/version", auth=BASIC, timeout=30)
    assert version.status_code == 200
    assert version.json()["version"].startswith("7.")
    listed = requests.get(f"{server}/engine-rest/deployment", params={"maxResults": 0},
                          auth=BASIC, timeout=30)
    assert listed.status_code == 200, listed.text
    assert listed.headers["Content-Type"].startswith("application/json")
    assert listed.json() == []


def test_first_deploy_then_unchanged_redeploy(server: str) -> None:
    first = modeler_deploy(server, "order.bpmn", ORDER)
    body = first.json()
    definition = deployed_one(first)
    assert definition["key"] == "order" and definition["version"] == 1
    assert definition["deploymentId"] == body["id"]
    assert definition["resource"] == "order.bpmn" and definition["name"] == "Order"
    assert definition["suspended"] is False and definition["tenantId"] is None
    assert body["name"] == "order deployment" and body["source"] == "Camunda Modeler"
    assert body["tenantId"] is None and body["deployedDecisionDefinitions"] is None
    assert body["deploymentTime"][10] == "T" and body["deploymentTime"][-5] in "+-"

    again = modeler_deploy(server, "order.bpmn", ORDER)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == body["id"]  # the deployment that holds this content
    # No new version; the current definition is named so that Start can use it.
    assert deployed_one(again)["id"] == definition["id"]

    listed = requests.get(f"{server}/engine-rest/deployment", auth=BASIC, timeout=30).json()
    assert [d["id"] for d in listed] == [body["id"]]
    assert set(listed[0]) >= {"id", "name", "source", "deploymentTime", "tenantId"}

    changed = modeler_deploy(server, "order.bpmn", ORDER.replace("Check the order", "Check"))
    assert deployed_one(changed)["version"] == 2


def test_deploy_with_form_attachment(server: str, as_user: Any) -> None:
    answer = modeler_deploy(server, "apply.bpmn", WITH_FORM,
                            attachments=[("apply.form", json.dumps(APPLY_FORM))])
    definition = deployed_one(answer)
    assert definition["key"] == "apply"
    # The form was deployed along: a second deploy of the diagram alone is accepted.
    alone = modeler_deploy(server, "apply.bpmn", WITH_FORM)
    assert alone.status_code == 200, alone.text
    assert deployed_one(alone)["version"] == 1


def test_deploy_without_the_referenced_form_is_refused(server: str) -> None:
    answer = modeler_deploy(server, "apply.bpmn", WITH_FORM)
    assert answer.status_code == 400, answer.text
    assert "apply.form" in answer.json()["message"]


def test_refused_diagram_names_element_and_line(server: str) -> None:
    answer = modeler_deploy(server, "bad.bpmn", JAVA)
    assert answer.status_code == 400
    assert answer.headers["Content-Type"] == "application/json"
    body = answer.json()
    assert body["type"] == "ParseException"
    # The prefix the Modeler uses to tell a parse error from a connection problem.
    assert body["message"].startswith("ENGINE-09005 Could not parse BPMN process.")
    line = JAVA.splitlines().index(next(x for x in JAVA.splitlines() if 'id="java"' in x)) + 1
    assert f"bad.bpmn:{line} (element 'java')" in body["message"]
    assert "Java" in body["message"]
    (error,) = body["details"]["bad.bpmn"]["errors"]
    assert error["line"] == line and error["mainElementId"] == "java"


def test_start_with_typed_variables(server: str, as_user: Any) -> None:
    definition = deployed_one(modeler_deploy(server, "order.bpmn", ORDER))
    variables = {
        "product": {"value": "Helm SNI", "type": "String"},
        "urgent": {"value": True, "type": "Boolean"},
        "units": {"value": 12, "type": "Integer"},
        "big": {"value": 9000000000, "type": "Long"},
        "price": {"value": 12.5, "type": "Double"},
        "due": {"value": "2027-01-02T03:04:05.000+0700", "type": "Date"},
        "meta": {"value": json.dumps({"lines": [1, 2]}), "type": "Json"},
        "nothing": {"value": None, "type": "Null"},
    }
    answer = requests.post(
        f"{server}/engine-rest/process-definition/{definition['id']}/start",
        json={"businessKey": "ORD-1", "variables": variables}, auth=BASIC, timeout=30)
    assert answer.status_code == 200, answer.text
    started = answer.json()
    assert started["definitionId"] == definition["id"]
    assert started["businessKey"] == "ORD-1"
    assert started["ended"] is False and started["suspended"] is False
    assert started["caseInstanceId"] is None and started["links"] == []

    detail = as_user("admin1").get(f"/api/v1/process-instances/{started['id']}")
    assert detail.status_code == 200, detail.text
    found = detail.json()["variables"]
    assert found["product"] == "Helm SNI" and found["urgent"] is True
    assert found["units"] == 12 and found["big"] == 9000000000 and found["price"] == 12.5
    assert found["due"] == "2027-01-02T03:04:05+07:00"
    assert found["meta"] == {"lines": [1, 2]} and found["nothing"] is None


def test_start_by_key_and_unknown_type(server: str) -> None:
    deployed_one(modeler_deploy(server, "order.bpmn", ORDER))
    by_key = requests.post(f"{server}/engine-rest/process-definition/key/order/start",
                           json={}, auth=BASIC, timeout=30)
    assert by_key.status_code == 200, by_key.text
    assert by_key.json()["definitionId"].startswith("order:1:")

    bad = requests.post(f"{server}/engine-rest/process-definition/key/order/start",
                        json={"variables": {"x": {"value": "AA==", "type": "Bytes"}}},
                        auth=BASIC, timeout=30)
    assert bad.status_code == 400
    assert bad.json()["type"] == "InvalidRequestException"
    assert "unsupported type 'bytes'" in bad.json()["message"]


def test_unknown_definition_is_404_in_camunda_shape(server: str) -> None:
    answer = requests.post(f"{server}/engine-rest/process-definition/nope:1:abc/start",
                           json={}, auth=BASIC, timeout=30)
    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json()["type"] == "InvalidRequestException"
    assert "nope:1:abc" in answer.json()["message"]
    elsewhere = requests.get(f"{server}/engine-rest/task", auth=BASIC, timeout=30)
    assert elsewhere.status_code == 404
    assert elsewhere.json()["type"] == "InvalidRequestException"


@pytest.mark.parametrize("auth", [None, ("analyst1", "wrong-password"), ("nobody", "x")])
def test_missing_or_wrong_credentials_are_401(server: str, auth: Any) -> None:
    answer = modeler_deploy(server, "order.bpmn", ORDER, auth=auth)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Basic realm="sertiflow"'
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json()["type"] == "AuthenticationException"


def test_failed_basic_sign_ins_are_counted(server: str) -> None:
    codes = [requests.get(f"{server}/engine-rest/deployment", auth=("upp1", "wrong-password"),
                          timeout=30).status_code for _ in range(12)]
    assert codes[0] == 401 and codes[-1] == 429
    refused = requests.get(f"{server}/engine-rest/deployment", auth=("upp1", PASSWORD),
                           timeout=30)
    assert refused.status_code == 429  # the right password does not help while limited
    assert int(refused.headers["Retry-After"]) > 0


def test_user_without_the_role_may_not_deploy(server: str) -> None:
    answer = modeler_deploy(server, "order.bpmn", ORDER, auth=("upp1", PASSWORD))
    assert answer.status_code == 403
    assert answer.json()["type"] == "AuthorizationException"


def test_bearer_token_works_too(server: str) -> None:
    token = Client(server, "analyst1").http.headers["Authorization"]
    definition = deployed_one(modeler_deploy(server, "order.bpmn", ORDER, auth=None,
                                             headers={"Authorization": str(token)}))
    started = requests.post(
        f"{server}/engine-rest/process-definition/{definition['id']}/start",
        json={"variables": {}}, headers={"Authorization": str(token)}, timeout=30)
    assert started.status_code == 200, started.text


def test_engine_rest_stays_out_of_the_openapi_document(server: str) -> None:
    spec = requests.get(f"{server}/api/v1/openapi.json", timeout=30).json()
    assert not [p for p in spec["paths"] if "engine-rest" in p]


def test_basic_credentials_are_checked_once_then_remembered(
        server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each Modeler call sends HTTP Basic; scrypt runs for the first, not for the next ones."""
    checked: list[str] = []

    def counted(password: str, stored: str) -> bool:
        checked.append(stored)
        return verify_password(password, stored)

    monkeypatch.setattr(users_module, "verify_password", counted)
    for _ in range(3):
        answer = requests.get(f"{server}/engine-rest/deployment", auth=BASIC, timeout=30)
        assert answer.status_code == 200
    assert len(checked) == 1
    wrong = requests.get(f"{server}/engine-rest/deployment",
                         auth=(BASIC[0], BASIC[1] + "x"), timeout=30)
    assert wrong.status_code == 401
    assert len(checked) == 2


def test_reads_answer_while_a_command_holds_the_writer(server: str, engine: Engine) -> None:
    """The Modeler's GETs do not queue for SQLite's one writer behind a long command."""
    deployed_one(modeler_deploy(server, "order.bpmn", ORDER))
    holding, release = threading.Event(), threading.Event()

    def hold_the_writer() -> None:
        with engine.write() as services:
            services.session.execute(sa.text("SELECT 1"))  # begins: takes the writer
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=hold_the_writer)
    holder.start()
    try:
        assert holding.wait(10)
        listed = requests.get(f"{server}/engine-rest/process-definition", auth=BASIC,
                              timeout=5)
        assert listed.status_code == 200
        assert [d["key"] for d in listed.json()] == ["order"]
    finally:
        release.set()
        holder.join(30)


def test_a_read_with_a_token_records_its_use(server: str, engine: Engine) -> None:
    """As on /api/v1, a GET's token use is written apart, after its read transaction."""
    token = Client(server, "analyst1").http.headers["Authorization"]  # not used yet
    answer = requests.get(f"{server}/engine-rest/deployment",
                          headers={"Authorization": str(token)}, timeout=30)
    assert answer.status_code == 200
    with engine.read() as services:
        used = services.session.scalars(sa.select(ApiToken.last_used_at)).all()
    assert used and all(at is not None for at in used)


# -- historyTimeToLive in the process-definition shapes, as the Modeler reads it ------
WITH_TTL = ORDER.replace('isExecutable="true"',
                         'isExecutable="true" camunda:historyTimeToLive="P180D"', 1)


def test_the_definitions_ttl_is_answered_in_days(server: str) -> None:
    definition = deployed_one(modeler_deploy(server, "order.bpmn", WITH_TTL))
    assert definition["historyTimeToLive"] == 180

    by_id = requests.get(f"{server}/engine-rest/process-definition/{definition['id']}",
                         auth=BASIC, timeout=30)
    by_key = requests.get(f"{server}/engine-rest/process-definition/key/order", auth=BASIC,
                          timeout=30)
    assert by_id.json()["historyTimeToLive"] == by_key.json()["historyTimeToLive"] == 180

    # A version without one answers null, as Camunda does; the list shows each version's.
    deployed_one(modeler_deploy(server, "order.bpmn", ORDER))
    listed = requests.get(f"{server}/engine-rest/process-definition", params={"key": "order"},
                          auth=BASIC, timeout=30).json()
    assert [(d["version"], d["historyTimeToLive"]) for d in listed] == [(1, 180), (2, None)]


def test_a_ttl_in_months_is_refused_naming_the_process(server: str) -> None:
    answer = modeler_deploy(server, "order.bpmn", WITH_TTL.replace("P180D", "P6M"))
    assert answer.status_code == 400, answer.text
    message = answer.json()["message"]
    assert "(element 'order')" in message
    assert 'history time to live "P6M" is not a number of days' in message
