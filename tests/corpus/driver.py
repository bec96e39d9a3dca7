"""Drive each corpus diagram to its end: through the REST API, and through raw SpiffWorkflow.

:class:`CorpusServer` is a migrated SQLite database, an engine on a frozen
clock and a real HTTP server (Werkzeug, in a thread). :func:`drive` deploys one
diagram over HTTP, starts it, and then, round after round, sends the messages
the manifest names, completes the open user tasks with the manifest's answers
(or the form's default values) and, when the instance only waits for time,
moves the clock past its earliest timer and runs the timer sweep, until the
instance ends or nothing is left to do. :func:`check` compares what happened
with the manifest. :func:`run_raw` runs the same file with SpiffWorkflow 3.2
alone (its Camunda parser and default script engine).

No request may answer 500: :class:`Api` raises :class:`ServerError` if one does.
"""

from __future__ import annotations

import shutil
import tempfile
import tomllib
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from lxml import etree

from engine.composition import Engine
from engine.persistence.db import create_db_engine
from engine.persistence.migrate import upgrade
from engine.runtime.handlers import TopicRegistry
from engine.runtime.service_call import ServiceCall
from engine.time.clock import FrozenClock
from engine.time.timers import TimerSweep
from lspro import LsproExtension
from lspro.extension import MIGRATIONS as LSPRO_MIGRATIONS
from tests.people import COMPANY, PASSWORD, add_users, serving
from tests.settings import LSPRO, settings_for

CORPUS = Path(__file__).resolve().parent
MANIFEST = CORPUS / "manifest.toml"
BPMN_SUFFIXES = (".bpmn", ".bpmn20.xml", ".bpmn2")
START_TIME = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)  # a Monday, 09:00 in Jakarta
MAX_ROUNDS = 40

# user name -> (roles, company). admin1 deploys, reads the instance, lists its tasks and
# sends its messages; the entry's user (admin1 unless it names one) starts it and
# completes its tasks, unless "actors" or the task's assignee say who does.
USERS: dict[str, tuple[list[str], str | None]] = {
    "admin1": (["admin"], None),
    "analyst1": (["analyst"], None),
    "upp1": (["upp"], None),
    "auditor1": (["auditor"], None),
    "ppc1": (["ppc"], None),
    "kepala1": (["kepala-balai"], None),
    "cust1": (["pelanggan"], COMPANY),
}

# "incident" and "stuck" record what a diagram does today because of an engine bug
# (the manifest says so in a "# BUG:" comment): see README.md.
OUTCOMES = ("completed", "refused", "incident", "stuck")
RAW = ("completed", "fails", "skip")
KEYS = {"outcome", "reason", "element", "key", "user", "actors", "start", "start_message",
        "answers", "invalid", "messages", "hold", "expect", "expect_absent", "expect_tasks",
        "raw_spiff", "pending"}

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"


# -- the manifest -------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One manifest entry: a diagram and what running it must show."""

    path: str
    outcome: str
    reason: str | None = None
    element: str | None = None
    key: str | None = None
    user: str = "admin1"
    actors: dict[str, str] = field(default_factory=dict)
    start: dict[str, Any] = field(default_factory=dict)
    start_message: dict[str, Any] | None = None
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    invalid: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    hold: list[str] = field(default_factory=list)
    expect: dict[str, Any] = field(default_factory=dict)
    expect_absent: list[str] = field(default_factory=list)
    expect_tasks: list[str] | None = None
    raw_spiff: str = "skip"
    pending: str | None = None

    @property
    def file(self) -> Path:
        return CORPUS / self.path

    @property
    def family(self) -> str:
        return str(Path(self.path).parent)


def corpus_files() -> list[str]:
    """Every diagram file under the corpus folder, as a path relative to it."""
    return sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*")
                  if p.is_file() and p.name.lower().endswith(BPMN_SUFFIXES))


