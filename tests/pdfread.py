"""Reading back the PDFs the server generates: their text, pages and links (pypdf)."""

from __future__ import annotations

import io

from pypdf import PdfReader


def reader(content: bytes) -> PdfReader:
    assert content.startswith(b"%PDF-"), content[:40]
    return PdfReader(io.BytesIO(content))


def pdf_text(content: bytes) -> str:
    """Every page's text, runs of white space (line ends too) as one space."""
    return " ".join(" ".join((page.extract_text() or "").split())
                    for page in reader(content).pages)


def pdf_pages(content: bytes) -> int:
    return len(reader(content).pages)


def pdf_links(content: bytes) -> list[str]:
    """The addresses of the link annotations of every page, in order."""
    links = []
    for page in reader(content).pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action is not None and action.get("/URI"):
                links.append(str(action["/URI"]))
    return links
