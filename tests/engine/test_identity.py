"""Users, password hashing, sign-in rate limiting and bearer tokens, against a real database."""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from engine.composition import Engine
from engine.errors import Conflict, InvalidInput, NotFound, TooManyAttempts, Unauthenticated
from engine.identity.access import Actor
from engine.identity.passwords import ScryptParameters, hash_password, verify_password
from engine.identity.tokens import IssuedToken
from engine.identity.users import DEMO_COMPANY
from engine.models import ApiToken, SignInFailure, User
from engine.time.clock import FrozenClock

PASSWORD = "kata-sandi-rahasia"


def add(engine: Engine, name: str, password: str = PASSWORD,
        roles: Iterable[str] = ("upp",), **options: object) -> User:
    with engine.write() as s:
        return s.identity.add_user(name, password, roles=roles, **options)  # type: ignore[arg-type]


def refused(engine: Engine, name: str, password: str = PASSWORD,
            roles: Iterable[str] = ("upp",), **options: object) -> dict[str, str]:
    with pytest.raises(InvalidInput) as info:
        add(engine, name, password, roles, **options)
    return info.value.errors


def sign_in(engine: Engine, name: str, password: str, addr: str | None = None) -> User:
    """Authenticate as the edge must: commit the recorded failure, then raise."""
    failure: Unauthenticated | None = None
    with engine.write() as s:
        try:
            return s.identity.authenticate(name, password, remote_addr=addr)
        except Unauthenticated as exc:
            failure = exc
    raise failure


def wrong(engine: Engine, name: str, addr: str | None = None) -> str:
    with pytest.raises(Unauthenticated) as info:
        sign_in(engine, name, "not-the-password", addr)
    return info.value.message


def limited(engine: Engine, name: str, password: str = PASSWORD,
            addr: str | None = None) -> int:
    with pytest.raises(TooManyAttempts) as info:
        sign_in(engine, name, password, addr)
    return info.value.retry_after


def issue(engine: Engine, name: str) -> IssuedToken:
    with engine.write() as s:
        return s.identity.issue_token(s.identity.user(name), name="test")


def actor_of(engine: Engine, token: str) -> Actor:
    with engine.write() as s:
        return s.identity.actor_for_token(token)


def rejected_token(engine: Engine, token: str) -> str:
    with pytest.raises(Unauthenticated) as info:
        actor_of(engine, token)
    return info.value.message


def count(engine: Engine, model: type) -> int:
    with engine.read() as s:
        return s.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


# -- users ----------------------------------------------------------------------


def test_add_user_keeps_roles_company_and_lower_cases_the_name(engine: Engine) -> None:
    add(engine, "Siti.Rahma", roles=["auditor", "lead-auditor", "auditor"],
        display_name="Siti Rahma")
    add(engine, "budi", roles=["pelanggan"], company="PT Baja Nusantara")
    with engine.read() as s:
        siti = s.identity.user("siti.rahma")
        assert siti.username == "siti.rahma"
        assert siti.role_names == {"auditor", "lead-auditor"}
        assert siti.display_name == "Siti Rahma"
        assert siti.company is None
        assert siti.active
        assert s.identity.user("BUDI").company == "PT Baja Nusantara"
        assert [u.username for u in s.identity.users()] == ["budi", "siti.rahma"]


def test_customer_must_belong_to_a_company_staff_need_not(engine: Engine) -> None:
    errors = refused(engine, "budi", roles=["pelanggan"])
    assert "company" in errors and "pelanggan" in errors["company"]
    assert "company" in refused(engine, "budi", roles=["pelanggan"], company="   ")
    assert add(engine, "budi", roles=["pelanggan"], company="PT Baja").company == "PT Baja"
    assert add(engine, "ani", roles=["ppc"]).company is None


def test_duplicate_user_name_is_a_conflict_whatever_the_case(engine: Engine) -> None:
    add(engine, "ani")
    with pytest.raises(Conflict, match="ani"):
        add(engine, "ANI")
    assert count(engine, User) == 1