def load_manifest(path: Path = MANIFEST) -> list[Entry]:
    """Read and check the manifest: one valid entry per diagram file, no more, no less."""
    with path.open("rb") as handle:
        tables = tomllib.load(handle)
    entries = []
    for name, table in tables.items():
        unknown = set(table) - KEYS
        if unknown:
            raise ValueError(f"{name}: unknown manifest keys {sorted(unknown)}")
        entry = Entry(path=name, **table)
        if entry.outcome not in OUTCOMES:
            raise ValueError(f"{name}: outcome must be one of {OUTCOMES}")
        if entry.raw_spiff not in RAW:
            raise ValueError(f"{name}: raw_spiff must be one of {RAW}")
        if entry.outcome in ("refused", "incident") and not entry.reason:
            raise ValueError(f"{name}: a {entry.outcome} entry needs the message it gives")
        if entry.outcome == "stuck" and not entry.element:
            raise ValueError(f"{name}: a stuck entry names the element it waits at")
        if entry.outcome == "completed" and not entry.expect and entry.expect_tasks is None:
            raise ValueError(f"{name}: a completed entry must check something "
                             "(expect or expect_tasks)")
        entries.append(entry)
    listed = {e.path for e in entries}
    on_disk = set(corpus_files())
    if listed != on_disk:
        raise ValueError(f"manifest and files differ: not in the manifest "
                         f"{sorted(on_disk - listed)}, no such file {sorted(listed - on_disk)}")
    return entries


def start_key(entry: Entry) -> str:
    """The process to start: the manifest's ``key``, else the first executable process
    of the file that no call activity of the file calls."""
    if entry.key:
        return entry.key
    root = etree.parse(str(entry.file)).getroot()
    called = {c.get("calledElement") for c in root.iter(f"{{{BPMN_NS}}}callActivity")}
    keys = [p.get("id") for p in root.iter(f"{{{BPMN_NS}}}process")
            if p.get("isExecutable") == "true" and p.get("id") not in called]
    if not keys:
        raise ValueError(f"{entry.path}: no executable process to start")
    return str(keys[0])


FLOW_NODES = frozenset({
    "task", "userTask", "serviceTask", "sendTask", "receiveTask", "scriptTask", "manualTask",
    "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
    "boundaryEvent", "exclusiveGateway", "parallelGateway", "inclusiveGateway",
    "eventBasedGateway", "complexGateway",
})
DRAWN = FLOW_NODES | {"sequenceFlow", "participant", "lane"}
SMALLEST, LARGEST = 3, 12


def drawing_problems(path: Path) -> list[str]:
    """Why ``path`` would not open in Camunda Modeler as drawn, or is not a small diagram:
    an element without its shape or edge, or fewer than 3 or more than 12 flow nodes.
    A file that is not BPMN XML (on purpose: refused/) has nothing to check."""
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)
    try:
        root = etree.parse(str(path), parser).getroot()
    except etree.XMLSyntaxError:
        return []
    if root.tag != f"{{{BPMN_NS}}}definitions":
        return []
    drawn = {el.get("bpmnElement") for el in root.iter()
             if etree.QName(el).localname in ("BPMNShape", "BPMNEdge")}
    elements = [el for el in root.iter() if isinstance(el.tag, str)
                and el.tag.startswith(f"{{{BPMN_NS}}}") and etree.QName(el).localname in DRAWN]
    ids = {el.get("id") for el in root.iter() if isinstance(el.tag, str)}
    # a flow to or from an element that is not there (refused/) cannot be drawn either
    dangling = {el.get("id") for el in elements if etree.QName(el).localname == "sequenceFlow"
                and not {el.get("sourceRef"), el.get("targetRef")} <= ids}
    problems = [f"{etree.QName(el).localname} {el.get('id')!r} has no shape or edge"
                for el in elements
                if el.get("id") and el.get("id") not in drawn | dangling]
    nodes = sum(etree.QName(el).localname in FLOW_NODES for el in elements)
    if not SMALLEST <= nodes <= LARGEST:
        problems.append(f"{nodes} flow nodes, not {SMALLEST} to {LARGEST}")
    return problems


