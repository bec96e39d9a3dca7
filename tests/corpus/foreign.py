"""Drive BPMN files written by others through the REST API, as the corpus is driven.

``python -m tests.corpus.foreign [FOLDER ...]`` (default: ``../shared/fixtures/bpmn``
beside the repository, when it is there) deploys each ``.bpmn`` file alone,
starts its first executable process, completes every user task as an admin
with the form's defaults, and moves the clock past its timers, then prints how
many deployed, finished, were refused (and whether each refusal names an
element or a line), stopped at an incident, or still wait, with the reason.
Nobody wrote expectations for these files, so it measures; it checks only
what holds for any file: no answer is a 500, every refusal is located, and
no open task is left without someone who may act on it.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from .driver import CorpusServer, Entry, Result, drive

DEFAULT = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "bpmn"


def foreign_files(folders: Sequence[Path]) -> list[Path]:
    return sorted(p for folder in folders for p in folder.rglob("*.bpmn") if p.is_file())


def run(files: Sequence[Path]) -> list[tuple[Path, Result, list[dict[str, object]]]]:
    """Drive each file; also return the tasks still open at its end."""
    outcomes = []
    with CorpusServer() as server:
        admin = server.client("admin1")
        for path in files:
            result = drive(server, Entry(path=str(path.resolve()), outcome="completed",
                                         expect_tasks=[]))
            open_tasks: list[dict[str, object]] = []
            if result.instance_id:
                open_tasks = admin.read("/api/v1/tasks", instance_id=result.instance_id,
                                        per_page=200)["items"]
            outcomes.append((path, result, open_tasks))
    return outcomes


def summary(outcomes: Sequence[tuple[Path, Result, list[dict[str, object]]]]) -> str:
    counts = Counter(result.status for _, result, _ in outcomes)
    deployed = sum(result.deployed for _, result, _ in outcomes)
    unlocated = [path for path, result, _ in outcomes if result.status == "refused"
                 and not any(e.get("element") or e.get("line")
                             for e in (result.refusal or {}).get("errors") or [{}])]
    crashed = [(path, result.error) for path, result, _ in outcomes if result.status == "failed"]
    nobody = [(path, task["name"]) for path, _, tasks in outcomes for task in tasks
              if not (task.get("roles") or task.get("users")
                      or task.get("assignee"))]
    finished = counts["completed"]
    lines = [
        f"files: {len(outcomes)}; deployed: {deployed}; finished: {finished} "
        f"({finished / deployed:.0%} of those deployed)" if deployed else "deployed: 0",
        f"refused: {counts['refused']} (without an element or line: {len(unlocated)}); "
        f"incident: {counts['incident']}; still waiting: {counts['stuck']}; "
        f"failed (a 500 or a broken drive): {len(crashed)}; "
        f"open tasks nobody may act on: {len(nobody)}",
    ]
    for path, result, _ in outcomes:
        if result.status in ("incident", "stuck", "failed"):
            why = result.error or "; ".join(result.incidents) or (
                f"waits at {', '.join(result.active) or 'nothing'}")
            lines.append(f"- {result.status}: {path.name}: {why[:160]}")
    lines.extend(f"- unlocated refusal: {path}" for path in unlocated)
    lines.extend(f"- nobody may act on {name} in {path.name}" for path, name in nobody)
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    folders = [Path(a) for a in argv] or [DEFAULT]
    missing = [f for f in folders if not f.is_dir()]
    if missing:
        print(f"no such folder: {', '.join(map(str, missing))}")
        return 2
    print(summary(run(foreign_files(folders))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
