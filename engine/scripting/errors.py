"""What can go wrong when analysts' Python runs, in words an analyst can act on."""

from __future__ import annotations


class ScriptError(Exception):
    """A script or expression failed; ``line`` is the line in its source, if known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class SandboxViolation(ScriptError):
    """The code tried something the sandbox does not allow."""


class ScriptTimeout(ScriptError):
    """The code ran past its time limit."""


class ScriptMemoryError(ScriptError):
    """The code needed more memory than a script may use."""


class UnstorableValue(ScriptError):
    """A script left a value in a variable that is not process data.

    ``variable`` is the path to the value, e.g. ``items[3]['due']``.
    """

    def __init__(self, message: str, variable: str) -> None:
        super().__init__(message)
        self.variable = variable


# How an error travels from the script process: its kind's name, the most
# specific kinds first (the first that fits names an exception).
KINDS: dict[str, type[ScriptError]] = {
    "data": UnstorableValue,
    "timeout": ScriptTimeout,
    "memory": ScriptMemoryError,
    "violation": SandboxViolation,
    "error": ScriptError,
}


def kind_of(exc: BaseException) -> str:
    """The kind an exception travels as; "error" for one not of the sandbox's making."""
    return next((kind for kind, cls in KINDS.items() if isinstance(exc, cls)), "error")
