"""Files written by others, driven like the corpus: an extra run where they lie beside us.

``../shared/fixtures/bpmn`` (the BPMN MIWG suite, Camunda 7's examples and
Camunda Modeler's fixtures) is not part of the project; a clone of the project
alone skips this. Where the files are, none may get a 500, every refusal must
name its element or line, no open task may be left without someone who may
act on it, and at least 80 % of the deployed files must run to their end.
"""

from __future__ import annotations

import pytest

from tests.corpus.foreign import DEFAULT, foreign_files, run

pytestmark = pytest.mark.skipif(
    not DEFAULT.is_dir(), reason=f"the third-party BPMN files are not at {DEFAULT}")


def test_foreign_files_run_or_are_refused_clearly() -> None:
    outcomes = run(foreign_files([DEFAULT]))
    assert outcomes, f"no .bpmn file under {DEFAULT}"
    failed = [(p.name, r.error) for p, r, _ in outcomes if r.status == "failed"]
    assert failed == []
    unlocated = [p.name for p, r, _ in outcomes if r.status == "refused"
                 and not any(e.get("element") or e.get("line")
                             for e in (r.refusal or {}).get("errors") or [{}])]
    assert unlocated == []
    nobody = [(p.name, t["name"]) for p, _, tasks in outcomes for t in tasks
              if not (t.get("roles") or t.get("users") or t.get("assignee"))]
    assert nobody == []
    deployed = [r for _, r, _ in outcomes if r.deployed]
    finished = [r for r in deployed if r.status == "completed"]
    assert len(finished) >= 0.8 * len(deployed), [
        (r.path, r.status, r.incidents or r.active) for r in deployed if r.status != "completed"]
