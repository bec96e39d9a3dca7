"""Passwords verified recently are not checked with scrypt again, and never outlive a change.

The scrypt calls are counted by wrapping the function the identity service calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

import engine.identity.users as users_module
from engine.composition import Engine
from engine.config import ConfigError, load_settings
from engine.errors import InvalidInput, Unauthenticated
from engine.identity.passwords import verify_password
from engine.models import SignInFailure, User, UserRole
from engine.time.clock import FrozenClock

PASSWORD = "kata-sandi-rahasia"
NEW_PASSWORD = "kata-sandi-yang-baru"


def add(engine: Engine, name: str, roles: Iterable[str] = ("upp",)) -> User:
    with engine.write() as s:
        return s.identity.add_user(name, PASSWORD, roles=roles)


def sign_in(engine: Engine, name: str, password: str) -> User:
    """Authenticate as the edge must: commit the recorded failure, then raise."""
    failure: Unauthenticated | None = None
    with engine.write() as s:
        try:
            return s.identity.authenticate(name, password)
        except Unauthenticated as exc:
            failure = exc
    raise failure


def wrong(engine: Engine, name: str) -> str:
    with pytest.raises(Unauthenticated) as info:
        sign_in(engine, name, "not-the-password")
    return info.value.message


@pytest.fixture
def scrypt_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The stored hashes each password check ran scrypt against, in order."""
    calls: list[str] = []

    def counted(password: str, stored: str) -> bool:
        calls.append(stored)
        return verify_password(password, stored)

    monkeypatch.setattr(users_module, "verify_password", counted)
    return calls


def failures(engine: Engine) -> int:
    with engine.read() as s:
        return s.session.scalar(sa.select(sa.func.count()).select_from(SignInFailure)) or 0


def test_a_second_sign_in_runs_no_scrypt(engine: Engine, scrypt_calls: list[str]) -> None:
    add(engine, "ani", roles=["upp"])
    assert sign_in(engine, "ani", PASSWORD).username == "ani"
    assert len(scrypt_calls) == 1
    for _ in range(3):
        assert sign_in(engine, " Ani ", PASSWORD).role_names == {"upp"}
    assert len(scrypt_calls) == 1


def test_a_wrong_password_after_a_remembered_right_one_is_refused_and_counted(
        engine: Engine, scrypt_calls: list[str]) -> None:
    add(engine, "ani")
    sign_in(engine, "ani", PASSWORD)
    assert wrong(engine, "ani") == "wrong user name or password"
    assert len(scrypt_calls) == 2  # the wrong one was checked, not taken from the cache
    assert failures(engine) == 1
    sign_in(engine, "ani", PASSWORD)
    assert len(scrypt_calls) == 2


def test_a_changed_password_counts_at_once(engine: Engine, scrypt_calls: list[str]) -> None:
    add(engine, "ani")
    sign_in(engine, "ani", PASSWORD)
    with engine.write() as s:
        s.identity.set_password("ani", NEW_PASSWORD)
    assert wrong(engine, "ani") == "wrong user name or password"
    with pytest.raises(Unauthenticated):
        sign_in(engine, "ani", PASSWORD)
    assert sign_in(engine, "ani", NEW_PASSWORD).username == "ani"


def test_a_password_changed_by_another_process_misses_the_cache(
        engine: Engine, scrypt_calls: list[str]) -> None:
    """Another node writes the row; this process's cache is not told, yet the old password fails."""
    add(engine, "ani")
    sign_in(engine, "ani", PASSWORD)
    with engine.write() as s:
        s.session.execute(sa.update(User).where(User.username == "ani").values(
            password_hash=users_module.hash_password(NEW_PASSWORD)))
    with pytest.raises(Unauthenticated):
        sign_in(engine, "ani", PASSWORD)
    assert len(scrypt_calls) == 2
    assert sign_in(engine, "ani", NEW_PASSWORD).username == "ani"


def test_deactivation_and_role_changes_count_at_once(
        engine: Engine, scrypt_calls: list[str]) -> None:
    add(engine, "ani", roles=["upp"])
    sign_in(engine, "ani", PASSWORD)
    with engine.write() as s:  # as another process would: the cache is not told
        s.session.execute(sa.update(User).where(User.username == "ani").values(active=False))
    with pytest.raises(Unauthenticated):
        sign_in(engine, "ani", PASSWORD)
    with engine.write() as s:
        s.session.execute(sa.update(User).where(User.username == "ani").values(active=True))
        user_id = s.identity.user("ani").id
        s.session.execute(sa.insert(UserRole).values(user_id=user_id, role="auditor"))
    assert sign_in(engine, "ani", PASSWORD).role_names == {"upp", "auditor"}


def test_a_remembered_password_expires(engine: Engine, clock: FrozenClock,
                                       scrypt_calls: list[str]) -> None:
    add(engine, "ani")
    sign_in(engine, "ani", PASSWORD)
    clock.advance(timedelta(seconds=59))
    sign_in(engine, "ani", PASSWORD)
    assert len(scrypt_calls) == 1
    clock.advance(timedelta(seconds=1))
    sign_in(engine, "ani", PASSWORD)
    assert len(scrypt_calls) == 2


def test_the_cache_keeps_no_password(engine: Engine) -> None:
    add(engine, "ani")
    sign_in(engine, "ani", PASSWORD)
    kept = repr(vars(engine.verified))
    assert PASSWORD not in kept and PASSWORD.encode().hex() not in kept


def test_a_new_password_follows_the_policy(engine: Engine) -> None:
    add(engine, "ani")
    with engine.write() as s, pytest.raises(InvalidInput) as info:
        s.identity.set_password("ani", "pendek")
    assert "password" in info.value.errors
    assert sign_in(engine, "ani", PASSWORD).username == "ani"


def test_zero_seconds_turns_the_cache_off(engine: Engine, scrypt_calls: list[str]) -> None:
    off = Engine(replace(engine.settings, credential_cache_seconds=0.0),
                 database=engine.db, clock=engine.clock, extensions=engine.extensions)
    add(off, "ani")
    sign_in(off, "ani", PASSWORD)
    sign_in(off, "ani", PASSWORD)
    assert len(scrypt_calls) == 2


@pytest.mark.parametrize("value", ["-1", "abc", "3601", "nan"])
def test_a_bad_cache_time_stops_the_start(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="SERTIFLOW_CREDENTIAL_CACHE_SECONDS"):
        load_settings({"SERTIFLOW_INSTANCE_PATH": str(tmp_path),
                       "SERTIFLOW_CREDENTIAL_CACHE_SECONDS": value})
