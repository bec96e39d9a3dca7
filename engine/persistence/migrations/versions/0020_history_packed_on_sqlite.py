"""Fewer bytes per history row on SQLite: kinds as a byte, data packed

Revision ID: 0020
Revises: 0018
Create Date: 2027-04-06 10:00:00

A history event's ``kind`` is one of a few dozen words, stored with each of the
hundred-odd events of an instance: ``CodedText`` keeps the engine's kinds as their
position in ``engine.models.history.KINDS``, a byte. Its ``data`` is
``HistoryData``: a gateway's or an event's ``{"type": ...}`` as the type's
position, a document event's ``{"document_id": ...}`` as the id's 16 bytes, and
longer JSON deflated with a preset dictionary.

The rows written before are converted, so that a kind is stored one way and a
query comparing kinds finds them all. The declared types stay as they were;
PostgreSQL is left as it is.
"""

import json
from typing import Any

from alembic import op
from sqlalchemy.dialects import sqlite

from engine.models.history import KINDS, HistoryData, stored_text
from engine.persistence.sqlite_values import convert

revision = "0020"
down_revision = "0018"
branch_labels = None
depends_on = None

_SQLITE = sqlite.dialect()
_CODES = {word: bytes([n]) for n, word in enumerate(KINDS)}


def _coded(kind: str) -> str | bytes:
    return _CODES.get(kind, kind)


def _word(code: bytes) -> str:
    return KINDS[code[0]]


def _packed(text: str) -> Any:
    return HistoryData().process_bind_param(json.loads(text), _SQLITE)


def upgrade() -> None:
    bind = op.get_bind()
    convert(bind, {"history_event": ("kind",)}, _coded, "text")
    convert(bind, {"history_event": ("data",)}, _packed, "text")


def downgrade() -> None:
    bind = op.get_bind()
    convert(bind, {"history_event": ("kind",)}, _word, "blob")
    for stored in ("integer", "blob"):
        convert(bind, {"history_event": ("data",)}, stored_text, stored)
