"""an invoice's lines compressed on SQLite

An invoice's ``lines`` (2.3 KB of bilingual JSON for an application's bill) are
read whole and never searched: ``CompressedJSON`` keeps them deflated on SQLite,
a quarter of the text, so four invoices share a page where one filled it. Rows
written before are converted; PostgreSQL (which compresses such values itself)
is left as it is.

Revision ID: lspro_0004
Revises: lspro_0003
Create Date: 2027-04-06 10:00:00
"""

import json
import zlib
from typing import Any

from alembic import op
from sqlalchemy.dialects import sqlite

from engine.persistence.packing import CompressedJSON
from engine.persistence.sqlite_values import convert

revision = 'lspro_0004'
down_revision = 'lspro_0003'
branch_labels = None
depends_on = None

_SQLITE = sqlite.dialect()
LINES = {"invoice": ("lines",)}


def _packed(text: str) -> Any:
    return CompressedJSON().process_bind_param(json.loads(text), _SQLITE)


def _text(packed: bytes) -> str:
    return zlib.decompress(packed).decode()


def upgrade() -> None:
    convert(op.get_bind(), LINES, _packed, "text")


def downgrade() -> None:
    convert(op.get_bind(), LINES, _text, "blob")
