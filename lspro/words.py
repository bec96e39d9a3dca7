"""Where the LSPro pages' words are: its gettext catalogue folder, added to the pages'.

The words themselves are in ``lspro/translations/<lang>/LC_MESSAGES/messages.po``
(page words by key, Indonesian and English) and ``.../en/LC_MESSAGES/forms.po``
(the English of the texts in ``forms/*.form``, keyed by their Indonesian).
"""

from __future__ import annotations

from pathlib import Path

CATALOGUE = Path(__file__).resolve().parent / "translations"

# Words not yet moved into the catalogue, key -> (Indonesian, English); empty once
# ``python -m api.web.catalogues absorb`` has moved them.
WORDS: dict[str, tuple[str, str]] = {}


def word(key: str, lang: str = "id") -> str:
    """One of the LSPro's words outside a page (variables written at the start of an
    application, which the forms show): from its catalogue, the key when it is missing."""
    from api.web.catalogues import compile_po, po_path

    text: str = compile_po(po_path(CATALOGUE, lang), lang).gettext(key)
    return text
