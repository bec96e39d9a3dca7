"""Documents uploaded to process instances, and the file store that keeps their bytes.

Customers upload the documents a process asks of them (registrations, product
photos...), staff their reports and working papers, outside parties theirs.
The bytes live on disk in a :class:`FileStore`, addressed by their SHA-256, so one
file is stored once however often it is uploaded; the ``document`` table links each
upload to its instance, its task and form field.

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
content's first bytes (and, for Office files, the ZIP directory), never from the
client's declared type or the file name alone; the name's extension and the declared
type must then agree with it.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import unicodedata
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.errors import Conflict, InstanceNotRunning, InvalidInput, NotFound, TaskAlreadyCompleted
from engine.models import Document, ProcessInstance, Task
from engine.queries.history import HistoryLog
from engine.time.clock import Clock

CHUNK_SIZE: Final = 64 * 1024
SNIFF_BYTES: Final = 8 * 1024
MAX_NAME_LENGTH: Final = 200
_SHA256: Final = re.compile(r"[0-9a-f]{64}")
# An extension starts with a letter, so "Laporan v1.2" has none (".2" is a version).
_EXTENSION: Final = re.compile(r"\.([A-Za-z][A-Za-z0-9]{0,9})$")

DOCX: Final = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_DOCM: Final = "application/vnd.ms-word.document.macroEnabled.12"
_XLSM: Final = "application/vnd.ms-excel.sheet.macroEnabled.12"
_PPTX: Final = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
_OLE2: Final = "application/x-ole-storage"
_EMPTY: Final = "application/x-empty"
_UNKNOWN: Final = "application/octet-stream"
#: The media type of the documents the server renders itself (letters, receipts).
GENERATED_HTML: Final = "text/html"
#: ``uploaded_by`` of a generated document made without a named user.
GENERATED_BY: Final = "sertiflow"


class DocumentFileError(RuntimeError):
    """A document's stored bytes are missing or damaged; an operator must restore them.

    Not an :class:`~engine.errors.EngineError`: the caller did nothing wrong, and the
    message names server paths that belong in the log, not in a response.
    """


# -- the file store -------------------------------------------------------------------


@dataclass(frozen=True)
class StoredFile:
    """What :meth:`FileStore.put` received: its digest, length and sniffed kind."""

    sha256: str
    size: int
    sniffed_type: str


class FileStore:
    """Content-addressed files under ``root``: ``root/ab/cd/<sha256>``.

    Uploads are written to a temporary file in ``root`` (same file system, so the
    final rename is atomic) and moved into place only when complete, so a reader
    never sees half a file and identical content is kept once.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def put(
        self,
        stream: IO[bytes],
        *,
        max_bytes: int,
        check: Callable[[StoredFile], None] | None = None,
    ) -> StoredFile:
        """Store ``stream``'s bytes, reading it in chunks, and describe what was stored.

        At most ``max_bytes + 1`` bytes are read from ``stream``. ``check`` sees the
        complete file before it is moved into place and may raise to refuse it; after
        any refusal nothing of the upload is left on disk.

        :raises InvalidInput: when the stream holds more than ``max_bytes`` bytes.
        """
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        self.root.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=self.root, prefix=".upload-", suffix=".part")
        temp = Path(temp_name)
        try:
            digest, size = _receive(stream, fd, max_bytes)
            stored = StoredFile(sha256=digest, size=size, sniffed_type=sniff(temp))
            if check is not None:
                check(stored)
            self._place(temp, stored)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return stored

    def open(self, sha256: str) -> BinaryIO:
        """Open the stored file for reading.

        :raises FileNotFoundError: when no file with that digest is stored.
        """
        return self.path(sha256).open("rb")

    def path(self, sha256: str) -> Path:
        """Return where the file with digest ``sha256`` is (or would be) stored.

        :raises InvalidInput: when ``sha256`` is not 64 hexadecimal digits, so no
            value can point outside the store.
        """
        digest = _checked_digest(sha256)
        return self.root / digest[:2] / digest[2:4] / digest

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def _place(self, temp: Path, stored: StoredFile) -> None:
        target = self.path(stored.sha256)
        if target.is_file() and target.stat().st_size == stored.size:
            temp.unlink()
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp, target)
        _fsync_directory(target.parent)


def _receive(stream: IO[bytes], fd: int, max_bytes: int) -> tuple[str, int]:
    """Copy ``stream`` into ``fd`` chunk by chunk, hashing; stop once past the limit."""
    digest = hashlib.sha256()
    size = 0
    with os.fdopen(fd, "wb") as out:
        while True:
            # Ask for no more than one byte past the limit: enough to know it was passed.
            chunk = stream.read(min(CHUNK_SIZE, max_bytes + 1 - size))
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                limit = _human_size(max_bytes)
                raise InvalidInput(f"the file is larger than {limit}",
                                   {"file": f"larger than {limit}"})
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        # The rename must not become visible before the bytes are durable.
        os.fsync(out.fileno())
    return digest.hexdigest(), size


