"""Driving web_demo (sample.py) in the web tests, as its users do.

Start an instance for a company, find a task, upload a document from the task
page, fill in the first step through the pages, and read the configuration a task
page hands to its form.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from engine.composition import Engine
from engine.models import Task
from tests import builders
from tests.people import COMPANY

from . import sample
from .conftest import Browser

# What the first step's form accepts.
GOOD = {"nomor_produk": "ABC-123", "jumlah": 3, "jenis": "baru"}


def start(engine: Engine, *, company: str = COMPANY, business_key: str | None = None,
          by: str = "cust1") -> str:
    """Start web_demo for a company (through the same runtime the pages use)."""
    with engine.write() as s:
        return s.runtime.start_instance(sample.KEY, business_key=business_key, actor=by,
                                        company=company).id


def task_of(engine: Engine, instance_id: str, element: str) -> Task:
    with engine.read() as s:
        return s.session.scalars(sa.select(Task).options(selectinload(Task.candidates))
                                 .where(Task.instance_id == instance_id,
                                        Task.element_id == element)).one()


def upload(browser: Browser, task_id: str, field: str = "dok_surat") -> dict[str, Any]:
    answer = browser.client.post(
        f"/tasks/{task_id}/documents",
        data={"file": (io.BytesIO(sample.PDF), "surat.pdf"), "field": field},
        headers={"X-CSRF-Token": browser.token(), "Accept": "application/json"},
        content_type="multipart/form-data")
    assert answer.status_code == 201, answer.get_data(as_text=True)
    reference: dict[str, Any] = answer.get_json()
    return reference


def complete_first_step(engine: Engine, customer: Browser, instance_id: str) -> str:
    task = task_of(engine, instance_id, sample.FIRST)
    customer.page(f"/tasks/{task.id}")
    reference = upload(customer, task.id)
    answer = customer.post_json(f"/tasks/{task.id}/complete",
                                {"variables": {**GOOD, "dok_surat": reference}})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return task_of(engine, instance_id, sample.SECOND).id


def config_of(page: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="task-config">(.*?)</script>',
                      page, re.S)
    assert found is not None
    config: dict[str, Any] = json.loads(found.group(1))
    return config


# The LSPro's own payment form (its NTPN has a pattern), on one user task of the clerks.
ROOT = Path(__file__).resolve().parents[2]
PAYMENT = "bayar_demo"


def payment_files() -> list[tuple[str, bytes]]:
    task = ('    <bpmn:userTask id="catat" name="Catat pembayaran" '
            'camunda:candidateGroups="upp" camunda:formRef="pembayaran_diterima" />\n')
    flows = ('    <bpmn:sequenceFlow id="a" sourceRef="mulai" targetRef="catat" />\n'
             '    <bpmn:sequenceFlow id="b" sourceRef="catat" targetRef="selesai" />\n')
    body = builders.process(PAYMENT, '    <bpmn:startEvent id="mulai" />\n' + task
                            + '    <bpmn:endEvent id="selesai" />\n' + flows,
                            name="Catat pembayaran")
    form = (ROOT / "forms" / "pembayaran_diterima.form").read_bytes()
    return [(f"{PAYMENT}.bpmn", builders.definitions(PAYMENT, body).encode()),
            ("pembayaran_diterima.form", form)]