def test_unknown_or_missing_roles_are_refused_with_the_known_ones(engine: Engine) -> None:
    errors = refused(engine, "ani", roles=["upp", "manager"])
    assert "'manager'" in errors["roles"]
    assert all(role in errors["roles"] for role in engine.roles)
    assert "known roles" in refused(engine, "ani", roles=[])["roles"]
    assert count(engine, User) == 0


@pytest.mark.parametrize("name", ["ab", "a" * 65, "ani rahma", "ani@bsn", "ani/x", ""])
def test_user_names_outside_the_allowed_set_are_refused(engine: Engine, name: str) -> None:
    assert "username" in refused(engine, name)


def test_password_policy_and_its_exemption_for_demo_users(engine: Engine) -> None:
    assert "10" in refused(engine, "ani", password="pendek")["password"]
    assert "user name" in refused(engine, "rahmawati10", password="rahmawati10")["password"]
    errors = refused(engine, "x", password="y", roles=["nope"])
    assert set(errors) == {"username", "password", "roles"}
    add(engine, "demo", password="demo", check_password=False)
    assert sign_in(engine, "demo", "demo").username == "demo"


def test_password_hash_is_salted_scrypt_and_never_holds_the_password(engine: Engine) -> None:
    add(engine, "ani")
    add(engine, "budi")
    with engine.read() as s:
        hashes = list(s.session.scalars(sa.select(User.password_hash)))
    for stored in hashes:
        scheme, n, r, p, salt, _digest = stored.split("$")
        assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
        assert len(salt) == 24  # 16 bytes in base64
        assert PASSWORD not in stored
        assert verify_password(PASSWORD, stored)
        assert not verify_password(PASSWORD + "x", stored)
    assert hashes[0] != hashes[1]
    assert not verify_password(PASSWORD, "md5$abc")


def test_an_old_hash_is_upgraded_at_the_next_sign_in(engine: Engine) -> None:
    add(engine, "ani")
    with engine.write() as s:
        s.identity.user("ani").password_hash = hash_password(PASSWORD, ScryptParameters(n=2**12))
    sign_in(engine, "ani", PASSWORD)
    with engine.read() as s:
        assert s.identity.user("ani").password_hash.startswith("scrypt$16384$8$1$")
    assert sign_in(engine, "ani", PASSWORD).username == "ani"


def test_set_active_and_unknown_user(engine: Engine) -> None:
    with engine.write() as s, pytest.raises(NotFound):
        s.identity.user("nobody")
    with engine.write() as s, pytest.raises(NotFound):
        s.identity.set_active("nobody", False)


# -- signing in -------------------------------------------------------------------


def test_right_wrong_unknown_and_inactive(engine: Engine) -> None:
    add(engine, "ani", roles=["pelanggan"], company="PT Baja")
    user = sign_in(engine, " Ani ", PASSWORD, "10.0.0.1")
    assert (user.username, user.company, user.role_names) == ("ani", "PT Baja", {"pelanggan"})
    assert wrong(engine, "ani") == "wrong user name or password"
    assert wrong(engine, "nobody") == "wrong user name or password"
    with engine.write() as s:
        s.identity.set_active("ani", False)
    with pytest.raises(Unauthenticated) as info:
        sign_in(engine, "ani", PASSWORD)
    assert info.value.message == "wrong user name or password"
    with engine.write() as s:
        s.identity.set_active("ani", True)
    assert sign_in(engine, "ani", PASSWORD).username == "ani"
    with engine.read() as s:
        failures = s.session.scalars(sa.select(SignInFailure).order_by(SignInFailure.id)).all()
        assert [(f.username, f.remote_addr) for f in failures] == [
            ("ani", None), ("nobody", None), ("ani", None)]


def test_an_unknown_user_costs_the_same_password_work(engine: Engine) -> None:
    add(engine, "ani")

    def duration(*names: str) -> float:
        runs = []
        for name in names:
            started = time.perf_counter()
            wrong(engine, name)
            runs.append(time.perf_counter() - started)
        return statistics.median(runs)

    duration("warm-up")  # the decoy hash is made on first use
    # Without the decoy, an unknown name answers about thirty times faster.
    assert duration("nobody1", "nobody2", "nobody3") > 0.5 * duration("ani", "ani", "ani")


