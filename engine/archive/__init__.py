"""Archiving finished instances: the live database keeps the live work.

An instance that completed or was cancelled before a date moves, with every row that
belongs to it, into a compressed JSON-lines file (:mod:`engine.archive.files`) and is
then deleted from the live tables in batches (:mod:`engine.archive.mover`); an admin
can list what a file holds and restore one instance for an audit. Which rows belong
to an instance is read off the tables' foreign keys (:mod:`engine.archive.rows`), so
an extension's tables that point at an instance travel with it too.
"""

from __future__ import annotations

from .files import ArchiveFile, archive_files
from .mover import Archiver, ArchiveRun

__all__ = ["ArchiveFile", "ArchiveRun", "Archiver", "archive_files"]
