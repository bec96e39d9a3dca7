"""The archive's files: compressed JSON lines, one file per run, one line per instance.

A file starts with a header line (``{"archive": "sertiflow", "format": 1, ...}``) and
then holds one line per archived instance: its id, a few fields to list it by, and
``tables``, each table's rows of that instance (see :mod:`engine.archive.rows`).

Each batch of a run is appended as a gzip member of its own and synced to disk
before the batch's rows are deleted from the live tables; ``gzip`` reads the members
back as one stream. A run cut short in the middle of writing leaves a torn last
member: the reader stops quietly at it, and the instances it held are still live
(their deletion had not been committed), so the next run archives them again. An
instance may thus appear in more than one file; the latest copy is the one shown and
restored.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT = 1
SUFFIX = ".jsonl.gz"


def archive_files(folder: Path) -> list[Path]:
    """The archive files in ``folder``, oldest first (their names start with the run's time)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.name.endswith(SUFFIX) and p.is_file())


@dataclass
class ArchiveFile:
    """One run's file: appended batch by batch, read line by line."""

    path: Path

    def start(self, header: Mapping[str, Any]) -> None:
        """Create the file with its header; refuses to overwrite an existing one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = {"archive": "sertiflow", "format": FORMAT, **header}
        with open(self.path, "xb") as out:
            out.write(gzip.compress(_line(line)))
            _sync(out)

    def append(self, records: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
        """Append one batch as its own gzip member, on disk when this returns.

        Returns the bytes written and the bytes of JSON they hold.
        """
        text = b"".join(_line(r) for r in records)
        member = gzip.compress(text, compresslevel=6)
        with open(self.path, "ab") as out:
            out.write(member)
            _sync(out)
        return len(member), len(text)

    def header(self) -> dict[str, Any]:
        for record in self._lines():
            return record
        raise ValueError(f"{self.path.name} is empty")

    def records(self) -> Iterator[dict[str, Any]]:
        """Each archived instance's record, in the order written (the header skipped)."""
        lines = self._lines()
        first = next(lines, None)
        if first is None or first.get("archive") != "sertiflow":
            raise ValueError(f"{self.path.name} is not a sertiflow archive file")
        if first.get("format") != FORMAT:
            raise ValueError(f"{self.path.name} has format {first.get('format')!r}, "
                             f"this version reads {FORMAT}")
        yield from lines

    def find(self, instance_id: str) -> dict[str, Any] | None:
        """The last record of ``instance_id`` in this file, or None.

        Only lines that start with that instance are parsed (each record begins with
        ``{"instance":"<id>"``): a search reads a year's file in a fraction of the time
        parsing it would take.
        """
        self.header()  # refuses a file that is no archive
        start = _line({"instance": instance_id})[:-2]  # without the closing brace
        found = None
        for raw in self._raw():
            if raw.startswith(start):
                found = json.loads(raw)
        return found

    def _lines(self) -> Iterator[dict[str, Any]]:
        for raw in self._raw():
            yield json.loads(raw)

    def _raw(self) -> Iterator[bytes]:
        try:
            with gzip.open(self.path, "rb") as stream:
                for raw in stream:
                    if not raw.endswith(b"\n"):
                        return  # a torn last line
                    yield raw
        except (EOFError, zlib.error, gzip.BadGzipFile):
            # A torn last member: the run stopped while writing it, before it deleted
            # those instances from the live tables. Nothing in it is lost.
            return


def _line(record: Mapping[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _sync(out: Any) -> None:
    out.flush()
    os.fsync(out.fileno())
