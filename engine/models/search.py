"""The words an instance is found by: a few per instance, each a row, indexed for prefixes."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.db import Base, CompactUUID

#: Longest word kept; longer ones are cut (a search types the start of a word).
WORD_LENGTH = 64
# SQLite's LIKE ignores letter case, so it uses an index only on a NOCASE column;
# PostgreSQL's LIKE 'abc%' uses a btree index only with the pattern operator class.
_WORD = sa.String(WORD_LENGTH).with_variant(sa.String(WORD_LENGTH, collation="NOCASE"), "sqlite")


class InstanceSearchWord(Base):
    """One lower-case word of an instance's business key, company or named variables.

    Written by the runtime whenever an instance is saved (engine.runtime.search_words);
    the task list and the monitor search these rows with ``word LIKE 'typed%'``.
    """

    __tablename__ = "instance_search_word"
    __table_args__ = (
        sa.Index("ix_instance_search_word_word", "word",
                 postgresql_ops={"word": "varchar_pattern_ops"}),
        # The key is the row: on SQLite it is stored once, in the key's b-tree, and the
        # word's index holds the instance id the search asks for (migration 0017).
        {"sqlite_with_rowid": False},
    )

    instance_id: Mapped[str] = mapped_column(
        CompactUUID(), sa.ForeignKey("process_instance.id", ondelete="CASCADE"),
        primary_key=True)
    word: Mapped[str] = mapped_column(_WORD, primary_key=True)
