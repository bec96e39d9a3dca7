"""The staff's list of e-Billing bills (the LSPro's page): who sees it, filters, links."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from engine.composition import Engine
from engine.time.clock import FrozenClock
from lspro.billing import BillingService
from tests.builders import definitions, process
from tests.people import COMPANY, OTHER_COMPANY, add_users

from .conftest import Browser

# An application that waits for its payment notice, as permohonan_sertifikasi does.
WAITING = definitions("menunggu_bayar", process("menunggu_bayar", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="bayar" />
    <bpmn:intermediateCatchEvent id="bayar" name="Pembayaran">
      <bpmn:messageEventDefinition id="Def_bayar" messageRef="Message_bayar" />
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="bayar" targetRef="end" />
    <bpmn:endEvent id="end" />
""", name="Menunggu bayar") + '  <bpmn:message id="Message_bayar" name="pembayaran_diterima" />\n')


@pytest.fixture
def bills(web_engine: Engine, clock: FrozenClock) -> dict[str, str]:
    """Four bills: unpaid and awaited, unpaid past its deadline, paid, cancelled."""
    add_users(web_engine, {"keuangan1": (["administrasi"], None)})
    with web_engine.write() as s:
        s.deployments.deploy([("menunggu_bayar.bpmn", WAITING.encode())], actor="analyst1")
        waiting = s.runtime.start_instance("menunggu_bayar", business_key="PRM-2027-00301",
                                           actor="upp1", company=COMPANY).id
    codes = {}
    with web_engine.write() as s:
        billing = s.get(BillingService)
        codes["late"] = billing.issue("PRM-2027-00302", ["INITIAL_OR_RECERT"],
                                      company=OTHER_COMPANY).code
        codes["cancelled"] = billing.issue("PRM-2027-00303", ["INITIAL_OR_RECERT"],
                                           company=COMPANY).code
        codes["cancelled_by"] = billing.issue("PRM-2027-00303", ["INITIAL_OR_RECERT"],
                                              company=COMPANY).code  # cancels the first
        billing.confirm(codes["cancelled_by"], "0A1B2C3D4E5F6G7H", clock.now().date())
    clock.advance(timedelta(days=40))  # past the first bills' deadlines
    with web_engine.write() as s:
        billing = s.get(BillingService)
        codes["awaited"] = billing.issue("PRM-2027-00301", ["INITIAL_OR_RECERT"],
                                         company=COMPANY, instance_id=waiting).code
    codes["paid"] = codes.pop("cancelled_by")
    codes["instance"] = waiting
    return codes


def listed(browser: Browser, query: str = "") -> list[str]:
    page = browser.page(f"/bills{query}")
    assert page.status_code == 200, page.get_data(as_text=True)
    return re.findall(r'<tr data-bill="(\d+)"', page.get_data(as_text=True))


def test_finance_staff_list_and_filter_the_bills(browser: Any, bills: dict[str, str]) -> None:
    finance: Browser = browser("keuangan1")
    home = finance.page("/tasks").get_data(as_text=True)
    assert 'href="/bills"' in home and ">Tagihan<" in home
    assert set(listed(finance)) == {bills["awaited"], bills["paid"], bills["cancelled"],
                                    bills["late"]}
    assert listed(finance, "?state=terbit") == [bills["awaited"], bills["late"]]
    assert listed(finance, "?state=lunas") == [bills["paid"]]
    assert listed(finance, "?state=dibatalkan") == [bills["cancelled"]]
    assert listed(finance, "?overdue=1") == [bills["late"]]
    assert listed(finance, "?company=lain") == [bills["late"]]
    page = finance.page("/bills").get_data(as_text=True)
    assert "Belum dibayar" in page and "Lunas" in page and "10.950.000 IDR" in page
    # The unpaid bill the application waits for links to recording its payment.
    instance = bills["instance"]
    assert (f'id="pay-{bills["awaited"]}" href="/instances/{instance}/messages/'
            "pembayaran_diterima\"") in page
    assert f'id="pay-{bills["late"]}"' not in page  # no instance waits for it
    assert f'href="/instances/{instance}"' in page
    english = finance.page("/bills?lang=en").get_data(as_text=True)
    assert "e-Billing bills" in english and "Unpaid" in english


def test_only_finance_staff_and_admins_see_the_bills(browser: Any,
                                                     bills: dict[str, str]) -> None:
    assert listed(browser("admin1"))
    for who in ("upp1", "cust1"):
        other: Browser = browser(who)
        assert other.page("/bills").status_code == 404
        assert 'href="/bills"' not in other.page("/tasks").get_data(as_text=True)
