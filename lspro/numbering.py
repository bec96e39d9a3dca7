"""Running numbers handed out once each, also when commands run at the same time.

A number is taken by one ``UPDATE ... RETURNING`` on the sequence's row. On
PostgreSQL that statement locks the row until the command commits, so a second
command waits and then gets the next number; on SQLite every write transaction
starts with ``BEGIN IMMEDIATE`` (``engine.persistence.db``), so writers never overlap at all.
A rolled-back command gives its number back with everything else it did.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lspro.models import Sequence

#: The year of a sequence that never starts again (certificate registration numbers).
NO_RESET = 0


def next_number(session: Session, name: str, year: int = NO_RESET) -> int:
    """Take the next number of sequence ``name`` for ``year`` (1 for a new one)."""
    take = (sa.update(Sequence)
            .where(Sequence.name == name, Sequence.year == year)
            .values(last_value=Sequence.last_value + 1)
            .returning(Sequence.last_value)
            .execution_options(synchronize_session=False))
    value = session.execute(take).scalar()
    if value is not None:
        return int(value)
    # First use: create the row (another command may do so at the same moment, and
    # then one insert does nothing), then take the number as above.
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(Sequence).values(name=name, year=year, last_value=0)
                    .on_conflict_do_nothing())
    value = session.execute(take).scalar()
    if value is None:  # pragma: no cover - the row was just made
        raise RuntimeError(f"sequence {name}/{year} vanished")
    return int(value)


def current_number(session: Session, name: str, year: int = NO_RESET) -> int:
    """The last number handed out (0 when none was)."""
    value = session.scalar(sa.select(Sequence.last_value)
                           .where(Sequence.name == name, Sequence.year == year))
    return int(value or 0)
