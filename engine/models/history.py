"""The audit history: an append-only record of every change to an instance."""

from __future__ import annotations

import json
import zlib
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.db import Base, CompactUTCDateTime, CompactUUID, uuid_bytes, uuid_text
from engine.persistence.packing import CodedText, PackedJSON
from engine.scripting.values import dumps_finite

#: The kinds of event the engine records, in the order of their codes on SQLite
#: (:class:`~engine.persistence.packing.CodedText`): add new kinds at the end only.
#: A kind not listed (an extension's) is stored as its text.
KINDS = (
    "instance_started", "instance_completed", "instance_cancelled", "instance_suspended",
    "instance_resumed", "business_key_assigned", "variables_set", "process_started",
    "element_completed", "task_completed", "task_cancelled", "task_claimed",
    "task_assigned", "task_unclaimed", "message_received", "signal_received",
    "timer_fired", "incident_opened", "incident_retried", "document_uploaded",
    "document_generated", "data_store_written",
)

#: Element types an ``element_completed`` event names (its data ``{"type": ...}`` and
#: nothing else, a gateway's or an event's): stored on SQLite as their position here.
#: Add new types at the end only; a type not listed is stored as JSON like any data.
ELEMENT_TYPES = (
    "StartEvent", "EndEvent", "ExclusiveGateway", "ParallelGateway", "InclusiveGateway",
    "TopicServiceTask", "TopicSendTask", "ScriptTask", "ManualTask", "PassThroughTask",
    "PassThroughManualTask", "MappedCallActivity", "SubProcess", "TransactionSubProcess",
    "WaitingCatchEvent", "WaitingReceiveTask", "WaitingEventBasedGateway",
    "IntermediateThrowEvent", "IntermediateCatchEvent", "BoundaryEvent",
    "RearmedBoundaryEvent", "SendTask", "BusinessRuleTask", "AdHocSubProcess",
    "ComplexGatewayWithExtensions", "CompensationThrowEvent", "CompensationEndEvent",
    "CancelEndEvent", "NoneTask", "IsolatedStartTask",
)
_TYPE_CODES = {name: n for n, name in enumerate(ELEMENT_TYPES)}

#: Text that events' data often holds, given to deflate as what came before the data
#: (a preset dictionary): short JSON compresses well only with it. The first byte of
#: a compressed value names the dictionary; a new one takes a new byte, and the old
#: ones stay for the rows they compressed.
DICTIONARIES = {1: (
    b'"data_objects":{"message":{"correlation":"variables":{"$files":[[["variables",'
    b'"business_key":null,"definition_id":":true,":false,":null,":[],":"",'
    b'"},"changed":{"{"type":"TopicServiceTask","changed":{"')}
_DICTIONARY = 1
# Shorter JSON is stored as it is: what deflate saves would not pay for its work.
_COMPRESS_FROM = 48
_ID_BYTES = 16
_SQLITE = sqlite.dialect()


def _deflate(text: bytes) -> bytes:
    # A 16-KB window and memory level 4: a compressor of about 70 KB; with zlib's
    # defaults (about 270 KB) the server's heap grew and was trimmed back for each
    # event (see engine.bpmn.state_codec). Any 32-KB reader reads it, as before.
    packer = zlib.compressobj(6, zlib.DEFLATED, -14, 4, zdict=DICTIONARIES[_DICTIONARY])
    return bytes([_DICTIONARY]) + packer.compress(text) + packer.flush()


def _inflate(value: bytes) -> bytes:
    unpacker = zlib.decompressobj(-15, zdict=DICTIONARIES[value[0]])
    return unpacker.decompress(value[1:]) + unpacker.flush()


def stored_text(value: Any) -> str | None:
    """The JSON text of data as SQLite holds it (:class:`HistoryData`), for a tool
    reading the table with raw SQL."""
    if type(value) is bytes and len(value) != _ID_BYTES:
        return _inflate(value).decode()
    if type(value) in (int, bytes):
        return dumps_finite(HistoryData().process_result_value(value, _SQLITE),
                            separators=(",", ":"))
    return value


class HistoryData(PackedJSON):
    """An event's data, JSON; on SQLite packed, and read back as it was written.

    ``{"type": T}`` alone (an element's completion that changed nothing: a
    gateway, an event) is stored as T's position in :data:`ELEMENT_TYPES`, 1 byte
    where the JSON took 28; ``{"document_id": id}`` alone (a document event, see
    :mod:`engine.queries.history_documents`) as the id's 16 bytes where the JSON
    took 54; other JSON of some length deflated with a preset dictionary
    (:data:`DICTIONARIES`; a form's submission, the values a step changed: about
    half their text), as a blob of any length but 16. JSON text reads as JSON, so
    rows written before read as they are.
    """

    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if dialect.name != "sqlite" or value is None:
            return value
        if type(value) is dict and len(value) == 1:
            if type(kind := value.get("type")) is str and kind in _TYPE_CODES:
                return _TYPE_CODES[kind]
            if (type(document := value.get("document_id")) is str
                    and (packed := uuid_bytes(document)) is not None):
                return packed
        text = dumps_finite(value, separators=(",", ":"))
        if len(text) >= _COMPRESS_FROM:
            encoded = text.encode()
            packed = _deflate(encoded)
            if len(packed) < len(encoded) and len(packed) != _ID_BYTES:
                return packed
        return text

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if dialect.name != "sqlite" or value is None:
            return value
        if type(value) is int:
            return {"type": ELEMENT_TYPES[value]}
        if type(value) is bytes:
            if len(value) == _ID_BYTES:
                return {"document_id": uuid_text(value)}
            return json.loads(_inflate(value))
        return json.loads(value)


class HistoryEvent(Base):
    """Who did what to which instance and element, when, and which data changed."""

    __tablename__ = "history_event"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(
        CompactUUID(), sa.ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(CompactUTCDateTime())
    actor: Mapped[str | None] = mapped_column(sa.String(255))
    kind: Mapped[str] = mapped_column(CodedText(KINDS))
    element_id: Mapped[str | None] = mapped_column(sa.String(255))
    task_id: Mapped[str | None] = mapped_column(CompactUUID())
    data: Mapped[dict[str, Any] | None] = mapped_column(HistoryData())


class HistoryValue(Base):
    """A large value of an instance's history, stored once however often it is recorded.

    Events refer to it by ``hash`` (see :mod:`engine.queries.history_values`).
    """

    __tablename__ = "history_value"

    instance_id: Mapped[str] = mapped_column(
        CompactUUID(), sa.ForeignKey("process_instance.id", ondelete="CASCADE"), primary_key=True
    )
    #: SHA-256 (hex) of the value's JSON text.
    hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    #: Bytes of the JSON text before compression.
    size: Mapped[int]
    #: The JSON text, zlib-compressed.
    value: Mapped[bytes] = mapped_column(sa.LargeBinary)
