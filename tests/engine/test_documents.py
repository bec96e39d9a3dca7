"""Documents uploaded to instances: a real SQLite database and a real folder of files."""

from __future__ import annotations

import hashlib
import io
import struct
import tracemalloc
import zipfile
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from engine.composition import Engine
from engine.documents.filenames import MAX_NAME_LENGTH, sanitize_filename
from engine.documents.service import DocumentFileError, DocumentService
from engine.documents.store import FileStore
from engine.errors import (
    Conflict,
    InstanceNotRunning,
    InvalidInput,
    NotFound,
    TaskAlreadyCompleted,
)
from engine.models import Document, HistoryEvent
from engine.queries.history import HistoryLog
from engine.runtime.waits import HandOver, impatient
from engine.time.clock import FrozenClock
from tests.builders import linear_user_tasks
from tests.instances import the_ready_task as ready_task

MB = 1024 * 1024


# -- building real files ------------------------------------------------------------------


def pdf_bytes(text: str = "NIB") -> bytes:
    return (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Title (" + text.encode() + b") >>\n"
            b"endobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")


def png_bytes() -> bytes:
    """A real 1x1 RGB PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
            + chunk(b"IEND", b""))


def ooxml_bytes(main_part: str, *, content_types: bool = True, macros: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if content_types:
            archive.writestr("[Content_Types].xml",
                             '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats'
                             '.org/package/2006/content-types"/>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        archive.writestr(main_part, '<?xml version="1.0"?><document/>')
        if macros:
            archive.writestr(main_part.split("/")[0] + "/vbaProject.bin", b"\x00" * 64)
    return buffer.getvalue()


def docx_bytes(**options: bool) -> bytes:
    return ooxml_bytes("word/document.xml", **options)


def ole2_bytes() -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


class CountingStream(io.RawIOBase):
    """``size`` bytes of a PDF made up on the fly, counting what the reader takes."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        count = min(len(buffer), self.size - self.served)
        if self.served == 0:
            head = b"%PDF-1.4\n"[:count]
            buffer[: len(head)] = head
            buffer[len(head):count] = b"0" * (count - len(head))
        else:
            buffer[:count] = b"0" * count
        self.served += count
        return count


# -- helpers -------------------------------------------------------------------------------


def start(engine: Engine, tasks: int = 2) -> str:
    with engine.write() as s:
        s.deployments.deploy([("linear.bpmn", linear_user_tasks("linear", tasks).encode())])
    with engine.write() as s:
        return s.runtime.start_instance("linear", actor="pelanggan").id


def another_instance(engine: Engine) -> str:
    with engine.write() as s:
        return s.runtime.start_instance("linear", actor="pelanggan").id


def upload(engine: Engine, instance_id: str, data: bytes, filename: str = "NIB.pdf",
           content_type: str | None = "application/pdf", **options: str) -> Document:
    with engine.write() as s:
        return s.documents.upload(instance_id, io.BytesIO(data), filename=filename,
                                  content_type=content_type, uploaded_by="pelanggan", **options)


def stored_files(root: Path) -> list[Path]:
    """Every file under the store's folder, temporary ones included."""
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def document_count(engine: Engine) -> int:
    with engine.read() as s:
        return s.session.scalar(sa.select(sa.func.count()).select_from(Document)) or 0


# -- accepted uploads ----------------------------------------------------------------------


def test_a_pdf_upload_is_recorded_with_its_digest_size_and_type(
        engine: Engine, clock: FrozenClock) -> None:
    instance_id = start(engine)
    data = pdf_bytes()
    document = upload(engine, instance_id, data, filename="NIB PT Maju.pdf")
    with engine.read() as s:
        stored = s.documents.get(document.id)
        assert stored.instance_id == instance_id
        assert stored.name == "NIB PT Maju.pdf"
        assert stored.content_type == "application/pdf"
        assert stored.sha256 == hashlib.sha256(data).hexdigest()
        assert stored.size == len(data)
        assert stored.uploaded_by == "pelanggan"
        assert stored.uploaded_at == clock.now()
        assert stored.task_id is None and stored.field is None
        with s.documents.open(stored) as file:
            assert file.read() == data
    assert engine.file_store.path(stored.sha256).read_bytes() == data


