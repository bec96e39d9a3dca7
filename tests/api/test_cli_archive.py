"""`sertiflow archive`, its `list`, `show` and `restore`, run as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from api.extensions import default_extensions
from engine.composition import Engine
from engine.config import load_settings
from engine.models import ProcessInstance
from tests.builders import linear_user_tasks
from tests.instances import ready

ROOT = Path(__file__).resolve().parent.parent.parent


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "SERTIFLOW_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "SERTIFLOW_SECRET_KEY": "cli-test",
        "SERTIFLOW_PROCESSES": str(tmp_path / "no-processes"),
        "SERTIFLOW_FORMS": str(tmp_path / "no-forms"),
        "PYTHONPATH": str(ROOT),
    })
    return env


def _cli(tmp_path: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", "archive", *args], cwd=ROOT,
                          env=_env(tmp_path, database_url), capture_output=True, text=True,
                          timeout=120)


def test_archive_list_show_and_restore_from_the_command_line(
        tmp_path: Path, blank_database_url: str) -> None:
    env = _env(tmp_path, blank_database_url)
    engine = Engine(load_settings(env), extensions=default_extensions(env))
    try:
        engine.migrate()
        with engine.write() as s:
            s.deployments.deploy([("linear.bpmn", linear_user_tasks("linear", 1).encode())])
            done = s.runtime.start_instance("linear", business_key="SELESAI").id
            running = s.runtime.start_instance("linear", business_key="BERJALAN").id
        (task,) = ready(engine, done)
        with engine.write() as s:
            s.runtime.complete_task(task.id, {"catatan": "ok"}, actor="budi")

        moved = _cli(tmp_path, blank_database_url, "--completed-before",
                     datetime.now(UTC).isoformat())
        assert moved.returncode == 0, moved.stderr
        assert "archived 1 instance(s) in 1 batch(es)" in moved.stdout
        with engine.read() as s:
            assert s.session.get(ProcessInstance, done) is None
            assert s.session.get(ProcessInstance, running) is not None

        listed = _cli(tmp_path, blank_database_url, "list")
        assert listed.returncode == 0, listed.stderr
        assert "1 instance(s)" in listed.stdout and ".jsonl.gz" in listed.stdout

        shown = _cli(tmp_path, blank_database_url, "show", done)
        assert shown.returncode == 0, shown.stderr
        assert "business key SELESAI" in shown.stdout and "completed" in shown.stdout
        assert "task_completed" in shown.stdout and "budi" in shown.stdout

        restored = _cli(tmp_path, blank_database_url, "restore", done)
        assert restored.returncode == 0, restored.stderr
        assert f"restored instance {done}" in restored.stdout
        with engine.read() as s:
            instance = s.session.get(ProcessInstance, done)
            assert instance is not None and instance.status == "completed"

        again = _cli(tmp_path, blank_database_url, "restore", done)
        assert again.returncode == 1
        assert "in the live database already" in again.stderr
    finally:
        engine.close()


def test_bad_input_gets_a_clear_error_and_changes_nothing(
        tmp_path: Path, blank_database_url: str) -> None:
    wrong_date = _cli(tmp_path, blank_database_url, "--completed-before", "31-12-2024")
    assert wrong_date.returncode == 2
    assert "is not a date (YYYY-MM-DD)" in wrong_date.stderr

    future = _cli(tmp_path, blank_database_url, "--completed-before", "2999-01-01")
    assert future.returncode == 1 and "the date is in the future" in future.stderr

    nothing = _cli(tmp_path, blank_database_url)
    assert nothing.returncode == 2 and "give --completed-before" in nothing.stderr

    unknown = _cli(tmp_path, blank_database_url, "show", "no-such-instance")
    assert unknown.returncode == 1 and "in no archive file" in unknown.stderr
    assert not (tmp_path / "instance" / "archive").exists()


def test_by_history_ttl_archives_only_instances_of_a_process_that_has_one(
        tmp_path: Path, blank_database_url: str) -> None:
    env = _env(tmp_path, blank_database_url)
    engine = Engine(load_settings(env), extensions=default_extensions(env))
    # A TTL of 0 days: an instance is due as soon as it has finished.
    kept = linear_user_tasks("kept", 1).replace(
        'isExecutable="true"', 'isExecutable="true" camunda:historyTimeToLive="0"', 1)
    try:
        engine.migrate()
        with engine.write() as s:
            s.deployments.deploy([("kept.bpmn", kept.encode()),
                                  ("linear.bpmn", linear_user_tasks("linear", 1).encode())])
            due = s.runtime.start_instance("kept").id
            stays = s.runtime.start_instance("linear").id
        for instance_id in (due, stays):
            (task,) = ready(engine, instance_id)
            with engine.write() as s:
                s.runtime.complete_task(task.id, {}, actor="budi")

        both = _cli(tmp_path, blank_database_url, "--by-history-ttl", "--completed-before",
                    "2020-01-01")
        assert both.returncode == 2 and "--by-history-ttl" in both.stderr

        moved = _cli(tmp_path, blank_database_url, "--by-history-ttl")
        assert moved.returncode == 0, moved.stderr
        assert "archived 1 instance(s) in 1 batch(es)" in moved.stdout
        with engine.read() as s:
            assert s.session.get(ProcessInstance, due) is None
            assert s.session.get(ProcessInstance, stays) is not None

        listed = _cli(tmp_path, blank_database_url, "list")
        assert "past their history time to live  1 instance(s)" in listed.stdout

        again = _cli(tmp_path, blank_database_url, "--by-history-ttl")
        assert again.returncode == 0, again.stderr
        assert "no instance past its history time to live" in again.stdout
    finally:
        engine.close()
