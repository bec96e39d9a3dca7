"""The engine's domain errors.

The web layer maps each class to one HTTP status in one place; the engine never
speaks HTTP. Messages are written for the person who made the mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(EngineError):
    """The thing asked for does not exist (or the caller may not know it does)."""


class Forbidden(EngineError):
    """The caller may see the thing but not do this to it."""


class Conflict(EngineError):
    """The request clashes with the current state: already done, changed meanwhile."""


class TaskAlreadyCompleted(Conflict):
    pass


class TaskClaimedByOther(Conflict):
    pass


class InstanceNotRunning(Conflict):
    """The instance is suspended, completed, cancelled or waits on an incident."""


class ConcurrentModification(Conflict):
    """Another command changed the instance after this one read it."""


class DatabaseBusy(ConcurrentModification):
    """Other commands held the database for too long; nothing was changed, try again."""


class Unauthenticated(EngineError):
    """No valid credentials: unknown user, wrong password, unknown or expired token."""


class TooManyAttempts(EngineError):
    """Too many failed sign-ins; try again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InvalidInput(EngineError):
    """Input data that the engine refuses, with one message per field."""

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}


@dataclass
class Problem:
    """One reason a deployment was refused, located in its file."""

    file: str
    message: str
    element: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.element:
            where += f" (element '{self.element}')"
        return f"{where}: {self.message}"


@dataclass
class DeploymentRejected(EngineError):
    """A deployment was refused; nothing of it was stored."""

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"deployment refused:\n{lines}")

    def __str__(self) -> str:
        return self.message