# -- the server ---------------------------------------------------------------------------

class ServerError(AssertionError):
    """A request answered 500."""


class Api:
    """A signed-in HTTP client; signs in again when its token expired (the clock moves)."""

    def __init__(self, base: str, username: str) -> None:
        self.base = base
        self.username = username
        self.http = requests.Session()
        self._sign_in()

    def _sign_in(self) -> None:
        self.http.headers.pop("Authorization", None)
        answer = self.http.post(f"{self.base}/api/v1/auth/token", timeout=30,
                                json={"username": self.username, "password": PASSWORD})
        if answer.status_code != 201:
            raise AssertionError(f"sign-in of {self.username}: {answer.status_code} {answer.text}")
        self.http.headers["Authorization"] = f"Bearer {answer.json()['token']}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        answer = self.http.request(method, self.base + path, timeout=60, **kwargs)
        if answer.status_code == 401:
            self._sign_in()
            answer = self.http.request(method, self.base + path, timeout=60, **kwargs)
        if answer.status_code >= 500:
            raise ServerError(f"{method} {path} answered {answer.status_code}: {answer.text}")
        return answer

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def read(self, path: str, **params: Any) -> Any:
        """GET a JSON document that must be there (200)."""
        answer = self.request("GET", path, params=params)
        if answer.status_code != 200:
            raise AssertionError(f"GET {path}: {answer.status_code} {answer.text}")
        return answer.json()

    def close(self) -> None:
        self.http.close()


def corpus_topics() -> TopicRegistry:
    """The one service-task topic the corpus uses: ``corpus.greet``."""
    registry = TopicRegistry()

    @registry.register("corpus.greet")
    def greet(call: ServiceCall) -> dict[str, Any]:
        salutation = call.properties.get("salutation", "Halo")
        return {"greeting": f"{salutation}, {call.variables.get('name', 'dunia')}"}

    return registry


class CorpusServer:
    """A fresh database, an engine on a frozen clock, and a real HTTP server around it."""

    def __init__(self, *, template: Path | None = None) -> None:
        self.template = template
        self._stack = ExitStack()
        self._clients: dict[str, Api] = {}
        self.base = ""

    def __enter__(self) -> CorpusServer:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def _start(self) -> None:
        workdir = Path(self._stack.enter_context(tempfile.TemporaryDirectory(
            prefix="sertiflow-corpus-")))
        database = workdir / "corpus.db"
        if self.template is not None:
            shutil.copy(self.template, database)
        else:
            migrating = create_db_engine(f"sqlite:///{database}")
            upgrade(migrating, extension_folders=[LSPRO_MIGRATIONS])
            migrating.dispose()
        settings = settings_for(workdir, f"sqlite:///{database}", secret="corpus")
        self.clock = FrozenClock(START_TIME)
        # No workflow cache: every command rebuilds its instance from the database,
        # so every diagram goes through a save and a load at each step.
        # With the LSPro's extension, as the product runs (its roles are the corpus's).
        self.engine = Engine(settings, clock=self.clock, topics=corpus_topics(),
                             extensions=[LsproExtension(LSPRO)], workflow_cache_size=0)
        self._stack.callback(self.engine.close)
        add_users(self.engine, USERS)
        from api import create_app

        self.base = self._stack.enter_context(serving(create_app(settings, engine=self.engine)))

    def __exit__(self, *exc: object) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        self._stack.close()

    def client(self, username: str) -> Api:
        if username not in self._clients:
            self._clients[username] = Api(self.base, username)
        return self._clients[username]

    def fire_timers(self, due: datetime) -> int:
        """Move the clock a second past ``due`` (never back) and run the timer sweep."""
        moment = due + timedelta(seconds=1)
        if moment > self.clock.now():
            self.clock.set(moment)
        return TimerSweep(self.engine).run_once()


# -- driving one diagram ------------------------------------------------------------------

