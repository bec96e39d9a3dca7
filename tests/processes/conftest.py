"""Process tests run the real files against the real domain handlers (``lspro_engine``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.composition import Engine
from engine.time.clock import FrozenClock
from tests.processes.driver import Driver
from tests.processes.entries import APPLICATION, BUSINESS_KEY, COMPANY, ENTRIES
from tests.walks import check_ready_tasks


@pytest.fixture
def driver(lspro_engine: Engine, clock: FrozenClock) -> Driver:
    """The driver of the LSPro's engine and the test's clock; nothing deployed yet.

    The steps of sertifikasi_produk and keputusan_sertifikasi are given their usual
    entries (ENTRIES) unless a test says otherwise; the staff the team proposal
    picks from (TEAM) exist. A module that needs other users
    or a deployment of its own defines its own ``driver``.
    """
    driver = Driver(lspro_engine, clock, defaults=ENTRIES)
    driver.add_team()
    return driver


@pytest.fixture
def instance_id(driver: Driver) -> str:
    """An application handed to sertifikasi_produk, as the application process calls it."""
    driver.deploy()
    return driver.start("sertifikasi_produk", business_key=BUSINESS_KEY, actor="ani.upp",
                        company=COMPANY, variables=APPLICATION)


@pytest.fixture(autouse=True)
def _ready_tasks_as_spiffworkflow_walks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The LSPro's processes run their steps in called processes: each answer of the
    engine's ready tasks is checked against SpiffWorkflow's walk (tests.walks)."""
    checked = check_ready_tasks(monkeypatch)
    yield
    assert checked.differed == []
