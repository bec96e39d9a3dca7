"""Staff work lists on the pages: "completed by me" and searching the monitor."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from engine.composition import Engine
from engine.time.clock import FrozenClock
from tests.people import OTHER_COMPANY

from .conftest import Browser
from .driving import complete_first_step, start


def rows(browser: Browser, path: str, attribute: str) -> list[str]:
    page = browser.page(path)
    assert page.status_code == 200
    return re.findall(rf'<tr {attribute}="([^"]+)"', page.get_data(as_text=True))


def test_completed_by_me_lists_my_finished_steps_newest_first(
        browser: Any, web_engine: Engine, clock: FrozenClock) -> None:
    customer: Browser = browser("cust1")
    first = start(web_engine, business_key="PRM-2027-00101")
    second = start(web_engine, business_key="PRM-2027-00102")
    for instance_id in (first, second):
        complete_first_step(web_engine, customer, instance_id)
        clock.advance(timedelta(minutes=7))
    page = customer.page("/tasks?view=done").get_data(as_text=True)
    assert 'id="done-table"' in page and "Selesai oleh saya" in page
    listed = rows(customer, "/tasks?view=done", "data-task-id")
    assert len(listed) == 2
    # Newest first: the second instance's step, then the first's.
    assert re.findall(r"PRM-2027-001\d\d", page.split('id="done-table"')[1]) == [
        "PRM-2027-00102", "PRM-2027-00101"]
    assert rows(customer, "/tasks?view=done&q=00101", "data-task-id") == listed[1:]
    # The clerk completed nothing yet.
    clerk: Browser = browser("upp1")
    assert rows(clerk, "/tasks?view=done", "data-task-id") == []
    assert "Selesai oleh saya" in clerk.page("/tasks?lang=id").get_data(as_text=True)


def test_monitor_searches_by_company_and_number(browser: Any, web_engine: Engine) -> None:
    ours = start(web_engine, business_key="PRM-2027-00201")
    theirs = start(web_engine, business_key="PRM-2027-00202", company=OTHER_COMPANY, by="cust2")
    clerk: Browser = browser("upp1")
    assert rows(clerk, "/instances?q=lain", "data-instance-id") == [theirs]
    assert rows(clerk, "/instances?q=prm-2027-00201", "data-instance-id") == [ours]
    assert set(rows(clerk, "/instances?q=PRM-2027", "data-instance-id")) == {ours, theirs}
    page = clerk.page("/instances?q=maju").get_data(as_text=True)
    assert 'id="instance-search"' in page and 'value="maju"' in page
