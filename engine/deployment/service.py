"""Deploy BPMN and form files: validate everything, then version what changed.

A deployment is all or nothing: every file is checked first, and one problem
anywhere refuses the whole deployment before a row is written. Versions are
per process key (per form id for forms): content identical to the latest
version is not a new version; anything else becomes version n+1. Instances keep
the version they started on.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.bpmn.compiler import CompiledProcess, compile_processes
from engine.bpmn.validation import BpmnDocument, References, check_references, read_bpmn
from engine.errors import DeploymentRejected, NotFound, Problem
from engine.models import Deployment, DeploymentResource, FormDefinition, ProcessDefinition
from engine.persistence.direct import Direct
from engine.tasks.forms import FormDocument, read_form
from engine.time.clock import Clock
from engine.time.start_timers import StartTimers

BPMN_SUFFIXES = (".bpmn", ".bpmn20.xml", ".bpmn2")
FORM_SUFFIXES = (".form",)


@dataclass(frozen=True)
class DeployedProcess:
    id: str
    key: str
    version: int
    name: str | None
    resource_name: str
    unchanged: bool
    #: What runs, but maybe not as the analyst meant (a task nobody was named for).
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeployedForm:
    form_id: str
    version: int
    resource_name: str
    unchanged: bool


@dataclass(frozen=True)
class DeploymentResult:
    deployment_id: str | None
    processes: list[DeployedProcess] = field(default_factory=list)
    forms: list[DeployedForm] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(not p.unchanged for p in self.processes) or any(
            not f.unchanged for f in self.forms
        )


class DeploymentService:
    """Validates and stores deployments; looks definitions up."""

    def __init__(self, session: Session, clock: Clock, *, topics: Collection[str],
                 start_timers: StartTimers | None = None) -> None:
        self.session = session
        self.clock = clock
        self.topics = set(topics)
        self.start_timers = start_timers

    # -- deploying ------------------------------------------------------------

    def deploy(
        self,
        files: Sequence[tuple[str, bytes]],
        *,
        actor: str | None = None,
        name: str = "sertiflow",
        source: str = "api",
    ) -> DeploymentResult:
        """Validate ``files`` (name, content) and store the new versions.

        :raises DeploymentRejected: listing every problem found; nothing is stored.
        """
        problems: list[Problem] = []
        docs: list[BpmnDocument] = []
        forms: list[FormDocument] = []
        if not files:
            raise DeploymentRejected([Problem("(none)", "no files to deploy")])
        for file_name, content in files:
            lowered = file_name.lower()
            if len(file_name) > MAX_NAME:
                problems.append(Problem(file_name[:60] + "…", f"the file name is longer than "
                                        f"{MAX_NAME} characters: give the file a shorter name"))
            elif lowered.endswith(BPMN_SUFFIXES):
                doc = read_bpmn(file_name, content)
                problems.extend(doc.problems)
                problems.extend(Problem(file_name, f"the process id is longer than {MAX_KEY} "
                                        "characters: give the process a shorter id",
                                        element=key[:60] + "…", line=doc.line_of(key))
                                for key in doc.executable if len(key) > MAX_KEY)
                docs.append(doc)
            elif lowered.endswith(FORM_SUFFIXES):
                form = read_form(file_name, content)
                if not isinstance(form, Problem) and len(form.form_id) > MAX_NAME:
                    form = Problem(file_name, f"the form id is longer than {MAX_NAME} "
                                   "characters: give the form a shorter id")
                if isinstance(form, Problem):
                    problems.append(form)
                else:
                    forms.append(form)
            else:
                problems.append(Problem(file_name, "unsupported file type: deploy .bpmn "
                                        "diagrams and .form Camunda Forms"))
        problems.extend(_duplicates(docs, forms))
        if problems:
            raise DeploymentRejected(problems)

        refs = self._references(docs, forms)
        for doc in docs:
            problems.extend(check_references(doc, refs))
        if problems:
            raise DeploymentRejected(problems)

        compiled, compile_problems = compile_processes(docs, self._deployed_specs(docs))
        if compile_problems:
            raise DeploymentRejected(compile_problems)
        return self._store(files, docs, forms, compiled, actor=actor, name=name, source=source)

    def _references(self, docs: list[BpmnDocument], forms: list[FormDocument]) -> References:
        deployed_keys = set(self.session.scalars(sa.select(ProcessDefinition.key).distinct()))
        deployed_forms = self.session.execute(
            sa.select(FormDefinition.form_id, FormDefinition.resource_name).distinct()
        ).all()
        return References(
            process_keys=deployed_keys | {k for d in docs for k in d.executable},
            form_ids={f.form_id for f in forms} | {row[0] for row in deployed_forms},
            form_files={_base(f.name) for f in forms} | {_base(row[1]) for row in deployed_forms},
            topics=self.topics,
        )

    def _deployed_specs(self, docs: list[BpmnDocument]) -> dict[str, dict[str, Any]]:
        local = {k for d in docs for k in d.executable}
        wanted = {c for d in docs for c in d.called} - local
        found: dict[str, dict[str, Any]] = {}
        for key in wanted:
            latest = self._latest_or_none(key)
            if latest is not None:
                found[key] = latest.spec
        return found

    def _store(
        self,
        files: Sequence[tuple[str, bytes]],
        docs: list[BpmnDocument],
        forms: list[FormDocument],
        compiled: dict[str, CompiledProcess],
        *,
        actor: str | None,
        name: str,
        source: str,
    ) -> DeploymentResult:
        now = self.clock.now()
        contents = dict(files)
        # A deployment's name is for people (the files it came from): kept short, never refused.
        deployment = Deployment(id=str(uuid.uuid4()), name=_shown(name) or "", source=source,
                                deployed_at=now, deployed_by=actor)
        new_rows: list[Any] = []
        result_forms = [self._version_form(f, contents[f.name], deployment, now, new_rows)
                        for f in forms]
        hashes: dict[str, str] = {}
        result_processes = [
            self._version_process(compiled[key], contents, hashes, deployment, now, new_rows)
            for key in _call_order(compiled)
        ]
        if not new_rows:
            return DeploymentResult(None, result_processes, result_forms)
        self.session.add(deployment)
        self.session.flush()  # the versions below reference the deployment row
        self.session.add_all(new_rows)
        if self.start_timers is not None:
            self.session.flush()
            for row in new_rows:
                if isinstance(row, ProcessDefinition):
                    self.start_timers.schedule(row)
        for file_name, content in files:
            self.session.add(DeploymentResource(
                deployment_id=deployment.id, name=file_name,
                kind="form" if file_name.lower().endswith(FORM_SUFFIXES) else "bpmn",
                sha256=hashlib.sha256(content).hexdigest(), content=content,
            ))
        self.session.flush()
        return DeploymentResult(deployment.id, result_processes, result_forms)

    def _version_form(
        self, form: FormDocument, content: bytes, deployment: Deployment, now: Any,
        new_rows: list[Any],
    ) -> DeployedForm:
        digest = hashlib.sha256(content).hexdigest()
        latest = self.session.scalars(
            sa.select(FormDefinition).where(FormDefinition.form_id == form.form_id)
            .order_by(FormDefinition.version.desc()).limit(1)
        ).first()
        if latest is not None and latest.content_hash == digest:
            return DeployedForm(form.form_id, latest.version, form.name, unchanged=True)
        version = latest.version + 1 if latest else 1
        new_rows.append(FormDefinition(
            form_id=form.form_id, version=version, resource_name=form.name,
            content_hash=digest, deployment_id=deployment.id, schema=form.schema,
            deployed_at=now,
        ))
        return DeployedForm(form.form_id, version, form.name, unchanged=False)

    def _version_process(
        self,
        process: CompiledProcess,
        contents: dict[str, bytes],
        hashes: dict[str, str],
        deployment: Deployment,
        now: Any,
        new_rows: list[Any],
    ) -> DeployedProcess:
        # The hash covers the file and the versions of the processes it calls, so
        # a caller is re-versioned when what it calls has changed.
        digest = hashlib.sha256(contents[process.resource_name])
        for called in sorted(process.called_keys):
            called_hash = hashes.get(called)
            if called_hash is None:
                latest_called = self._latest_or_none(called)
                called_hash = latest_called.content_hash if latest_called else ""
            digest.update(called.encode() + b"\0" + called_hash.encode())
        content_hash = digest.hexdigest()
        hashes[process.key] = content_hash
        latest = self._latest_or_none(process.key)
        if latest is not None and latest.content_hash == content_hash:
            return DeployedProcess(latest.id, latest.key, latest.version, latest.name,
                                   latest.resource_name, unchanged=True,
                                   warnings=process.warnings)
        version = latest.version + 1 if latest else 1
        definition = ProcessDefinition(
            id=f"{process.key}:{version}:{content_hash[:12]}", key=process.key,
            version=version, name=_shown(process.name), content_hash=content_hash,
            deployment_id=deployment.id, resource_name=process.resource_name,
            bpmn_xml=contents[process.resource_name].decode("utf-8"),
            spec=process.stored_spec, deployed_at=now,
        )
        new_rows.append(definition)
        return DeployedProcess(definition.id, definition.key, version, definition.name,
                               definition.resource_name, unchanged=False,
                               warnings=process.warnings)

    # -- looking up -------------------------------------------------------------

    def _latest_or_none(self, key: str) -> ProcessDefinition | None:
        return latest_definition(self.session, key)

    def latest_ref(self, key: str) -> DefinitionRef:
        """The id and key of the newest version of process ``key`` (what a start needs).

        :raises NotFound: when no version of ``key`` is deployed.
        """
        found = latest_definition_ref(self.session, key)
        if found is None:
            raise not_deployed(key)
        return found

    def latest(self, key: str) -> ProcessDefinition:
        """Return the newest version of process ``key``.

        :raises NotFound: when no version of ``key`` is deployed.
        """
        definition = self._latest_or_none(key)
        if definition is None:
            raise not_deployed(key)
        return definition

    def get(self, definition_id: str) -> ProcessDefinition:
        definition = self.session.get(ProcessDefinition, definition_id)
        if definition is None:
            raise no_definition(definition_id)
        return definition

    def definitions(
        self, *, key: str | None = None, latest: bool = False
    ) -> list[ProcessDefinition]:
        query = sa.select(ProcessDefinition).order_by(ProcessDefinition.key,
                                                      ProcessDefinition.version)
        if latest:
            return [d for d in latest_definitions(self.session) if key is None or d.key == key]
        if key is not None:
            query = query.where(ProcessDefinition.key == key)
        return list(self.session.scalars(query))

    def latest_form(self, form_id: str) -> FormDefinition:
        form = self.session.scalars(
            sa.select(FormDefinition).where(
                sa.or_(FormDefinition.form_id == form_id,
                       FormDefinition.resource_name == form_id))
            .order_by(FormDefinition.version.desc()).limit(1)
        ).first()
        if form is None:
            raise NotFound(f"no form '{form_id}' is deployed")
        return form


# Every start asks for it: built once.
_LATEST = (sa.select(ProcessDefinition).where(ProcessDefinition.key == sa.bindparam("key"))
           .order_by(ProcessDefinition.version.desc()).limit(1))


def latest_definition(session: Session, key: str) -> ProcessDefinition | None:
    """Return the newest version of process ``key``, if any."""
    return session.scalars(_LATEST, {"key": key}).first()


class DefinitionRef(NamedTuple):
    """A process definition version by its id and key, read without the ORM: all a
    start asks of it (the spec comes from the in-process cache)."""

    id: str
    key: str


# Every start asks for one of these: on the driver's cursor (engine.persistence.direct),
# where the ORM's query with its loaded object cost several times the statement.
_LATEST_REF = Direct(sa.select(ProcessDefinition.id, ProcessDefinition.key)
                     .where(ProcessDefinition.key == sa.bindparam("key"))
                     .order_by(ProcessDefinition.version.desc()).limit(1))
_REF = Direct(sa.select(ProcessDefinition.id, ProcessDefinition.key)
              .where(ProcessDefinition.id == sa.bindparam("id")))


# session.info key: the versions this transaction found by key, by id. A start's
# caller reads the latest version to check who may start it, and the start then asks
# for that same id: answered from here, it costs no second statement (a round trip on
# PostgreSQL). A session is one transaction (Database.write), so nothing here is stale.
_FOUND = "deployment.definition_refs"


def latest_definition_ref(session: Session, key: str) -> DefinitionRef | None:
    """The id and key of the newest version of process ``key``, if any."""
    row = _LATEST_REF.first(session.connection(), {"key": key})
    if row is None:
        return None
    found = DefinitionRef(*row)
    session.info.setdefault(_FOUND, {})[found.id] = found
    return found


def definition_ref(session: Session, definition_id: str) -> DefinitionRef | None:
    """The id and key of definition version ``definition_id``, if it exists."""
    found: DefinitionRef | None = session.info.get(_FOUND, {}).get(definition_id)
    if found is not None:
        return found
    row = _REF.first(session.connection(), {"id": definition_id})
    return None if row is None else DefinitionRef(*row)


def not_deployed(key: str) -> NotFound:
    """The error of a process key with no version deployed."""
    return NotFound(f"no process with key '{key}' is deployed")


def no_definition(definition_id: str) -> NotFound:
    """The error of a definition version id that names none."""
    return NotFound(f"no process definition '{definition_id}'")


def latest_definitions(session: Session) -> list[ProcessDefinition]:
    """Return the newest version of every process key, ordered by key."""
    newest = (sa.select(ProcessDefinition.key, sa.func.max(ProcessDefinition.version).label("v"))
              .group_by(ProcessDefinition.key).subquery())
    return list(session.scalars(
        sa.select(ProcessDefinition)
        .join(newest, sa.and_(ProcessDefinition.key == newest.c.key,
                              ProcessDefinition.version == newest.c.v))
        .order_by(ProcessDefinition.key)))


# The length of the names a deployment stores (columns of 255 characters); a
# definition's id is its process id with ":<version>:<hash>" after it.
MAX_NAME = 255
MAX_KEY = 200


def _shown(name: str | None) -> str | None:
    """A name shown to people, cut to what its column holds."""
    return name if name is None or len(name) <= MAX_NAME else name[:MAX_NAME - 1] + "…"


def _base(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def _duplicates(docs: list[BpmnDocument], forms: list[FormDocument]) -> list[Problem]:
    problems = []
    seen: dict[str, str] = {}
    for doc in docs:
        for key in doc.executable:
            if key in seen:
                problems.append(Problem(doc.name, f"process id '{key}' is also defined in "
                                        f"{seen[key]}", key, doc.line_of(key)))
            seen[key] = doc.name
    form_seen: dict[str, str] = {}
    for form in forms:
        if form.form_id in form_seen:
            problems.append(Problem(form.name, f"form id '{form.form_id}' is also used by "
                                    f"{form_seen[form.form_id]}"))
        form_seen[form.form_id] = form.name
    return problems


def _call_order(compiled: dict[str, CompiledProcess]) -> list[str]:
    """Order keys so that a called process is versioned before its callers."""
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(key: str) -> None:
        if key in ordered or key in visiting or key not in compiled:
            return
        visiting.add(key)
        for called in sorted(compiled[key].called_keys):
            visit(called)
        visiting.discard(key)
        ordered.append(key)

    for key in sorted(compiled):
        visit(key)
    return ordered