ATTACKER = "203.0.113.7"
OWNER = "198.51.100.1"


def guess(engine: Engine, clock: FrozenClock, name: str, times: int,
          addresses: Iterator[str]) -> list[int]:
    """Guess a wrong password ``times`` times, each as soon as the limits allow.

    Each attempt comes from the next of ``addresses``; a refusal is waited out
    by travelling the clock. Return the waits (Retry-After) met on the way.
    """
    waits: list[int] = []
    while times:
        try:
            sign_in(engine, name, "not-the-password", next(addresses))
        except TooManyAttempts as exc:
            waits.append(exc.retry_after)
            clock.advance(timedelta(seconds=exc.retry_after))
        except Unauthenticated:
            times -= 1
    return waits


def test_failures_slow_a_user_name_down_from_that_address_up_to_a_minute(
    engine: Engine, clock: FrozenClock
) -> None:
    add(engine, "ani")
    for _ in range(5):
        wrong(engine, "ani", addr=ATTACKER)
    # After five failures each further try waits 1 s, 2 s, 4 s ... at most a minute
    # after the last failure; even the right password is refused meanwhile, and a
    # refused try is not counted.
    for delay in (1, 2, 4, 8, 16, 32, 60, 60):
        assert limited(engine, "ani", PASSWORD, addr=ATTACKER) == delay
        clock.advance(timedelta(seconds=delay - 1))
        assert limited(engine, "ani", addr=ATTACKER) == 1
        clock.advance(timedelta(seconds=1))
        wrong(engine, "ani", addr=ATTACKER)
    assert count(engine, SignInFailure) == 13
    clock.advance(timedelta(seconds=20))
    assert limited(engine, "ani", PASSWORD, addr=ATTACKER) == 40
    clock.advance(timedelta(seconds=40))
    assert sign_in(engine, "ani", PASSWORD, ATTACKER).username == "ani"


def test_an_attacker_at_one_address_does_not_keep_the_user_out(
    engine: Engine, clock: FrozenClock
) -> None:
    add(engine, "upp")
    start = clock.now()
    waits = guess(engine, clock, "upp", 50, itertools.repeat(ATTACKER))
    # Fifty guesses take the attacker more than forty minutes ...
    assert clock.now() - start > timedelta(minutes=40)
    assert max(waits) <= 900
    # ... and still limit them now, even with the right password ...
    assert limited(engine, "upp", PASSWORD, addr=ATTACKER) > 0
    # ... while the user, at another address, is not held up: not even after
    # mistyping twice.
    wrong(engine, "upp", addr=OWNER)
    wrong(engine, "upp", addr=OWNER)
    assert sign_in(engine, "upp", PASSWORD, OWNER).username == "upp"
    assert sign_in(engine, "upp", PASSWORD, OWNER).username == "upp"


def test_twenty_failures_from_an_address_limit_it_for_every_user_name(
    engine: Engine, clock: FrozenClock
) -> None:
    add(engine, "ani")
    for i in range(20):
        wrong(engine, f"user{i}", addr=ATTACKER)
        clock.advance(timedelta(seconds=10))
    # Until the first of the twenty failures is fifteen minutes old.
    assert limited(engine, "ani", PASSWORD, addr=ATTACKER) == 900 - 200
    assert limited(engine, "someone-else", addr=ATTACKER) == 700
    assert count(engine, SignInFailure) == 20
    assert sign_in(engine, "ani", PASSWORD, OWNER).username == "ani"
    clock.advance(timedelta(seconds=699))
    assert limited(engine, "ani", PASSWORD, addr=ATTACKER) == 1
    clock.advance(timedelta(seconds=1))
    assert sign_in(engine, "ani", PASSWORD, ATTACKER).username == "ani"