@dataclass
class Result:
    """What happened to one diagram."""

    path: str
    status: str = "failed"  # refused | completed | stuck | incident | failed
    deploy_status: int | None = None
    refusal: dict[str, Any] | None = None
    instance_id: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    tasks_done: list[str] = field(default_factory=list)
    incidents: list[str] = field(default_factory=list)
    active: list[str] = field(default_factory=list)
    unsent: list[str] = field(default_factory=list)
    error: str | None = None
    steps: list[str] = field(default_factory=list)

    @property
    def deployed(self) -> bool:
        return self.deploy_status == 201


def form_defaults(task: dict[str, Any]) -> dict[str, Any]:
    """The values a browser would submit untouched: each generated field's default."""
    form = task.get("form") or {}
    values: dict[str, Any] = {}
    for f in form.get("fields") or []:
        default = f.get("defaultValue")
        readonly = any(c.get("name") == "readonly" for c in f.get("validation") or [])
        if default is None or readonly:  # a read-only field is shown, not sent
            continue
        kind = f.get("type") or "string"
        if kind == "boolean":
            values[f["id"]] = str(default).strip().lower() == "true"
        elif kind == "long":
            values[f["id"]] = int(default)
        else:
            values[f["id"]] = default
    return values


def drive(server: CorpusServer, entry: Entry) -> Result:
    """Deploy, start and run one diagram through the REST API.

    Never raises: a request that answered 500 (:class:`ServerError`), or anything
    else that stopped the drive, makes the result "failed" with the error, which
    :func:`check` reports.
    """
    result = Result(entry.path)
    try:
        _drive(server, entry, result)
    except Exception as exc:
        result.status = "failed"
        result.error = f"{type(exc).__name__}: {exc}"
    return result


def _drive(server: CorpusServer, entry: Entry, result: Result) -> None:
    admin = server.client("admin1")
    content = entry.file.read_bytes()
    answer = admin.post("/api/v1/deployments", files=[
        ("files", (entry.file.name, content, "application/octet-stream"))])
    result.deploy_status = answer.status_code
    if answer.status_code != 201:
        result.status = "refused"
        result.refusal = answer.json()
        return
    client = server.client(entry.user)
    if entry.start_message is not None:
        sent = client.post("/api/v1/messages", json={
            "name": entry.start_message["name"],
            "variables": entry.start_message.get("variables", {})})
        if sent.status_code != 200:
            raise AssertionError(f"start message: {sent.status_code} {sent.text}")
        instance_id = sent.json()["instance"]["id"]
    else:
        started = client.post(f"/api/v1/process-definitions/{start_key(entry)}/start",
                              json={"variables": entry.start})
        if started.status_code != 201:
            raise AssertionError(f"start: {started.status_code} {started.text}")
        instance_id = started.json()["id"]
    result.instance_id = instance_id
    messages = list(entry.messages)
    tried_invalid: set[str] = set()
    completed = 0
    for _ in range(MAX_ROUNDS):
        instance = admin.read(f"/api/v1/process-instances/{instance_id}")
        if instance["status"] != "running":
            break
        active = set(instance.get("active_elements") or [])
        timers = instance.get("timers") or []
        # 1. a message the manifest sends while a given element is active
        due = next((m for m in messages if m.get("at") and m["at"] in active), None)
        if due is not None:
            _send(admin, instance_id, due, result)
            messages.remove(due)
            continue
        # 2. the next open user task (held ones wait while a timer may still fire)
        tasks = admin.read("/api/v1/tasks", instance_id=instance_id, per_page=200)["items"]
        if timers:
            tasks = [t for t in tasks if t["name"] not in entry.hold]
        if tasks:
            task = _next_task(tasks, entry, completed)
            actor = server.client(_actor(server, entry, task))
            completed += _complete(actor, task, entry, tried_invalid, result)
            continue
        # 3. the next message the manifest sends whenever nothing else is to do
        waiting = next((m for m in messages if not m.get("at")), None)
        if waiting is not None:
            _send(admin, instance_id, waiting, result)
            messages.remove(waiting)
            continue
        # 4. time: the earliest timer of this instance
        if timers:
            earliest = min(datetime.fromisoformat(t["due_at"]) for t in timers)
            server.fire_timers(earliest)
            result.steps.append(f"timer {earliest.isoformat()}")
            continue
        break
    final = admin.read(f"/api/v1/process-instances/{instance_id}")
    result.variables = final.get("variables") or {}
    result.incidents = [i["message"] for i in final.get("incidents") or []]
    result.active = list(final.get("active_elements") or [])
    history = admin.read(f"/api/v1/process-instances/{instance_id}/history",
                          per_page=200)["items"]
    result.tasks_done = [h["element"] for h in history if h["kind"] == "task_completed"]
    status = final["status"]
    result.status = {"completed": "completed", "error": "incident"}.get(status, "stuck")
    result.unsent = [m["name"] for m in messages]


