"""Numbers, renders and stores the documents the LSPro generates.

Letters get a number from one running sequence per year:
``NNNN/<code>/<LSPro code>/<month in Roman numerals>/<year>``, e.g.
``0012/SPB/LSPr-034-IDN/III/2027``. Every document is a PDF stored as a document of
the instance that made it (with its SHA-256, as every document).

The command that makes a letter, receipt, bill or certificate renders its page
(Jinja, a few milliseconds) and stores it as a *pending* document; WeasyPrint lays
it out as PDF after the command commits (:data:`RENDERER`, registered by the
extension; :mod:`engine.documents.rendering`), which kept 70-190 ms of CPU out of
each such command. The page is frozen, so the PDF says what was decided at the
command. The certificate's draft is the exception: it is rendered at once, since
the variable naming it is a file reference carrying the file's SHA-256 and size,
which the forms of steps 15 and 16 send back and the engine checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.documents.service import DocumentService
from engine.errors import InvalidInput
from engine.models import Document
from engine.runtime.waits import HandOver, patience
from engine.time.clock import Clock, local_today
from lspro.certificates import CertificateDraft
from lspro.documents.pdf import PDF, pdf_from_html
from lspro.documents.render import (
    billing_slip_page,
    certificate_draft_page,
    certificate_page,
    letter_page,
)
from lspro.documents.texts import RECEIPT, TEMPLATES
from lspro.documents.values import ROMAN
from lspro.models import Certificate, Invoice
from lspro.numbering import next_number
from lspro.settings import LsproSettings

LETTER_SEQUENCE = "surat"
# The kind (field) of the certificate drafts, one per pass through steps 14-16.
DRAFT_FIELD = "dokumen_konsep_sertifikat"
#: The renderer of the LSPro's documents: a page (UTF-8 HTML) in, a PDF out.
RENDERER = "pdf"


class LetterService:
    """Numbers, renders and stores letters and other generated documents."""

    def __init__(self, session: Session, clock: Clock, settings: LsproSettings,
                 documents: DocumentService,
                 pdf: Callable[[bytes], bytes] = pdf_from_html) -> None:
        """
        :param pdf: lays a page (UTF-8) out as PDF for the one document made inside its
            command, the certificate's draft: the server's render process
            (``RenderQueue.renderers``), or WeasyPrint in this process.
        """
        self.session = session
        self.clock = clock
        self.settings = settings
        self.documents = documents
        self.pdf = pdf

    def today(self) -> date:
        return local_today(self.clock, self.settings.timezone)

    def next_letter_number(self, code: str) -> str:
        today = self.today()
        seq = next_number(self.session, LETTER_SEQUENCE, today.year)
        return (f"{seq:04d}/{code}/{self.settings.lspro_code}/{ROMAN[today.month - 1]}/"
                f"{today.year}")

    def generate(self, template_key: str, variables: Mapping[str, Any], *, instance_id: str,
                 company: str | None, reference: str | None = None,
                 actor: str | None = None) -> tuple[Document, str]:
        """Render, number and store a letter; return the document and its number.

        :raises InvalidInput: when there is no such template.
        """
        template = TEMPLATES.get(template_key) if template_key != RECEIPT.key else RECEIPT
        if template is None:
            known = ", ".join(sorted(TEMPLATES))
            raise InvalidInput(f"no letter template {template_key!r} (known: {known})",
                               {"template": f"one of {known}"})
        number = self.next_letter_number(template.code)
        page = letter_page(template, variables, number=number, day=self.today(),
                           settings=self.settings, company=company)
        document = self._pending(instance_id, page, name=file_name(template.key, reference),
                                 field=f"dokumen_{template.key}", created_by=actor)
        return document, number

    def _pending(self, instance_id: str, page: str, *, name: str, field: str,
                 created_by: str | None = None) -> Document:
        """Store the document with its page frozen; its PDF is made after the command."""
        return self.documents.store_pending(instance_id, RENDERER, page.encode("utf-8"),
                                            name=name, content_type=PDF, field=field,
                                            created_by=created_by)

    def receipt(self, variables: Mapping[str, Any], *, instance_id: str, company: str | None,
                reference: str | None = None) -> tuple[Document, str]:
        """The application file receipt F.10.01.00.2014 (requirement 21)."""
        return self.generate(RECEIPT.key, variables, instance_id=instance_id, company=company,
                             reference=reference)

    def certificate(self, certificate: Certificate, *, instance_id: str,
                    holder: Mapping[str, Any] | None = None) -> Document:
        """The signed SPPT SNI; ``holder``: the application's variables (addresses)."""
        return self._pending(instance_id, certificate_page(certificate, self.settings, holder),
                             name=file_name("sppt_sni", certificate.number),
                             field="dokumen_sertifikat")

    def certificate_draft(self, draft: CertificateDraft, *, instance_id: str,
                          holder: Mapping[str, Any] | None = None,
                          reference: str | None = None) -> Document:
        """The draft of the SPPT SNI, stored as the instance's next draft (staff only:
        ``dokumen_konsep_sertifikat`` is internal, ``lspro.visibility``)."""
        if patience() is not None:
            # A caller that must not wait (a server's event loop, serving every other
            # request meanwhile) hands this command over before the PDF's few hundred
            # milliseconds and its file's fsyncs (engine.runtime.waits).
            raise HandOver("a certificate draft is to be laid out")
        revision = 1 + (self.session.scalar(
            sa.select(sa.func.count()).select_from(Document).where(
                Document.instance_id == instance_id, Document.field == DRAFT_FIELD)) or 0)
        page = certificate_draft_page(draft, self.settings, holder, revision=revision,
                                      reference=reference)
        content = self.pdf(page.encode("utf-8"))
        name = file_name("konsep_sppt_sni", f"{reference or 'permohonan'}_{revision}")
        return self.documents.store_generated(instance_id, content, name=name,
                                              content_type=PDF, field=DRAFT_FIELD)

    def billing_slip(self, invoice: Invoice, *, instance_id: str) -> Document:
        return self._pending(instance_id, billing_slip_page(invoice, self.settings, self.today()),
                             name=file_name("e_billing", invoice.code), field="dokumen_tagihan")


def file_name(kind: str, reference: str | None) -> str:
    stem = kind if not reference else f"{kind}_{reference}"
    return stem.replace("/", "-").replace("\\", "-") + ".pdf"
