"""The REST API through real HTTP, with real users of different roles.

Each access rule is tried both ways: the user who may, and one who may not.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from engine.composition import Engine
from engine.models import HistoryValue, ProcessInstance, User
from tests.api.conftest import Client
from tests.builders import definitions, linear_user_tasks, process
from tests.hostile_xml import DOCTYPES, with_doctype
from tests.people import COMPANY, PASSWORD
from tests.samples import CERTIFICATION, FORM, PDF, SCRIPTED


def deploy(client: Client) -> Any:
    files = [
        ("files", ("certification.bpmn", definitions("certification", CERTIFICATION), "text/xml")),
        ("files", ("application.form", json.dumps(FORM), "application/json")),
    ]
    return client.post("/api/v1/deployments", files=files)


def only(client: Client, **params: Any) -> dict[str, Any]:
    answer = client.get("/api/v1/tasks", params=params)
    assert answer.status_code == 200, answer.text
    (task,) = answer.json()["items"]
    return task


def start_as_customer(as_user: Any, business_key: str = "APP-1") -> dict[str, Any]:
    answer = deploy(as_user("analyst1"))
    assert answer.status_code == 201, answer.text
    started = as_user("cust1").post("/api/v1/process-definitions/certification/start",
                                    json={"business_key": business_key})
    assert started.status_code == 201, started.text
    return started.json()


def advance_to_audit(as_user: Any, instance_id: str) -> dict[str, Any]:
    apply = only(as_user("cust1"), instance_id=instance_id)
    done = as_user("cust1").post(f"/api/v1/tasks/{apply['id']}/complete",
                                 json={"variables": {"product": "Helm", "units": 5}})
    assert done.status_code == 200, done.text
    check = only(as_user("upp1"), instance_id=instance_id)
    assert as_user("upp1").post(f"/api/v1/tasks/{check['id']}/complete",
                                json={}).status_code == 200
    return only(as_user("auditor1"), instance_id=instance_id)


# -- sign-in --------------------------------------------------------------------------------

def test_sign_in_me_and_revoke(as_user: Any, anonymous: Client) -> None:
    client = as_user("cust1")
    me = client.get("/api/v1/me").json()
    assert me == {"username": "cust1", "display_name": None, "roles": ["pelanggan"],
                  "company": COMPANY}
    assert client.delete("/api/v1/auth/token").status_code == 204
    refused = client.get("/api/v1/me")
    assert refused.status_code == 401
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert anonymous.get("/api/v1/me").status_code == 401


def test_wrong_password_and_rate_limit(anonymous: Client) -> None:
    for _ in range(5):
        wrong = anonymous.post("/api/v1/auth/token",
                               json={"username": "upp1", "password": "nope"})
        assert wrong.status_code == 401
        assert wrong.json()["detail"] == "wrong user name or password"
    limited = anonymous.post("/api/v1/auth/token",
                             json={"username": "upp1", "password": "correct-horse-battery"})
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert limited.json()["status"] == 429


class FromAddress(requests.adapters.HTTPAdapter):
    """Send from another loopback address, as a client elsewhere would."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def test_an_attacker_at_one_address_slows_only_that_address(
        anonymous: Client, server: str, engine: Any) -> None:
    attacker = requests.Session()
    attacker.mount("http://", FromAddress("127.0.0.2"))

    def sign_in(http: requests.Session, username: str, password: str) -> requests.Response:
        return http.post(f"{server}/api/v1/auth/token",
                         json={"username": username, "password": password}, timeout=30)

    waits: list[int] = []
    failures = 0
    while failures < 20:
        answer = sign_in(attacker, "upp1", "guess")
        if answer.status_code == 429:
            assert answer.json()["status"] == 429
            waits.append(int(answer.headers["Retry-After"]))
            engine.clock.advance(timedelta(seconds=waits[-1]))
        else:
            assert answer.status_code == 401
            failures += 1
    # Five free guesses, then waits doubling up to a minute; the 20th failure
    # from the address (603 s after the first) closes it to every user name
    # until the first failure is 15 minutes old.
    assert waits == [1, 2, 4, 8, 16, 32] + [60] * 9
    closed = sign_in(attacker, "auditor1", PASSWORD)
    assert closed.status_code == 429 and closed.headers["Retry-After"] == str(900 - 603)
    # The user, elsewhere, signs in at once.
    owner = anonymous.post("/api/v1/auth/token",
                           json={"username": "upp1", "password": PASSWORD})
    assert owner.status_code == 201
    engine.clock.advance(timedelta(seconds=297))
    assert sign_in(attacker, "auditor1", PASSWORD).status_code == 201
    assert sign_in(attacker, "upp1", PASSWORD).status_code == 201


