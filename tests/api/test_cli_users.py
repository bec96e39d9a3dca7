"""`sertiflow users add` and the demo users of `sertiflow run`, run as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from api.extensions import default_extensions
from engine.composition import Engine
from engine.config import load_settings
from tests.people import start_cli_server

ROOT = Path(__file__).resolve().parent.parent.parent
PASSWORD = "kata-sandi-rahasia"


def _env(tmp_path: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "SERTIFLOW_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "SERTIFLOW_SECRET_KEY": "cli-test",
        "SERTIFLOW_PROCESSES": str(tmp_path / "no-processes"),
        "SERTIFLOW_FORMS": str(tmp_path / "no-forms"),
        "PYTHONPATH": str(ROOT),
        **extra,
    })
    return env


def _add_user(tmp_path: Path, database_url: str, *args: str,
              password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "users", "add", *args, "--password-stdin"],
        cwd=ROOT, env=_env(tmp_path, database_url), input=password + "\n", capture_output=True,
        text=True, timeout=120)


def _engine(tmp_path: Path, database_url: str) -> Engine:
    # The extensions the CLI loads by default (the LSPro's): the same roles.
    env = _env(tmp_path, database_url)
    return Engine(load_settings(env), extensions=default_extensions(env))


def test_users_add_creates_a_user_who_can_sign_in(tmp_path: Path,
                                                  blank_database_url: str) -> None:
    result = _add_user(tmp_path, blank_database_url, "Budi", "--role", "pelanggan",
                       "--role", "upp", "--company", "PT Baja Nusantara",
                       "--display-name", "Budi Santoso")
    assert result.returncode == 0, result.stderr
    assert "user budi created with roles pelanggan, upp" in result.stdout
    engine = _engine(tmp_path, blank_database_url)
    try:
        with engine.write() as s:
            user = s.identity.authenticate("budi", PASSWORD)
            assert user.role_names == {"pelanggan", "upp"}
            assert user.company == "PT Baja Nusantara"
            assert user.display_name == "Budi Santoso"
    finally:
        engine.close()
    again = _add_user(tmp_path, blank_database_url, "budi", "--role", "upp")
    assert again.returncode != 0
    assert "exists already" in again.stderr


def test_users_add_refuses_an_unknown_role_and_lists_the_known_ones(
        tmp_path: Path, blank_database_url: str) -> None:
    result = _add_user(tmp_path, blank_database_url, "ani", "--role", "manager")
    assert result.returncode != 0
    assert "roles: unknown role 'manager'" in result.stderr
    engine = _engine(tmp_path, blank_database_url)
    engine.close()
    assert all(role in result.stderr for role in engine.roles)


def test_users_add_refuses_a_customer_without_company_and_a_short_password(
    tmp_path: Path, blank_database_url: str,
) -> None:
    result = _add_user(tmp_path, blank_database_url, "ani", "--role", "pelanggan",
                       password="pendek")
    assert result.returncode != 0
    assert "company: a user with role 'pelanggan' must belong to a company" in result.stderr
    assert "password: must be at least 10 characters" in result.stderr
    engine = _engine(tmp_path, blank_database_url)
    try:
        with engine.read() as s:
            assert s.identity.users() == []
    finally:
        engine.close()


def _run_until_healthy(tmp_path: Path, database_url: str) -> str:
    """Start `sertiflow run`, wait until /healthz answers, stop it and return its output."""
    return start_cli_server(["run"], _env(tmp_path, database_url)).stop()


def test_run_creates_demo_users_once_and_says_so_in_one_line(
        tmp_path: Path, blank_database_url: str) -> None:
    first = _run_until_healthy(tmp_path, blank_database_url)
    lines = [line for line in first.splitlines() if "demo users created" in line]
    assert len(lines) == 1, first
    assert "upp, koordinator-pk" in lines[0]
    assert "password 'demo'" in lines[0]
    assert "'pelanggan' belongs to PT Contoh Sejahtera" in lines[0]
    again = _run_until_healthy(tmp_path, blank_database_url)
    assert "demo users" not in again
    engine = _engine(tmp_path, blank_database_url)
    try:
        with engine.write() as s:
            assert len(s.identity.users()) == len(engine.roles)
            assert s.identity.authenticate("admin", "demo").role_names == {"admin"}
    finally:
        engine.close()