def _actor(server: CorpusServer, entry: Entry, task: dict[str, Any]) -> str:
    """Who completes ``task``: the manifest's actor for its element, else its assignee
    when that is one of our users, else the entry's user. An assignee who is none of
    our users (a name in a collection) first gets the task handed over by admin1."""
    if task["name"] in entry.actors:
        return entry.actors[task["name"]]
    assignee = task.get("assignee")
    if assignee in USERS:
        return str(assignee)
    if assignee is not None and assignee != entry.user:
        handed = server.client("admin1").post(f"/api/v1/tasks/{task['id']}/assign",
                                              json={"assignee": entry.user})
        if handed.status_code != 200:
            raise AssertionError(f"handing {task['name']} over: {handed.status_code} "
                                 f"{handed.text}")
    return entry.user


def _next_task(tasks: list[dict[str, Any]], entry: Entry, done: int) -> dict[str, Any]:
    """The task the manifest expects next, else the oldest open one."""
    if entry.expect_tasks is not None and done < len(entry.expect_tasks):
        wanted = entry.expect_tasks[done]
        for task in tasks:
            if task["name"] == wanted:
                return task
    return sorted(tasks, key=lambda t: (t["created_at"], t["name"]))[0]


def _complete(client: Api, task: dict[str, Any], entry: Entry, tried_invalid: set[str],
              result: Result) -> bool:
    """Complete ``task`` (True), or first submit the manifest's invalid answers (False)."""
    element = task["name"]
    detail = client.read(f"/api/v1/tasks/{task['id']}")
    if element in entry.invalid and element not in tried_invalid:
        tried_invalid.add(element)
        values = {**form_defaults(detail), **entry.invalid[element]}
        refused = client.post(f"/api/v1/tasks/{task['id']}/complete",
                              json={"variables": values})
        fields = {e.get("field") for e in refused.json().get("errors") or []}
        result.steps.append(f"invalid {element}: {refused.status_code} {sorted(fields)}")
        if refused.status_code != 422:
            raise AssertionError(f"invalid answers for {element} gave {refused.status_code}, "
                                 f"not 422: {refused.text}")
        missing = set(entry.invalid[element]) - fields
        if missing:
            raise AssertionError(f"invalid answers for {element}: the 422 names "
                                 f"{sorted(fields)}, not {sorted(missing)}")
        return False
    values = {**form_defaults(detail), **entry.answers.get(element, {})}
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"variables": values})
    result.steps.append(f"complete {element}: {done.status_code}")
    if done.status_code != 200:
        raise AssertionError(f"completing {element} gave {done.status_code}: {done.text}")
    return True


def _send(client: Api, instance_id: str, message: dict[str, Any], result: Result) -> None:
    sent = client.post("/api/v1/messages", json={
        "name": message["name"], "instance_id": instance_id,
        "variables": message.get("variables", {})})
    result.steps.append(f"message {message['name']}: {sent.status_code}")
    expected = 200 if message.get("delivered", True) else 404
    if sent.status_code != expected:
        raise AssertionError(f"message {message['name']}: {sent.status_code}, expected "
                             f"{expected}: {sent.text}")


