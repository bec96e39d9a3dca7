"""The words an instance is found by, and keeping their rows in step with the instance.

An instance is searched by its business key, its company and the few variables the
loaded extensions name (``Setup.search_variables``: a product's name, say). Each is
split into lower-case words, stored one per row of ``instance_search_word``; a
search then asks for each typed word as the start of a stored one, an indexed
``LIKE 'typed%'`` (engine.queries.search), never a scan of the variables.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Set
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.models.search import WORD_LENGTH, InstanceSearchWord
from engine.persistence.direct import Direct

# Enough for a company, a key and a few product names; a long free text named by
# mistake must not flood the table.
MAX_WORDS = 48
_WORD = re.compile(r"\w+", re.UNICODE)
_INSERT_WORDS_PG = sa.text(
    "INSERT INTO instance_search_word (instance_id, word) "
    "SELECT :instance_id, unnest(CAST(:words AS varchar[]))")


def split_words(text: str) -> list[str]:
    """The lower-case words of ``text``, in order, each cut to the stored length."""
    return [w[:WORD_LENGTH] for w in _WORD.findall(text.casefold())]


def _texts(value: Any) -> Iterable[str]:
    """The text inside a variable's value: strings and numbers, in lists and objects too."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, (int, float)):
        yield str(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _texts(item)


def words_of(business_key: str | None, company: str | None,
             variables: Mapping[str, Any], names: Iterable[str]) -> set[str]:
    """The search words of an instance with these attributes and variables."""
    found: list[str] = []
    for text in (business_key, company):
        if text:
            found.extend(split_words(text))
    for name in names:
        for text in _texts(variables.get(name)):
            found.extend(split_words(text))
    return set(list(dict.fromkeys(found))[:MAX_WORDS])


# The model's table, not a lightweight one: its columns' types store the id as SQLite
# keeps it (bytes, engine.persistence.db.CompactUUID).
_WORDS: sa.Table = InstanceSearchWord.__table__  # type: ignore[assignment]
_INSERT_WORDS = Direct(sa.insert(_WORDS))


def store_words(session: Session, instance_id: str, words: Set[str],
                stored: Set[str] | None = None,
                queue: Callable[[sa.Table, dict[str, Any]], None] | None = None) -> None:
    """Make the instance's stored words ``words``: insert what is new, delete what went.

    :param stored: the words stored now, when the caller knows them; else read.
    :param queue: where to queue the new rows instead of inserting them now (the
        command's rows written with the instance, engine.runtime.store).
    """
    if stored is None:
        stored = set(session.scalars(sa.select(InstanceSearchWord.word)
                                     .where(InstanceSearchWord.instance_id == instance_id)))
    added, gone = words - stored, stored - words
    if added and queue is not None:
        for word in sorted(added):
            queue(_WORDS, {"instance_id": instance_id, "word": word})
    elif added:
        if session.get_bind().dialect.name == "postgresql":
            # One statement: psycopg's executemany sends a statement per row.
            session.execute(_INSERT_WORDS_PG, {"instance_id": instance_id,
                                               "words": sorted(added)})
        else:
            # On the driver's cursor: the session's Core execute cost several times
            # SQLite's own work (every start writes its words).
            _INSERT_WORDS.execute(session.connection(),
                                  [{"instance_id": instance_id, "word": w}
                                   for w in sorted(added)])
    if gone:
        session.execute(sa.delete(_WORDS).where(_WORDS.c.instance_id == instance_id,
                                                _WORDS.c.word.in_(sorted(gone))))
