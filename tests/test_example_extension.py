"""A second extension plugs in without the LSPro: its topic, its table, its page.

The order desk of ``tests/example_extension`` is loaded alone, through the same
seam the LSPro uses: the CLI migrates its branch and nothing of the LSPro's, the
REST API runs its topic and knows none of the LSPro's, and the pages show its
page in the engine's layout and none of the LSPro's.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from api import create_app
from engine.composition import Engine
from engine.config import load_settings
from engine.errors import InvalidInput
from engine.time.clock import FrozenClock
from tests.api.bpmn_rest import START, complete_task, deployed, flows, ready_task, start
from tests.api.conftest import Client
from tests.builders import service
from tests.example_extension import OrderDesk
from tests.example_extension.models import OrderBook
from tests.people import PASSWORD, ROOT, add_users, serving

ORDER = ('<bpmn:userTask id="approve" name="Setujui pesanan" camunda:candidateGroups="gudang" />'
         + service("keep", "order.register")
         + '<bpmn:endEvent id="e" />')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _env(tmp_path: Path, extensions: str) -> dict[str, str]:
    return {**os.environ,
            "SERTIFLOW_INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'orders.db'}",
            "SERTIFLOW_SECRET_KEY": "example",
            "SERTIFLOW_PROCESSES": str(tmp_path / "none"),
            "SERTIFLOW_FORMS": str(tmp_path / "none"),
            "SERTIFLOW_CALENDAR": "calendar-days",
            "SERTIFLOW_EXTENSIONS": extensions,
            "PYTHONPATH": str(ROOT)}


def _tables(url: str) -> set[str]:
    db = sa.create_engine(url)
    try:
        return set(sa.inspect(db).get_table_names())
    finally:
        db.dispose()


@pytest.fixture
def desk(tmp_path: Path, clock: FrozenClock) -> Iterator[Engine]:
    """An engine with the order desk only, on a database migrated for it alone."""
    settings = load_settings(_env(tmp_path, ""))
    built = Engine(settings, clock=clock, extensions=[OrderDesk(prefix="PO")])
    built.migrate()
    add_users(built, {"gudang1": (["gudang"], None), "analyst1": (["analyst"], None),
                      "admin1": (["admin"], None)})
    yield built
    built.close()


def test_the_cli_migrates_the_extension_it_is_told_to_load_and_not_the_lspro(
        tmp_path: Path) -> None:
    env = _env(tmp_path, "tests.example_extension:extension")
    result = subprocess.run([sys.executable, "-m", "api.cli", "db", "upgrade"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    tables = _tables(env["DATABASE_URL"])
    assert {"example_order", "process_instance", "task", "alembic_version"} <= tables
    assert not tables & {"certificate", "invoice", "panel_member", "number_sequence"}
    # The LSPro's roles are unknown to a server without its extension.
    refused = subprocess.run(
        [sys.executable, "-m", "api.cli", "--extension", "tests.example_extension:extension",
         "users", "add", "budi", "--role", "upp", "--password-stdin"], cwd=ROOT,
        env={**env, "SERTIFLOW_EXTENSIONS": ""}, input=PASSWORD + "\n", capture_output=True,
        text=True, timeout=120)
    assert refused.returncode != 0
    assert "unknown role 'upp'" in refused.stderr and "gudang" in refused.stderr
    broken = subprocess.run([sys.executable, "-m", "api.cli", "db", "upgrade"], cwd=ROOT,
                            env={**env, "SERTIFLOW_EXTENSIONS": "tests.nothing:here"},
                            capture_output=True, text=True, timeout=120)
    assert broken.returncode != 0
    assert "cannot load the extension 'tests.nothing:here'" in broken.stderr


def test_the_extension_registers_its_topic_service_role_and_escalation(desk: Engine) -> None:
    assert "order.register" in desk.topics.topics()
    assert "process.start" in desk.topics.topics()  # the engine's own topics stay
    assert not desk.topics.topics() & {"certificate.issue", "billing.issue", "case.open"}
    assert "gudang" in desk.roles and "upp" not in desk.roles
    assert desk.setup.escalation == {"gudang": "admin"}
    assert desk.provided(OrderDesk).prefix == "PO"
    with pytest.raises(LookupError, match="no loaded extension provides"):
        desk.provided(str)
    with pytest.raises(ValueError, match="loaded twice"):
        Engine(desk.settings, extensions=[OrderDesk(), OrderDesk()])


def test_its_process_runs_over_rest_and_its_page_shows_the_result(desk: Engine) -> None:
    with serving(create_app(desk.settings, engine=desk)) as base:
        analyst, clerk = Client(base, "analyst1"), Client(base, "gudang1")
        deployed(analyst, "order", START + ORDER + flows("s", "approve", "keep", "e"))
        instance_id = start(analyst, "order", {"barang": "Kertas A4", "jumlah": 12})
        answer = complete_task(clerk, ready_task(clerk, instance_id, "approve"))
        assert answer.status_code == 200, answer.text
        finished = analyst.get(f"/api/v1/process-instances/{instance_id}").json()
        assert finished["status"] == "completed"
        assert finished["variables"]["nomor_pesanan"] == "PO-0001"

        # None of the LSPro's endpoints or pages exists here.
        spec = requests.get(f"{base}/api/v1/openapi.json", timeout=30).json()
        assert not [p for p in spec["paths"] if "certificate" in p or "invoice" in p]
        assert analyst.get("/api/v1/certificates").status_code == 404
        assert requests.get(f"{base}/verify", timeout=30).status_code == 404
        lspro_process = (ROOT / "processes" / "permohonan_sertifikasi.bpmn").read_bytes()
        refused = analyst.post("/api/v1/deployments", files=[
            ("files", ("permohonan_sertifikasi.bpmn", lspro_process, "text/xml"))])
        assert refused.status_code == 422
        assert "no handler is registered for topic" in refused.text

        pages = _page_session(base, "gudang1")
        page = pages.get(f"{base}/orders", timeout=30)
        assert page.status_code == 200
        assert "PO-0001" in page.text and "Kertas A4" in page.text
        assert "Daftar pesanan" in page.text and ">Pesanan</a>" in page.text
        assert "Sertifikat" not in page.text and "LSPro" not in page.text
        english = pages.get(f"{base}/orders?lang=en", timeout=30).text
        assert "<h1>Orders</h1>" in english


def test_its_handler_errors_become_incidents_on_the_element(desk: Engine) -> None:
    with serving(create_app(desk.settings, engine=desk)) as base:
        analyst, clerk = Client(base, "analyst1"), Client(base, "gudang1")
        deployed(analyst, "order", START + ORDER + flows("s", "approve", "keep", "e"))
        instance_id = start(analyst, "order", {"barang": "", "jumlah": 0})
        complete_task(clerk, ready_task(clerk, instance_id, "approve"))
        incidents = Client(base, "admin1").get("/api/v1/incidents",
                                params={"instance_id": instance_id}).json()["items"]
    assert [i["element"] for i in incidents] == ["keep"]
    assert "an order needs an item" in incidents[0]["message"]
    with desk.read() as s:
        assert s.get(OrderBook).all() == []  # nothing was kept
        with pytest.raises(InvalidInput):
            s.get(OrderBook).add(item="", quantity=0, instance_id="x")



def _page_session(base: str, username: str) -> requests.Session:
    pages = requests.Session()
    token = CSRF.search(pages.get(f"{base}/signin", timeout=30).text)
    assert token is not None
    answer = pages.post(f"{base}/signin", data={
        "username": username, "password": PASSWORD, "csrf_token": token.group(1)},
        allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text
    return pages
