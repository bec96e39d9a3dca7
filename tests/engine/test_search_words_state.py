"""The search words saved with an instance's state: a rebuilt workflow knows them.

The engine fixture keeps no workflow cache, so every command here rebuilds its
workflow from the stored state, as a process does after a restart or an eviction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from engine.bpmn.serializer import load_state
from engine.bpmn.workflow import ProcessRun
from engine.composition import Engine
from engine.models import InstanceSearchWord, ProcessInstance, ProcessInstanceStatePart
from lspro import LsproExtension
from tests.builders import linear_user_tasks
from tests.instances import the_ready_task
from tests.postgres import PostgresServer
from tests.settings import LSPRO, settings_for


@contextmanager
def word_statements(engine: Engine, *, executemany: bool = False) -> Iterator[list[str]]:
    """The statements sent to the database that touch the search words (with
    ``executemany``, those sent once per row are marked)."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               per_row: bool) -> None:
        if "instance_search_word" in statement:
            many = " (a statement per row)" if executemany and per_row else ""
            seen.append(statement.split()[0] + many)

    sa.event.listen(engine.db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine.db.engine, "before_cursor_execute", record)


def written(engine: Engine) -> str:
    """The statement that inserts new words: on PostgreSQL the instance's own (its WITH
    clause, engine.runtime.queued_rows), on SQLite an INSERT of their own."""
    return "WITH" if engine.db.engine.dialect.name == "postgresql" else "INSERT"


def stored_words(engine: Engine, instance_id: str) -> set[str]:
    with engine.read() as s:
        return set(s.session.scalars(sa.select(InstanceSearchWord.word).where(
            InstanceSearchWord.instance_id == instance_id)))


def start(engine: Engine) -> str:
    with engine.write() as s:
        s.deployments.deploy([("p.bpmn", linear_user_tasks("p", 3).encode())])
        return s.runtime.start_instance(
            "p", business_key="PRM-7", variables={"nama_produk": "Kopi Bubuk"}, actor="a").id


def complete(engine: Engine, instance_id: str, data: dict[str, Any]) -> None:
    task = the_ready_task(engine, instance_id)
    with engine.write() as s:
        s.runtime.complete_task(task.id, data, actor="a")


def test_a_rebuilt_workflow_changes_its_words_without_reading_them(engine: Engine) -> None:
    with word_statements(engine) as seen:
        instance_id = start(engine)
    assert seen == [written(engine)]  # a new instance has none to read
    assert stored_words(engine, instance_id) == {"prm", "7", "kopi", "bubuk"}
    with word_statements(engine) as seen:
        complete(engine, instance_id, {"catatan": "-"})  # no word changes
    assert seen == []
    with word_statements(engine) as seen:
        complete(engine, instance_id, {"nama_produk": "Teh Bubuk"})
    assert seen == ["DELETE", written(engine)]
    assert stored_words(engine, instance_id) == {"prm", "7", "teh", "bubuk"}


def test_a_state_without_words_reads_them_once(engine: Engine) -> None:
    instance_id = start(engine)
    with engine.write() as s:  # saved as before the words were kept with the state
        instance = s.session.get(ProcessInstance, instance_id)
        assert instance is not None
        run = s.runtime.loader.restore(instance)
        assert isinstance(run, ProcessRun) and run.search_words == {"prm", "7", "kopi", "bubuk"}
        run.search_words = None
        instance.state = run.dump()  # whole, without parts, as before 0019
        s.session.execute(sa.delete(ProcessInstanceStatePart)
                          .where(ProcessInstanceStatePart.instance_id == instance_id))
        specs = s.runtime.loader.definition_specs(instance.definition_id)
        notes: dict[str, Any] = {}
        load_state(instance.state, specs.spec, specs.subprocess_specs, notes=notes)
        assert notes == {}
    with word_statements(engine) as seen:
        complete(engine, instance_id, {"nama_produk": "Teh Bubuk"})
    assert seen == ["SELECT", "DELETE", written(engine)]
    assert stored_words(engine, instance_id) == {"prm", "7", "teh", "bubuk"}
    with word_statements(engine) as seen:
        complete(engine, instance_id, {"nama_produk": "Teh Celup"})
    assert seen == ["DELETE", written(engine)]  # saved with the state again
    assert stored_words(engine, instance_id) == {"prm", "7", "teh", "celup"}


@pytest.fixture
def pg_engine(postgres_server: PostgresServer, postgres_template: str,
              tmp_path: Path) -> Iterator[Engine]:
    url = postgres_server.create_database(template=postgres_template)
    # The LSPro's extension names nama_produk among the searched variables.
    built = Engine(settings_for(tmp_path, url), extensions=[LsproExtension(LSPRO)],
                   workflow_cache_size=0)
    yield built
    built.close()
    postgres_server.drop_database(url)


@pytest.mark.postgres
def test_new_words_go_in_one_statement_on_postgres(pg_engine: Engine) -> None:
    # psycopg's executemany would send a statement per word; they are inserted by the
    # statement that writes the instance (its WITH clause).
    with word_statements(pg_engine, executemany=True) as seen:
        instance_id = start(pg_engine)
    assert seen == ["WITH"]
    assert stored_words(pg_engine, instance_id) == {"prm", "7", "kopi", "bubuk"}
    with word_statements(pg_engine, executemany=True) as seen:
        complete(pg_engine, instance_id, {"nama_produk": "Teh Celup Wangi"})
    assert seen == ["DELETE", "WITH"]
    assert stored_words(pg_engine, instance_id) == {"prm", "7", "teh", "celup", "wangi"}
