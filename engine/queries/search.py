"""Finding instances (and their tasks) by what a person types: a key, a company, a product.

Each typed word must be the start of one of the instance's search words
(engine.runtime.search_words keeps them): ``PRM-2027`` finds the key
PRM-2027-00001, ``maju`` finds PT Maju Jaya, ``bisk`` a product named Biskuit.
Every word is one indexed ``LIKE 'typed%'`` on ``instance_search_word.word``.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import QueryableAttribute

from engine.models import InstanceSearchWord
from engine.runtime.search_words import split_words

# More typed words than this add nothing but work.
MAX_TYPED_WORDS = 6


def _prefix(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def matching_instances(text: str) -> list[sa.Select[str]]:
    """One sub-query per typed word: the ids of the instances having a word it starts."""
    return [sa.select(InstanceSearchWord.instance_id)
            .where(InstanceSearchWord.word.like(_prefix(word), escape="\\"))
            for word in split_words(text)[:MAX_TYPED_WORDS]]


def found_by(instance_id: QueryableAttribute[str], text: str) -> sa.ColumnElement[bool]:
    """The condition that the instance ``instance_id`` names is found by ``text``.

    Text without a word in it (only punctuation) finds nothing rather than everything.
    """
    queries = matching_instances(text)
    if not queries:
        return sa.false()
    return sa.and_(*(instance_id.in_(query) for query in queries))
