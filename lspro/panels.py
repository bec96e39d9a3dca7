"""Panels (Tim Teknis / Tim Pengkaji): record who decided, check an appeal panel.

ISO/IEC 17065 §7.13 and S2 (DOMAIN.md §6.3, §6.5): an appeal against a panel
decision is heard by a panel that is not the one that decided. Read strictly,
as DOMAIN.md advises: no member of the appeal panel may have sat on the
original panel of the same application. The original panel is what was
recorded after the decision (:meth:`PanelService.record_original`): the members
named when the meeting was prepared and whoever completed the panel's task.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.errors import InvalidInput
from engine.models import Task, TaskCandidate, User
from engine.time.clock import Clock
from lspro.models import PanelMember

ORIGINAL = "original"
APPEAL = "appeal"
DECLARED = "declared"
COMPLETED = "completed"


def names(value: Any) -> list[str]:
    """A list of user names from a list or from text separated by commas, semicolons,
    or new lines; blanks dropped, order kept (duplicates too: the caller judges them)."""
    if value is None:
        return []
    if isinstance(value, str):
        parts: Iterable[Any] = re.split(r"[,;\n]", value)
    elif isinstance(value, (list, tuple)):
        parts = value
    else:
        raise InvalidInput("a panel must be a list of user names or comma-separated text",
                           {"panel": "a list or comma-separated text"})
    return [str(p).strip() for p in parts if p is not None and str(p).strip()]


@dataclass(frozen=True)
class AppealPanelCheck:
    """The verdict on a proposed appeal panel; ``problems`` say why it is refused."""

    valid: bool
    members: tuple[str, ...]
    conflicts: tuple[str, ...]
    duplicates: tuple[str, ...]
    unknown: tuple[str, ...]
    original: tuple[str, ...]
    problems: tuple[str, ...]


class PanelService:
    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    def completers(self, instance_id: str, elements: Sequence[str] = (),
                   role: str | None = None) -> list[str]:
        """Who completed the given user tasks of an instance, in the order they did.

        Without ``elements``: who completed its tasks in the lane (or with the
        candidate group) ``role``.
        """
        query = sa.select(Task.completed_by).where(
            Task.instance_id == instance_id, Task.state == "completed",
            Task.completed_by.is_not(None))
        if elements:
            query = query.where(Task.element_id.in_(list(elements)))
        elif role is not None:
            in_group = sa.exists().where(TaskCandidate.task_id == Task.id,
                                         TaskCandidate.kind == "group",
                                         TaskCandidate.value == role)
            query = query.where(sa.or_(Task.lane == role, in_group))
        else:
            return []
        query = query.order_by(Task.completed_at)
        return list(dict.fromkeys(str(u) for u in self.session.scalars(query)))

    def record_original(self, application_number: str, declared: Iterable[str],
                        completed: Iterable[str], *, instance_id: str | None = None
                        ) -> list[str]:
        """Add these users to the application's original panel; return the whole panel.

        Recording again (after a re-review) adds the new members and keeps the old.
        """
        application_number = _application(application_number)
        known = {m.username: m for m in self._members(application_number, ORIGINAL)}
        for username, source in [(u, COMPLETED) for u in completed] + \
                                [(u, DECLARED) for u in declared]:
            if username in known:
                continue
            member = PanelMember(application_number=application_number, kind=ORIGINAL,
                                 username=username, source=source, instance_id=instance_id,
                                 recorded_at=self.clock.now())
            self.session.add(member)
            known[username] = member
        self.session.flush()
        return self.members(application_number, ORIGINAL)

    def members(self, application_number: str, kind: str = ORIGINAL) -> list[str]:
        return [m.username for m in self._members(application_number, kind)]

    def check_appeal(self, application_number: str, proposed: Any, *,
                     record: bool = True, instance_id: str | None = None
                     ) -> AppealPanelCheck:
        """Check a proposed appeal panel; when valid and ``record``, record it.

        Refused: an empty panel, a name given twice, a name that is no active user,
        a member of the original panel, or an application whose original panel was
        never recorded (independence could not be shown).
        """
        application_number = _application(application_number)
        given = names(proposed)
        members = list(dict.fromkeys(given))
        duplicates = sorted({n for n in given if given.count(n) > 1})
        active = set(self.session.scalars(sa.select(User.username).where(
            User.username.in_(members), User.active.is_(True)))) if members else set()
        unknown = [n for n in members if n not in active]
        original = self.members(application_number, ORIGINAL)
        conflicts = [n for n in members if n in original]
        problems = []
        if not members:
            problems.append("the appeal panel names nobody")
        if duplicates:
            problems.append(f"named more than once: {', '.join(duplicates)}")
        if unknown:
            problems.append(f"not active users: {', '.join(unknown)}")
        if not original:
            problems.append(f"no original panel is recorded for {application_number}")
        if conflicts:
            problems.append(f"sat on the original panel: {', '.join(conflicts)}")
        valid = not problems
        if valid and record:
            # A panel proposed again replaces the earlier proposal.
            self.session.execute(sa.delete(PanelMember).where(
                PanelMember.application_number == application_number,
                PanelMember.kind == APPEAL))
            for username in members:
                self.session.add(PanelMember(
                    application_number=application_number, kind=APPEAL, username=username,
                    source=DECLARED, instance_id=instance_id, recorded_at=self.clock.now()))
            self.session.flush()
        return AppealPanelCheck(valid, tuple(members), tuple(conflicts), tuple(duplicates),
                                tuple(unknown), tuple(original), tuple(problems))

    def _members(self, application_number: str, kind: str) -> list[PanelMember]:
        return list(self.session.scalars(
            sa.select(PanelMember).where(PanelMember.application_number == application_number,
                                         PanelMember.kind == kind)
            .order_by(PanelMember.id)))


def _application(value: Any) -> str:
    text = str(value or "").strip()
    if not text:
        raise InvalidInput("the application number (nomor_permohonan) is missing",
                           {"nomor_permohonan": "missing"})
    return text