def test_addresses_of_one_ipv6_network_count_as_one(engine: Engine) -> None:
    add(engine, "ani")
    for i in range(20):
        wrong(engine, f"user{i}", addr=f"2001:db8:0:7::{i + 1:x}")
    assert limited(engine, "ani", PASSWORD, addr="2001:db8:0:7:ffff::1") == 900
    assert sign_in(engine, "ani", PASSWORD, "2001:db8:0:8::1").username == "ani"


def test_guesses_spread_over_many_addresses_slow_the_user_name_down_everywhere(
    engine: Engine, clock: FrozenClock
) -> None:
    add(engine, "upp")
    botnet = (f"10.{i // 250}.{i % 250}.1" for i in itertools.count(1))
    guess(engine, clock, "upp", 5, botnet)
    # Five failures from five addresses: the next try waits, whatever its address.
    assert limited(engine, "upp", PASSWORD, addr=OWNER) == 1
    start = clock.now()
    guesses = 0
    while clock.now() < start + timedelta(hours=1):
        guess(engine, clock, "upp", 1, botnet)
        guesses += 1
    # About one guess a minute once the wait has grown to its cap.
    assert guesses <= 66
    assert limited(engine, "upp", PASSWORD, addr=OWNER) == 60
    clock.advance(timedelta(seconds=60))
    assert sign_in(engine, "upp", PASSWORD, OWNER).username == "upp"


def test_a_successful_sign_in_does_not_reset_the_count(engine: Engine) -> None:
    add(engine, "ani")
    for _ in range(4):
        wrong(engine, "ani")
    sign_in(engine, "ani", PASSWORD)
    wrong(engine, "ani")
    limited(engine, "ani")


def test_failures_older_than_the_window_are_purged(engine: Engine, clock: FrozenClock) -> None:
    for _ in range(3):
        wrong(engine, "budi", addr="10.0.0.1")
    clock.advance(timedelta(minutes=16))
    wrong(engine, "citra")
    with engine.read() as s:
        assert list(s.session.scalars(sa.select(SignInFailure.username))) == ["citra"]


def test_a_read_only_sign_in_writes_nothing_its_caller_records_the_failure(
        engine: Engine) -> None:
    """/engine-rest's GETs sign in inside a read transaction and record a failure apart."""
    add(engine, "ani")
    old = hash_password(PASSWORD, ScryptParameters(n=2**12))
    with engine.write() as s:
        s.identity.user("ani").password_hash = old
    for recorded in range(5):
        with engine.read() as s:
            with pytest.raises(Unauthenticated):
                s.identity.authenticate(" ANI ", "not-the-password", remote_addr="10.0.0.1",
                                        read_only=True)
            assert not s.session.new and not s.session.dirty
        with engine.read() as s:
            assert s.session.scalar(sa.select(sa.func.count()).select_from(SignInFailure)) == recorded
        with engine.write() as s:
            s.identity.record_failed_sign_in(" ANI ", "10.0.0.1")
    limited(engine, "ani", addr="10.0.0.1")  # the five recorded apart count

    with engine.read() as s:
        assert s.identity.authenticate("ani", PASSWORD, read_only=True).username == "ani"
        assert not s.session.dirty
    with engine.read() as s:
        assert s.identity.user("ani").password_hash == old  # the next writing sign-in rehashes


# -- tokens -----------------------------------------------------------------------


def test_a_token_stands_for_its_user_roles_and_company(engine: Engine, clock: FrozenClock) -> None:
    add(engine, "budi", roles=["pelanggan"], company="PT Baja")
    issued = issue(engine, "budi")
    # The lifetime comes from Settings.token_ttl_hours (12 by default).
    assert issued.expires_at == clock.now() + timedelta(hours=12)
    actor = actor_of(engine, issued.token)
    assert (actor.username, actor.roles, actor.company) == ("budi", {"pelanggan"}, "PT Baja")
    assert actor.is_customer


def test_only_the_tokens_hash_is_stored(engine: Engine) -> None:
    add(engine, "ani")
    issued = issue(engine, "ani")
    assert len(issued.token) >= 43
    with engine.read() as s:
        rows = s.session.execute(sa.text("SELECT * FROM api_token")).all()
        stored = s.session.get(ApiToken, issued.token_id)
    assert stored is not None and len(stored.token_hash) == 64
    assert issued.token not in repr(rows)
    assert issue(engine, "ani").token != issued.token