def _instance_row(session: Session, instance_id: str) -> bool:
    """Whether the instance row exists (also when written by Core, not yet in the ORM)."""
    found = session.scalar(sa.select(ProcessInstance.id).where(ProcessInstance.id == instance_id))
    return found is not None


def _fsync_directory(folder: Path) -> None:
    """Make a rename into ``folder`` durable (POSIX only; Windows cannot open folders)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _checked_digest(sha256: str) -> str:
    digest = sha256.lower() if isinstance(sha256, str) else ""
    if not _SHA256.fullmatch(digest):
        raise InvalidInput("not a SHA-256 digest", {"sha256": "must be 64 hexadecimal digits"})
    return digest


def _human_size(size: int) -> str:
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} bytes"


# -- recognising content ----------------------------------------------------------------

_MAGIC: Final[tuple[tuple[bytes, str], ...]] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", _OLE2),
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
    _OLE2: "a Word or Excel 97-2003 file",
    "text/plain": "plain text",
    "text/html": "an HTML page or other markup",
    "application/zip": "a ZIP archive",
    "application/gzip": "a compressed archive",
    "application/vnd.rar": "a compressed archive",
    "application/x-7z-compressed": "a compressed archive",
    "application/x-msdownload": "a Windows program",
    "application/x-executable": "a program",
    _EMPTY: "empty",
    _UNKNOWN: "of an unknown kind",
}


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
        return _EMPTY
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


@dataclass(frozen=True)
class DocumentType:
    """One accepted kind of document.

    ``sniffed`` is what :func:`sniff` reports for it; ``aliases`` are other media
    types clients declare for it (browsers on Windows send CSV as an Excel type).
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
    DocumentType("DOC", "application/msword", (".doc",), _OLE2),
    DocumentType("XLS", "application/vnd.ms-excel", (".xls",), _OLE2,
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
    label = _LABELS.get(sniffed, _LABELS[_UNKNOWN])
    if sniffed == _EMPTY:
        raise _refused("the file is empty")
    found = _EXTENSION.search(name)
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
        found = _EXTENSION.search(text)
        extension = found.group(0) if found else ""
        text = text[: MAX_NAME_LENGTH - len(extension)].rstrip(". ") + extension
    return text


# -- the service ------------------------------------------------------------------------


class DocumentService:
    """Uploads, lists and opens the documents of process instances.

    Access control is not this service's job: the caller decides who may see an
    instance (and so its documents) and who may add to a task before calling.
    """

    def __init__(self, session: Session, clock: Clock, store: FileStore, *,
                 max_bytes: int) -> None:
        self.session = session
        self.clock = clock
        self.store = store
        self.max_bytes = max_bytes
        self.history = HistoryLog(session, clock)

    def upload(
        self,
        instance_id: str,
        stream: IO[bytes],
        *,
        filename: str | None,
        content_type: str | None,
        uploaded_by: str | None,
        task_id: str | None = None,
        field: str | None = None,
    ) -> Document:
        """Store ``stream`` as a document of the instance (and of a ready task of it).

        ``field`` is the form field (a Camunda Form ``filepicker`` key) it was given
        for. The content decides the stored type; ``filename`` is only displayed.

        :raises NotFound: when the instance does not exist, or has no such task.
        :raises Conflict: when the instance has ended or the task is no longer ready.
        :raises InvalidInput: when the file is too large, empty, of a kind not
            accepted, or its name or declared type disagree with its content.
        """
        field = field or None  # an empty multipart field means no form field
        if field is not None and len(field) > 255:
            raise InvalidInput("invalid form field", {"field": "at most 255 characters"})
        # Checked before reading the stream, so a wrong target costs no upload...
        self._target(instance_id, task_id, lock=False)
        display_name = sanitize_filename(filename) or "document"

        def check(candidate: StoredFile) -> None:
            match_type(candidate.sniffed_type, display_name, content_type)

        stored = self.store.put(stream, max_bytes=self.max_bytes, check=check)
        kind, display_name = match_type(stored.sniffed_type, display_name, content_type)
        # ...and again under the instance's lock (the runtime's lock order), since the
        # task may have been completed while the bytes were arriving.
        task = self._target(instance_id, task_id, lock=True)
        document = Document(
            id=str(uuid.uuid4()), instance_id=instance_id, task_id=task_id, field=field,
            name=display_name, content_type=kind.content_type, size=stored.size,
            sha256=stored.sha256, uploaded_by=uploaded_by, uploaded_at=self.clock.now(),
        )
        self.session.add(document)
        self.history.record(
            instance_id, "document_uploaded", actor=uploaded_by,
            element=task.element_id if task else None, task_id=task_id,
            data={"document_id": document.id, "name": document.name, "size": document.size,
                  "sha256": document.sha256, "content_type": document.content_type,
                  "task_id": task_id, "field": field},
        )
        self.session.flush()
        return document

    def store_generated(
        self,
        instance_id: str,
        content: bytes,
        *,
        name: str,
        content_type: str = GENERATED_HTML,
        field: str | None = None,
        created_by: str | None = None,
    ) -> Document:
        """Store a document the server made itself (a letter, a receipt, a report).

        The upload allow-list refuses HTML on purpose (a browser would run it in our
        origin); generated documents are our own escaped HTML, so they bypass it,
        and the download serves every document in a sandbox (``api/v1/documents``).
        The instance is the one whose command makes the document; it is not locked
        again here.

        :raises NotFound: when the instance does not exist.
        """
        if not _instance_row(self.session, instance_id):
            raise NotFound(f"no process instance {instance_id}")
        stored = self.store.put(io.BytesIO(content), max_bytes=max(len(content), 1))
        document = Document(
            id=str(uuid.uuid4()), instance_id=instance_id, task_id=None, field=field,
            name=sanitize_filename(name) or "dokumen.html", content_type=content_type,
            size=stored.size, sha256=stored.sha256, uploaded_by=created_by or GENERATED_BY,
            uploaded_at=self.clock.now(),
        )
        self.session.add(document)
        self.history.record(
            instance_id, "document_generated", actor=created_by,
            data={"document_id": document.id, "name": document.name, "size": document.size,
                  "sha256": document.sha256, "content_type": content_type, "field": field},
        )
        self.session.flush()
        return document

    def get(self, document_id: str) -> Document:
        document = self.session.get(Document, document_id)
        if document is None:
            raise NotFound(f"no document {document_id}")
        return document

    def list_for_instance(self, instance_id: str) -> list[Document]:
        return self._list(Document.instance_id == instance_id)

    def list_for_task(self, task_id: str) -> list[Document]:
        return self._list(Document.task_id == task_id)

    def open(self, document: Document) -> BinaryIO:
        """Open the document's bytes for reading; the caller closes the file.

        :raises DocumentFileError: when the stored file is missing or its size is
            not the one recorded at upload.
        """
        try:
            file = self.store.open(document.sha256)
        except FileNotFoundError:
            raise DocumentFileError(
                f"the file of document {document.id} ({document.name!r}, sha256 "
                f"{document.sha256}) is missing from {self.store.root}") from None
        size = os.fstat(file.fileno()).st_size
        if size != document.size:
            file.close()
            raise DocumentFileError(
                f"the file of document {document.id} ({document.name!r}) holds {size} bytes, "
                f"not the {document.size} recorded at upload")
        return file

    def reference(self, document: Document) -> dict[str, Any]:
        """Return the JSON value a form ``filepicker`` field stores for the document."""
        return {"id": document.id, "name": document.name, "sha256": document.sha256,
                "size": document.size, "content_type": document.content_type}

    def _target(self, instance_id: str, task_id: str | None, *, lock: bool) -> Task | None:
        query = sa.select(ProcessInstance).where(ProcessInstance.id == instance_id)
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        instance = self.session.scalars(query).one_or_none()
        if instance is None:
            raise NotFound(f"no process instance {instance_id}")
        if instance.status in ("completed", "cancelled"):
            raise InstanceNotRunning(
                f"process instance {instance_id} is {instance.status}; "
                "documents can no longer be added to it")
        if task_id is None:
            return None
        task = self.session.scalars(
            sa.select(Task).where(Task.id == task_id)
            .execution_options(populate_existing=True)).one_or_none()
        if task is None or task.instance_id != instance_id:
            raise NotFound(f"process instance {instance_id} has no task {task_id}")
        if task.state == "completed":
            raise TaskAlreadyCompleted(
                f"task {task.title or task.element_id} is completed; "
                "documents can no longer be added to it")
        if task.state != "ready":
            raise Conflict(f"task {task.title or task.element_id} is {task.state}; "
                           "documents can no longer be added to it")
        return task

    def _list(self, condition: sa.ColumnElement[bool]) -> list[Document]:
        query = (sa.select(Document).where(condition)
                 .order_by(Document.uploaded_at, Document.name, Document.id))
        return list(self.session.scalars(query))
