"""The file store: document bytes on disk, addressed by their SHA-256.

One file is stored once however often it is uploaded; the ``document`` table links
each upload to its instance (:mod:`.service`).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, Final

from engine.documents.sniffing import sniff
from engine.errors import InvalidInput

CHUNK_SIZE: Final = 64 * 1024
_SHA256: Final = re.compile(r"[0-9a-f]{64}")


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
