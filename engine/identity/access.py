"""Who may see and do what: the access rules of ARCHITECTURE.md §5.

The rules live here, in the engine, so the REST API, the web pages and any
other caller apply the same ones. A rule that the caller may not even know the
thing exists raises :class:`~engine.errors.NotFound`; a thing the caller may
see but not act on raises :class:`~engine.errors.Forbidden`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

CUSTOMER = "pelanggan"
ADMIN = "admin"
ANALYST = "analyst"


def default_task_roles(starter_groups: Iterable[str]) -> list[str]:
    """Who gets a user task with no lane, candidate or assignee: the roles that may
    start its process, else the admins (never nobody)."""
    return list(starter_groups) or [ADMIN]


@dataclass(frozen=True)
class Actor:
    """The signed-in user a command is done for."""

    username: str
    roles: frozenset[str]
    company: str | None = None

    def __post_init__(self) -> None:
        # A customer without a company (a user row edited by hand, or one signed in
        # by an outside identity provider) must see no company's work, nor the work
        # that belongs to none: "" matches no company (names are stored stripped and
        # never empty), where None would read as SQL's "company IS NULL" and as equal
        # to the None of a task that has no company.
        if self.company is None and self.is_customer:
            object.__setattr__(self, "company", "")

    @classmethod
    def of(cls, username: str, roles: Iterable[str], company: str | None = None) -> Actor:
        return cls(username, frozenset(roles), company)

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles

    @property
    def is_customer(self) -> bool:
        """A customer sees only their own company's work (unless also staff)."""
        return CUSTOMER in self.roles and len(self.roles - {CUSTOMER}) == 0

    @property
    def sees_failure_details(self) -> bool:
        """Whether an incident's exception text and traceback may be shown to this user.

        They name server files and internals: staff need them to fix the failure;
        a customer is told only that a step failed and that staff know.
        """
        return bool(self.roles - {CUSTOMER})

    def company_filter(self, asked: str | None) -> str | None:
        """The company a list is narrowed to: a customer's own, whatever they asked."""
        return self.company if self.is_customer else asked

    @property
    def may_deploy(self) -> bool:
        return bool(self.roles & {ADMIN, ANALYST})