@pytest.mark.parametrize(("filename", "declared", "data", "expected"), [
    ("foto-produk.png", "image/png", png_bytes(), "image/png"),
    ("label.JPG", "image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32 + b"\xff\xd9",
     "image/jpeg"),
    ("foto.webp", "image/webp", b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 24, "image/webp"),
    ("NCR-01.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
     docx_bytes(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("hasil-uji.xlsx", None, ooxml_bytes("xl/workbook.xml"),
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("sertifikat merek.doc", "application/msword", ole2_bytes(), "application/msword"),
    ("data.xls", "application/octet-stream", ole2_bytes(), "application/vnd.ms-excel"),
    ("catatan.txt", "text/plain", b"Catatan auditor: sesuai SNI 1811:2007\n",
     "text/plain"),
    # Excel on Windows makes browsers send CSV as an Excel type.
    ("data-uji.csv", "application/vnd.ms-excel", b"\xef\xbb\xbfsampel;hasil\nA;lulus\n",
     "text/csv"),
])
def test_accepted_kinds_are_stored_with_the_type_their_content_shows(
        engine: Engine, filename: str, declared: str | None, data: bytes, expected: str) -> None:
    instance_id = start(engine)
    document = upload(engine, instance_id, data, filename=filename, content_type=declared)
    assert (document.name, document.content_type, document.size) == (filename, expected, len(data))
    with engine.read() as s, s.documents.open(s.documents.get(document.id)) as file:
        assert file.read() == data


def test_identical_content_is_stored_once(engine: Engine) -> None:
    first = start(engine)
    second = another_instance(engine)
    data = pdf_bytes("same")
    a = upload(engine, first, data, filename="NIB.pdf")
    b = upload(engine, second, data, filename="NIB copy.pdf")
    c = upload(engine, first, pdf_bytes("other"), filename="SPPT.pdf")
    assert a.id != b.id and a.sha256 == b.sha256 != c.sha256
    assert stored_files(engine.settings.documents_path) == sorted(
        [engine.file_store.path(a.sha256), engine.file_store.path(c.sha256)])
    digest = a.sha256
    assert engine.file_store.path(digest) == (
        engine.settings.documents_path / digest[:2] / digest[2:4] / digest)


def test_upload_for_a_ready_task_records_task_field_and_history(engine: Engine) -> None:
    instance_id = start(engine)
    task = ready_task(engine, instance_id)
    document = upload(engine, instance_id, pdf_bytes(), filename="laporan audit.pdf",
                      task_id=task.id, field="laporan_audit")
    with engine.read() as s:
        assert [d.id for d in s.documents.list_for_task(task.id)] == [document.id]
        (stored,) = s.session.execute(sa.select(HistoryEvent.data).where(
            HistoryEvent.kind == "document_uploaded")).scalars().all()
        # As its readers get it: the row's facts put back (the row keeps the id alone).
        (event,) = [e for e in HistoryLog(s.session, engine.clock).events(instance_id)
                    if e.kind == "document_uploaded"]
    assert stored == {"document_id": document.id}
    assert (document.task_id, document.field) == (task.id, "laporan_audit")
    assert (event.instance_id, event.actor, event.task_id, event.element_id) == (
        instance_id, "pelanggan", task.id, "task_1")
    assert event.data == {"document_id": document.id, "name": "laporan audit.pdf",
                          "size": document.size, "sha256": document.sha256,
                          "content_type": "application/pdf", "field": "laporan_audit"}


def test_lists_get_and_reference(engine: Engine, clock: FrozenClock) -> None:
    instance_id = start(engine)
    other = another_instance(engine)
    task = ready_task(engine, instance_id)
    first = upload(engine, instance_id, pdf_bytes("1"), filename="NIB.pdf")
    clock.advance(timedelta(minutes=1))
    second = upload(engine, instance_id, png_bytes(), filename="foto.png",
                    content_type="image/png", task_id=task.id)
    upload(engine, other, pdf_bytes("2"), filename="lain.pdf")
    with engine.read() as s:
        assert [d.id for d in s.documents.list_for_instance(instance_id)] == [first.id, second.id]
        assert [d.id for d in s.documents.list_for_task(task.id)] == [second.id]
        assert s.documents.list_for_instance("no-such-instance") == []
        reference = s.documents.reference(s.documents.get(second.id))
        with pytest.raises(NotFound):
            s.documents.get("no-such-document")
    assert reference == {"id": second.id, "name": "foto.png", "sha256": second.sha256,
                         "size": len(png_bytes()), "content_type": "image/png"}


def test_the_form_field_is_optional_and_bounded(engine: Engine) -> None:
    instance_id = start(engine)
    assert upload(engine, instance_id, pdf_bytes(), field="").field is None
    with pytest.raises(InvalidInput) as refused:
        upload(engine, instance_id, pdf_bytes(), field="f" * 256)
    assert refused.value.errors == {"field": "at most 255 characters"}


# -- refusals ------------------------------------------------------------------------------


def test_an_upload_over_the_limit_is_refused_and_leaves_nothing(
        engine: Engine, clock: FrozenClock, tmp_path: Path) -> None:
    instance_id = start(engine)
    store = FileStore(tmp_path / "store")
    with engine.write() as s:
        service = DocumentService(s.session, clock, store, max_bytes=2048)
        exact = service.upload(instance_id, io.BytesIO(pdf_bytes().ljust(2048, b" ")),
                               filename="ok.pdf", content_type=None, uploaded_by="x")
        assert exact.size == 2048
        with pytest.raises(InvalidInput) as refused:
            service.upload(instance_id, io.BytesIO(pdf_bytes().ljust(2049, b" ")),
                           filename="big.pdf", content_type=None, uploaded_by="x")
    assert refused.value.errors == {"file": "larger than 2 KB"}
    assert stored_files(store.root) == [store.path(exact.sha256)]
    assert document_count(engine) == 1


def test_a_30_mb_stream_is_refused_after_reading_little_more_than_20_mb(
        engine: Engine) -> None:
    instance_id = start(engine)
    assert engine.settings.upload_max_bytes == 20 * MB
    stream = CountingStream(30 * MB)
    tracemalloc.start()
    try:
        with engine.write() as s, pytest.raises(InvalidInput) as refused:
            s.documents.upload(instance_id, stream, filename="besar.pdf",  # type: ignore[arg-type]
                               content_type="application/pdf", uploaded_by="x")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.errors == {"file": "larger than 20 MB"}
    assert 20 * MB < stream.served <= 20 * MB + 1
    assert peak < 4 * MB  # chunks, not the whole upload, were held in memory
    assert stored_files(engine.settings.documents_path) == []
    assert document_count(engine) == 0


@pytest.mark.parametrize(("filename", "declared", "data", "message"), [
    ("NIB.pdf", "application/pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>",
     "the name ends in .pdf but the content is an HTML page or other markup"),
    ("NIB.pdf", "application/pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 100,
     "the name ends in .pdf but the content is a Windows program"),
    ("setup.exe", None, b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 100,
     "the content is a Windows program, which is not accepted; "
     "accepted: PDF, PNG, JPEG, WebP, DOCX, XLSX, DOC, XLS, TXT, CSV"),
    ("foto.png", "image/png", pdf_bytes(),
     "the name ends in .png but the content is a PDF document"),
    ("NIB.pdf", "image/png", pdf_bytes(), "sent as image/png but the content is a PDF document"),
    ("catatan.txt", "text/plain", b"<svg xmlns='http://www.w3.org/2000/svg' onload='x()'/>",
     "the name ends in .txt but the content is an HTML page or other markup"),
    ("NCR.docx", None, docx_bytes(macros=True),
     "the name ends in .docx but the content is a Word document with macros"),
    ("NCR.docx", None, docx_bytes(content_types=False),
     "the name ends in .docx but the content is a ZIP archive"),
    ("semua.zip", "application/zip", docx_bytes(content_types=False),
     "the content is a ZIP archive, which is not accepted; "
     "accepted: PDF, PNG, JPEG, WebP, DOCX, XLSX, DOC, XLS, TXT, CSV"),
    ("rusak.docx", None, b"PK\x03\x04" + b"\x00" * 40,
     "the name ends in .docx but the content is of an unknown kind"),
    ("kosong.pdf", None, b"", "the file is empty"),
])
def test_disguised_or_unaccepted_files_are_refused_with_a_clear_message(
        engine: Engine, filename: str, declared: str | None, data: bytes, message: str) -> None:
    instance_id = start(engine)
    with pytest.raises(InvalidInput) as refused:
        upload(engine, instance_id, data, filename=filename, content_type=declared)
    assert refused.value.errors == {"file": message}
    assert stored_files(engine.settings.documents_path) == []
    assert document_count(engine) == 0


def test_an_unknown_instance_is_not_found_before_the_stream_is_read(engine: Engine) -> None:
    stream = CountingStream(1000)
    with engine.write() as s, pytest.raises(NotFound):
        s.documents.upload("no-such-instance", stream, filename="NIB.pdf",  # type: ignore[arg-type]
                           content_type=None, uploaded_by="x")
    assert stream.served == 0


def test_a_caller_that_must_not_wait_is_handed_the_upload_back_untouched(
        engine: Engine) -> None:
    """A server's event loop must not wait on the disk's fsync: the upload is handed
    over before its stream is read, and then stored where waiting is allowed."""
    instance_id = start(engine)
    stream = CountingStream(1000)
    with engine.write() as s, pytest.raises(HandOver), impatient(0.1):
        s.documents.upload(instance_id, stream, filename="NIB.pdf",  # type: ignore[arg-type]
                           content_type=None, uploaded_by="x")
    assert stream.served == 0 and document_count(engine) == 0
    assert stored_files(engine.settings.documents_path) == []
    assert upload(engine, instance_id, pdf_bytes()).size == len(pdf_bytes())
    assert document_count(engine) == 1


def test_an_upload_checks_its_target_in_one_read_and_under_the_lock_elsewhere(
        engine: Engine) -> None:
    """On SQLite the command holds the one writer from its first statement, so the
    check before the bytes is the check under the lock; elsewhere it is made again."""
    instance_id = start(engine)
    task = ready_task(engine, instance_id)
    reads: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("SELECT"):
            reads.append(statement)

    sa.event.listen(engine.db.engine, "before_cursor_execute", record)
    try:
        upload(engine, instance_id, pdf_bytes(), task_id=task.id)
    finally:
        sa.event.remove(engine.db.engine, "before_cursor_execute", record)
    locked = [q for q in reads if "FOR UPDATE" in q]
    if engine.db.is_sqlite:
        assert len(reads) == 1, reads
    else:
        assert len(reads) == 2 and len(locked) == 1, reads


def test_a_task_of_another_instance_or_an_unknown_task_is_refused(engine: Engine) -> None:
    instance_id = start(engine)
    other_task = ready_task(engine, another_instance(engine))
    for task_id in (other_task.id, "no-such-task"):
        with pytest.raises(NotFound, match="has no task"):
            upload(engine, instance_id, pdf_bytes(), task_id=task_id)
    assert document_count(engine) == 0


def test_a_completed_task_takes_no_more_documents(engine: Engine) -> None:
    instance_id = start(engine)
    task = ready_task(engine, instance_id)
    with engine.write() as s:
        s.runtime.complete_task(task.id, {}, actor="upp")
    with pytest.raises(TaskAlreadyCompleted) as refused:
        upload(engine, instance_id, pdf_bytes(), task_id=task.id)
    assert isinstance(refused.value, Conflict)
    assert "completed" in refused.value.message
    assert stored_files(engine.settings.documents_path) == []
    upload(engine, instance_id, pdf_bytes(), task_id=ready_task(engine, instance_id).id)


def test_a_completed_instance_takes_no_more_documents(engine: Engine) -> None:
    instance_id = start(engine, tasks=1)
    task = ready_task(engine, instance_id)
    with engine.write() as s:
        s.runtime.complete_task(task.id, {}, actor="upp")
    with pytest.raises(InstanceNotRunning):
        upload(engine, instance_id, pdf_bytes())


# -- file names ----------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "kept"), [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\budi\\Desktop\\NIB.pdf", "NIB.pdf"),
    ("rep\x00ort\n2024.pdf", "report 2024.pdf"),
    ("laporan\r\n\tfinal .pdf", "laporan final .pdf"),
    # A right-to-left override would make "invoice<RLO>fdp.exe" read as "invoiceexe.pdf".
    ("invoice\u202efdp.exe", "invoicefdp.exe"),
    ('a<b>c:d"e|f?g*.pdf', "a_b_c_d_e_f_g_.pdf"),
    ("  ..hidden.pdf.  ", "hidden.pdf"),
    ("Surat Pernyataan Keaslian Dokumen.docx", "Surat Pernyataan Keaslian Dokumen.docx"),
    ("\x00\x01..", ""),
    (None, ""),
])
def test_sanitize_filename(given: str | None, kept: str) -> None:
    assert sanitize_filename(given) == kept


def test_a_very_long_name_is_shortened_keeping_its_extension() -> None:
    name = sanitize_filename("sertifikat " * 100 + ".pdf")
    assert len(name) <= MAX_NAME_LENGTH
    assert name.startswith("sertifikat sertifikat") and name.endswith("a.pdf")


@pytest.mark.parametrize(("filename", "stored"), [
    ("../../etc/passwd", "passwd.pdf"),
    ("nib\x00\n.pdf", "nib .pdf"),
    ("\x00\n", "document.pdf"),
    ("Laporan v1.2", "Laporan v1.2.pdf"),
    ("x" * 1000 + ".pdf", "x" * (MAX_NAME_LENGTH - 4) + ".pdf"),
])
def test_uploaded_names_are_sanitized_and_never_used_on_disk(
        engine: Engine, filename: str, stored: str) -> None:
    instance_id = start(engine)
    document = upload(engine, instance_id, pdf_bytes(), filename=filename)
    assert document.name == stored
    (path,) = stored_files(engine.settings.documents_path)
    assert path.name == document.sha256
    assert path.is_relative_to(engine.settings.documents_path)


# -- the file store ------------------------------------------------------------------------


@pytest.mark.parametrize("digest", [
    "../../etc/passwd",
    "../" + "a" * 61,
    "a" * 63,
    "g" * 64,
    "a" * 64 + "\n",
    "/" + "a" * 63,
    "",
])
def test_the_store_refuses_anything_but_a_sha256_digest(tmp_path: Path, digest: str) -> None:
    store = FileStore(tmp_path)
    for use in (store.open, store.path, store.exists):
        with pytest.raises(InvalidInput) as refused:
            use(digest)
        assert refused.value.errors == {"sha256": "must be 64 hexadecimal digits"}


def test_the_store_reads_back_by_digest_in_either_case(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "store")
    data = pdf_bytes()
    stored = store.put(io.BytesIO(data), max_bytes=MB)
    assert (stored.sha256, stored.size, stored.sniffed_type) == (
        hashlib.sha256(data).hexdigest(), len(data), "application/pdf")
    assert store.exists(stored.sha256.upper())
    with store.open(stored.sha256.upper()) as file:
        assert file.read() == data
    assert not store.exists("0" * 64)
    with pytest.raises(FileNotFoundError):
        store.open("0" * 64)


def test_a_missing_or_damaged_stored_file_is_reported(engine: Engine) -> None:
    instance_id = start(engine)
    missing = upload(engine, instance_id, pdf_bytes("missing"))
    damaged = upload(engine, instance_id, pdf_bytes("damaged"))
    engine.file_store.path(missing.sha256).unlink()
    engine.file_store.path(damaged.sha256).write_bytes(b"%PDF-")
    with engine.read() as s:
        with pytest.raises(DocumentFileError, match="is missing"):
            s.documents.open(s.documents.get(missing.id))
        with pytest.raises(DocumentFileError, match="holds 5 bytes"):
            s.documents.open(s.documents.get(damaged.id))