# -- checking -----------------------------------------------------------------------------

def refusal_messages(result: Result) -> list[tuple[str | None, str]]:
    """(element, message) of each problem of a refused deployment."""
    body = result.refusal or {}
    found = [(e.get("element"), str(e.get("message", ""))) for e in body.get("errors") or []]
    return found or [(None, str(body.get("detail", "")))]


def check(entry: Entry, result: Result) -> list[str]:
    """What differs between the manifest's expectation and what happened (empty: all well)."""
    if result.error:
        return [f"the driver failed: {result.error}"]
    problems: list[str] = []
    if entry.outcome == "refused":
        if result.status != "refused":
            return [f"expected a refusal naming {entry.reason!r}, but it deployed and ended "
                    f"{result.status}"]
        if not 400 <= (result.deploy_status or 0) < 500:
            problems.append(f"refused with {result.deploy_status}, not a 4xx")
        reason = entry.reason or ""
        found = refusal_messages(result)
        if not any(reason in message and (entry.element is None or element == entry.element)
                   for element, message in found):
            where = f" on element {entry.element!r}" if entry.element else ""
            problems.append(f"no problem{where} says {entry.reason!r}; got {found}")
        return problems
    if result.status != entry.outcome:
        detail = f"; incidents: {result.incidents}" if result.incidents else ""
        if result.status == "refused":
            detail = f": {refusal_messages(result)}"
        return [f"expected {entry.outcome}, but it ended {result.status}{detail} "
                f"(steps: {result.steps}, tasks: {result.tasks_done})"]
    if result.unsent:
        problems.append(f"the instance never waited for the messages {result.unsent}")
    if entry.outcome == "incident" and not any((entry.reason or "") in m
                                                for m in result.incidents):
        problems.append(f"no incident says {entry.reason!r}; got {result.incidents}")
    if entry.outcome == "stuck" and entry.element not in result.active:
        problems.append(f"it waits at {result.active}, not at {entry.element!r}")
    for name, value in entry.expect.items():
        if name not in result.variables:
            problems.append(f"variable {name!r} is missing (expected {value!r})")
        elif result.variables[name] != value:
            problems.append(f"variable {name!r} is {result.variables[name]!r}, "
                            f"expected {value!r}")
    for name in entry.expect_absent:
        if name in result.variables:
            problems.append(f"variable {name!r} is {result.variables[name]!r}, expected none")
    if entry.expect_tasks is not None and result.tasks_done != entry.expect_tasks:
        problems.append(f"tasks completed {result.tasks_done}, expected {entry.expect_tasks}")
    return problems


# -- raw SpiffWorkflow --------------------------------------------------------------------

@dataclass
class RawResult:
    """What raw SpiffWorkflow did: ``completed`` means it reached its end. ``differences``
    lists where that run differs from the manifest's expectations (for a file sertiflow
    completes; an entry marked "# BUG:" expects what sertiflow does today)."""

    completed: bool
    detail: str
    variables: dict[str, Any] = field(default_factory=dict)
    tasks_done: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)


