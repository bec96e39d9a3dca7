"""The ``sertiflow`` command line."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from engine.composition import Engine
from engine.config import ConfigError, Settings, load_settings
from engine.errors import Conflict, DeploymentRejected, InvalidInput
from engine.identity.users import DEMO_COMPANY, DEMO_PASSWORD

from .extensions import VARIABLE as EXTENSIONS_VARIABLE
from .extensions import default_extensions
from .server import configure_logging, default_workers, exec_server

log = logging.getLogger("sertiflow")


def _settings(demo_default: bool = False) -> Settings:
    try:
        return load_settings(demo_default=demo_default)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _engine(settings: Settings, **options: Any) -> Engine:
    """An engine with the extensions of ``SERTIFLOW_EXTENSIONS`` (or ``--extension``)."""
    try:
        extensions = default_extensions()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    return Engine(settings, extensions=extensions, **options)


def _print_deployment(engine: Engine, paths: list[Path]) -> None:
    try:
        result = engine.deploy_paths(paths)
    except DeploymentRejected as exc:
        raise click.ClickException(str(exc)) from exc
    for process in result.processes:
        state = "unchanged" if process.unchanged else "deployed"
        click.echo(f"process {process.key} version {process.version} {state} "
                   f"({process.resource_name})")
        for warning in process.warnings:
            click.echo(f"  warning: {warning}")
    for form in result.forms:
        state = "unchanged" if form.unchanged else "deployed"
        click.echo(f"form {form.form_id} version {form.version} {state} ({form.resource_name})")


@click.group()
@click.option("--extension", "extensions", multiple=True, metavar="MODULE:FACTORY",
              help="load this extension instead of those of SERTIFLOW_EXTENSIONS (default: "
                   "the LSPro's, lspro:extension); repeat for several, give '' for none")
def main(extensions: tuple[str, ...]) -> None:
    """sertiflow: BPMN processes run on SpiffWorkflow, with the extensions it loads."""
    configure_logging()
    if extensions:
        # Through the environment, so that the server's workers load the same ones.
        os.environ[EXTENSIONS_VARIABLE] = ",".join(e for e in extensions if e)


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations."""
    engine = _engine(_settings())
    engine.migrate()
    click.echo("database is up to date")


@main.command()
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
def deploy(paths: tuple[Path, ...]) -> None:
    """Deploy .bpmn and .form files, or every such file in the given folders."""
    engine = _engine(_settings())
    engine.migrate()
    _print_deployment(engine, list(paths))


@main.group()
def users() -> None:
    """User accounts."""


@users.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, metavar="ROLE",
              help="a role, repeat for several (a wrong one lists those known)")
@click.option("--company", help="the customer's company (required with role pelanggan)")
@click.option("--display-name", help="the name shown in task lists")
@click.option("--password-stdin", is_flag=True,
              help="read the password from the first line of standard input (for scripts)")
def users_add(name: str, roles: tuple[str, ...], company: str | None,
              display_name: str | None, password_stdin: bool) -> None:
    """Create a user; asks for the password."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        # Asked before the database is opened, so no transaction waits on the typist.
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    engine = _engine(_settings())
    try:
        engine.migrate()
        with engine.write() as services:
            user = services.identity.add_user(name, password, roles=roles, company=company,
                                              display_name=display_name)
            created, role_names = user.username, sorted(user.role_names)
    except InvalidInput as exc:
        details = "".join(f"\n  {field}: {message}" for field, message in exc.errors.items())
        raise click.ClickException(f"{exc.message}{details}") from exc
    except Conflict as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        engine.close()
    click.echo(f"user {created} created with roles {', '.join(role_names)}")


def _prepare(settings: Settings) -> Engine:
    engine = _engine(settings)
    engine.migrate()
    folders = [p for p in (settings.processes_path, settings.forms_path)
               if p.is_dir() and any(f.suffix in (".bpmn", ".form") for f in p.rglob("*"))]
    if folders:
        _print_deployment(engine, folders)
    if settings.demo:
        with engine.write() as services:
            created = services.identity.ensure_demo_users()
        if created:
            log.info("demo users created: %s (password '%s'; customer 'pelanggan' belongs "
                     "to %s)", ", ".join(created), DEMO_PASSWORD, DEMO_COMPANY)
    return engine


@main.command()
@click.option("--once", is_flag=True, help="fire what is due now, then exit")
@click.option("--interval", default=1.0, show_default=True, type=float,
              help="seconds between sweeps")
def scheduler(once: bool, interval: float) -> None:
    """Run the timer sweep alone (for deployments with several web processes)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    from engine.time.timers import TimerSweep

    # No workflow cache: the next command on these instances comes from a web
    # process, and a large live heap only lengthens garbage collections here.
    engine = _engine(_settings(), workflow_cache_size=0)
    engine.migrate()
    sweep = TimerSweep(engine)
    if once:
        total = 0
        while (fired := sweep.run_once()) > 0:
            total += fired
        breaches, sent = sweep.run_sla_once()
        click.echo(f"fired the timers of {total} instance(s); {breaches} new SLA breach(es); "
                   f"{sent} e-mail(s) sent")
        return
    blocking = BlockingScheduler()
    blocking.add_job(sweep.tick, "interval", seconds=interval, max_instances=1,
                     coalesce=True, id="timer-sweep")
    click.echo(f"timer sweep every {interval:g} s; stop with Ctrl+C")
    sys.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        blocking.start()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def run(host: str, port: int) -> None:
    """Migrate, deploy processes/ and forms/, and serve with the timer sweep."""
    settings = _settings(demo_default=True)
    _prepare(settings).close()
    _exec_server(settings, host=host, port=port,
                 workers=default_workers(settings.database_url), threads=None, scheduler=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=None, type=int,
              help="server processes  [default: 1 with SQLite, one per core with PostgreSQL]")
@click.option("--threads", default=None, type=int,
              help="threads per process that run requests  [default: 1, the event loop's]")
@click.option("--scheduler/--no-scheduler", default=True, show_default=True,
              help="run the timer sweep (in one of the processes)")
def serve(host: str, port: int, workers: int | None, threads: int | None,
          scheduler: bool) -> None:
    """Serve for production: granian with one or more worker processes.

    With SQLite one process is the better choice on a small machine (one writer
    at a time either way, and half the memory); with PostgreSQL more processes
    use more cores, and a node runs one per core unless told otherwise.
    """
    if (workers is not None and workers < 1) or (threads is not None and threads < 1):
        raise click.BadParameter("workers and threads must be 1 or more")
    settings = _settings(demo_default=False)
    if workers is None:
        workers = default_workers(settings.database_url)
    _prepare(settings).close()
    _exec_server(settings, host=host, port=port, workers=workers, threads=threads,
                 scheduler=scheduler)


def _exec_server(settings: Settings, **options: Any) -> None:
    # The workers read their settings from the environment as this process did;
    # the demo default differs between run and serve, so it is passed on.
    os.environ["SERTIFLOW_DEMO"] = "true" if settings.demo else "false"
    exec_server(**options)


def _add_archive() -> None:
    # Its own module: the command group is longer than the others put together.
    from .archive_cli import archive

    main.add_command(archive)


_add_archive()

if __name__ == "__main__":
    main()
