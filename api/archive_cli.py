"""``sertiflow archive``: move finished instances out of the live database, list, show, restore.

An admin's command (whoever runs it holds the database's credentials). The files go
to ``<instance folder>/archive`` unless ``--folder`` names another; see
:mod:`engine.archive` for what a file holds and why a run may be stopped at any time.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import click

from engine.archive import Archiver, ArchiveRun
from engine.composition import Engine
from engine.config import Settings
from engine.errors import EngineError, InvalidInput
from engine.queries import history_rows

FOLDER_HELP = "the archive files' folder  [default: <instance folder>/archive]"


def _cutoff(text: str, settings: Settings) -> datetime:
    """A date (midnight where the organisation is) or a time with its offset."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), settings.timezone)
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"{text!r} is not a date (YYYY-MM-DD) or an ISO time",
                                 param_hint="--completed-before") from exc
    if moment.tzinfo is None:
        raise click.BadParameter("a time needs its offset, e.g. 2025-01-01T00:00+07:00",
                                 param_hint="--completed-before")
    return moment


def _open(folder: Path | None) -> tuple[Engine, Archiver]:
    from .cli import _engine, _settings

    settings = _settings()
    engine = _engine(settings, workflow_cache_size=0)
    engine.migrate()
    return engine, Archiver(engine.db, engine.clock, folder or settings.instance_path / "archive")


def _fail(exc: EngineError) -> click.ClickException:
    details = ""
    if isinstance(exc, InvalidInput):
        details = "".join(f"\n  {field}: {message}" for field, message in exc.errors.items())
    return click.ClickException(f"{exc.message}{details}")


@click.group(invoke_without_command=True)
@click.option("--completed-before", metavar="DATE",
              help="archive instances completed or cancelled before this date (YYYY-MM-DD, "
                   "midnight in SERTIFLOW_TIMEZONE) or ISO time with offset")
@click.option("--by-history-ttl", is_flag=True,
              help="archive instances finished longer ago than their process's history "
                   "time to live (camunda:historyTimeToLive, in days)")
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), help=FOLDER_HELP)
@click.option("--batch-size", default=100, show_default=True, type=int,
              help="instances per transaction")
@click.option("--limit", type=int, help="archive at most this many instances in this run")
@click.pass_context
def archive(ctx: click.Context, completed_before: str | None, by_history_ttl: bool,
            folder: Path | None, batch_size: int, limit: int | None) -> None:
    """Move finished instances with all their rows into a compressed archive file.

    Running instances are never touched; a run may be stopped at any time and run
    again. Document files stay in the documents folder.
    """
    ctx.obj = folder
    if ctx.invoked_subcommand is not None:
        if completed_before is not None or by_history_ttl:
            raise click.UsageError("--completed-before and --by-history-ttl go without a "
                                   "subcommand")
        return
    if (completed_before is None) == (not by_history_ttl):
        raise click.UsageError("give --completed-before DATE or --by-history-ttl, or one of: "
                               "list, show, restore")
    from .cli import _settings

    cutoff = None if completed_before is None else _cutoff(completed_before, _settings())
    engine, archiver = _open(folder)

    def progress(run: ArchiveRun) -> None:
        click.echo(f"  {run.instances} instance(s) archived ...", err=True)

    try:
        if cutoff is None:
            run = archiver.run_by_history_ttl(batch_size=batch_size, limit=limit,
                                              progress=progress)
        else:
            run = archiver.run(cutoff, batch_size=batch_size, limit=limit, progress=progress)
    except EngineError as exc:
        raise _fail(exc) from exc
    finally:
        engine.close()
    if run.path is None:
        when = ("past its history time to live" if cutoff is None
                else f"finished before {cutoff.isoformat()}")
        click.echo(f"no instance {when}; nothing archived")
        return
    rows = ", ".join(f"{name} {count}" for name, count in sorted(run.rows.items()) if count)
    click.echo(f"archived {run.instances} instance(s) in {run.batches} batch(es) to "
               f"{run.path} ({run.file_bytes:,} bytes)\nrows deleted: {rows}")


@archive.command("list")
@click.pass_obj
def archive_list(folder: Path | None) -> None:
    """The archive files, each with its date and how many instances it holds."""
    engine, archiver = _open(folder)
    engine.close()
    files = archiver.files()
    if not files:
        click.echo(f"no archive file in {archiver.folder}")
    for file in files:
        header = file.header()
        count = sum(1 for _ in file.records())
        chosen = (f"completed before {header['completed_before']}"
                  if header.get("completed_before") else "past their history time to live")
        click.echo(f"{file.path.name}  {chosen}  {count} instance(s)  "
                   f"{file.path.stat().st_size:,} bytes")


@archive.command("show")
@click.argument("instance_id")
@click.option("--json", "as_json", is_flag=True, help="print the whole archived record")
@click.pass_obj
def archive_show(folder: Path | None, instance_id: str, as_json: bool) -> None:
    """One archived instance: its file, rows per table and its history."""
    engine, archiver = _open(folder)
    engine.close()
    try:
        record = archiver.find(instance_id)
    except EngineError as exc:
        raise _fail(exc) from exc
    if as_json:
        click.echo(json.dumps(record, ensure_ascii=False, indent=1))
        return
    tables: dict[str, list[dict[str, Any]]] = record["tables"]
    click.echo(f"instance {instance_id} ({record['definition_key']}, business key "
               f"{record.get('business_key') or '-'}), {record['status']} at "
               f"{record.get('ended_at')}\nin {record['file']}, archived at "
               f"{record['archived_at']}")
    click.echo("rows: " + ", ".join(f"{name} {len(rows)}" for name, rows in tables.items()))
    # As the live history shows them: who and where from the task and document rows.
    for event in history_rows.fill_rows(tables.get("history_event", []),
                                        tables.get("task", []), tables.get("document", [])):
        click.echo(f"  {event['at']}  {event.get('actor') or '-':<20} {event['kind']:<24} "
                   f"{event.get('element_id') or ''}")


@archive.command("restore")
@click.argument("instance_id")
@click.pass_obj
def archive_restore(folder: Path | None, instance_id: str) -> None:
    """Put one archived instance back into the live database (for an audit)."""
    engine, archiver = _open(folder)
    try:
        counts = archiver.restore(instance_id)
    except EngineError as exc:
        raise _fail(exc) from exc
    finally:
        engine.close()
    click.echo(f"restored instance {instance_id}: "
               + ", ".join(f"{name} {count}" for name, count in counts.items()))
