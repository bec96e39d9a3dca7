"""Process data: what a variable may hold, and how values cross to a script's process.

Process data is what JSON carries, plus dates: ``None``, ``True``/``False``,
integers, finite floats, text, lists (a tuple becomes a list), dictionaries
with text keys, and ``date`` and ``datetime`` values, nested at most
:data:`MAX_DEPTH` levels. That is what the database stores, the API sends and
a form shows; a script that leaves anything else in a variable (a generator,
bytes, a set, a duration, NaN...) fails with :class:`UnstorableValue` naming
the variable and the value, and changes nothing.

Values travel between the engine and a script's process as JSON text. A date
is an object with the single key :data:`TAG` (``{"\\u0000": ["d", "2027-01-31"]}``);
a dictionary of the data that itself has that key travels escaped, so every
dictionary arrives with exactly the keys it left with.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from copy import deepcopy
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from uuid import UUID

from .errors import ScriptError, UnstorableValue

TAG = "\x00"
# The path of an expression's result in messages ("the result[0] holds bytes").
RESULT = "\x00result"
MAX_DEPTH = 64
# CPython refuses to turn longer integers into text (sys.int_info.default_max_str_digits),
# and JSON needs the text.
MAX_INT_DIGITS = 4300
_MAX_INT_BITS = int(MAX_INT_DIGITS * math.log2(10))

_KINDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (timedelta, "a duration (timedelta); keep a number of days, or the date it leads to"),
    ((bytes, bytearray, memoryview), "bytes; keep text"),
    ((set, frozenset), "a set; keep a list"),
    (range, "a range; keep a list"),
    (tzinfo, "a time zone; keep its name or offset as text"),
    (time, "a time of day; keep it as text, e.g. '08:00'"),
    (complex, "a complex number"),
)


def _describe(value: Any) -> str:
    for kinds, words in _KINDS:
        if isinstance(value, kinds):
            return words
    if hasattr(value, "__next__") and hasattr(value, "__iter__"):
        return "a generator or iterator; keep a list"
    if callable(value):
        return "a function"
    return f"a value of type {type(value).__name__}"


class _Encoder:
    """Turn a value into JSON-able form, tagging dates; see the module's docstring.

    ``storable``: the value must be process data (a script's result); otherwise
    the engine's own typed values (UUID, timedelta) and NaN may travel too (a
    script's input, which need not be of its making).
    """

    def __init__(self, *, storable: bool) -> None:
        self.storable = storable

    def encode(self, value: Any, path: str, depth: int = 0) -> Any:
        kind = type(value)
        if value is None or kind is str or kind is bool:
            return value
        if kind is int:
            if value.bit_length() > _MAX_INT_BITS and self.storable:
                self._refuse(path, f"an integer of more than {MAX_INT_DIGITS} digits")
            return value
        if kind is float:
            if self.storable and not math.isfinite(value):
                self._refuse(path, f"the number {value}; only finite numbers can be stored")
            return value
        if depth >= MAX_DEPTH:
            self._refuse(path, f"a structure nested more than {MAX_DEPTH} levels deep")
        if kind is dict:
            return self._dict(value, path, depth)
        if kind is list or kind is tuple:
            return [self.encode(item, f"{path}[{index}]", depth + 1)
                    for index, item in enumerate(value)]
        if kind is datetime:
            return {TAG: ["dt", value.isoformat()]}
        if kind is date:
            return {TAG: ["d", value.isoformat()]}
        if not self.storable:
            if kind is timedelta:
                return {TAG: ["td", [value.days, value.seconds, value.microseconds]]}
            if kind is UUID:
                return {TAG: ["u", str(value)]}
            # Subclasses (pendulum's datetime, an OrderedDict) the engine's own code
            # may have put in the data travel as their base type.
            if isinstance(value, datetime):
                return {TAG: ["dt", value.isoformat()]}
            if isinstance(value, date):
                return {TAG: ["d", value.isoformat()]}
            base: Any
            for base in (dict, list, tuple, str, int, float):
                if isinstance(value, base):
                    return self.encode(base(value), path, depth)
        self._refuse(path, _describe(value))

    def _dict(self, value: dict[Any, Any], path: str, depth: int) -> Any:
        encoded = {}
        for key, item in value.items():
            if type(key) is not str:
                self._refuse(path, f"a dictionary with the key {key!r}, which is not text")
            encoded[key] = self.encode(item, f"{path}[{key!r}]", depth + 1)
        if TAG in encoded:
            return {TAG: ["m", list(encoded.items())]}
        return encoded

    def _refuse(self, path: str, what: str) -> Any:
        subject = (f"the result{path[len(RESULT):]}" if path.startswith(RESULT)
                   else f"variable {path}")
        if len(subject) > 80:  # deep inside nested data: the way in is enough
            subject = subject[:70] + "..."
        if self.storable:
            raise UnstorableValue(
                f"{subject} holds {what}; process data is text, numbers, true/false, "
                "dates, lists and dictionaries", path)
        raise ScriptError(f"{subject} holds {what}, which a script cannot be given")


_STORABLE = _Encoder(storable=True)
_ANY = _Encoder(storable=False)


def finite(value: Any) -> Any:
    """Return ``value`` with each non-finite float (at any depth) replaced by None.

    Containers are copied only where something changed.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        changed = {k: finite(v) for k, v in value.items()}
        return value if all(changed[k] is v for k, v in value.items()) else changed
    if isinstance(value, list | tuple):
        items = [finite(v) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def dumps_finite(value: Any, **kwargs: Any) -> str:
    """:func:`json.dumps` that writes a non-finite float (NaN, the infinities) as ``null``:
    JSON has no words for them, and PostgreSQL refuses them in a json value."""
    kwargs["allow_nan"] = False
    try:
        return json.dumps(value, **kwargs)
    except ValueError:
        cleaned = finite(value)
        if cleaned is value:
            raise  # another problem than a non-finite number
        return json.dumps(cleaned, **kwargs)


def check_storable(name: str, value: Any) -> None:
    """Raise :class:`UnstorableValue` unless ``value`` is process data."""
    # A walk that only tells, then the encoder for the message when it says no: the
    # encoder names every item's way in as it goes, which is most of its cost.
    if not _storable(value):
        _STORABLE.encode(value, name)


def _storable(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is process data: what ``_STORABLE.encode`` takes, exactly."""
    kind = type(value)
    if value is None or kind is str or kind is bool:
        return True
    if kind is int:
        return value.bit_length() <= _MAX_INT_BITS
    if kind is float:
        return math.isfinite(value)
    if depth >= MAX_DEPTH:
        return False
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                return False
            if type(item) is not str and not _storable(item, depth + 1):
                return False
        return True
    if kind is list or kind is tuple:
        return all(type(item) is str or _storable(item, depth + 1) for item in value)
    return kind is datetime or kind is date


def encode_storable(name: str, value: Any) -> Any:
    """The JSON-able form of a process-data value; :class:`UnstorableValue` for others."""
    return _STORABLE.encode(value, name)


def encode_inputs(variables: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """The JSON-able form of the ``names`` of ``variables`` that exist."""
    return {name: _ANY.encode(variables[name], name) for name in names if name in variables}


def dumps(value: Any) -> bytes:
    """JSON text of an already encoded value (NaN may travel to a script)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _restore(tagged: dict[str, Any], extra: dict[str, Callable[[Any], Any]]) -> Any:
    if TAG not in tagged:
        return tagged
    if len(tagged) != 1:
        raise ValueError("a tagged value with other keys")
    tag, payload = tagged[TAG]
    if tag == "dt":
        return datetime.fromisoformat(payload)
    if tag == "d":
        return date.fromisoformat(payload)
    if tag == "m":
        restored = {}
        for key, item in payload:
            if type(key) is not str:
                raise ValueError("a dictionary key that is not text")
            restored[key] = item
        return restored
    if tag in extra:
        return extra[tag](payload)
    raise ValueError(f"an unknown tag {tag!r}")


_ENGINE_TYPES: dict[str, Callable[[Any], Any]] = {
    "td": lambda parts: timedelta(*parts),
    "u": UUID,
}


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not process data")


def loads_storable(data: bytes) -> Any:
    """Decode what :func:`dumps` made of :func:`encode_storable` output.

    Strict: no NaN, no engine types, nothing deeper than JSON's own limits.
    Raises ValueError (or RecursionError) for anything else.
    """
    return json.loads(data, object_hook=lambda obj: _restore(obj, {}),
                      parse_constant=_refuse_constant)


def loads_inputs(data: bytes) -> Any:
    """Decode what :func:`dumps` made of :func:`encode_inputs` output."""
    return json.loads(data, object_hook=lambda obj: _restore(obj, _ENGINE_TYPES))


def same_data(first: Any, second: Any, depth: int = 0) -> bool:
    """Whether two values are the same process data, down to their types: JSON writes
    both alike, and putting one in the other's place changes nothing.

    Stricter than ``==``, which holds 1, 1.0 and True equal, 0.0 and -0.0, a dict and
    an OrderedDict, and two dicts whose keys come in another order. Containers are
    walked, their shared items passed over by an identity test: a 100-KB value that
    a task inherited from the one before costs a test per item, not an encoding.
    Dates and anything else are the same only when they are the very same object;
    False is the safe answer (the caller then checks or encodes the value).
    """
    if first is second:
        return True
    kind = type(first)
    if kind is not type(second):
        return False
    if kind is str or kind is int:
        return bool(first == second)
    if kind is float:
        # -0.0 == 0.0, but JSON writes them apart; NaN equals nothing, not even itself.
        return bool(first == second) and math.copysign(1.0, first) == math.copysign(1.0, second)
    if depth >= MAX_DEPTH:
        return False
    if kind is list or kind is tuple:
        if len(first) != len(second):
            return False
        for a, b in zip(first, second, strict=True):
            if a is not b and not same_data(a, b, depth + 1):
                return False
        return True
    if kind is dict:
        if len(first) != len(second):
            return False
        for (key_a, a), (key_b, b) in zip(first.items(), second.items(), strict=True):
            if key_a is not key_b and (type(key_a) is not str or type(key_b) is not str
                                       or key_a != key_b):
                return False
            if a is not b and not same_data(a, b, depth + 1):
                return False
        return True
    return False


# Values nothing can change in place: a copy may share them.
_IMMUTABLE = frozenset({str, int, float, bool, type(None), date, datetime})


def copy_data(value: Any) -> Any:
    """A deep copy of ``value`` for a reader, a few times faster than ``copy.deepcopy``
    on process data: dicts and lists are copied, immutable leaves shared, anything
    else deep-copied. (Unlike deepcopy, a list the value holds twice is copied twice:
    process data is a tree.)"""
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if kind is dict:
        return {key: item if type(item) in _IMMUTABLE else copy_data(item)
                for key, item in value.items()}
    if kind is list:
        return [item if type(item) in _IMMUTABLE else copy_data(item) for item in value]
    return deepcopy(value)
