"""The deployments page refuses a BPMN file with a document type declaration."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
import sqlalchemy as sa

from engine.composition import Engine
from engine.models import Deployment, ProcessDefinition
from tests.hostile_xml import DOCTYPES, with_doctype

from .conftest import Browser


def stored(engine: Engine) -> list[int]:
    with engine.read() as s:
        return [int(s.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)
                for model in (Deployment, ProcessDefinition)]


@pytest.mark.parametrize("kind", ["external-system-entity", "billion-laughs", "bare-doctype"])
def test_the_page_shows_the_refusal_with_file_and_line(browser: Any, web_engine: Engine,
                                                       kind: str) -> None:
    assert kind in DOCTYPES
    before = stored(web_engine)
    analyst: Browser = browser("analyst1")
    refused = analyst.post("/deployments", {"files": (io.BytesIO(with_doctype(kind).encode()),
                                                      "proses.bpmn")},
                           content_type="multipart/form-data")
    assert refused.status_code == 422
    problems = refused.get_data(as_text=True).split('id="deploy-problems"')[1]
    assert re.search(r'<td>proses.bpmn</td><td class="num">2</td><td></td>'
                     r"<td>DTDs and entity declarations are not accepted", problems), problems
    assert stored(web_engine) == before
