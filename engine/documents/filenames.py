"""The display names of documents: a client's file name made safe to show."""

from __future__ import annotations

import re
import unicodedata
from typing import Final

MAX_NAME_LENGTH: Final = 200
# An extension starts with a letter, so "Laporan v1.2" has none (".2" is a version).
EXTENSION: Final = re.compile(r"\.([A-Za-z][A-Za-z0-9]{0,9})$")


def sanitize_filename(name: str | None) -> str:
    """Turn a client's file name into a safe display name (it is never used on disk).

    Keep the last path segment; drop control and invisible formatting characters
    (a right-to-left override can make ``exe.pdf`` read as ``fdp.exe``); replace the
    characters Windows forbids; collapse white space; trim dots and spaces at the
    ends; shorten to :data:`MAX_NAME_LENGTH` keeping the extension. May return "".
    """
    text = unicodedata.normalize("NFC", name or "")
    kept = []
    for char in text:
        if char.isspace():
            kept.append(" ")
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        elif char in '<>:"|?*':
            kept.append("_")
        else:
            kept.append(char)
    text = re.split(r"[/\\]", "".join(kept))[-1]
    text = " ".join(text.split()).strip(". ")
    if len(text) > MAX_NAME_LENGTH:
        found = EXTENSION.search(text)
        extension = found.group(0) if found else ""
        text = text[: MAX_NAME_LENGTH - len(extension)].rstrip(". ") + extension
    return text
