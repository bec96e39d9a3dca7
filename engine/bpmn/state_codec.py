"""The compressed text of an instance state, written so that a save costs what changed.

The serializer (:mod:`engine.bpmn.serializer`) turns a workflow into JSON parts,
one per task; this module puts them into one zlib stream and reads it back.
The state's JSON has its tasks first, in the workflow's order: the finished
ones, then the few that change, then (for the most part) the predicted rest of
the process. The leading run of finished tasks is compressed once and kept as
bytes with the live workflow (:class:`TaskMemo`); the tasks after the first
changing ones are compressed in fixed blocks of tasks, each on its own, kept
too and used again while its tasks' JSON has not changed. A save then
compresses only the tasks around the ones that changed and the workflow's own
part. What is written is an ordinary zlib stream of JSON: any reader
(``json.loads(zlib.decompress(...))``) reads it, and states written before,
with the tasks last, are read too.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from operator import is_
from typing import Any

# Tasks per block of the stream's tail: a changed task costs its block's
# compression (some 16 predicted tasks, 5 KB of JSON); the blocks, compressed
# without the text before them, are some 15 % larger than one stream.
BLOCK = 16


@dataclass
class Block:
    """Tasks ``parts`` (their JSON text, as dump_state made it) compressed on their own."""

    parts: list[str]
    deflated: bytes  # raw deflate blocks ending byte-aligned, not the stream's last
    checksum: int  # Adler-32 of the text, on its own
    length: int  # the text's length in bytes


@dataclass
class TaskMemo:
    """What a live workflow keeps between saves so that a save costs what changed.

    (Each stable task carries its own JSON, :mod:`engine.bpmn.serializer`.)
    The state is one zlib stream of JSON
    with the tasks first. The leading run of finished tasks (in the workflow's
    order) is compressed once, into deflate blocks that end byte-aligned (a full
    flush), and kept as bytes; each save compresses only the rest and appends it,
    with the stream's checksum carried on. A 100-KB variable set at the start is
    then neither encoded nor compressed again. The tasks after the first block
    boundary past that run are compressed in :class:`Block` s of ``BLOCK`` tasks
    that refer to nothing before them, so that a block is valid wherever it
    stands in the stream: the predicted rest of a long process is compressed
    once. Only bytes are kept (no live compressor: its buffers weigh 256 KiB).
    """

    prefix: list[str] = field(default_factory=list)  # the tasks' JSON compressed so far
    compressed: list[bytes] = field(default_factory=list)
    checksum: int = 1  # Adler-32 of the text compressed so far
    window: bytes = b""  # its last bytes: what the next blocks may refer back to
    length: int = 0  # the length of the text compressed so far
    blocks: dict[int, Block] = field(default_factory=dict)  # by the index of their first task
    # The stream's beginning stored in rows of its own (split_state): its length in
    # bytes and the rows it takes; ``stale`` once they no longer begin the stream.
    stored: int = 0
    stored_parts: int = 0
    stale: bool = False

    def reset(self) -> None:
        if self.stored_parts:
            self.stale = True
            self.stored = self.stored_parts = 0
        self.prefix = []
        self.compressed = []
        self.checksum = 1
        self.window = b""
        self.length = 0
        self.append(b'{"tasks":{')

    def append(self, text: bytes) -> None:
        """Compress ``text`` as the continuation of the prefix."""
        self.compressed.append(_deflate(text, self.window, zlib.Z_FULL_FLUSH))
        self.checksum = zlib.adler32(text, self.checksum)
        self.window = (self.window + text)[-_WINDOW:]
        self.length += len(text)


# zlib's header for a level-1 stream without a preset dictionary.
_ZLIB_HEADER = b"\x78\x01"
_WINDOW = 8192
# The compressor's window (2 ** 14: room for the 8-KB preset window and what follows)
# and memory level. With zlib's defaults (32 KB, 8) a compressor takes about 270 KB;
# in the server, whose fixed mmap threshold (api.server) also fixes glibc's trim
# threshold at 128 KB, the heap grew by that much and was trimmed back for each one,
# its pages faulted in afresh every time: 25-40 µs a compressor, several per save
# (a save of the plain process 290-320 µs, now 185). These take about 70 KB: 3-10
# µs, for as many bytes out. The stream still reads with any zlib (it declares the
# largest window and uses less of it).
_COMPRESSOR_WBITS = 14
_MEM_LEVEL = 4
_ADLER_BASE = 65521


def _deflate(text: bytes, window: bytes, mode: int) -> bytes:
    """Raw deflate blocks of ``text`` that may refer back into ``window``, the bytes
    a decompressor has just produced before them (so they continue one stream)."""
    if window:
        compressor = zlib.compressobj(1, zlib.DEFLATED, -_COMPRESSOR_WBITS, _MEM_LEVEL,
                                      zdict=window)
    else:
        compressor = zlib.compressobj(1, zlib.DEFLATED, -_COMPRESSOR_WBITS, _MEM_LEVEL)
    return compressor.compress(text) + compressor.flush(mode)


def adler32_combine(first: int, second: int, second_length: int) -> int:
    """The Adler-32 of two texts one after the other, from each one's own
    (zlib's ``adler32_combine``, which Python's zlib does not offer)."""
    rem = second_length % _ADLER_BASE
    sum1 = first & 0xFFFF
    sum2 = (rem * sum1) % _ADLER_BASE
    sum1 = (sum1 + (second & 0xFFFF) + _ADLER_BASE - 1) % _ADLER_BASE
    sum2 = (sum2 + (first >> 16) + (second >> 16) + _ADLER_BASE - rem) % _ADLER_BASE
    return sum1 | (sum2 << 16)


def compress_state(memo: TaskMemo, parts: list[str], leading: int, head: str) -> bytes:
    """``{"tasks":{parts},head...}`` as one zlib stream, the leading parts compressed
    once, the parts from the first block boundary after them in reusable blocks.

    A part is reused while its task's JSON has not changed: a memo hit gives the
    very string, so an identity test per task suffices.
    """
    prefix = memo.prefix
    if (not memo.compressed or len(prefix) > leading
            or not all(map(is_, prefix, parts))):
        memo.reset()
        prefix = memo.prefix
    done = len(prefix)
    if done < leading:
        # The tasks finished since the last save join the compressed prefix.
        memo.append((("," if done else "") + ",".join(parts[done:leading])).encode())
        prefix.extend(parts[done:leading])
    # The blocks begin at the first multiple of BLOCK after the prefix (never at the
    # first task: a block's text begins with its comma).
    first = -(-max(leading, 1) // BLOCK) * BLOCK
    blocks = _blocks(memo, parts, first)
    middle = parts[leading:first]
    between = ("," if leading and middle else "") + ",".join(middle)
    pieces = [_ZLIB_HEADER, *memo.compressed]
    offset = sum(map(len, pieces))
    # Where the prefix and the blocks lie in the stream, for the memo of a workflow
    # rebuilt from it (seed_memo): its first save then compresses what its command
    # changed, as a cached workflow's does.
    layout: dict[str, Any] = {"prefix": [leading, offset, memo.length, memo.checksum],
                              "blocks": []}
    if not blocks:
        tail = (between + _end(layout, head)).encode()
        pieces.append(_deflate(tail, memo.window, zlib.Z_FINISH))
        pieces.append(zlib.adler32(tail, memo.checksum).to_bytes(4, "big"))
        return b"".join(pieces)
    checksum = memo.checksum
    if between:
        text = between.encode()
        pieces.append(_deflate(text, memo.window, zlib.Z_FULL_FLUSH))
        checksum = zlib.adler32(text, checksum)
        offset += len(pieces[-1])
    for start, block in blocks:
        pieces.append(block.deflated)
        layout["blocks"].append([start, len(block.parts), offset, len(block.deflated),
                                 block.checksum, block.length])
        offset += len(block.deflated)
        checksum = adler32_combine(checksum, block.checksum, block.length)
    text = _end(layout, head).encode()
    pieces.append(_deflate(text, b"", zlib.Z_FINISH))
    pieces.append(zlib.adler32(text, checksum).to_bytes(4, "big"))
    return b"".join(pieces)


def _end(layout: dict[str, Any], head: str) -> str:
    """The text after the tasks: the stream's layout, then the workflow's own part."""
    return '},"stream":' + json.dumps(layout, separators=(",", ":")) + "," + head[1:]


def _blocks(memo: TaskMemo, parts: list[str], first: int) -> list[tuple[int, Block]]:
    """The blocks of ``parts[first:]``, those whose tasks did not change as kept."""
    kept = memo.blocks
    blocks: dict[int, Block] = {}
    for start in range(first, len(parts), BLOCK):
        chunk = parts[start:start + BLOCK]
        block = kept.get(start)
        if block is None or len(block.parts) != len(chunk) or not all(
                map(is_, block.parts, chunk)):
            text = ("," + ",".join(chunk)).encode()
            block = Block(chunk, _deflate(text, b"", zlib.Z_FULL_FLUSH), zlib.adler32(text),
                          len(text))
        blocks[start] = block
    memo.blocks = blocks  # the blocks now in the prefix, or past the end, are dropped
    return list(blocks.items())


# A new part is cut once this many bytes of the stream's unchanging beginning are in
# none yet: a few rows per instance, and the rest small enough to stay in the
# instance's row (SQLite's page, PostgreSQL's tuple without TOAST).
PART = 1024


@dataclass(frozen=True)
class StatePieces:
    """A state as it is written: ``part``, when there is one, is the next row of its
    beginning (number ``seq``), ``rest`` what follows all the rows; with ``drop`` the
    rows stored before are deleted first (they no longer begin the state)."""

    rest: bytes
    part: bytes | None = None
    seq: int = 0
    drop: bool = False


def split_state(memo: TaskMemo, blob: bytes) -> StatePieces:
    """Cut the stream ``blob`` that :func:`compress_state` just made with ``memo``
    into what is already stored, a new part and the rest; the memo counts the part
    as stored (the caller writes it, or drops the memo with its transaction)."""
    drop, memo.stale = memo.stale, False
    stable = len(_ZLIB_HEADER) + sum(map(len, memo.compressed)) if memo.compressed else 0
    start = memo.stored
    # A rest after parts never begins as a stream does (has_parts): the cut moves back
    # past the byte that would.
    cut = stable
    while cut > start and blob[cut] == _ZLIB_HEADER[0]:
        cut -= 1
    if cut - start < PART:
        return StatePieces(blob[start:], drop=drop)
    seq = memo.stored_parts
    memo.stored, memo.stored_parts = cut, seq + 1
    return StatePieces(blob[cut:], blob[start:cut], seq, drop)


def has_parts(rest: bytes) -> bool:
    """Whether a stored state's rest follows parts: a state without begins with zlib's
    header (every state, running or finished, old or new), a rest after parts never
    does (:func:`split_state`). A workflow rebuilt from a rest without parts needs no
    read of them."""
    return rest[:1] != _ZLIB_HEADER[:1]


def whole_state(memo: TaskMemo, blob: bytes) -> StatePieces:
    """``blob`` written whole (a finished instance's), instead of the rows stored before."""
    drop = memo.stale or memo.stored_parts > 0
    memo.stored = memo.stored_parts = 0
    memo.stale = False
    return StatePieces(blob, drop=drop)


def seed_memo(memo: TaskMemo, blob: bytes, text: bytes, layout: dict[str, Any],
              parts: list[str | None]) -> None:
    """Take the compressed prefix and blocks of a stored state into ``memo``.

    ``layout`` is what :func:`compress_state` wrote of the stream ``blob`` (its
    text ``text``); ``parts`` are the stored tasks' parts as the memo holds them,
    None for a task the next save encodes afresh. A block with such a task is
    left out (the save compresses it again).
    """
    count, end, length, checksum = layout["prefix"]
    prefix = [part for part in parts[:count] if part is not None]
    if len(prefix) == count:
        memo.compressed = [blob[len(_ZLIB_HEADER):end]]
        memo.checksum = checksum
        memo.length = length
        memo.window = text[max(0, length - _WINDOW):length]
        memo.prefix = prefix
    for start, size, offset, deflated, adler, text_length in layout["blocks"]:
        chunk = [part for part in parts[start:start + size] if part is not None]
        if len(chunk) == size:
            memo.blocks[start] = Block(chunk, blob[offset:offset + deflated], adler,
                                       text_length)


def state_dict(blob: bytes) -> dict[str, Any]:
    """A stored state's JSON as a dict, without the layout of its compressed stream
    (which differs between two writers of the same state)."""
    dct: dict[str, Any] = json.loads(zlib.decompress(blob))
    dct.pop("stream", None)
    return dct


_DECODER = json.JSONDecoder()
_TASKS_FIRST = '{"tasks":{'


def read_state(text: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The state's dict and, when its tasks come first (as :func:`compress_state`
    writes them), each task's JSON text as stored.

    States written before have the tasks last and give no texts.
    """
    if not text.startswith(_TASKS_FIRST):
        return json.loads(text), {}
    tasks: dict[str, Any] = {}
    texts: dict[str, str] = {}
    pos = len(_TASKS_FIRST)
    if text[pos] == "}":
        pos += 1
    else:
        while True:
            colon = text.index('":', pos)  # task ids are UUIDs: no escapes in them
            task_id = text[pos + 1:colon]
            task, end = _DECODER.raw_decode(text, colon + 2)
            tasks[task_id] = task
            texts[task_id] = text[colon + 2:end]
            pos = end + 1
            if text[end] == "}":
                break
    dct: dict[str, Any] = json.loads("{" + text[pos + 1:])
    dct["tasks"] = tasks
    return dct, texts