# -- deployments and definitions ------------------------------------------------------------

def test_deploy_needs_analyst_or_admin(as_user: Any) -> None:
    refused = deploy(as_user("upp1"))
    assert refused.status_code == 403
    first = deploy(as_user("analyst1"))
    assert first.status_code == 201
    body = first.json()
    assert [(p["key"], p["version"], p["unchanged"]) for p in body["processes"]] == [
        ("certification", 1, False)]
    assert [(f["form_id"], f["unchanged"]) for f in body["forms"]] == [("application-form", False)]
    again = deploy(as_user("admin1")).json()
    assert again["deployment_id"] is None and again["processes"][0]["unchanged"] is True


def test_refused_deployment_names_file_element_and_line(as_user: Any) -> None:
    bad = definitions("bad", process("bad", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="java" />
    <bpmn:serviceTask id="java" camunda:class="org.example.Foo" />
    <bpmn:sequenceFlow id="f2" sourceRef="java" targetRef="end" />
    <bpmn:endEvent id="end" />
"""))
    answer = as_user("analyst1").post("/api/v1/deployments",
                                      files=[("files", ("bad.bpmn", bad, "text/xml"))])
    assert answer.status_code == 422
    assert answer.headers["Content-Type"] == "application/problem+json"
    (error,) = answer.json()["errors"]
    assert (error["file"], error["element"], error["line"]) == ("bad.bpmn", "java", 6)
    assert as_user("analyst1").get("/api/v1/process-definitions").json()["total"] == 0


@pytest.mark.parametrize("kind", sorted(DOCTYPES))
def test_a_file_with_a_doctype_is_refused_by_both_deployment_endpoints(
        as_user: Any, server: str, kind: str) -> None:
    analyst = as_user("analyst1")
    assert analyst.post("/api/v1/deployments", files=[
        ("files", ("dtd.bpmn", linear_user_tasks("dtd", 1), "text/xml"))]).status_code == 201
    before = analyst.get("/api/v1/process-definitions").json()["items"]
    hostile = with_doctype(kind)

    answer = analyst.post("/api/v1/deployments",
                          files=[("files", ("proses.bpmn", hostile, "text/xml"))])
    assert answer.status_code == 422, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    (error,) = answer.json()["errors"]
    assert (error["file"], error["line"], error["element"]) == ("proses.bpmn", 2, None)
    assert error["message"].startswith("DTDs and entity declarations are not accepted")
    assert "proses.bpmn:2: DTDs" in answer.json()["detail"]
    assert "root:" not in answer.text  # nothing of /etc/passwd comes back

    modeler = requests.post(f"{server}/engine-rest/deployment/create", files=[
        ("deployment-name", (None, "dtd")),
        ("proses.bpmn", ("proses.bpmn", hostile.encode(), "application/octet-stream"))],
        auth=("analyst1", PASSWORD), timeout=30)
    assert modeler.status_code == 400, modeler.text
    body = modeler.json()
    assert body["type"] == "ParseException"
    assert "proses.bpmn:2: DTDs and entity declarations are not accepted" in body["message"]
    assert body["details"]["proses.bpmn"]["errors"][0]["line"] == 2

    assert analyst.get("/api/v1/process-definitions").json()["items"] == before


def test_definitions_list_latest_and_xml(as_user: Any) -> None:
    deploy(as_user("analyst1"))
    client = as_user("upp1")
    page = client.get("/api/v1/process-definitions", params={"latest": "true"}).json()
    assert [d["key"] for d in page["items"]] == ["certification"]
    assert set(page) == {"items", "total", "total_exact", "page", "per_page"}
    one = client.get("/api/v1/process-definitions/certification").json()
    assert (one["key"], one["version"]) == ("certification", 1)
    xml = client.get("/api/v1/process-definitions/certification/xml")
    assert xml.headers["Content-Type"].startswith("application/xml")
    assert 'id="apply"' in xml.text
    assert client.get("/api/v1/process-definitions/nope").status_code == 404


# -- who sees which task ---------------------------------------------------------------------

def test_task_visible_only_to_its_roles_and_company(as_user: Any) -> None:
    instance = start_as_customer(as_user)
    assert instance["company"] == COMPANY and instance["status"] == "running"
    apply = only(as_user("cust1"))
    assert apply["name"] == "apply" and apply["roles"] == ["pelanggan"]
    assert as_user("cust2").get("/api/v1/tasks").json()["total"] == 0
    assert as_user("cust2").get(f"/api/v1/tasks/{apply['id']}").status_code == 404
    assert as_user("upp1").get("/api/v1/tasks").json()["total"] == 0
    assert as_user("upp1").get(f"/api/v1/tasks/{apply['id']}").status_code == 404
    # An admin sees every task and may act on it (issue 16: no task nobody may act on).
    assert as_user("admin1").get(f"/api/v1/tasks/{apply['id']}").status_code == 200
    done = as_user("admin1").post(f"/api/v1/tasks/{apply['id']}/complete",
                                  json={"variables": {"product": "x", "units": 1}})
    assert done.status_code == 200, done.text
    # Instances: the other company does not see it; staff do.
    assert as_user("cust2").get(f"/api/v1/process-instances/{instance['id']}").status_code == 404
    assert as_user("cust2").get("/api/v1/process-instances").json()["total"] == 0
    assert as_user("upp1").get(f"/api/v1/process-instances/{instance['id']}").status_code == 200


def test_task_detail_shows_form_and_values(as_user: Any) -> None:
    start_as_customer(as_user)
    apply = only(as_user("cust1"))
    detail = as_user("cust1").get(f"/api/v1/tasks/{apply['id']}").json()
    assert detail["form"]["kind"] == "camunda-form"
    assert detail["form"]["schema"]["id"] == "application-form"
    assert detail["variables"] is None  # customers see only the form's values
    assert detail["documents"] == []


def test_form_is_checked_on_the_server(as_user: Any) -> None:
    instance = start_as_customer(as_user)
    apply = only(as_user("cust1"))
    bad = as_user("cust1").post(f"/api/v1/tasks/{apply['id']}/complete", json={"variables": {
        "units": 5000, "scheme": "type9", "checked_by_upp": True}})
    assert bad.status_code == 422
    assert bad.headers["Content-Type"] == "application/problem+json"
    errors = {e["field"]: e["message"] for e in bad.json()["errors"]}
    assert set(errors) == {"product", "units", "scheme", "checked_by_upp"}
    assert only(as_user("cust1"))["id"] == apply["id"]  # nothing changed
    good = as_user("cust1").post(f"/api/v1/tasks/{apply['id']}/complete", json={"variables": {
        "product": "Helm", "units": "12", "scheme": "type5", "sneaky": "dropped"}})
    assert good.status_code == 200, good.text
    variables = as_user("upp1").get(f"/api/v1/process-instances/{instance['id']}").json()[
        "variables"]
    assert variables == {"product": "Helm", "units": 12, "scheme": "type5"}


def test_complete_twice_and_claims(as_user: Any) -> None:
    start_as_customer(as_user)
    apply = only(as_user("cust1"))
    path = f"/api/v1/tasks/{apply['id']}"
    claimed = as_user("cust1").post(f"{path}/claim")
    assert claimed.status_code == 200 and claimed.json()["assignee"] == "cust1"
    assert as_user("cust2").post(f"{path}/claim").status_code == 404
    assert as_user("cust1").post(f"{path}/unclaim").json()["assignee"] is None
    ok = as_user("cust1").post(f"{path}/complete",
                               json={"variables": {"product": "Helm", "units": 1}})
    assert ok.status_code == 200
    assert ok.json()["task"]["state"] == "completed"
    assert len(ok.json()["next_tasks"]) == 1
    twice = as_user("cust1").post(f"{path}/complete",
                                  json={"variables": {"product": "Helm", "units": 1}})
    assert twice.status_code == 409


def test_claimed_task_is_not_completed_by_another(as_user: Any) -> None:
    instance = start_as_customer(as_user)
    audit = advance_to_audit(as_user, instance["id"])
    assert as_user("auditor1").post(f"/api/v1/tasks/{audit['id']}/claim").status_code == 200
    other = as_user("auditor2").post(f"/api/v1/tasks/{audit['id']}/complete", json={})
    assert other.status_code == 409


def test_separation_of_duties(as_user: Any) -> None:
    instance = start_as_customer(as_user)
    audit = advance_to_audit(as_user, instance["id"])
    assert as_user("auditor1").post(f"/api/v1/tasks/{audit['id']}/complete",
                                    json={}).status_code == 200
    review = only(as_user("auditor1"), instance_id=instance["id"])
    refused = as_user("auditor1").post(f"/api/v1/tasks/{review['id']}/complete", json={})
    assert refused.status_code == 403
    assert "separation of duties" in refused.json()["detail"]
    assert as_user("auditor2").post(f"/api/v1/tasks/{review['id']}/complete",
                                    json={}).status_code == 200


def test_two_clients_complete_the_same_task_at_once(as_user: Any, server: str) -> None:
    instance = start_as_customer(as_user)
    audit = advance_to_audit(as_user, instance["id"])
    clients = [Client(server, "auditor1"), Client(server, "auditor2")]
    barrier = threading.Barrier(len(clients))
    codes: list[int] = []

    def go(client: Client) -> None:
        barrier.wait()
        codes.append(client.post(f"/api/v1/tasks/{audit['id']}/complete", json={}).status_code)

    threads = [threading.Thread(target=go, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(codes) == [200, 409]


# -- instances, history, admin commands, messages, incidents -----------------------------------

def test_instance_detail_history_and_admin_commands(as_user: Any) -> None:
    instance = start_as_customer(as_user)
    path = f"/api/v1/process-instances/{instance['id']}"
    detail = as_user("upp1").get(path).json()
    assert [t["name"] for t in detail["tasks"]] == ["apply"]
    assert detail["active_elements"] == ["apply"]
    assert as_user("upp1").post(f"{path}/suspend").status_code == 403
    assert as_user("admin1").post(f"{path}/suspend").json()["status"] == "suspended"
    assert as_user("admin1").post(f"{path}/suspend").status_code == 409
    apply = only(as_user("cust1"))
    blocked = as_user("cust1").post(f"/api/v1/tasks/{apply['id']}/complete",
                                    json={"variables": {"product": "Helm", "units": 1}})
    assert blocked.status_code == 409
    assert as_user("admin1").post(f"{path}/resume").json()["status"] == "running"
    history = as_user("cust1").get(f"{path}/history").json()
    assert [e["kind"] for e in history["items"]][:1] == ["instance_started"]
    assert {"instance_suspended", "instance_resumed"} <= {e["kind"] for e in history["items"]}
    assert as_user("cust2").get(f"{path}/history").status_code == 404
    cancelled = as_user("admin1").post(f"{path}/cancel", json={"reason": "withdrawn"})
    assert cancelled.json()["status"] == "cancelled"


def test_history_shows_large_values_stored_once(as_user: Any, engine: Engine) -> None:
    # A large variable set twice unchanged is kept once (history_value); the
    # history answer still shows it whole in both events.
    instance = start_as_customer(as_user)
    path = f"/api/v1/process-instances/{instance['id']}"
    big = [{"klausul": f"7.{n}", "hasil": "sesuai", "catatan": "x" * 40} for n in range(300)]
    for extra in (1, 2):
        answer = as_user("admin1").post(f"{path}/variables",
                                        json={"variables": {"hasil_uji": big, "ke": extra}})
        assert answer.status_code == 200, answer.text
    history = as_user("admin1").get(f"{path}/history").json()["items"]
    sets = [e["data"] for e in history if e["kind"] == "variables_set"]
    assert sets == [{"variables": {"hasil_uji": big, "ke": n}} for n in (1, 2)]
    with engine.read() as s:
        rows = s.session.scalar(sa.select(sa.func.count()).select_from(HistoryValue).where(
            HistoryValue.instance_id == instance["id"]))
    assert rows == 1


def test_message_correlation(as_user: Any) -> None:
    instance = start_as_customer(as_user, "APP-77")
    audit = advance_to_audit(as_user, instance["id"])
    as_user("auditor1").post(f"/api/v1/tasks/{audit['id']}/complete", json={})
    review = only(as_user("auditor2"), instance_id=instance["id"])
    as_user("auditor2").post(f"/api/v1/tasks/{review['id']}/complete", json={})
    message = {"name": "payment_confirmed", "business_key": "APP-77",
               "variables": {"paid": 10950000}}
    assert as_user("cust1").post("/api/v1/messages", json=message).status_code == 403
    missing = as_user("upp1").post("/api/v1/messages", json={**message, "business_key": "X"})
    assert missing.status_code == 404
    done = as_user("upp1").post("/api/v1/messages", json=message)
    assert done.status_code == 200, done.text
    assert done.json()["instance"]["status"] == "completed"




def test_incidents_listed_and_retried_by_admin(as_user: Any) -> None:
    as_user("analyst1").post("/api/v1/deployments", files=[
        ("files", ("scripted.bpmn", definitions("scripted", SCRIPTED), "text/xml"))])
    started = as_user("upp1").post("/api/v1/process-definitions/scripted/start", json={})
    assert started.json()["status"] == "error"
    assert as_user("upp1").get("/api/v1/incidents").status_code == 403
    (incident,) = as_user("admin1").get("/api/v1/incidents").json()["items"]
    assert incident["element"] == "fee" and "base" in incident["message"]
    retry = f"/api/v1/incidents/{incident['id']}/retry"
    assert as_user("upp1").post(retry, json={"variables": {"base": 2}}).status_code == 403
    fixed = as_user("admin1").post(retry, json={"variables": {"base": 2}})
    assert fixed.status_code == 200 and fixed.json()["status"] == "resolved"
    assert as_user("admin1").post(retry, json={}).status_code == 409
    assert only(as_user("upp1"))["name"] == "pay"


def test_start_restricted_by_candidate_starter_groups(as_user: Any) -> None:
    restricted = definitions("internal", process("internal", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="t" />
    <bpmn:userTask id="t" camunda:candidateGroups="upp" />
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="end" />
    <bpmn:endEvent id="end" />
""").replace('isExecutable="true"', 'isExecutable="true" camunda:candidateStarterGroups="upp"'))
    as_user("analyst1").post("/api/v1/deployments",
                             files=[("files", ("internal.bpmn", restricted, "text/xml"))])
    path = "/api/v1/process-definitions/internal/start"
    assert as_user("cust1").post(path, json={}).status_code == 403
    started = as_user("upp1").post(path, json={"company": "PT X", "business_key": "B"})
    assert started.status_code == 201
    assert started.json()["company"] == "PT X"


