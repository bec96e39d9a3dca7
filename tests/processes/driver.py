"""The driver of the process tests: the LSPro's processes run as their people run them.

A :class:`Driver` wraps an engine with the LSPro's extension and its frozen clock.
It deploys the real files of processes/ and forms/, starts instances, completes
tasks the way ``POST /api/v1/tasks/{id}/complete`` completes them (documents
uploaded to the task first, the submission checked against the task's form), and
plays the people outside: the bank's payment notice, the laboratory's report, any
other message. It moves the clock and fires timers as the scheduler does, and
reads back what the tests assert: ready tasks, variables, history, timers,
documents, bills and the service clock. Every command is a transaction of its own,
so with no workflow cache each step saves and reloads the instance.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from engine.composition import Engine
from engine.deployment.service import DeploymentResult
from engine.identity.access import Actor
from engine.models import (
    Document,
    EventSubscription,
    HistoryEvent,
    ProcessInstance,
    Task,
    Timer,
)
from engine.queries import history_values
from engine.tasks.taskforms import form_for_task
from engine.time.clock import FrozenClock
from engine.time.sla import ServiceClock
from engine.time.timers import TimerSweep
from lspro.certificates import CertificateRegister
from lspro.models import Certificate, Invoice
from tests import instances
from tests.pdfread import pdf_text
from tests.processes.entries import DOC, TEAM, USERS
from tests.processes.steps import MORE_ROLES, USER_TASKS
from tests.settings import LSPRO

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
NTPN = "0A1B2C3D4E5F6G7H"  # the bank's transaction number on a payment notice


def _username(who: str | Actor) -> str:
    return who.username if isinstance(who, Actor) else who


class Driver:
    """Drives an engine and its frozen clock as the users, the bank and the lab do.

    ``users`` names who acts for each role when a test names nobody: a username,
    or an :class:`Actor` whose access to each task is then checked as the API
    checks it. ``defaults`` are the entries each form is given unless a test says
    otherwise (element id -> field -> value).
    """

    def __init__(self, engine: Engine, clock: FrozenClock, *,
                 users: Mapping[str, str | Actor] = USERS,
                 defaults: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.users = users
        self.defaults = defaults or {}
        # One scheduler for the whole test: its SLA check remembers how far it got.
        self.scheduler = TimerSweep(engine)

    def add_team(self, team: Mapping[str, tuple[str, str]] = TEAM) -> None:
        """Create the staff the team proposal picks from (user name -> role, full name)."""
        with self.engine.write() as s:
            for username, (role, full_name) in team.items():
                s.identity.add_user(username, "rahasia-tim-2027", roles=[role],
                                    display_name=full_name)

    # -- deploying and starting ---------------------------------------------------------------

    def deploy(self, *paths: Path) -> DeploymentResult:
        """Deploy ``paths`` (all of processes/ and forms/ by default), as ``sertiflow run``."""
        return self.engine.deploy_paths(list(paths or (PROCESSES, FORMS)), actor="analyst")

    def start(self, key: str, *, actor: str | Actor | None = None, company: str | None = None,
              business_key: str | None = None,
              variables: Mapping[str, Any] | None = None) -> str:
        """Start the latest version of process ``key``; return the instance's id."""
        with self.engine.write() as s:
            return s.start_instance(
                key, business_key=business_key, company=company,
                actor=None if actor is None else _username(actor),
                variables=None if variables is None else dict(variables)).id

    # -- completing tasks -----------------------------------------------------------------------

    def check_task(self, task: Task) -> None:
        """The task belongs to its lane's role (steps.USER_TASKS), due by its working-day SLA."""
        role, due = USER_TASKS[task.element_id]
        assert task.lane == role, task.element_id
        if task.candidate_users or task.assignee:
            # Named people (an appeal panel, the audit team picked at s03), no role.
            assert task.candidate_groups == [], task.element_id
        else:
            roles = [role, *MORE_ROLES.get(task.element_id, ())]
            assert sorted(task.candidate_groups) == sorted(roles), task.element_id
        if due is not None:
            assert instances.element_properties(self.engine, task)["calendar"] == "working-days", \
                task.element_id
            assert task.due_at == self.engine.calendar.add(task.created_at, due), task.element_id

    def complete(self, instance_id: str, element: str,
                 values: Mapping[str, Any] | None = None, *, actor: str | Actor | None = None,
                 documents: Iterable[str] = ()) -> Task:
        """Complete the ready task of ``element`` as its assignee, else a user of its role
        (or ``actor``).

        The task is checked first (:meth:`check_task`). The form is given the step's
        ``defaults`` merged with ``values``; each ``DOC`` value, and each field named
        in ``documents`` (``dok_`` may be left off), becomes a document uploaded to
        the task. Every field given must reach the process.
        """
        task = self.task_of(instance_id, element)
        self.check_task(task)
        # A task given to a named person (the lead auditor picked at s03) is theirs.
        who = actor or task.assignee or self.users[USER_TASKS[element][0]]
        data = {**self.defaults.get(element, {}), **(values or {})}
        for name in documents:
            data[name if name.startswith("dok_") else f"dok_{name}"] = DOC
        for field, value in list(data.items()):
            if value is DOC:
                data[field] = self.upload(task, field, _username(who))
        cleaned = self.submit(task, data, who)
        assert set(cleaned) == set(data), "the form dropped a submitted field"
        return task

    def submit(self, task: Task, data: Mapping[str, Any], actor: str | Actor) -> dict[str, Any]:
        """Submit ``task``'s form as the API does; return what was stored.

        An :class:`Actor` must be allowed to act on the task (engine.queries).
        """
        with self.engine.write() as s:
            if isinstance(actor, Actor):
                row: Task | None = s.queries.actionable_task(actor, task.id)
            else:
                row = s.session.get(Task, task.id)
            assert row is not None
            form = form_for_task(s.session, row)
            assert form is not None and form.form_id == task.element_id
            cleaned, _ = s.submit_task(row.id, data, actor=actor)
            return cleaned

    def walk(self, instance_id: str, script: Iterable[tuple[str, Mapping[str, Any]]], *,
             hours: float = 1) -> None:
        """Complete each (element, values) in turn, ``hours`` after the previous one."""
        for element, values in script:
            self.clock.advance(timedelta(hours=hours))
            self.complete(instance_id, element, values)

    def upload(self, task: Task, field: str, user: str) -> dict[str, Any]:
        """Upload a small PDF for a form's file field; return what the form submits."""
        content = PDF + f"% {task.element_id} {field}\n".encode()
        with self.engine.write() as s:
            document = s.documents.upload(
                task.instance_id, io.BytesIO(content), filename=f"{field}.pdf",
                content_type="application/pdf", uploaded_by=user, task_id=task.id, field=field)
            return s.documents.reference(document)

    # -- the people outside ---------------------------------------------------------------------

    def message(self, name: str, *, business_key: str, variables: Mapping[str, Any],
                actor: str) -> None:
        """Another system's message, correlated by business key."""
        with self.engine.write() as s:
            s.runtime.correlate_message(name, business_key=business_key,
                                        variables=dict(variables), actor=actor)

    def pay(self, instance_id: str, *, kode_billing: str | None = None, ntpn: str = NTPN,
            on: date | None = None) -> date:
        """The bank's payment notice for the bill of an instance; returns the day paid.

        The bill is the instance's ``kode_billing`` unless another is named; the
        notice is correlated by the instance's business key, as the bank's is, and
        says the bill was paid ``on`` (today).
        """
        code = kode_billing or self.variables(instance_id)["kode_billing"]
        business_key = self.business_key(instance_id)
        assert business_key is not None, instance_id
        day = on or self.today()
        self.message("pembayaran_diterima", business_key=business_key, actor="bank-persepsi",
                     variables={"kode_billing": code, "ntpn": ntpn,
                                "tanggal_bayar": day.isoformat()})
        return day

    def lab_report(self, business_key: str, report: Mapping[str, Any]) -> None:
        """The laboratory's test report on an application's samples."""
        self.message("hasil_uji_diterima", business_key=business_key, variables=report,
                     actor="laboratorium")

    def issue_certificate(self, **details: Any) -> Certificate:
        """A certificate issued today through the register, as the grant issues one.

        ``details`` are the register's: company, product_code, sni, brands and
        application_number; the scheme is type 5 and the head of the LSPro signs.
        """
        with self.engine.write() as s:
            issued = CertificateRegister(s.session, self.engine.clock, LSPRO).issue(
                scheme_type=5, actor="hadi.kepala-balai", **details)
            s.session.expunge(issued)
            return issued

    # -- time -------------------------------------------------------------------------------------

    def today(self) -> date:
        """The date now in the LSPro's time zone."""
        return self.clock.now().astimezone(self.engine.settings.timezone).date()

    def sweep(self) -> int:
        """Fire the timers due now, as the scheduler does; return how many instances."""
        return self.scheduler.run_once()

    def sweep_at(self, moment: datetime) -> int:
        """Move the clock to ``moment`` and fire what is due then."""
        self.clock.set(moment)
        return self.sweep()

    def check_slas(self) -> tuple[int, int]:
        """The scheduler's SLA check: (breaches recorded, notifications sent)."""
        return self.scheduler.run_sla_once()

    # -- reading an instance ---------------------------------------------------------------------

    def ready(self, instance_id: str) -> list[Task]:
        return instances.ready(self.engine, instance_id)

    def ready_ids(self, instance_id: str) -> list[str]:
        return instances.ready_ids(self.engine, instance_id)

    def task_of(self, instance_id: str, element: str) -> Task:
        return instances.task_of(self.engine, instance_id, element)

    def variables(self, instance_id: str) -> dict[str, Any]:
        return instances.variables(self.engine, instance_id)

    def instance(self, instance_id: str) -> ProcessInstance:
        with self.engine.read() as s:
            found = s.runtime.instance(instance_id)
            s.session.expunge(found)
            return found

    def status(self, instance_id: str) -> str:
        return self.instance(instance_id).status

    def business_key(self, instance_id: str) -> str | None:
        return self.instance(instance_id).business_key

    def status_and_key(self, instance_id: str) -> tuple[str, str | None]:
        found = self.instance(instance_id)
        return found.status, found.business_key

    def instances_of(self, key: str) -> list[ProcessInstance]:
        """Every instance of process ``key``."""
        with self.engine.read() as s:
            found = list(s.session.scalars(sa.select(ProcessInstance).where(
                ProcessInstance.definition_key == key)))
            s.session.expunge_all()
            return found

    def timers(self, instance_id: str) -> list[Timer]:
        with self.engine.read() as s:
            found = list(s.session.scalars(
                sa.select(Timer).where(Timer.instance_id == instance_id)))
            s.session.expunge_all()
            return found

    def timers_due(self, instance_id: str) -> dict[str, datetime]:
        """Element -> due time, of the instance's timers."""
        return {t.element_id: t.due_at for t in self.timers(instance_id)}

    def waits_for(self, instance_id: str, message: str) -> bool:
        """Whether the instance waits for ``message`` (it never waits twice for one)."""
        with self.engine.read() as s:
            count = s.session.scalar(sa.select(sa.func.count()).select_from(
                EventSubscription).where(EventSubscription.instance_id == instance_id,
                                         EventSubscription.name == message))
        assert count is not None and count <= 1, (message, count)
        return count == 1

    def service_clock(self, instance_id: str) -> ServiceClock:
        with self.engine.read() as s:
            return s.service_clocks.of(s.runtime.instance(instance_id))

    # -- reading the history ----------------------------------------------------------------------

    def events(self, instance_id: str, *kinds: str) -> list[HistoryEvent]:
        """The instance's history events of ``kinds``, in order."""
        with self.engine.read() as s:
            found = list(s.session.scalars(
                sa.select(HistoryEvent).where(HistoryEvent.instance_id == instance_id,
                                              HistoryEvent.kind.in_(kinds))
                .order_by(HistoryEvent.id)))
            # As the history reads them: what the rows keep elsewhere put back.
            history_values.resolve(s.session, found)
            s.session.expunge_all()
            return found

    def history(self, instance_id: str, kind: str) -> list[str | None]:
        """The element of each history event of ``kind``, in order."""
        return [event.element_id for event in self.events(instance_id, kind)]

    def completed_tasks(self, instance_id: str) -> list[str]:
        """The elements of the user tasks completed, in order."""
        return [e for e in self.history(instance_id, "task_completed") if e is not None]

    # -- documents, bills -------------------------------------------------------------------------

    def documents(self, instance_id: str) -> list[Document]:
        """The instance's documents, uploaded and generated, oldest first."""
        with self.engine.read() as s:
            found = list(s.session.scalars(sa.select(Document).where(
                Document.instance_id == instance_id).order_by(Document.uploaded_at,
                                                              Document.name)))
            s.session.expunge_all()
            return found

    def document(self, document_id: str) -> Document:
        with self.engine.read() as s:
            found = s.session.get(Document, document_id)
            assert found is not None, document_id
            s.session.expunge(found)
            return found

    def document_text(self, document_id: str) -> tuple[Document, str]:
        """A document with its text (a PDF's as extracted, white space runs as one space)."""
        with self.engine.read() as s:
            found = s.documents.get(document_id)
            with s.documents.open(found) as file:
                content = file.read()
            text = (pdf_text(content) if found.content_type == "application/pdf"
                    else content.decode("utf-8"))
            s.session.expunge(found)
            return found, text

    def letter_text(self, instance_id: str, document_id: str) -> str:
        """The text of a letter the instance generated (it must belong to the instance)."""
        found, text = self.document_text(document_id)
        assert found.instance_id == instance_id
        assert found.content_type == "application/pdf"
        return text

    def letter(self, instance_id: str, template: str) -> str:
        """The text of the one letter ``template`` that the instance generated.

        letter.generate stores it as ``dokumen_<template>`` and numbers it in
        ``nomor_surat_<template>``; the number is in the text.
        """
        data = self.variables(instance_id)
        with self.engine.read() as s:
            (stored,) = s.session.scalars(sa.select(Document.id).where(
                Document.instance_id == instance_id,
                Document.field == f"dokumen_{template}")).all()
        assert stored == data[f"dokumen_{template}"]
        text = self.letter_text(instance_id, stored)
        assert data[f"nomor_surat_{template}"] in text
        return text

    def letters(self, instance_id: str) -> dict[str, str]:
        """The instance's documents: form field (or name) -> content type."""
        return {d.field or d.name: d.content_type for d in self.documents(instance_id)}

    def invoices(self, subject: str) -> list[Invoice]:
        """The bills of an application or a certificate, oldest first."""
        with self.engine.read() as s:
            found = list(s.session.scalars(
                sa.select(Invoice).where(Invoice.subject == subject).order_by(Invoice.issued_at)))
            s.session.expunge_all()
            return found
