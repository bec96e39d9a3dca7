"""The LSPro's PDFs are laid out after their command, saying what the command decided.

The command that issues a certificate (or a bill, a letter, a receipt) calls no
WeasyPrint: it freezes the document's page and the render queue makes the PDF; a
later change of what the page was made from does not change it. The certificate's draft is
made in its command, as its variable carries the file's SHA-256.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
import weasyprint

from engine.composition import Engine
from engine.models import Document
from lspro.models import Certificate
from tests.builders import service
from tests.lspro.test_domain_topics import (
    COMPANY,
    GRANT,
    deploy,
    document,
    incidents,
    start,
    state,
    user,
)


@pytest.fixture
def layouts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every WeasyPrint layout started, by thread name."""
    started: list[str] = []
    real = weasyprint.HTML

    def counted(*args: Any, **kwargs: Any) -> Any:
        import threading

        started.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(weasyprint, "HTML", counted)
    yield started


def pending(engine: Engine, document_id: str) -> bool:
    with engine.read() as s:
        found: Document = s.documents.get(document_id)
        return not found.ready


def test_issuing_a_certificate_calls_no_weasyprint_and_the_queue_makes_its_pdf(
        engine: Engine, layouts: list[str]) -> None:
    deploy(engine, "sertifikat", ("issue", service("issue", "certificate.issue")),
           ("bill", service("bill", "billing.issue", schedule="INITIAL_OR_RECERT")),
           ("wait", user("wait")))
    instance_id = start(engine, "sertifikat", GRANT)
    assert incidents(engine, instance_id) == []
    _, variables = state(engine, instance_id)
    assert layouts == []  # the command laid nothing out
    assert pending(engine, variables["dokumen_sertifikat"])
    assert pending(engine, variables["dokumen_tagihan"])

    # The register's row changes after the command: the PDF says what was decided.
    with engine.write() as s:
        s.session.execute(sa.update(Certificate).values(company="PT Lain Sekali"))
    assert engine.renders.drain() == 2 and len(layouts) == 2
    _, text = document(engine, variables["dokumen_sertifikat"])
    assert variables["nomor_sertifikat"] in text and "Renyah" in text
    assert COMPANY in text and "PT Lain Sekali" not in text
    _, bill = document(engine, variables["dokumen_tagihan"])
    assert variables["kode_billing"] in bill
    assert len(layouts) == 2  # read back without laying out again


def test_the_certificate_draft_is_made_in_its_command(engine: Engine,
                                                      layouts: list[str]) -> None:
    deploy(engine, "konsep", ("draft", service("draft", "certificate.draft")),
           ("wait", user("wait")))
    instance_id = start(engine, "konsep", GRANT)
    _, variables = state(engine, instance_id)
    reference = variables["dokumen_konsep_sertifikat"]
    assert len(layouts) == 1 and not pending(engine, reference["id"])
    assert reference["sha256"] and reference["size"] > 0
