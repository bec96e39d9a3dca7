"""Finding work by company, number or product, and the tasks a person completed.

``GET /api/v1/tasks?q=`` and ``/process-instances?q=`` find instances by the words of
their business key, company and the variables the LSPro names (``nama_produk``...),
kept up to date as the variables change; ``GET /api/v1/tasks?completed_by=me`` lists
what the caller completed, newest first. Also run on PostgreSQL
(``--database=postgresql``), whose LIKE and index differ from SQLite's.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from engine.composition import Engine
from engine.time.clock import FrozenClock

from .bpmn_rest import deployed, flows

KEY = "uji_cari"
BODY = """\
<bpmn:startEvent id="s" />
<bpmn:userTask id="periksa" name="Periksa" camunda:candidateGroups="auditor" />
<bpmn:userTask id="setujui" name="Setujui" camunda:candidateGroups="auditor" />
<bpmn:endEvent id="e" />
""" + flows("s", "periksa", "setujui", "e")

# business key, company, product
CASES = {
    "a": ("PRM-2027-00011", "PT Maju Jaya", "Biskuit Kelapa"),
    "b": ("PRM-2027-00012", "PT Lain Sekali", "Air Minum Dalam Kemasan"),
    "c": ("SRT-9", "PT Maju Bersama", "Kopi_Bubuk 100%"),
}


@pytest.fixture
def started(as_user: Any) -> dict[str, str]:
    deployed(as_user("analyst1"), KEY, BODY)
    ids = {}
    for name, (business_key, company, product) in CASES.items():
        answer = as_user("upp1").post(
            f"/api/v1/process-definitions/{KEY}/start",
            json={"business_key": business_key, "company": company,
                  "variables": {"nama_produk": product}})
        assert answer.status_code == 201, answer.text
        ids[name] = answer.json()["id"]
    return ids


def found(client: Any, path: str, q: str) -> set[str]:
    answer = client.get(path, params={"q": q, "per_page": 200})
    assert answer.status_code == 200, answer.text
    return {item.get("instance_id") or item["id"] for item in answer.json()["items"]}


@pytest.mark.parametrize("typed, expected", [
    ("biskuit", {"a"}),
    ("BISK", {"a"}),  # any letter case, the start of a word
    ("maju", {"a", "c"}),
    ("maju jaya", {"a"}),  # every word typed must match
    ("PRM-2027", {"a", "b"}),
    ("prm-2027-00012", {"b"}),
    ("00012", {"b"}),
    ("air minum", {"b"}),
    ("kopi_", {"c"}),  # LIKE's wildcards are plain letters here
    ("100", {"c"}),
    ("kelapa sekali", set()),
    ("%", set()),  # nothing to search by finds nothing, not everything
    ("inum", set()),  # the start of a word, not its middle
])
def test_tasks_and_instances_are_found_by_key_company_and_product(
        as_user: Any, started: dict[str, str], typed: str, expected: set[str]) -> None:
    want = {started[name] for name in expected}
    assert found(as_user("auditor1"), "/api/v1/tasks", typed) == want
    assert found(as_user("admin1"), "/api/v1/process-instances", typed) == want


def test_search_follows_changed_variables_and_customers_see_their_own(
        as_user: Any, started: dict[str, str], engine: Engine) -> None:
    admin = as_user("admin1")
    changed = admin.post(f"/api/v1/process-instances/{started['a']}/variables",
                         json={"variables": {"nama_produk": "Roti Manis"}})
    assert changed.status_code == 200, changed.text
    assert found(admin, "/api/v1/process-instances", "roti") == {started["a"]}
    assert found(admin, "/api/v1/process-instances", "biskuit") == set()
    assert found(admin, "/api/v1/process-instances", "maju") == {started["a"], started["c"]}
    # A customer's search stays within their company (PT Maju Jaya).
    with engine.write() as s:
        s.runtime.start_instance(KEY, business_key="PRM-2027-00099", company="PT Maju Jaya",
                                 actor="cust1", variables={"nama_produk": "Roti Tawar"})
    mine = found(as_user("cust1"), "/api/v1/process-instances", "roti")
    assert started["a"] in mine and len(mine) == 2
    assert found(as_user("cust1"), "/api/v1/process-instances", "kopi") == set()


def test_bad_search_is_refused_with_the_field_named(as_user: Any, started: dict[str, str]
                                                     ) -> None:
    for path in ("/api/v1/tasks", "/api/v1/process-instances"):
        answer = as_user("admin1").get(path, params={"q": "x" * 101})
        assert answer.status_code == 422
        assert [e["field"] for e in answer.json()["errors"]] == ["q"]


def test_completed_by_me_newest_first_paged_and_filtered(
        as_user: Any, started: dict[str, str], clock: FrozenClock) -> None:
    auditor = as_user("auditor1")

    def complete_first(instance_id: str) -> str:
        task = auditor.get("/api/v1/tasks", params={"instance_id": instance_id}).json()
        task_id = task["items"][0]["id"]
        answer = auditor.post(f"/api/v1/tasks/{task_id}/complete", json={"variables": {}})
        assert answer.status_code == 200, answer.text
        clock.advance(timedelta(minutes=5))
        return str(task_id)

    first, second = complete_first(started["a"]), complete_first(started["b"])
    done = auditor.get("/api/v1/tasks", params={"completed_by": "me"}).json()
    assert [t["id"] for t in done["items"]] == [second, first]
    assert all(t["state"] == "completed" and t["completed_by"] == "auditor1"
               for t in done["items"])
    paged = auditor.get("/api/v1/tasks",
                        params={"completed_by": "me", "per_page": 1, "page": 2}).json()
    assert paged["total"] == 2 and [t["id"] for t in paged["items"]] == [first]
    by_product = auditor.get("/api/v1/tasks",
                             params={"completed_by": "me", "q": "biskuit"}).json()
    assert [t["id"] for t in by_product["items"]] == [first]
    # Another auditor completed nothing, and may not list a colleague's; an admin may.
    assert as_user("auditor2").get("/api/v1/tasks",
                                   params={"completed_by": "me"}).json()["items"] == []
    refused = as_user("auditor2").get("/api/v1/tasks", params={"completed_by": "auditor1"})
    assert refused.status_code == 403
    listed = as_user("admin1").get("/api/v1/tasks", params={"completed_by": "auditor1"})
    assert [t["id"] for t in listed.json()["items"]] == [second, first]


def test_suspend_and_resume_keep_an_optional_reason(as_user: Any,
                                                    started: dict[str, str]) -> None:
    admin = as_user("admin1")
    path = f"/api/v1/process-instances/{started['a']}"
    assert admin.post(f"{path}/suspend",
                      json={"reason": "Menunggu klarifikasi"}).json()["status"] == "suspended"
    assert admin.post(f"{path}/resume").json()["status"] == "running"  # no body: no reason
    too_long = admin.post(f"{path}/suspend", json={"reason": "x" * 1001})
    assert too_long.status_code == 422
    events = admin.get(f"{path}/history").json()["items"]
    kept = [(e["kind"], e["data"]) for e in events
            if e["kind"] in ("instance_suspended", "instance_resumed")]
    assert kept == [("instance_suspended", {"reason": "Menunggu klarifikasi"}),
                    ("instance_resumed", None)]
