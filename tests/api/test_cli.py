"""The command line, run as a real process: deploy, db upgrade, and run serving HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.builders import linear_user_tasks
from tests.people import start_cli_server

ROOT = Path(__file__).resolve().parent.parent.parent


def _env(tmp_path: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "SERTIFLOW_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "SERTIFLOW_SECRET_KEY": "cli-test",
        "PYTHONPATH": str(ROOT),
        **extra,
    })
    return env


def _cli(tmp_path: Path, database_url: str, *args: str,
         **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT,
                          env=_env(tmp_path, database_url, **extra), capture_output=True,
                          text=True, timeout=120)


def test_deploy_prints_versions_and_unchanged(tmp_path: Path, blank_database_url: str) -> None:
    bpmn = tmp_path / "linear.bpmn"
    bpmn.write_text(linear_user_tasks("linear", 2))
    first = _cli(tmp_path, blank_database_url, "deploy", str(bpmn))
    assert first.returncode == 0, first.stderr
    assert "process linear version 1 deployed" in first.stdout
    again = _cli(tmp_path, blank_database_url, "deploy", str(bpmn))
    assert "process linear version 1 unchanged" in again.stdout
    bpmn.write_text(linear_user_tasks("linear", 3))
    changed = _cli(tmp_path, blank_database_url, "deploy", str(tmp_path))
    assert "process linear version 2 deployed" in changed.stdout


def test_deploy_refusal_exits_non_zero_with_location(tmp_path: Path,
                                                     blank_database_url: str) -> None:
    bad = tmp_path / "bad.bpmn"
    bad.write_text(linear_user_tasks("bad", 1).replace(
        'camunda:candidateGroups="upp"', 'camunda:candidateGroups="upp" camunda:class="x.Y"'))
    result = _cli(tmp_path, blank_database_url, "deploy", str(bad))
    assert result.returncode != 0
    assert "bad.bpmn:" in result.stderr
    assert "(element 'task_1')" in result.stderr
    assert "camunda:topic" in result.stderr


def test_bad_configuration_stops_with_a_message(tmp_path: Path, blank_database_url: str) -> None:
    result = _cli(tmp_path, blank_database_url, "db", "upgrade", SERTIFLOW_CALENDAR="lunar")
    assert result.returncode != 0
    assert "SERTIFLOW_CALENDAR must be one of" in result.stderr


def test_run_deploys_processes_and_serves_http(tmp_path: Path, blank_database_url: str) -> None:
    processes = tmp_path / "processes"
    processes.mkdir()
    (processes / "linear.bpmn").write_text(linear_user_tasks("linear", 2))
    server = start_cli_server(["run"], _env(tmp_path, blank_database_url,
                                            SERTIFLOW_PROCESSES=str(processes),
                                            SERTIFLOW_FORMS=str(tmp_path / "forms")))
    try:
        body = requests.get(f"{server.base}/healthz", timeout=5).text
        assert '"status":"ok"' in body.replace(" ", "")
    finally:
        output = server.stop()
    assert "process linear version 1 deployed" in output
    assert f"listening on http://127.0.0.1:{server.port}/" in output


@pytest.mark.parametrize("command", [["--help"], ["db", "--help"], ["serve", "--help"]])
def test_help_answers(tmp_path: Path, command: list[str], blank_database_url: str) -> None:
    result = _cli(tmp_path, blank_database_url, *command)
    assert result.returncode == 0
    assert "Usage:" in result.stdout


def test_deploy_takes_every_bpmn_file_name_the_modeler_and_camunda_use(
        tmp_path: Path, blank_database_url: str) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "first.bpmn20.xml").write_text(linear_user_tasks("first", 1))
    (folder / "second.bpmn2").write_text(linear_user_tasks("second", 1))
    (folder / "notes.txt").write_text("not a model")
    result = _cli(tmp_path, blank_database_url, "deploy", str(folder))
    assert result.returncode == 0, result.stderr
    assert "process first version 1 deployed (first.bpmn20.xml)" in result.stdout
    assert "process second version 1 deployed (second.bpmn2)" in result.stdout
    # Named on its own, a file of another kind is refused, not skipped.
    refused = _cli(tmp_path, blank_database_url, "deploy", str(folder / "notes.txt"))
    assert refused.returncode != 0 and "notes.txt" in refused.stderr
