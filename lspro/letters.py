"""The LSPro's letters and other printed documents, by their long-standing names.

The implementation is the :mod:`lspro.documents` package (PDF from Jinja2
templates); this module keeps the names the topics, the extension and the
processes' tests import.
"""

from __future__ import annotations

from lspro.documents.render import render_billing_slip, render_certificate, render_letter
from lspro.documents.service import LETTER_SEQUENCE, LetterService, file_name
from lspro.documents.texts import KAN, RECEIPT, REGIONAL, TEMPLATES, LetterTemplate
from lspro.documents.values import MONTHS, ROMAN, display, indonesian_date

__all__ = [
    "KAN", "LETTER_SEQUENCE", "MONTHS", "RECEIPT", "REGIONAL", "ROMAN", "TEMPLATES",
    "LetterService", "LetterTemplate", "display", "file_name", "indonesian_date",
    "render_billing_slip", "render_certificate", "render_letter",
]
