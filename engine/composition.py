"""The composition root: one object that builds the engine's services.

The edge (CLI, web request, scheduler job) holds one :class:`Engine` per
process, opens a transaction with :meth:`Engine.write` or :meth:`Engine.read`,
and asks for the services it needs with that session.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from engine.config import Settings
from engine.deployment.service import (
    BPMN_SUFFIXES,
    FORM_SUFFIXES,
    DeploymentResult,
    DeploymentService,
)
from engine.documents.rendering import QUEUED, RenderQueue
from engine.documents.service import DocumentService
from engine.documents.store import FileStore
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.extensions import Entry, Extension, Setup, load
from engine.identity.access import ADMIN, ANALYST, CUSTOMER, Actor
from engine.identity.tokens import TokenCache
from engine.identity.users import IdentityService
from engine.identity.verified import VerifiedCredentials
from engine.persistence.db import Database
from engine.queries import history_documents
from engine.queries.awaited import AwaitedWork, Catalogue
from engine.queries.lists import Queries, check_actionable
from engine.runtime.cache import SpecCache, WorkflowCache
from engine.runtime.commands import Completion, Runtime, RuntimeSettings, check_variables
from engine.runtime.handlers import HandlerContext, TopicRegistry
from engine.runtime.links import register_links
from engine.runtime.routing import broadcast_signal
from engine.runtime.service_call import ServiceCall
from engine.runtime.store import InstanceRow, TaskRecord
from engine.tasks.option_lists import engine_option_lists
from engine.tasks.taskforms import (
    check_file_references,
    check_submission,
    form_by_id,
    form_for_task,
)
from engine.time.calendar import WorkingCalendar, duration_adder
from engine.time.clock import Clock, SystemClock
from engine.time.sla import ServiceClocks, SlaMonitor
from engine.time.start_timers import StartTimers

T = TypeVar("T")
# The roles the engine itself knows; extensions add their staff roles before them.
ENGINE_ROLES = (CUSTOMER, ADMIN, ANALYST)


class Services:
    """The services bound to one transaction, each built when first asked for.

    A request uses two or three of them; building all nine for each one cost
    more than some requests' own work.
    """

    def __init__(self, engine: Engine, session: Session) -> None:
        self.session = session
        self._engine = engine
        self._extension_services: dict[type, Any] = {}

    @property
    def engine(self) -> Engine:
        return self._engine

    def get(self, kind: type[T]) -> T:
        """The service ``kind`` an extension registered, built once for this transaction.

        :raises LookupError: when no loaded extension provides it.
        """
        found = self._extension_services.get(kind)
        if found is None:
            found = self._extension_services[kind] = self._engine.setup.factory(kind)(self)
        return found

    @cached_property
    def documents(self) -> DocumentService:
        engine = self._engine
        return DocumentService(self.session, engine.clock, engine.file_store,
                               max_bytes=engine.settings.upload_max_bytes,
                               visibility=engine.setup.visibility,
                               render=engine.renders.render_now)

    @cached_property
    def runtime(self) -> Runtime:
        engine = self._engine

        def dispatch(call: ServiceCall) -> Mapping[str, Any] | None:
            return engine.topics.dispatch(call, self._handler_context)

        return Runtime(self.session, engine.clock, specs=engine.specs,
                       workflows=engine.workflows, dispatch=dispatch,
                       settings=engine.runtime_settings, awaited=engine.awaited_catalogue)

    @cached_property
    def _handler_context(self) -> HandlerContext:
        engine = self._engine
        return HandlerContext(session=self.session, clock=engine.clock,
                              settings=engine.settings, calendar=engine.calendar,
                              documents=self.documents, runtime=self.runtime,
                              services=self)

    @cached_property
    def deployments(self) -> DeploymentService:
        engine = self._engine
        return DeploymentService(self.session, engine.clock, topics=engine.topics.topics(),
                                 start_timers=engine.start_timers(self.session))

    @cached_property
    def queries(self) -> Queries:
        return Queries(self.session)

    @cached_property
    def awaited(self) -> AwaitedWork:
        """The messages instances wait for that people record (``recordedBy``)."""
        return AwaitedWork(self.session, self._engine.awaited_catalogue,
                           lambda definition_id: self.runtime.stored_spec(definition_id))

    @cached_property
    def identity(self) -> IdentityService:
        engine = self._engine
        return IdentityService(
            self.session, engine.clock,
            token_ttl=timedelta(hours=engine.settings.token_ttl_hours), cache=engine.tokens,
            verified=engine.verified, roles=engine.roles)

    @cached_property
    def sla(self) -> SlaMonitor:
        return SlaMonitor(self.session, self._engine.clock,
                          escalation=self._engine.setup.escalation)

    @cached_property
    def service_clocks(self) -> ServiceClocks:
        return ServiceClocks(self.session, self._engine.clock, self._engine.calendar,
                             outside=frozenset(self._engine.setup.outside_roles))

    def _checked_documents(self, document_ids: list[str]) -> dict[str, Any]:
        """The documents a form refers to, in one read; the history then stores only
        their ids."""
        found = self.documents.by_ids(document_ids)
        for document in found.values():
            history_documents.at_hand(self.session, document)
        return found

    def submit_task(self, task_id: str, data: Mapping[str, Any], *, actor: Actor | str
                    ) -> tuple[dict[str, Any], Completion]:
        """Complete a task with a form submission, as every edge does.

        One read brings the task, its instance and its state (locked on
        PostgreSQL). An :class:`Actor` must be allowed to act on that row
        (NotFound if they may not see it, Forbidden if they only see it); a bare
        user name is trusted (scripts and tests acting for someone). The data is then
        checked against the task's form with the task's current data taken from
        the workflow the command holds (one message per field in error), file
        fields must point to documents of this instance, and only what passed
        reaches the process. Returns the stored values and the completion, whose
        ``task`` is the row as read (before the completion).

        :raises InvalidInput: when the submission does not fit the form.
        """
        cleaned: dict[str, Any] = dict(data)

        def admit(task: TaskRecord) -> None:
            if isinstance(actor, Actor):
                check_actionable(actor, task_id, task)

        def prepare(task: TaskRecord, current: Mapping[str, Any], sent: Mapping[str, Any]
                    ) -> Mapping[str, Any]:
            nonlocal cleaned
            form = form_for_task(self.session, task)
            if form is None:
                return cleaned
            # A choice from an engine-filled list (users of a role) is checked
            # against that list as it is now.
            cleaned = check_submission(form, sent, current,
                                       engine_option_lists(self.session, form))
            check_file_references(form, cleaned, task.instance_id, self._checked_documents)
            self.check_entry(form.form_id or task.element_id, cleaned, current,
                             instance_id=task.instance_id)
            return cleaned

        done = self.runtime.complete_task(
            task_id, data, actor=actor.username if isinstance(actor, Actor) else actor,
            admit=admit, prepare=prepare)
        return cleaned, done

    def check_entry(self, form_id: str, values: Mapping[str, Any],
                    variables: Mapping[str, Any], *, instance_id: str | None) -> None:
        """Run the extensions' checkers of form ``form_id`` (``Setup.check``) on
        values that already fit the form.

        :raises InvalidInput: naming every field a checker refused.
        """
        errors: dict[str, str] = {}
        for checker in self._engine.setup.entry_checks.get(form_id, ()):
            entry = Entry(form_id=form_id, values=values, variables=variables,
                          services=self, instance_id=instance_id)
            for key, message in (checker(entry) or {}).items():
                errors.setdefault(key, message)
        if errors:
            raise InvalidInput("the form has errors", errors)

    def start_instance(self, key: str, *, variables: Mapping[str, Any] | None = None,
                       company: str | None = None, **options: Any) -> InstanceRow:
        """Start an instance for a person, as every edge does (``runtime.start_instance``).

        The extensions' start variables (``Setup.start_variables``) come first; the
        variables sent win over them.
        """
        started_with: dict[str, Any] = {}
        for build in self._engine.setup.start_builders:
            started_with.update(build(self, key, company))
        return self.runtime.start_instance(key, variables={**started_with, **(variables or {})},
                                           company=company, **options)

    def hand_over(self, actor: Actor, task_id: str, *, assignee: str | None,
                  roles: list[str] | None) -> None:
        """An admin gives a task to a user and/or roles, as every edge does.

        :raises NotFound: when ``actor`` may not see the task.
        :raises Forbidden: when ``actor`` is not an admin.
        :raises InvalidInput: for an unknown user, or neither user nor roles.
        """
        self.queries.task(actor, task_id)
        if not actor.is_admin:
            raise Forbidden("only an admin may hand tasks over")
        if assignee is not None:
            try:
                assignee = self.identity.user(assignee).username
            except NotFound:
                raise InvalidInput(f"no user named {assignee!r}",
                                   {"assignee": "no such user"}) from None
        self.runtime.assign_task(task_id, assignee=assignee, roles=roles,
                                 actor=actor.username)

    def send_message(self, name: str, data: Mapping[str, Any], *, actor: str | None,
                     business_key: str | None = None,
                     instance_id: str | None = None) -> InstanceRow:
        """Deliver message ``name``, checked against its form when one is deployed.

        A Camunda Form whose id is the message's name describes what the message
        carries (staff record it with that form when no other system sends it);
        the data is then checked like a task's submission, and only the form's
        fields reach the process. A message without a form passes as it is.

        :raises InvalidInput: when the data does not fit the message's form.
        """
        form = form_by_id(self.session, name)
        cleaned = dict(data)
        if form is not None:
            target = self.runtime.waiting_instance(name, business_key=business_key,
                                                   instance_id=instance_id)
            current = (self.runtime.variables(self.runtime.instance(target))
                       if target is not None else {})
            cleaned = check_submission(form, data, current)
            check_file_references(form, cleaned, target or "", self._checked_documents)
            self.check_entry(name, cleaned, current, instance_id=target)
        return self.runtime.correlate_message(name, business_key=business_key,
                                              instance_id=instance_id, variables=cleaned,
                                              actor=actor)

    def send_signal(self, name: str, data: Mapping[str, Any], *, actor: str | None) -> int:
        """Broadcast signal ``name`` to every instance waiting for it and start those it
        starts; returns how many instances it reached (none is not an error)."""
        variables = dict(data)
        check_variables(variables)
        return broadcast_signal(self.runtime, name, variables, actor=actor)


class Engine:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        topics: TopicRegistry | None = None,
        extensions: Iterable[Extension] = (),
        database: Database | None = None,
        workflow_cache_size: int = 20_000,
    ) -> None:
        """
        :param topics: the service-task handlers; by default a registry with the
            engine's own topics (:mod:`engine.runtime.links`). Extensions add theirs to it.
        :param extensions: what an organisation brings (:mod:`engine.extensions`).
        """
        self.settings = settings
        self.clock = clock or SystemClock()
        if topics is None:
            topics = TopicRegistry()
            register_links(topics)
        self.topics = topics
        self.extensions = list(extensions)
        self.setup: Setup = load(self.extensions, settings, topics)
        self.roles: tuple[str, ...] = tuple(
            self.setup.known_roles + [r for r in ENGINE_ROLES if r not in self.setup.known_roles])
        self.db = database or Database(settings.database_url)
        self.specs = SpecCache()
        self.awaited_catalogue = Catalogue()
        self.workflows = WorkflowCache(workflow_cache_size)
        self.calendar = WorkingCalendar(settings.timezone, closures=settings.closure_days)
        self.runtime_settings = RuntimeSettings(
            timezone=settings.timezone, script_timeout=settings.script_timeout,
            script_memory_mb=settings.script_memory_mb,
            add_duration=duration_adder(self.calendar, settings.calendar),
            search_variables=tuple(self.setup.search_variables),
        )
        self.file_store = FileStore(settings.documents_path)
        self.tokens = TokenCache()
        self.verified = VerifiedCredentials(
            timedelta(seconds=settings.credential_cache_seconds))
        #: Generated documents still to be made (:mod:`engine.documents.rendering`).
        self.renders = RenderQueue(self.db, self.clock, self.file_store, self.setup.renderers)

    def provided(self, kind: type[T]) -> T:
        """The object of type ``kind`` an extension provided (its settings, say)."""
        return self.setup.provided(kind)

    def services(self, session: Session) -> Services:
        """The services bound to ``session`` (built as they are first used)."""
        return Services(self, session)

    def start_timers(self, session: Session) -> StartTimers:
        return StartTimers(session, self.clock, timezone=self.settings.timezone,
                           add_duration=self.runtime_settings.add_duration)

    @contextmanager
    def write(self) -> Iterator[Services]:
        """One command's transaction, committed when the block ends without error."""
        with self.db.write() as session:
            yield self.services(session)
        if session.info.pop(QUEUED, False):
            self.renders.notify()  # committed: the documents it queued can be made

    @contextmanager
    def read(self) -> Iterator[Services]:
        with self.db.read() as session:
            yield self.services(session)

    def deploy_paths(self, paths: list[Path], *, actor: str | None = None,
                     source: str = "cli") -> DeploymentResult:
        """Deploy every BPMN file (.bpmn, .bpmn20.xml, .bpmn2) and .form file under
        ``paths`` as one deployment; a file named on its own is deployed whatever its name."""
        suffixes = BPMN_SUFFIXES + FORM_SUFFIXES
        files = []
        for path in paths:
            candidates = sorted(path.rglob("*")) if path.is_dir() else [path]
            for file in candidates:
                if file.is_file() and (file.name.lower().endswith(suffixes)
                                       or not path.is_dir()):
                    files.append((file.name, file.read_bytes()))
        with self.write() as services:
            return services.deployments.deploy(files, actor=actor, source=source,
                                               name=", ".join(p.name for p in paths))

    def migrate(self) -> None:
        """Bring the database to the head of the engine's and the extensions' migrations."""
        # Alembic is imported only here: a server's workers never migrate (about 6 MiB).
        from engine.persistence.migrate import upgrade

        upgrade(self.db.engine, extension_folders=self.setup.migration_folders)

    def close(self) -> None:
        self.renders.stop_worker()
        self.db.dispose()
