"""Fewer bytes per instance: coded words and packed history data on SQLite, the
assignee index of assigned tasks only

Revision ID: 0020
Revises: 0019
Create Date: 2027-04-06 10:00:00

Columns holding one of a few words, in every row of an instance and most of their
indexes, are ``CodedText``: the word's position in a fixed list, one byte. They are
a history event's ``kind`` (``engine.models.history.KINDS``; an extension's kinds
stay text), a task's and a candidate's ``state``, a candidate's ``kind`` and a
document's ``content_type``. A history event's ``data`` is ``HistoryData``: a
gateway's or an event's ``{"type": ...}`` as the type's position, a document
event's ``{"document_id": ...}`` as the id's 16 bytes, longer JSON deflated with a
preset dictionary.

The rows written before are converted, so that a word is stored one way and a query
comparing it finds them all (a task's state first: the trigger of 0015 copies it to
the candidates). The declared types stay as they were; PostgreSQL keeps its values.

On both databases ``ix_task_state_assignee`` holds the assigned tasks only: most
tasks are never assigned, and every read by it asks for one assignee.
"""

import json
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import sqlite

from engine.models.documents import CONTENT_TYPES
from engine.models.history import KINDS, HistoryData, stored_text
from engine.models.tasks import CANDIDATE_KINDS, TASK_STATES
from engine.persistence.sqlite_values import convert

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_SQLITE = sqlite.dialect()
# Each coded column with its list of words; in this order (see above).
CODED = [
    ("task", "state", TASK_STATES),
    ("task_candidate", "state", TASK_STATES),
    ("task_candidate", "kind", CANDIDATE_KINDS),
    ("history_event", "kind", KINDS),
    ("document", "content_type", CONTENT_TYPES),
]


def _coder(words: tuple[str, ...]) -> Any:
    codes = {word: bytes([n]) for n, word in enumerate(words)}
    return lambda word: codes.get(word, word)


def _decoder(words: tuple[str, ...]) -> Any:
    return lambda code: words[code[0]]


def _packed(text: str) -> Any:
    return HistoryData().process_bind_param(json.loads(text), _SQLITE)


_ASSIGNEE_INDEX = ("ix_task_state_assignee", "task", ["state", "assignee"])
_ASSIGNED = sa.text("assignee IS NOT NULL")


def upgrade() -> None:
    bind = op.get_bind()
    op.drop_index(_ASSIGNEE_INDEX[0], table_name="task")
    op.create_index(*_ASSIGNEE_INDEX, sqlite_where=_ASSIGNED, postgresql_where=_ASSIGNED)
    for table, column, words in CODED:
        convert(bind, {table: (column,)}, _coder(words), "text")
    convert(bind, {"history_event": ("data",)}, _packed, "text")


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_index(_ASSIGNEE_INDEX[0], table_name="task")
    op.create_index(*_ASSIGNEE_INDEX)
    for table, column, words in CODED:
        convert(bind, {table: (column,)}, _decoder(words), "blob")
    for stored in ("integer", "blob"):
        convert(bind, {"history_event": ("data",)}, stored_text, stored)
