"""From a document template to PDF bytes: Jinja2 with autoescaping, then WeasyPrint.

The templates are files in ``lspro/templates/lspro/documents/``; a folder named by
``SERTIFLOW_DOCUMENT_TEMPLATES`` is searched first, so an LSPro restyles a
document by copying its file there and editing it. WeasyPrint lays HTML and CSS
out as print (``@page`` sizes, margins, page counters) without a browser; it is
given no way to fetch anything but ``data:`` addresses, so a document never
reaches the network or the disk while it renders.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from lspro.documents.values import display, indonesian_date

SHIPPED = Path(__file__).resolve().parent.parent / "templates" / "lspro" / "documents"
PDF = "application/pdf"


@lru_cache(maxsize=4)
def environment(override: Path | None) -> jinja2.Environment:
    """The templates' environment: autoescaped, strict about undefined names."""
    folders = [str(override)] if override is not None else []
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([*folders, str(SHIPPED)]),
        autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True)
    env.filters["text"] = display
    env.filters["tanggal"] = indonesian_date
    return env


def render_html(template: str, context: Mapping[str, Any], *,
                override: Path | None = None) -> str:
    """The document as HTML (what WeasyPrint is given), for tests and previews."""
    return environment(override).get_template(template).render(**context)


def render_pdf(template: str, context: Mapping[str, Any], *, title: str,
               override: Path | None = None) -> bytes:
    """Render ``template`` with ``context`` to a PDF document titled ``title``."""
    # Imported here: WeasyPrint loads Pango through cffi (half a second), which only
    # the processes that render documents need to pay for.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    page = render_html(template, {**context, "title": title}, override=override)
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    pdf = HTML(string=page, url_fetcher=fetcher).write_pdf()
    assert pdf is not None  # write_pdf without a target returns the bytes
    return bytes(pdf)
