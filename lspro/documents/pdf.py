"""From a document template to PDF bytes: Jinja2 with autoescaping, then WeasyPrint.

The templates are files in ``lspro/templates/lspro/documents/``; a folder named by
``SERTIFLOW_DOCUMENT_TEMPLATES`` is searched first, so an LSPro restyles a
document by copying its file there and editing it. WeasyPrint lays HTML and CSS
out as print (``@page`` sizes, margins, page counters) without a browser; it is
given no way to fetch anything but ``data:`` addresses, so a document never
reaches the network or the disk while it renders.

What does not change from one document to the next is prepared once per process
(per thread for what is not thread-safe): the font configuration, and each
template's stylesheet compiled with its selectors. A document then costs only its
own parsing, one layout pass (``counter(pages)`` in the ``@page`` margin box is
resolved after the pages are made, so "Halaman n dari m" needs no second pass)
and the PDF's writing. WeasyPrint's user-agent stylesheet is given without its
footnote and note rules (:func:`_user_agent`), which the documents never use.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from lspro.documents.values import display, indonesian_date

if TYPE_CHECKING:
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher

SHIPPED = Path(__file__).resolve().parent.parent / "templates" / "lspro" / "documents"
PDF = "application/pdf"

# The templates' <style> elements (in <head>; values are escaped, so no value can
# open one). Their text is compiled once and handed to WeasyPrint as stylesheets.
_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL | re.IGNORECASE)
# The rules of WeasyPrint's user-agent stylesheet for footnotes and notes, one a line:
# ``::footnote-call``, ``::note-marker`` and the like.
_NOTE_RULE = re.compile(r"^::(?:footnote|note)-[\w-]*\s*\{[^}]*\}[ \t]*$", re.MULTILINE)
_local = threading.local()


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


def render_page(template: str, context: Mapping[str, Any], *, title: str,
                override: Path | None = None) -> str:
    """The whole page of a document titled ``title``: what :func:`pdf_from_html` lays
    out. It holds everything the PDF shows (styles and images inline), so a page
    stored now gives the same PDF later, whatever happens to settings and templates."""
    return render_html(template, {**context, "title": title}, override=override)


def render_pdf(template: str, context: Mapping[str, Any], *, title: str,
               override: Path | None = None) -> bytes:
    """Render ``template`` with ``context`` to a PDF document titled ``title``."""
    return pdf_from_html(render_page(template, context, title=title, override=override))


def pdf_from_html(page: str | bytes) -> bytes:
    """Lay out a page made by :func:`render_page` as PDF (the ``pdf`` renderer of
    generated documents: its input is the page as UTF-8)."""
    if isinstance(page, bytes):
        page = page.decode("utf-8")
    # The document's own styles, compiled once per distinct text (a template's
    # stylesheet is the same for every document made from it); they keep their order.
    sheets = [_stylesheet(text) for text in _STYLE.findall(page)]
    pdf = _document_class()(string=_STYLE.sub("", page), url_fetcher=_fetcher()).write_pdf(
        stylesheets=sheets, font_config=_fonts())
    assert pdf is not None  # write_pdf without a target returns the bytes
    return bytes(pdf)


def _fetcher() -> URLFetcher:
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)


def _fonts() -> FontConfiguration:
    """This thread's font configuration: loading Fontconfig's fonts costs ~7 ms, and
    Pango's font map keeps the faces it opened for the next document. One per thread,
    as Pango's objects are not meant to be shared between threads."""
    fonts: FontConfiguration | None = getattr(_local, "fonts", None)
    if fonts is None:
        from weasyprint.text.fonts import FontConfiguration

        fonts = _local.fonts = FontConfiguration()
    return fonts


@lru_cache(maxsize=32)
def _stylesheet(text: str) -> CSS:
    """``text`` parsed, its selectors compiled; read-only once made, so shared."""
    from weasyprint import CSS

    return CSS(string=text, url_fetcher=_fetcher())


@lru_cache(maxsize=1)
def _user_agent() -> CSS:
    """WeasyPrint's user-agent stylesheet without its footnote and note rules.

    Those rules select a pseudo-element of every element (``::footnote-call``,
    ``::note-marker``, ...), so WeasyPrint computed five styles per element that no
    document uses: their cascade was about a twentieth of a document's CPU. Should a
    later WeasyPrint word them differently, nothing is dropped and nothing changes.

    Its ``@counter-style`` rules go to a dictionary of their own: a document takes its
    counter styles from WeasyPrint's (``_ua_counter_style``), which already holds them
    and refuses ``decimal`` and ``disc`` a second time, with a warning.
    """
    from weasyprint import CSS
    from weasyprint.css.counters import CounterStyle
    from weasyprint.html import UA

    return CSS(string=_NOTE_RULE.sub("", UA), counter_style=CounterStyle())


@lru_cache(maxsize=1)
def _document_class() -> type[HTML]:
    """WeasyPrint's ``HTML`` laying documents out with :func:`_user_agent`'s stylesheet
    in place of WeasyPrint's own (``_ua_stylesheets`` is where WeasyPrint asks for it)."""
    # Imported here: WeasyPrint loads Pango through cffi (half a second), which only
    # the processes that render documents need to pay for.
    from weasyprint import HTML
    from weasyprint.html import UA_STYLESHEET

    class DocumentHTML(HTML):
        def _ua_stylesheets(self, *args: Any, **kwargs: Any) -> list[CSS]:
            return [_user_agent() if sheet is UA_STYLESHEET else sheet
                    for sheet in super()._ua_stylesheets(*args, **kwargs)]

    return DocumentHTML
