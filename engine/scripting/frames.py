"""The pipe protocol between the engine and its script process, both sides of it.

The script process says :data:`READY` once it has started. A request is two
big-endian 32-bit lengths (:data:`REQUEST`), then a JSON header and a JSON
body; an answer is one length (:data:`ANSWER`) and its JSON.
"""

from __future__ import annotations

import os
import select
import struct
import time

READY = b"ready\n"
REQUEST = struct.Struct(">II")
ANSWER = struct.Struct(">I")


def read_exactly(fd: int, size: int, deadline: float | None = None) -> bytes:
    """Read ``size`` bytes from ``fd``.

    :raises EOFError: when the other side closed the pipe first.
    :raises TimeoutError: when ``deadline`` (monotonic) passes first.
    """
    parts, missing = [], size
    while missing:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError("no answer in time")
        chunk = os.read(fd, min(missing, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the pipe")
        parts.append(chunk)
        missing -= len(chunk)
    return b"".join(parts)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
