"""The compressed text of an instance state, written so that a save costs what changed.

The serializer (:mod:`engine.bpmn.serializer`) turns a workflow into JSON parts,
one per task; this module puts them into one zlib stream and reads it back.
The state's JSON has its tasks first; the leading run of finished tasks is
compressed once and kept as bytes with the live workflow (:class:`TaskMemo`),
so a save compresses only the tasks that may still change and the workflow's
own part. What is written is an ordinary zlib stream of JSON: any reader
(``json.loads(zlib.decompress(...))``) reads it, and states written before,
with the tasks last, are read too.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID


@dataclass
class TaskMemo:
    """What a live workflow keeps between saves so that a save costs what changed.

    ``tasks`` holds the JSON of each stable task with the key it was encoded at.
    The state is one zlib stream of JSON with the tasks first. The leading run of
    finished tasks (in the workflow's order) is compressed once, into deflate
    blocks that end byte-aligned (a full flush), and kept as bytes; each save
    compresses only the rest and appends it, with the stream's checksum carried
    on. A 100-KB variable set at the start is then neither encoded nor compressed
    again. Only bytes are kept (no live compressor: its buffers weigh 256 KiB).
    """

    tasks: dict[UUID, tuple[tuple[Any, ...], str]] = field(default_factory=dict)
    prefix: list[str] = field(default_factory=list)  # the tasks' JSON compressed so far
    compressed: list[bytes] = field(default_factory=list)
    checksum: int = 1  # Adler-32 of the text compressed so far
    window: bytes = b""  # its last bytes: what the next blocks may refer back to

    def reset(self) -> None:
        self.prefix = []
        self.compressed = []
        self.checksum = 1
        self.window = b""
        self.append(b'{"tasks":{')

    def append(self, text: bytes) -> None:
        """Compress ``text`` as the continuation of the prefix."""
        self.compressed.append(_deflate(text, self.window, zlib.Z_FULL_FLUSH))
        self.checksum = zlib.adler32(text, self.checksum)
        self.window = (self.window + text)[-_WINDOW:]


# zlib's header for a level-1 stream without a preset dictionary.
_ZLIB_HEADER = b"\x78\x01"
_WINDOW = 8192


def _deflate(text: bytes, window: bytes, mode: int) -> bytes:
    """Raw deflate blocks of ``text`` that may refer back into ``window``, the bytes
    a decompressor has just produced before them (so they continue one stream)."""
    if window:
        compressor = zlib.compressobj(1, zlib.DEFLATED, -15, zdict=window)
    else:
        compressor = zlib.compressobj(1, zlib.DEFLATED, -15)
    return compressor.compress(text) + compressor.flush(mode)




def compress_state(memo: TaskMemo, parts: list[str], encodings: list[str], leading: int,
              head: str) -> bytes:
    """``{"tasks":{parts},head...}`` as one zlib stream, the leading parts compressed once.

    The prefix is reused while its tasks are the same objects in the same places:
    a memo hit returns the very string, so an identity test per task suffices.
    """
    prefix = memo.prefix
    if (not memo.compressed or len(prefix) > leading
            or any(a is not b for a, b in zip(prefix, encodings, strict=False))):
        memo.reset()
        prefix = memo.prefix
    done = len(prefix)
    if done < leading:
        # The tasks finished since the last save join the compressed prefix.
        memo.append((("," if done else "") + ",".join(parts[done:leading])).encode())
        prefix.extend(encodings[done:leading])
    rest = parts[leading:]
    tail = (("," if leading and rest else "") + ",".join(rest) + "}," + head[1:]).encode()
    end = _deflate(tail, memo.window, zlib.Z_FINISH)
    checksum = zlib.adler32(tail, memo.checksum)
    return b"".join([_ZLIB_HEADER, *memo.compressed, end, checksum.to_bytes(4, "big")])


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
