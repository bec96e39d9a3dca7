"""Panels: the original panel of an application, and the independence of an appeal panel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from engine.composition import Engine
from engine.errors import InvalidInput
from lspro.models import PanelMember
from lspro.panels import PanelService, names

APPLICATION = "PRM-2027-00010"
STAFF = ("ani", "budi", "citra", "dewi", "eko", "fajar")


@pytest.fixture
def act(engine: Engine) -> Callable[..., Any]:
    with engine.write() as s:
        for name in STAFF:
            s.identity.add_user(name, "correct-horse-battery", roles=["tim-teknis"])

    def run(action: Callable[[PanelService], Any]) -> Any:
        with engine.write() as s:
            return action(PanelService(s.session, engine.clock))
    return run


def rows(engine: Engine) -> set[tuple[str, str, str]]:
    with engine.read() as s:
        return {(m.kind, m.username, m.source) for m in s.session.scalars(sa.select(PanelMember))}


@pytest.mark.parametrize(("value", "expected"), [
    ("ani, budi;citra\n dewi ", ["ani", "budi", "citra", "dewi"]),
    (["ani", " ", None, "budi"], ["ani", "budi"]),
    ("ani, ani", ["ani", "ani"]),
    (None, []),
    ("", []),
])
def test_names_from_a_list_or_text(value: Any, expected: list[str]) -> None:
    assert names(value) == expected


def test_names_refuses_other_values() -> None:
    with pytest.raises(InvalidInput):
        names(42)


def test_record_keeps_declared_and_completed_members(act: Callable[..., Any],
                                                     engine: Engine) -> None:
    panel = act(lambda p: p.record_original(APPLICATION, ["ani", "budi"], ["citra", "ani"]))
    assert panel == ["citra", "ani", "budi"]
    # A re-review after clarification adds whoever is new.
    panel = act(lambda p: p.record_original(APPLICATION, [], ["dewi"]))
    assert panel == ["citra", "ani", "budi", "dewi"]
    assert rows(engine) == {("original", "citra", "completed"), ("original", "ani", "completed"),
                            ("original", "budi", "declared"), ("original", "dewi", "completed")}
    with pytest.raises(InvalidInput, match="application number"):
        act(lambda p: p.record_original(" ", ["ani"], []))


def test_an_independent_appeal_panel_is_valid_and_recorded(act: Callable[..., Any],
                                                           engine: Engine) -> None:
    act(lambda p: p.record_original(APPLICATION, ["ani", "budi"], ["citra"]))
    verdict = act(lambda p: p.check_appeal(APPLICATION, "dewi, eko"))
    assert verdict.valid and verdict.problems == () and verdict.conflicts == ()
    assert verdict.members == ("dewi", "eko") and verdict.original == ("citra", "ani", "budi")
    # Proposing again replaces the recorded appeal panel.
    assert act(lambda p: p.check_appeal(APPLICATION, ["eko", "fajar"])).valid
    assert {(k, u) for k, u, _ in rows(engine) if k == "appeal"} == {
        ("appeal", "eko"), ("appeal", "fajar")}


@pytest.mark.parametrize(("proposed", "field", "expected", "problem"), [
    ("dewi, budi", "conflicts", ("budi",), "sat on the original panel: budi"),
    (["dewi", "dewi"], "duplicates", ("dewi",), "named more than once: dewi"),
    ("dewi, zorro", "unknown", ("zorro",), "not active users: zorro"),
    ("", "members", (), "names nobody"),
])
def test_an_appeal_panel_is_refused_with_its_reason(
        act: Callable[..., Any], engine: Engine, proposed: Any, field: str,
        expected: tuple[str, ...], problem: str) -> None:
    act(lambda p: p.record_original(APPLICATION, ["ani", "budi"], ["citra"]))
    verdict = act(lambda p: p.check_appeal(APPLICATION, proposed))
    assert not verdict.valid
    assert getattr(verdict, field) == expected
    assert any(problem in text for text in verdict.problems)
    assert not any(kind == "appeal" for kind, _, _ in rows(engine))


def test_without_a_recorded_original_panel_no_appeal_panel_is_valid(
        act: Callable[..., Any]) -> None:
    verdict = act(lambda p: p.check_appeal("PRM-2027-00099", "dewi"))
    assert not verdict.valid
    assert "no original panel is recorded for PRM-2027-00099" in verdict.problems


def test_an_inactive_user_is_not_a_panel_member(act: Callable[..., Any],
                                                engine: Engine) -> None:
    from engine.models import User

    with engine.write() as s:
        s.session.execute(sa.update(User).where(User.username == "fajar").values(active=False))
    act(lambda p: p.record_original(APPLICATION, ["ani"], []))
    verdict = act(lambda p: p.check_appeal(APPLICATION, "dewi, fajar"))
    assert verdict.unknown == ("fajar",) and not verdict.valid