# -- documents ------------------------------------------------------------------------------

def test_documents_upload_list_and_download(as_user: Any) -> None:
    instance = start_as_customer(as_user)
    apply = only(as_user("cust1"))
    up = as_user("cust1").post(f"/api/v1/tasks/{apply['id']}/documents",
                               files={"file": ("nib.pdf", PDF, "application/pdf")},
                               data={"field": "nib"})
    assert up.status_code == 201, up.text
    document = up.json()
    assert (document["name"], document["size"], document["field"]) == ("nib.pdf", len(PDF), "nib")
    listed = as_user("upp1").get(f"/api/v1/process-instances/{instance['id']}/documents")
    assert [d["id"] for d in listed.json()["items"]] == [document["id"]]
    download = as_user("upp1").get(f"/api/v1/documents/{document['id']}")
    assert download.status_code == 200 and download.content == PDF
    assert as_user("cust2").get(f"/api/v1/documents/{document['id']}").status_code == 404
    fake = as_user("cust1").post(f"/api/v1/tasks/{apply['id']}/documents",
                                 files={"file": ("nib.pdf", b"MZ\x90\x00 not a pdf",
                                                 "application/pdf")})
    assert fake.status_code == 422
    assert as_user("upp1").post(f"/api/v1/tasks/{apply['id']}/documents",
                                files={"file": ("x.pdf", PDF, "application/pdf")}
                                ).status_code == 404