def run_raw(entry: Entry) -> RawResult:
    """Run the file with SpiffWorkflow 3.2 alone: its Camunda parser, its default script
    engine; user and manual tasks are completed with the manifest's answers (else the
    formData defaults), messages are caught as the manifest sends them. No timers."""
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
    from SpiffWorkflow.camunda.parser import CamundaParser
    from SpiffWorkflow.util.task import TaskState

    tasks_done: list[str] = []
    try:
        parser = CamundaParser()
        parser.add_bpmn_file(str(entry.file))
        key = start_key(entry)
        workflow = BpmnWorkflow(parser.get_spec(key), parser.get_subprocess_specs(key))
        first = workflow.get_next_task(state=TaskState.READY)
        if first is not None:
            first.data.update(entry.start)
        messages = list(entry.messages)
        done = 0
        for _ in range(MAX_ROUNDS * 2):
            workflow.do_engine_steps()
            workflow.refresh_timers()
            if workflow.is_completed():
                return _raw_ended(entry, workflow, tasks_done)
            ready = workflow.get_tasks(state=TaskState.READY, manual=True)
            active = {t.task_spec.bpmn_id for t in workflow.get_tasks(
                state=TaskState.READY | TaskState.WAITING | TaskState.STARTED)}
            due = next((m for m in messages if m.get("at") and m["at"] in active), None)
            if due is None and not ready:
                due = next((m for m in messages if not m.get("at")), None)
            if due is not None:
                messages.remove(due)
                workflow.catch(_raw_message(workflow, due))
                continue
            if not ready:
                open_tasks = [f"{t.task_spec.bpmn_id} ({type(t.task_spec).__name__}, "
                              f"{TaskState.get_name(t.state)})" for t in workflow.get_tasks(
                                  state=TaskState.DEFINITE_MASK)
                              if t.task_spec.bpmn_id is not None]
                return RawResult(False, f"stuck at {', '.join(open_tasks)}",
                                 tasks_done=tasks_done)
            task = ready[0]
            if entry.expect_tasks is not None and done < len(entry.expect_tasks):
                task = next((t for t in ready if t.task_spec.bpmn_id
                             == entry.expect_tasks[done]), task)
            element = task.task_spec.bpmn_id
            task.data.update(_raw_defaults(entry, element))
            task.data.update(entry.answers.get(element, {}))
            task.run()
            done += 1
            if isinstance(task.task_spec, UserTask):
                tasks_done.append(element)
        return RawResult(False, "did not end within the rounds", tasks_done=tasks_done)
    except Exception as exc:
        return RawResult(False, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}",
                         tasks_done=tasks_done)


def _raw_ended(entry: Entry, workflow: Any, tasks_done: list[str]) -> RawResult:
    """A raw run that reached its end, compared with the manifest's expectations when
    sertiflow completes the file as well."""
    variables = dict(workflow.data)
    differences: list[str] = []
    if entry.outcome == "completed":
        as_run = Result(entry.path, status="completed", variables=variables,
                        tasks_done=tasks_done)
        differences = check(entry, as_run)
    return RawResult(True, "completed", variables, tasks_done, differences)


def _raw_message(workflow: Any, message: dict[str, Any]) -> Any:
    """The message as a BpmnEvent of the definition class its waiting task uses: the
    Camunda parser's events carry ``{"payload", "result_var"}``, a receive task's
    (SpiffWorkflow's plain definition) the variables themselves."""
    from SpiffWorkflow.bpmn import BpmnEvent
    from SpiffWorkflow.bpmn.specs.event_definitions.message import (
        MessageEventDefinition as PlainMessage,
    )
    from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition

    variables = message.get("variables", {})
    for task in workflow.get_tasks():
        definition = getattr(task.task_spec, "event_definition", None)
        if type(definition) is PlainMessage and getattr(definition, "name", None) \
                == message["name"]:
            return BpmnEvent(definition, dict(variables))
    return BpmnEvent(MessageEventDefinition(message["name"]),
                     {"payload": variables, "result_var": None})


def _raw_defaults(entry: Entry, element: str) -> dict[str, Any]:
    root = etree.parse(str(entry.file)).getroot()
    values: dict[str, Any] = {}
    for node in root.iter(f"{{{BPMN_NS}}}userTask"):
        if node.get("id") != element:
            continue
        for f in node.iter(f"{{{CAMUNDA_NS}}}formField"):
            default = f.get("defaultValue")
            if default is None:
                continue
            kind = f.get("type") or "string"
            if kind == "boolean":
                values[f.get("id")] = default.strip().lower() == "true"
            elif kind == "long":
                values[f.get("id")] = int(default)
            else:
                values[f.get("id")] = default
    return values
