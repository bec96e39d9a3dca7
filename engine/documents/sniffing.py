"""Recognising what a file holds from its content alone, never from its name or declared type.

:func:`sniff` reports a media type; :func:`describe` words it for a person (in the
message that refuses a document).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Final

#: How much of a file's start is read to recognise it.
SNIFF_BYTES: Final = 8 * 1024

DOCX: Final = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_DOCM: Final = "application/vnd.ms-word.document.macroEnabled.12"
_XLSM: Final = "application/vnd.ms-excel.sheet.macroEnabled.12"
_PPTX: Final = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
#: Word and Excel 97-2003 files: one container format, the content alone cannot tell which.
OLE2: Final = "application/x-ole-storage"
#: What :func:`sniff` reports for a file without a single byte.
EMPTY: Final = "application/x-empty"
_UNKNOWN: Final = "application/octet-stream"

_MAGIC: Final[tuple[tuple[bytes, str], ...]] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", OLE2),
    (b"PK\x03\x04", "application/zip"),
    (b"MZ", "application/x-msdownload"),
    (b"\x7fELF", "application/x-executable"),
    (b"\x1f\x8b", "application/gzip"),
    (b"Rar!\x1a\x07", "application/vnd.rar"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
)
# Text that a browser would treat as a page or an image it runs scripts in.
_MARKUP: Final = (b"<!doctype", b"<html", b"<head", b"<body", b"<script", b"<iframe",
                  b"<svg", b"<?xml", b"<!--")
_TEXT_CONTROLS: Final = (frozenset(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D, 0x1A}) | {0x7F}

_LABELS: Final = {
    "application/pdf": "a PDF document",
    "image/png": "a PNG image",
    "image/jpeg": "a JPEG image",
    "image/webp": "a WebP image",
    "image/gif": "a GIF image",
    "image/tiff": "a TIFF image",
    DOCX: "a Word document (.docx)",
    XLSX: "an Excel workbook (.xlsx)",
    _DOCM: "a Word document with macros",
    _XLSM: "an Excel workbook with macros",
    _PPTX: "a PowerPoint presentation",
    OLE2: "a Word or Excel 97-2003 file",
    "text/plain": "plain text",
    "text/html": "an HTML page or other markup",
    "application/zip": "a ZIP archive",
    "application/gzip": "a compressed archive",
    "application/vnd.rar": "a compressed archive",
    "application/x-7z-compressed": "a compressed archive",
    "application/x-msdownload": "a Windows program",
    "application/x-executable": "a program",
    EMPTY: "empty",
    _UNKNOWN: "of an unknown kind",
}


def describe(media_type: str) -> str:
    """Word a media type :func:`sniff` reported for the person who sent the file."""
    return _LABELS.get(media_type, _LABELS[_UNKNOWN])


def sniff(path: Path) -> str:
    """Tell what ``path`` holds from its content alone, as a media type.

    Magic numbers decide for binary formats; a ZIP is looked into (its directory
    only, nothing is decompressed) to tell Office files from plain archives; text is
    anything without control characters in its first bytes, and markup a browser
    would render is reported as ``text/html``.
    """
    with path.open("rb") as file:
        head = file.read(SNIFF_BYTES)
    if not head:
        return EMPTY
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            return _zip_kind(path) if media_type == "application/zip" else media_type
    text = head.removeprefix(b"\xef\xbb\xbf")
    if any(byte in _TEXT_CONTROLS for byte in text):
        return _UNKNOWN
    if text.lstrip().lower().startswith(_MARKUP):
        return "text/html"
    return "text/plain"


def _zip_kind(path: Path) -> str:
    """Tell a Word or Excel file from another ZIP by the parts its directory lists."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return _UNKNOWN
    if "[Content_Types].xml" not in names:
        return "application/zip"
    macros = any(name.lower().endswith("vbaproject.bin") for name in names)
    if "word/document.xml" in names:
        return _DOCM if macros else DOCX
    if "xl/workbook.xml" in names:
        return _XLSM if macros else XLSX
    if "ppt/presentation.xml" in names:
        return _PPTX
    return "application/zip"