def test_file_field_takes_only_documents_of_this_instance(as_user: Any) -> None:
    start_as_customer(as_user, "APP-A")
    other = as_user("cust1").post("/api/v1/process-definitions/certification/start",
                                  json={"business_key": "APP-B"}).json()
    first, second = sorted(as_user("cust1").get("/api/v1/tasks").json()["items"],
                           key=lambda t: t["instance_id"] == other["id"])
    up = as_user("cust1").post(f"/api/v1/tasks/{second['id']}/documents",
                               files={"file": ("nib.pdf", PDF, "application/pdf")}).json()
    reference = {k: up[k] for k in ("id", "name", "sha256", "size", "content_type")}
    base = {"product": "Helm", "units": 1}
    foreign = as_user("cust1").post(f"/api/v1/tasks/{first['id']}/complete",
                                    json={"variables": {**base, "nib": reference}})
    assert foreign.status_code == 422
    assert [e["field"] for e in foreign.json()["errors"]] == ["nib"]
    forged = as_user("cust1").post(f"/api/v1/tasks/{second['id']}/complete", json={
        "variables": {**base, "nib": {**reference, "sha256": "0" * 64}}})
    assert forged.status_code == 422
    ok = as_user("cust1").post(f"/api/v1/tasks/{second['id']}/complete",
                               json={"variables": {**base, "nib": reference}})
    assert ok.status_code == 200, ok.text


