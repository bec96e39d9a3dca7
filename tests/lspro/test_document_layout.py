"""How the documents are laid out cheaply without a reader seeing a difference: tables of
fixed layout that still keep every word on the page, WeasyPrint's user-agent stylesheet
without the footnote rules, the QR code as a grey picture, every font embedded."""

from __future__ import annotations

import base64
import io
import logging
import re
from datetime import date

import pypdfium2
import pytest
import segno
from PIL import Image

from lspro.documents.pdf import _NOTE_RULE, _document_class, _user_agent
from lspro.documents.render import qr_code
from lspro.letters import RECEIPT, TEMPLATES, render_letter
from tests.pdfread import pdf_pages, pdf_text, reader
from tests.settings import LSPRO

DAY = date(2027, 3, 1)
# No space to break at: the automatic table layout widened its column past the page.
LONG = "PT" + "SINARMASAGROINDUSTRIPANGAN" * 5


def ink_right_of(content: bytes, millimetres: float) -> bool:
    """Whether anything is drawn on the first page right of ``millimetres`` from its left."""
    page = pypdfium2.PdfDocument(content)[0]
    picture = page.render(scale=2).to_pil().convert("L")
    left = int(picture.width * millimetres / 210)  # A4 is 210 mm wide
    margin = picture.crop((left, 0, picture.width, picture.height))
    return margin.getextrema()[0] < 200


def test_a_word_too_long_for_its_column_is_broken_and_stays_on_the_page() -> None:
    for template, variables in (
            (TEMPLATES["surat_pencabutan"], {"nama_produk": LONG, "alasan_pencabutan": "-"}),
            (TEMPLATES["berita_acara_serah_terima"],
             {"merek_kemasan": [{"merek": LONG, "kemasan": LONG}]})):
        content = render_letter(template, variables, number="0001/X/III/2027", day=DAY,
                                settings=LSPRO, company="PT A")
        assert pdf_pages(content) == 1
        assert "".join(pdf_text(content).split()).count(LONG) == (
            2 if "merek_kemasan" in variables else 1)
        # Nothing past the body's right edge (the page's 20 mm margin and the body's
        # 8 px, 2.1 mm: 187.9 mm), 1 mm of slack for the borders.
        assert not ink_right_of(content, 189), template.key


def test_the_same_letter_without_long_words_is_still_drawn_up_to_its_right_margin() -> None:
    # The check above can see ink: the tables still reach the body's right edge.
    content = render_letter(TEMPLATES["surat_pencabutan"], {"nama_produk": "Air mineral"},
                            number="0001/X/III/2027", day=DAY, settings=LSPRO, company="PT A")
    assert ink_right_of(content, 187) and not ink_right_of(content, 189)


def test_only_the_footnote_and_note_rules_of_the_user_agent_are_left_out() -> None:
    from weasyprint.html import UA, UA_STYLESHEET

    kept = _NOTE_RULE.sub("", UA)
    dropped = [line for line in UA.splitlines() if line not in kept.splitlines()]
    assert len(dropped) == 5
    assert all(re.match(r"::(footnote|note)-", line) for line in dropped)
    assert "::marker" in kept and "@page" in kept and "@counter-style decimal" in kept
    sheets = _document_class()(string="<p>x</p>")._ua_stylesheets()
    assert _user_agent() in sheets and UA_STYLESHEET not in sheets


def test_the_user_agent_sheet_is_made_without_a_warning_or_touching_weasyprints_own(
        caplog: pytest.LogCaptureFixture) -> None:
    from weasyprint.html import UA_COUNTER_STYLE

    counters = dict(UA_COUNTER_STYLE)
    _user_agent.cache_clear()
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        _user_agent()
    assert caplog.records == []
    assert dict(UA_COUNTER_STYLE) == counters


def test_lists_are_still_numbered() -> None:
    # ::marker and the counter styles come from the user-agent stylesheet.
    text = pdf_text(render_letter(TEMPLATES["surat_pencabutan"], {}, number="1", day=DAY,
                                  settings=LSPRO, company="PT A"))
    assert "Tembusan: Komite Akreditasi Nasional (KAN) Instansi terkait" in text
    assert " 1. 2. " in text  # the markers, drawn after the items' text


def test_the_qr_code_is_a_grey_picture_of_its_address_module_for_module() -> None:
    url = "http://127.0.0.1:5000/verify?number=0001%2FLSPr-034-IDN%2F3553%2F2027&signature=AB"
    prefix, _, data = qr_code(url).partition(",")
    assert prefix == "data:image/png;base64"
    picture = Image.open(io.BytesIO(base64.b64decode(data)))
    # 8-bit grey: WeasyPrint embeds it as it is (a 1-bit one it turns into colour).
    assert picture.mode == "L"
    drawn = io.BytesIO()
    segno.make(url, error="m").save(drawn, kind="png", scale=8, border=2)
    expected = Image.open(io.BytesIO(drawn.getvalue())).convert("L")
    assert picture.size == expected.size and picture.tobytes() == expected.tobytes()


def test_every_font_of_a_document_is_embedded() -> None:
    for template in (TEMPLATES["surat_pencabutan"], TEMPLATES["berita_acara_serah_terima"],
                     RECEIPT):
        content = render_letter(template, {"nama_produk": "Air mineral"}, number="1",
                                day=DAY, settings=LSPRO, company="PT A")
        fonts = reader(content).pages[0]["/Resources"]["/Font"]
        assert len(fonts) >= 2
        for font in fonts.values():
            descriptor = font.get_object()["/DescendantFonts"][0].get_object()[
                "/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, font
