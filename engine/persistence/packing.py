"""Column types that SQLite stores in fewer bytes, read back as they were written.

Like ``CompactUUID`` (``engine.persistence.db``) they pack on SQLite only, where a
column holds whatever a row gives it; PostgreSQL keeps its declared type. A
statement reading or comparing such a column through SQLAlchemy's typed columns
and bound parameters sees the values as written; raw SQL sees the packed ones.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator, UserDefinedType

from engine.scripting.values import dumps_finite


class SQLiteAsIs(UserDefinedType[Any]):
    """SQLite's side of a packing type: declared as before (the schema and its
    comparison with the models do not change), values passed as they are."""

    cache_ok = True

    def __init__(self, spec: str) -> None:
        self.spec = spec

    def get_col_spec(self, **_kw: Any) -> str:
        return self.spec


class CodedText(TypeDecorator[str]):
    """Text from a fixed vocabulary (at most 256 words) that SQLite stores as its
    position in it, one byte (a blob: a text column would turn an integer into its
    digits), where the word took its length; any other text is kept as text.

    The vocabulary only grows at its end: a stored position must keep its word.
    Positions sort as bytes, not as the words: order by such a column on SQLite
    only to group equal values.
    """

    impl = sa.String  # a class: made with the column's length
    cache_ok = True

    def __init__(self, vocabulary: tuple[str, ...], length: int = 32) -> None:
        super().__init__(length)
        if len(vocabulary) > 256:
            raise ValueError("at most 256 words are coded in a byte")
        self.vocabulary = vocabulary
        self._codes = {word: bytes([n]) for n, word in enumerate(vocabulary)}

    def process_bind_param(self, value: str | None, dialect: Any) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return self._codes.get(value, value)

    def bind_processor(self, dialect: Any) -> Any:
        # process_bind_param's answer on SQLite without TypeDecorator's layers.
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        codes = self._codes

        def process(value: str | None) -> Any:
            return None if value is None else codes.get(value, value)

        return process

    def process_result_value(self, value: Any, dialect: Any) -> str | None:
        return self.vocabulary[value[0]] if type(value) is bytes else value


class PackedJSON(TypeDecorator[Any]):
    """JSON that a subclass packs its own way on SQLite (declared JSON there, its
    values passed as they are); PostgreSQL stores and reads plain JSON."""

    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return SQLiteAsIs("JSON")
        return super().load_dialect_impl(dialect)


class CompressedJSON(PackedJSON):
    """JSON that SQLite stores zlib-compressed when that is smaller: for a large value
    read whole and never searched in SQL (an invoice's lines). Old text still reads."""

    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if dialect.name != "sqlite" or value is None:
            return value
        text = dumps_finite(value, separators=(",", ":")).encode()
        packed = zlib.compress(text, 9)
        return packed if len(packed) < len(text) else text.decode()

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if dialect.name != "sqlite" or value is None:
            return value
        if isinstance(value, bytes):
            value = zlib.decompress(value)
        return json.loads(value)