# -- the edges ------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path", "status"), [
    ("get", "/api/v1/nowhere", 404),
    ("delete", "/api/v1/tasks", 405),
    ("get", "/api/v1/tasks?per_page=0", 422),
    ("get", "/api/v1/tasks?sort=sideways", 422),
    ("get", "/api/v1/process-instances?status=flying", 422),
])
def test_errors_are_problem_json(as_user: Any, method: str, path: str, status: int) -> None:
    answer = getattr(as_user("upp1"), method)(path)
    assert answer.status_code == status
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["status"] == status


def test_openapi_document_lists_every_endpoint(anonymous: Client) -> None:
    spec = anonymous.get("/api/v1/openapi.json").json()
    expected = {
        "/api/v1/auth/token", "/api/v1/me", "/api/v1/deployments",
        "/api/v1/process-definitions", "/api/v1/process-definitions/{key}",
        "/api/v1/process-definitions/{key}/xml", "/api/v1/process-definitions/{key}/start",
        "/api/v1/process-instances", "/api/v1/process-instances/{instance_id}",
        "/api/v1/process-instances/{instance_id}/history",
        "/api/v1/process-instances/{instance_id}/suspend",
        "/api/v1/process-instances/{instance_id}/resume",
        "/api/v1/process-instances/{instance_id}/cancel", "/api/v1/messages",
        "/api/v1/tasks", "/api/v1/tasks/{task_id}", "/api/v1/tasks/{task_id}/claim",
        "/api/v1/tasks/{task_id}/assign",
        "/api/v1/tasks/{task_id}/unclaim", "/api/v1/tasks/{task_id}/complete",
        "/api/v1/tasks/{task_id}/documents", "/api/v1/incidents",
        "/api/v1/incidents/{incident_id}/retry",
        "/api/v1/process-instances/{instance_id}/documents", "/api/v1/documents/{document_id}",
        "/api/v1/sla",
    }
    assert expected <= set(spec["paths"])


