"""Every diagram of tests/corpus/ is deployed and driven to its end through the REST API.

One real HTTP server (Werkzeug, in a thread) serves the whole module: each
diagram has its own process key, and each instance is addressed by its id, so
the diagrams do not meet. The driver (tests/corpus/driver.py) deploys a file,
starts it, completes its user tasks with the manifest's answers, sends the
messages the manifest names and, when the instance only waits for time, moves
the frozen clock past the earliest timer and runs the timer sweep. No request
may answer 500. tests/corpus/manifest.toml says what each diagram must show;
tests/corpus/README.md explains its keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.corpus import report
from tests.corpus.driver import (
    CORPUS,
    CorpusServer,
    Entry,
    Result,
    check,
    corpus_files,
    drawing_problems,
    drive,
    load_manifest,
    run_raw,
)

ENTRIES = load_manifest()
RAW_ENTRIES = [e for e in ENTRIES if e.raw_spiff != "skip"]
README = Path(__file__).resolve().parents[2] / "README.md"


class Runner:
    """Drives each diagram once, on first request; the README test reuses the results."""

    def __init__(self, server: CorpusServer) -> None:
        self.server = server
        self.results: dict[str, Result] = {}

    def result(self, entry: Entry) -> Result:
        if entry.path not in self.results:
            self.results[entry.path] = drive(self.server, entry)
        return self.results[entry.path]


@pytest.fixture(scope="module")
def corpus(migrated_template: Path) -> Iterator[Runner]:
    with CorpusServer(template=migrated_template) as server:
        yield Runner(server)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.path for e in ENTRIES])
def test_diagram_runs_as_the_manifest_says(corpus: Runner, entry: Entry) -> None:
    problems = check(entry, corpus.result(entry))
    if entry.pending:
        if problems:
            pytest.xfail(f"{entry.pending}: {'; '.join(problems)}")
        pytest.fail(f"{entry.path} now runs as the manifest says: remove its 'pending' key")
    assert not problems, f"{entry.path}:\n" + "\n".join(problems)


@pytest.mark.parametrize("entry", RAW_ENTRIES, ids=[e.path for e in RAW_ENTRIES])
def test_raw_spiffworkflow_runs_what_the_manifest_says(entry: Entry) -> None:
    """raw_spiff = "completed": SpiffWorkflow 3.2 alone runs the file to its end;
    "fails": it does not (so the comparison table stays honest both ways)."""
    raw = run_raw(entry)
    if entry.raw_spiff == "completed":
        assert raw.completed, f"raw SpiffWorkflow did not complete {entry.path}: {raw.detail}"
    else:
        assert not raw.completed, (f"raw SpiffWorkflow completes {entry.path}: "
                                   'set raw_spiff = "completed"')


def test_every_diagram_is_small_and_drawn() -> None:
    """Each file opens in Camunda Modeler as drawn (a shape or edge for every flow node,
    flow, pool and lane) and has 3 to 12 flow nodes; the family folders hold at least
    110 files."""
    problems = {path: found for path in corpus_files()
                if (found := drawing_problems(CORPUS / path))}
    assert not problems
    assert len(ENTRIES) >= 110


def test_readme_table_is_what_the_corpus_gives(corpus: Runner) -> None:
    text = README.read_text(encoding="utf-8")
    if report.START not in text or report.END not in text:
        pytest.skip(f"README.md has no corpus table yet (markers {report.START} and "
                    f"{report.END}); paste the output of python -m tests.corpus.report")
    written = text.split(report.START, 1)[1].split(report.END, 1)[0].strip()
    results = [corpus.result(e) for e in ENTRIES]
    computed = report.outcome_table(ENTRIES, results).strip()
    assert written == computed, ("README.md's corpus table is out of date; paste this "
                                 f"between its markers:\n{computed}")
