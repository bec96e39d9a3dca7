"""Run the whole corpus and print its tables: ``python -m tests.corpus.report [--readme]``.

(a) outcome by family: files, deployed, completed, refused (by cause), stuck
or failed, and how many ran as the manifest says; the README's corpus table is
this one, between the markers below (a test compares them).
(b) raw SpiffWorkflow 3.2 against sertiflow, for the files raw SpiffWorkflow
can be run on (timer diagrams are skipped there: raw SpiffWorkflow reads the
wall clock).
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from .driver import (
    MANIFEST,
    CorpusServer,
    Entry,
    RawResult,
    Result,
    check,
    drive,
    load_manifest,
    refusal_messages,
    run_raw,
)

START = "<!-- corpus-table:start -->"
END = "<!-- corpus-table:end -->"

# Refusal causes, by a fragment of the message: the first match names the category.
CAUSES: list[tuple[str, str]] = [
    ("uses Java", "Java"),
    ("field injection", "Java"),
    ("connectors are not supported", "connector"),
    ("script format", "script language"),
    ("condition language", "script language"),
    ("external resources", "script language"),
    ("DMN", "DMN"),
    ("cron expression", "cron timer"),
    ("compensation", "compensation"),
    ("ad-hoc sub-process", "ad-hoc sub-process"),
    ("transaction", "transaction"),
    ("link '", "link event"),
    ("eventDefinitionRef", "shared event definition"),
    ("DTD", "XML"),
    ("not well-formed", "XML"),
    ("BPMN 2.0 schema", "XML"),
    ("not a BPMN 2.0 file", "XML"),
    ("no executable process", "not executable"),
    ("no start event", "no start event"),
    ("has no id", "broken reference"),
    ("no element with that id", "broken reference"),
    ("which this file does not define", "broken reference"),
    ("neither in this deployment", "broken reference"),
    ("not deployed", "broken reference"),
    ("no handler is registered", "broken reference"),
    ("message event without a message", "broken reference"),
    ("cannot be reached", "unreachable"),
    ("Quantity", "quantity or loop"),
    ("cannot be negative", "quantity or loop"),
    ("a standard loop needs", "quantity or loop"),
    ("name it like a variable", "data"),
    ("data association", "data"),
    ("does not compile", "expression"),
    ("has no condition", "conditional event"),
    ("script is refused", "script sandbox"),
    ("embedded or external form", "embedded form"),
    ("listener", "listener"),
    ("several outgoing sequence flows", "implicit split"),
    ("A multiinstance task must specify", "multi-instance collection"),
]


def cause(result: Result) -> str:
    """The category of a refused deployment's first problem."""
    messages = [m for _, m in refusal_messages(result)]
    for fragment, category in CAUSES:
        if any(fragment in m for m in messages):
            return category
    return "other"


def _stuck(result: Result) -> bool:
    return result.status in ("stuck", "incident", "failed")


def known_differences(path: Path = MANIFEST) -> set[str]:
    """The entries whose manifest comment says ``# BUG``: they run, but not as in Camunda 7.

    Their expectations record what sertiflow does today, so they pass; this
    keeps them from counting as conformant in the table.
    """
    found, current = set(), None
    for line in path.read_text().splitlines():
        if line.startswith("[\""):
            current = line.strip()[2:-2]
        elif current and line.startswith("# BUG"):
            found.add(current)
    return found


