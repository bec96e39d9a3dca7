"""``Setup.check``: an extension refuses entered values by its own records, before storing.

A checker of a form is given the values that passed the form's own checks, the
instance's variables and the services; any message it returns refuses the whole
submission with the fields named, for a task's form and for a message's form,
and nothing is stored.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping

import pytest
import sqlalchemy as sa

from engine.composition import Engine
from engine.config import Settings
from engine.errors import InvalidInput
from engine.extensions import Entry, Setup
from engine.models import HistoryEvent, Task
from engine.time.clock import FrozenClock
from lspro import LsproExtension
from tests.settings import LSPRO
from tests.web import sample

SEEN: list[Entry] = []


def no_more_than_five(entry: Entry) -> Mapping[str, str]:
    SEEN.append(entry)
    jumlah = entry.values.get("jumlah")
    return {"jumlah": "paling banyak 5 contoh"} if isinstance(jumlah, int) and jumlah > 5 else {}


def not_for_blocked_companies(entry: Entry) -> Mapping[str, str]:
    blocked = entry.variables.get("diblokir") is True
    return {"nomor_produk": "perusahaan ini diblokir"} if blocked else {}


class Checks:
    name = "checks"

    def register(self, setup: Setup) -> None:
        setup.check(sample.FIRST, no_more_than_five)
        setup.check(sample.FIRST, not_for_blocked_companies)


@pytest.fixture
def checked(settings: Settings, clock: FrozenClock, engine: Engine) -> Iterator[Engine]:
    """An engine on the test database with the checks registered beside the LSPro."""
    built = Engine(settings, clock=clock, extensions=[LsproExtension(LSPRO), Checks()],
                   workflow_cache_size=0)
    with built.write() as s:
        s.deployments.deploy(sample.files(), actor="analyst", source="test")
    SEEN.clear()
    yield built
    built.close()


def first_task(engine: Engine, instance_id: str) -> Task:
    with engine.read() as s:
        return s.session.scalars(sa.select(Task).where(Task.instance_id == instance_id,
                                                       Task.element_id == sample.FIRST)).one()


def submit(engine: Engine, instance_id: str, values: Mapping[str, object]) -> None:
    task = first_task(engine, instance_id)
    with engine.write() as s:
        document = s.documents.upload(instance_id, io.BytesIO(sample.PDF), filename="s.pdf",
                                      content_type="application/pdf", uploaded_by="cust1",
                                      task_id=task.id, field="dok_surat")
        reference = s.documents.reference(document)
    with engine.write() as s:
        s.submit_task(task.id, {**values, "dok_surat": reference}, actor="cust1")


def test_checkers_refuse_fields_and_nothing_is_stored(checked: Engine) -> None:
    with checked.write() as s:
        instance_id = s.runtime.start_instance(sample.KEY, actor="cust1", company="PT A",
                                               variables={"diblokir": True}).id
    with pytest.raises(InvalidInput) as refused:
        submit(checked, instance_id, {"nomor_produk": "ABC-123", "jumlah": 7, "jenis": "baru"})
    # Both checkers ran on the typed values; each refusal names its field.
    assert refused.value.errors == {"jumlah": "paling banyak 5 contoh",
                                    "nomor_produk": "perusahaan ini diblokir"}
    (entry,) = SEEN
    assert entry.form_id == sample.FIRST and entry.instance_id == instance_id
    assert entry.values["jumlah"] == 7 and entry.variables["diblokir"] is True
    assert first_task(checked, instance_id).state == "ready"
    with checked.read() as s:
        kinds = set(s.session.scalars(sa.select(HistoryEvent.kind).where(
            HistoryEvent.instance_id == instance_id)))
    assert "task_completed" not in kinds


def test_values_the_checkers_accept_go_through(checked: Engine) -> None:
    with checked.write() as s:
        instance_id = s.runtime.start_instance(sample.KEY, actor="cust1", company="PT A").id
    submit(checked, instance_id, {"nomor_produk": "ABC-123", "jumlah": 5, "jenis": "baru"})
    assert first_task(checked, instance_id).state == "completed"