def test_tokens_expire_with_the_clock(engine: Engine, clock: FrozenClock) -> None:
    add(engine, "ani")
    issued = issue(engine, "ani")
    clock.advance(timedelta(hours=12) - timedelta(seconds=1))
    assert actor_of(engine, issued.token).username == "ani"
    clock.advance(timedelta(seconds=1))
    assert rejected_token(engine, issued.token) == "token expired"
    assert rejected_token(engine, "made-up") == "unknown token"


def test_revoke_one_token_and_all_of_a_users_tokens(engine: Engine, clock: FrozenClock) -> None:
    add(engine, "ani")
    add(engine, "budi")
    expired = issue(engine, "ani")
    clock.advance(timedelta(hours=6))
    first, second, third = (issue(engine, "ani") for _ in range(3))
    clock.advance(timedelta(hours=6))
    other = issue(engine, "budi")
    with engine.write() as s:
        s.identity.revoke_token(first.token)
        s.identity.revoke_token(first.token)  # again: no change, no error
    assert rejected_token(engine, first.token) == "token revoked"
    assert actor_of(engine, second.token).username == "ani"
    with engine.write() as s, pytest.raises(NotFound):
        s.identity.revoke_token("made-up")
    with engine.write() as s:
        assert s.identity.revoke_all_tokens("ani") == 2
    assert rejected_token(engine, second.token) == "token revoked"
    assert rejected_token(engine, third.token) == "token revoked"
    assert actor_of(engine, other.token).username == "budi"
    assert rejected_token(engine, expired.token) == "token expired"  # not counted above
    with engine.write() as s:
        assert s.identity.revoke_all_tokens("ani") == 0


def test_a_deactivated_users_tokens_stop_working(engine: Engine) -> None:
    add(engine, "ani")
    issued = issue(engine, "ani")
    with engine.write() as s:
        s.identity.set_active("ani", False)
    assert "deactivated" in rejected_token(engine, issued.token)
    with engine.write() as s, pytest.raises(Unauthenticated):
        s.identity.issue_token(s.identity.user("ani"))


def test_last_used_is_written_at_most_once_a_minute(engine: Engine, clock: FrozenClock) -> None:
    add(engine, "ani")
    issued = issue(engine, "ani")

    def last_used() -> datetime | None:
        with engine.read() as s:
            row = s.session.get(ApiToken, issued.token_id)
            assert row is not None
            return row.last_used_at

    assert last_used() is None
    first_use = clock.now()
    actor_of(engine, issued.token)
    assert last_used() == first_use
    clock.advance(timedelta(seconds=59))
    actor_of(engine, issued.token)
    assert last_used() == first_use
    clock.advance(timedelta(seconds=1))
    actor_of(engine, issued.token)
    assert last_used() == first_use + timedelta(minutes=1)


# -- demo users -------------------------------------------------------------------


def test_demo_users_one_per_role_only_on_an_empty_table(engine: Engine) -> None:
    with engine.write() as s:
        created = s.identity.ensure_demo_users()
    assert created is not None and sorted(created) == sorted(engine.roles)
    with engine.read() as s:
        users = {u.username: u for u in s.identity.users()}
    assert set(users) == set(engine.roles)
    assert all(u.role_names == {name} for name, u in users.items())
    assert users["pelanggan"].company == DEMO_COMPANY
    assert all(u.company is None for name, u in users.items() if name != "pelanggan")
    assert sign_in(engine, "kepala-balai", "demo").role_names == {"kepala-balai"}
    with engine.write() as s:
        assert s.identity.ensure_demo_users() is None
    assert count(engine, User) == len(engine.roles)


def test_no_demo_users_beside_real_ones(engine: Engine) -> None:
    add(engine, "ani")
    with engine.write() as s:
        assert s.identity.ensure_demo_users() is None
    assert count(engine, User) == 1