def outcome_table(entries: Sequence[Entry], results: Sequence[Result]) -> str:
    """(a) Markdown: per family, what happened to its diagrams."""
    families: dict[str, list[tuple[Entry, Result]]] = {}
    for entry, result in zip(entries, results, strict=True):
        families.setdefault(entry.family, []).append((entry, result))
    differing = known_differences()
    lines = [
        "| family | files | deployed | completed | refused | refused by cause "
        "| stuck/failed | as the manifest says | of which differ from Camunda 7 |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    totals = Counter[str]()
    for family in sorted(families):
        rows = families[family]
        causes = Counter(cause(r) for _, r in rows if r.status == "refused")
        counts = {
            "files": len(rows),
            "deployed": sum(r.deployed for _, r in rows),
            "completed": sum(r.status == "completed" for _, r in rows),
            "refused": sum(r.status == "refused" for _, r in rows),
            "stuck": sum(_stuck(r) for _, r in rows),
            "ok": sum(not check(e, r) for e, r in rows),
            "differ": sum(e.path in differing for e, _ in rows),
        }
        totals.update(counts)
        by_cause = ", ".join(f"{c} {n}" for c, n in sorted(causes.items())) or "-"
        lines.append(f"| {family} | {counts['files']} | {counts['deployed']} | "
                     f"{counts['completed']} | {counts['refused']} | {by_cause} | "
                     f"{counts['stuck']} | {counts['ok']} | {counts['differ']} |")
    lines.append(f"| **all** | {totals['files']} | {totals['deployed']} | "
                 f"{totals['completed']} | {totals['refused']} | | {totals['stuck']} | "
                 f"{totals['ok']} | {totals['differ']} |")
    return "\n".join(lines) + "\n"


def raw_table(entries: Sequence[Entry], results: Sequence[Result],
              raws: dict[str, RawResult]) -> str:
    """(b) Markdown: raw SpiffWorkflow and sertiflow on the same files, per family."""
    families: dict[str, list[tuple[Entry, Result]]] = {}
    for entry, result in zip(entries, results, strict=True):
        if entry.path in raws:
            families.setdefault(entry.family, []).append((entry, result))
    lines = ["| family | files run by both | raw SpiffWorkflow completes "
             "| sertiflow completes | raw completes, sertiflow does not |",
             "|---|---:|---:|---:|---|"]
    totals = Counter[str]()
    for family in sorted(families):
        rows = families[family]
        raw_done = sum(raws[e.path].completed for e, _ in rows)
        ours = sum(r.status == "completed" for _, r in rows)
        worse = [e.path for e, r in rows if raws[e.path].completed and r.status != "completed"]
        totals.update({"files": len(rows), "raw": raw_done, "ours": ours, "worse": len(worse)})
        lines.append(f"| {family} | {len(rows)} | {raw_done} | {ours} | "
                     f"{', '.join(worse) or '-'} |")
    lines.append(f"| **all** | {totals['files']} | {totals['raw']} | {totals['ours']} | "
                 f"{totals['worse']} |")
    return "\n".join(lines) + "\n"


def raw_failures(entries: Sequence[Entry], raws: dict[str, RawResult]) -> str:
    """Why raw SpiffWorkflow does not complete a file, one line each."""
    return "".join(f"- {e.path}: {raws[e.path].detail}\n" for e in entries
                   if e.path in raws and not raws[e.path].completed)


def raw_differences(entries: Sequence[Entry], raws: dict[str, RawResult]) -> str:
    """Files raw SpiffWorkflow runs to their end, but not as the manifest says."""
    return "".join(f"- {e.path}: {'; '.join(raws[e.path].differences)}\n" for e in entries
                   if e.path in raws and raws[e.path].differences)


README = Path(__file__).resolve().parents[2] / "README.md"


def write_readme(table: str, readme: Path = README) -> None:
    """Put ``table`` between README.md's corpus markers."""
    text = readme.read_text()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{table}{END}{tail}")


def main(argv: Sequence[str] = ()) -> int:
    """Print the tables; ``--readme`` also writes the outcome table into README.md."""
    entries = load_manifest()
    began = time.monotonic()
    with CorpusServer() as server:
        results = [drive(server, e) for e in entries]
    if "--readme" in argv:
        write_readme(outcome_table(entries, results))
    raws = {e.path: run_raw(e) for e in entries if e.raw_spiff != "skip"}
    print("## (a) sertiflow: the corpus through the REST API\n")
    print(START)
    print(outcome_table(entries, results), end="")
    print(END)
    print("\n## (b) raw SpiffWorkflow 3.2 against sertiflow\n")
    print(raw_table(entries, results, raws))
    print("Raw SpiffWorkflow does not complete:\n")
    print(raw_failures(entries, raws))
    print("Raw SpiffWorkflow ends, but not as the manifest says (where the manifest has a "
          "# BUG: comment, it says what sertiflow does today):\n")
    print(raw_differences(entries, raws))
    differing = [(e.path, check(e, r)) for e, r in zip(entries, results, strict=True)
                 if check(e, r)]
    if differing:
        print("Not as the manifest says:\n")
        for path, problems in differing:
            print(f"- {path}: {'; '.join(problems)}")
    print(f"\n({len(entries)} diagrams in {time.monotonic() - began:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