def test_health_and_metrics(anonymous: Client, as_user: Any) -> None:
    start_as_customer(as_user)
    assert anonymous.get("/healthz").json() == {"status": "ok"}
    metrics = anonymous.get("/metrics").text
    assert 'sertiflow_instances{key="certification",status="running"} 1' in metrics
    assert 'sertiflow_open_tasks{key="certification"} 1' in metrics


def test_reads_record_token_use_in_a_write_of_their_own(as_user: Any, engine: Any) -> None:
    import sqlalchemy as sa

    from engine.models import ApiToken, User

    client = as_user("upp1")
    assert client.get("/api/v1/tasks").status_code == 200
    with engine.read() as s:
        used = s.session.scalars(sa.select(ApiToken.last_used_at).join(
            User, User.id == ApiToken.user_id).where(User.username == "upp1")).all()
    assert used == [engine.clock.now()]


def test_overdue_flag_and_sla_report(as_user: Any, engine: Any, server: str) -> None:
    from datetime import timedelta

    from engine.time.timers import TimerSweep

    instance = start_as_customer(as_user)
    apply = only(as_user("cust1"))
    as_user("cust1").post(f"/api/v1/tasks/{apply['id']}/complete",
                          json={"variables": {"product": "Helm", "units": 2}})
    check = only(as_user("upp1"), instance_id=instance["id"])
    assert check["overdue"] is False and check["due_at"] is not None  # camunda:dueDate P2D
    engine.clock.advance(timedelta(days=3))
    assert as_user("upp1").get("/api/v1/tasks").status_code == 401  # the 12 h token expired
    upp = Client(server, "upp1")
    assert only(upp, instance_id=instance["id"])["overdue"] is True
    assert TimerSweep(engine).run_sla_once() == (1, 0)
    report = upp.get("/api/v1/sla").json()
    (breach,) = report["breaches"]["items"]
    assert (breach["element"], breach["roles"], breach["escalated_to"]) == (
        "check", ["upp"], "koordinator-pk")
    clocks = {c["instance_id"]: c for c in report["service_clocks"]["items"]}
    assert clocks[instance["id"]]["running_now"] is True
    assert Client(server, "cust1").get("/api/v1/sla").status_code == 403


