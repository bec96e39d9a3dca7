"""The kinds of document accepted, and the check that an upload is one of them.

Accepted kinds (:data:`DOCUMENT_TYPES`), chosen for what an office
receives and can open for review:

- PDF (``.pdf``): scans, signed letters, reports;
- PNG, JPEG, WebP images (``.png``, ``.jpg``/``.jpeg``, ``.webp``): product and
  label photos;
- Word and Excel, current (``.docx``, ``.xlsx``) and 97-2003 (``.doc``, ``.xls``):
  NCR sheets, checklists, quality plans;
- plain text and CSV (``.txt``, ``.csv``): notes and lab data exports.

Refused: macro-enabled Office files, ZIP and other archives (a reviewer must see each
document itself, and archives hide what they hold), HTML, SVG and other markup a
browser would run, programs, and anything unrecognised. The kind is decided from the
content's first bytes (and, for Office files, the ZIP directory; see :mod:`.sniffing`),
never from the client's declared type or the file name alone; the name's extension and
the declared type must then agree with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from engine.documents.filenames import EXTENSION
from engine.documents.sniffing import DOCX, EMPTY, OLE2, XLSX, describe
from engine.errors import InvalidInput


@dataclass(frozen=True)
class DocumentType:
    """One accepted kind of document.

    ``sniffed`` is what :func:`~engine.documents.sniffing.sniff` reports for it;
    ``aliases`` are other media types clients declare for it (browsers on Windows
    send CSV as an Excel type).
    """

    name: str
    content_type: str
    extensions: tuple[str, ...]
    sniffed: str
    aliases: frozenset[str] = field(default_factory=frozenset)


DOCUMENT_TYPES: Final[tuple[DocumentType, ...]] = (
    DocumentType("PDF", "application/pdf", (".pdf",), "application/pdf",
                 frozenset({"application/x-pdf"})),
    DocumentType("PNG", "image/png", (".png",), "image/png"),
    DocumentType("JPEG", "image/jpeg", (".jpg", ".jpeg"), "image/jpeg",
                 frozenset({"image/jpg", "image/pjpeg"})),
    DocumentType("WebP", "image/webp", (".webp",), "image/webp"),
    DocumentType("DOCX", DOCX, (".docx",), DOCX),
    DocumentType("XLSX", XLSX, (".xlsx",), XLSX),
    DocumentType("DOC", "application/msword", (".doc",), OLE2),
    DocumentType("XLS", "application/vnd.ms-excel", (".xls",), OLE2,
                 frozenset({"application/excel", "application/x-msexcel"})),
    DocumentType("TXT", "text/plain", (".txt",), "text/plain"),
    DocumentType("CSV", "text/csv", (".csv",), "text/plain",
                 frozenset({"text/x-csv", "application/csv", "text/plain",
                            "application/vnd.ms-excel"})),
)
ACCEPTED_EXTENSIONS: Final = tuple(e for t in DOCUMENT_TYPES for e in t.extensions)
# Declared types that say nothing about the content; clients send them when unsure.
_VAGUE_TYPES: Final = frozenset({"", "application/octet-stream", "binary/octet-stream",
                                 "application/unknown", "application/x-unknown"})
_ACCEPTED_NAMES: Final = ", ".join(t.name for t in DOCUMENT_TYPES)


def match_type(sniffed: str, name: str, declared: str | None) -> tuple[DocumentType, str]:
    """Find the accepted kind for content sniffed as ``sniffed`` named ``name``.

    Return the kind and the display name, given the kind's extension when it had
    none.

    :raises InvalidInput: (field ``file``) when the content is empty or not
        accepted, or the name's extension or the declared type says otherwise.
    """
    label = describe(sniffed)
    if sniffed == EMPTY:
        raise _refused("the file is empty")
    found = EXTENSION.search(name)
    extension = found.group(0).lower() if found else ""
    candidates = [t for t in DOCUMENT_TYPES if t.sniffed == sniffed]
    if not candidates:
        # A disguise ("NIB.pdf" holding a program) is worth naming as such.
        if extension in ACCEPTED_EXTENSIONS:
            raise _refused(f"the name ends in {extension} but the content is {label}")
        raise _refused(f"the content is {label}, which is not accepted; "
                       f"accepted: {_ACCEPTED_NAMES}")
    if not extension:
        kind = candidates[0]
        name = f"{name}{kind.extensions[0]}"
    else:
        matching = [t for t in candidates if extension in t.extensions]
        if not matching:
            raise _refused(f"the name ends in {extension} but the content is {label}")
        kind = matching[0]
    media_type = (declared or "").split(";")[0].strip().lower()
    if media_type not in _VAGUE_TYPES and media_type != kind.content_type \
            and media_type not in kind.aliases:
        raise _refused(f"sent as {media_type} but the content is {label}")
    return kind, name


def _refused(message: str) -> InvalidInput:
    return InvalidInput(f"document refused: {message}", {"file": message})
