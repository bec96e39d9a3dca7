"""The SQL statements a block of a test sends, as the driver is given them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa


@contextmanager
def sent_statements(bind: sa.engine.Engine) -> Iterator[list[str]]:
    """Collect each statement ``bind`` sends within the block (Direct's included: it
    fires the same event), in order."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    sa.event.listen(bind, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(bind, "before_cursor_execute", record)