def test_interactive_docs_page_points_at_the_document(anonymous: Client) -> None:
    page = anonymous.get("/api/v1/docs")
    assert page.status_code == 200
    assert "swagger-ui" in page.text and "/api/v1/openapi.json" in page.text


def test_root_points_at_the_api(anonymous: Client) -> None:
    body = anonymous.get("/").json()
    assert body["docs"] == "/api/v1/docs" and body["openapi"] == "/api/v1/openapi.json"


def test_a_customer_whose_account_lost_its_company_starts_nothing_and_sees_nothing(
        engine: Engine, as_user: Any) -> None:
    assert deploy(as_user("analyst1")).status_code == 201
    staff_started = as_user("upp1").post("/api/v1/process-definitions/certification/start",
                                         json={"business_key": "STAFF-1"})
    assert staff_started.status_code == 201 and staff_started.json()["company"] is None
    with engine.write() as s:  # the account edited by hand: still a customer, no company
        s.session.execute(sa.update(User).where(User.username == "cust1").values(company=None))
    lost = as_user("cust1")
    refused = lost.post("/api/v1/process-definitions/certification/start",
                        json={"business_key": "LOST-1"})
    assert refused.status_code == 403, refused.text
    with engine.read() as s:
        assert s.session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance)) == 1
    assert lost.get("/api/v1/process-instances").json()["items"] == []
    assert lost.get("/api/v1/tasks").json()["items"] == []
    assert lost.get(f"/api/v1/process-instances/{staff_started.json()['id']}").status_code == 404
