"""Failed steps on the pages: staff see the failure, a customer a short message.

Also: the JSON the pages embed and read is strict (no NaN or Infinity).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from engine.composition import Engine
from engine.models import Incident
from tests.builders import definitions, process
from tests.people import COMPANY

from . import sample
from .conftest import Browser
from .driving import config_of, task_of

ROOT = Path(__file__).resolve().parent.parent.parent
CUSTOMER_ID = "Terjadi kendala teknis pada langkah ini; petugas sudah diberi tahu."
CUSTOMER_EN = "A technical problem occurred at this step; our staff have been notified."
SECRETS = ("Traceback", "/work/", '.py"', ".py&#34;", str(ROOT), "ZeroDivisionError",
           "division by zero")

FAILING = definitions("failing", process("failing", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fee" />
    <bpmn:scriptTask id="fee" scriptFormat="python">
      <bpmn:script>x = 1/0</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="fee" targetRef="end" />
    <bpmn:endEvent id="end" />
""", name="Gagal"))


def _started_by_customer(web_engine: Engine, customer: Browser) -> str:
    with web_engine.write() as s:
        s.deployments.deploy([("failing.bpmn", FAILING.encode())], actor="analyst1",
                             source="test")
    customer.page("/start")
    answer = customer.post("/start/failing")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    found = re.search(r"/instances/([0-9a-f-]+)", answer.headers["Location"])
    assert found is not None
    return found.group(1)


def _assert_nothing_secret(page: str) -> None:
    for secret in SECRETS:
        assert secret not in page, f"{secret!r} reached the customer"


def test_customer_pages_show_a_short_message_only(browser: Any, web_engine: Engine) -> None:
    customer: Browser = browser("cust1")
    instance_id = _started_by_customer(web_engine, customer)
    page = customer.page(f"/instances/{instance_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'id="incidents"' in text and CUSTOMER_ID in text
    _assert_nothing_secret(text)
    english = customer.page(f"/instances/{instance_id}?lang=en").get_data(as_text=True)
    assert CUSTOMER_EN in english
    _assert_nothing_secret(english)
    for path in ("/applications", "/tasks", "/start"):
        reached = customer.page(path)
        assert reached.status_code == 200, path
        _assert_nothing_secret(reached.get_data(as_text=True))


def test_staff_and_admins_see_the_failure(browser: Any, web_engine: Engine) -> None:
    instance_id = _started_by_customer(web_engine, browser("cust1"))
    admin = browser("admin1").page(f"/instances/{instance_id}").get_data(as_text=True)
    assert "division by zero" in admin
    assert "Traceback (most recent call last)" in admin and ".py&#34;" in admin
    assert CUSTOMER_ID not in admin
    staff = browser("upp1").page(f"/instances/{instance_id}").get_data(as_text=True)
    assert "division by zero" in staff


def test_retry_refuses_non_finite_numbers(browser: Any, web_engine: Engine) -> None:
    instance_id = _started_by_customer(web_engine, browser("cust1"))
    with web_engine.read() as s:
        incident_id = s.session.scalars(
            sa.select(Incident.id).where(Incident.instance_id == instance_id)).one()
    admin: Browser = browser("admin1")
    admin.page(f"/instances/{instance_id}")
    refused = admin.post(f"/incidents/{incident_id}/retry", {"variables": '{"x": NaN}'})
    assert refused.status_code == 422
    assert "NaN at x is not a JSON number" in refused.get_data(as_text=True)
    with web_engine.read() as s:
        incident = s.session.get(Incident, incident_id)
        assert incident is not None and incident.status == "open"


def _no_constants(token: str) -> Any:
    raise AssertionError(f"the page embeds the non-JSON token {token}")


# Clients and scripts cannot store NaN (both are refused); a service handler, the
# engine's own code, still could, and data stored by earlier versions may hold it.
ODD_NUMBERS = definitions("odd_numbers", process("odd_numbers", f"""\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="measure" />
    <bpmn:serviceTask id="measure" camunda:type="external" camunda:topic="numbers.odd" />
    <bpmn:sequenceFlow id="f2" sourceRef="measure" targetRef="{sample.FIRST}" />
    <bpmn:userTask id="{sample.FIRST}" camunda:formRef="{sample.FIRST}"
                   camunda:candidateGroups="pelanggan" />
"""))


def test_pages_embed_non_finite_numbers_as_null(browser: Any, web_engine: Engine) -> None:
    web_engine.topics.register(
        "numbers.odd", lambda call: {"jumlah": float("nan"), "catatan": float("inf")})
    with web_engine.write() as s:
        s.deployments.deploy([("odd.bpmn", ODD_NUMBERS.encode())], actor="analyst1",
                             source="test")
        instance_id = s.runtime.start_instance(
            "odd_numbers", actor="cust1", company=COMPANY).id
    task = task_of(web_engine, instance_id, sample.FIRST)
    page = browser("cust1").page(f"/tasks/{task.id}").get_data(as_text=True)
    config = config_of(page)
    embedded = re.search(r'id="task-config">(.*?)</script>', page, re.S)
    assert embedded is not None
    json.loads(embedded.group(1), parse_constant=_no_constants)
    assert config["data"] == {"jumlah": None, "catatan": None}
    monitor = browser("upp1").page(f"/instances/{instance_id}").get_data(as_text=True)
    assert "NaN" not in monitor and "Infinity" not in monitor
