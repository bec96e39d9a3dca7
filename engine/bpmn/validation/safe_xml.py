"""Reading uploaded XML safely: a parser that reaches nothing outside the file, and
the refusal of any document type declaration.

Uploaded XML is read by :func:`xml_parser` only, which loads no DTD, expands no
entity and opens no file or URL, and a file with a document type declaration is
refused before it is parsed at all (:func:`doctype_line`): Camunda Modeler never
writes one, and its only use in an upload is an entity trick (XXE, entity
expansion).
"""

from __future__ import annotations

import codecs
import re

from lxml import etree

NO_DTD = ("DTDs and entity declarations are not accepted in BPMN files: remove the "
          "<!DOCTYPE ...> declaration (Camunda Modeler never writes one)")

# How a document that is not ASCII-compatible starts (XML 1.0, appendix F); any
# other encoding shows its markup as ASCII bytes, which Latin-1 decodes as is.
_WIDE_ENCODINGS = (
    (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF32_LE, "utf-32"),
    (b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
    (codecs.BOM_UTF16_BE, "utf-16"), (codecs.BOM_UTF16_LE, "utf-16"),
    (b"\x00<\x00?", "utf-16-be"), (b"<\x00?\x00", "utf-16-le"),
)
# What may come before the document type declaration: white space, the XML
# declaration and other processing instructions, comments.
_PROLOG_ITEM = re.compile(r"\s+|<\?.*?\?>|<!--.*?-->", re.DOTALL)


def xml_parser() -> etree.XMLParser:
    """A parser that loads no DTD, expands no entity and opens no file or URL."""
    return etree.XMLParser(resolve_entities=False, load_dtd=False, dtd_validation=False,
                           no_network=True, huge_tree=False)


def doctype_line(content: bytes) -> int | None:
    """The line of the ``<!DOCTYPE`` before the root element; None when there is none.

    Only the prolog is read, so the same text in a comment or a CDATA section
    is no declaration.
    """
    text = _markup(content)
    position = 0
    while (item := _PROLOG_ITEM.match(text, position)) is not None:
        position = item.end()
    if text[position:position + len("<!DOCTYPE")].upper() == "<!DOCTYPE":
        return text.count("\n", 0, position) + 1
    return None


def declares_dtd(root: etree._Element) -> bool:
    """Whether the parsed document has a document type declaration.

    The check after parsing, for an encoding :func:`doctype_line` cannot read.
    """
    info = root.getroottree().docinfo
    return bool(info.doctype) or info.internalDTD is not None or info.externalDTD is not None


def _markup(content: bytes) -> str:
    for start, codec in _WIDE_ENCODINGS:
        if content.startswith(start):
            return content.decode(codec, errors="replace").removeprefix("\ufeff")
    return content.removeprefix(codecs.BOM_UTF8).decode("latin-1")
