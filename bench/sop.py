"""Benchmark: the LSPro's whole procedure, application to certificate handed over, over HTTP.

Run: ``.venv/bin/python bench/sop.py [--customers 1 4] [--instances 12]
[--database sqlite|postgresql] [--nodes 1]``

Each run starts ``sertiflow serve`` (``--nodes`` of them on one database) on a
fresh database (SQLite in WAL mode, or a throw-away PostgreSQL cluster started by
this script) with every file of processes/ and forms/ deployed at start-up, as in
production. The users are created with ``sertiflow users add`` before: one per
staff role (the people of tests/processes/entries.py, the team picked at step 3
among them), a finance officer (``keuangan``) and one customer per concurrent
client, each of their own company with its company profile saved through
``PUT /api/v1/company-profile``.

Each client thread is one customer taking SOP instances from a common counter;
every task is found and completed by a user of its role, from that user's own
keep-alive connection, the way their client would: list the instance's tasks,
open the task (its form), upload the form's documents (small PDFs made here), then
complete it with valid entries (tests/processes/entries.py; dates are today). The
path: the application with its 16 documents, completeness check, review, the
e-Billing payment recorded by finance from its awaited messages (``POST
/api/v1/messages``), agreement prepared and signed, SOP steps 1-11 with a stage-1
finding and a nonconformity (so steps 7 and 10 run), the laboratory's report
recorded by the sampling officer, the panel, the SNI-mark agreement, the
certificate drafted, verified, initialled, signed and handed over (steps 12-17).
Timers are left alone. Every answer is checked: its status, that the task the
next person expects is in their list, that the instance ends completed.

Prints, per run: full instances per minute, requests per second, p50/p95/p99 per
kind of call, requests per instance by kind, the servers' CPU per instance (and
of it the PDF render children's) and this client's, the
database's growth per completed instance (the compacted size, read by
``bench.harness.database_size``: SQLite ``VACUUM INTO`` a copy, PostgreSQL the
tables' total size after ``VACUUM FULL``; the tables that grow most) with the
documents' bytes apart (the clients' uploads, and the documents folder with
the generated letters), and each node's peak RSS. One instance per client is
run first and not counted (the first parse of every process and form). Exits 1
if a call failed or an instance did not finish.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import itertools
import json
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api import (  # noqa: E402
    CallFailed,
    Tally,
    UserConnection,
    add_user,
    machine_line,
    percentile,
    proc_status_kib,
    process_tree,
    run_clients,
    running_server,
    server_env,
    sign_in,
    tree_cpu_seconds,
)
from bench.harness import DatabaseSize, database_size  # noqa: E402
from tests.processes.driver import PDF  # noqa: E402
from tests.processes.entries import (  # noqa: E402
    ADA_NCR,
    ADA_TEMUAN,
    ALWAYS,
    EFEKTIF,
    ENTRIES,
    GRANT,
    HASIL_UJI,
    TEAM,
    TO_STAGE_1,
    USERS,
)
from tests.processes.steps import USER_TASKS  # noqa: E402
from tests.processes.test_permohonan import BISKUIT  # noqa: E402

if TYPE_CHECKING:
    from tests.postgres import PostgresServer

API = "/api/v1"
KEY = "permohonan_sertifikasi"
FINANCE = "sari.keuangan"
TARGET_PER_MINUTE = 300.0  # with 4 customers on SQLite (issue 20)
TARGET_DB_KB = 50.0  # database per completed instance, documents apart
# The command line of the child process that lays out the PDFs (engine.documents.rendering).
RENDERER = "engine.documents.render_process"
KINDS = ("list", "get", "complete", "upload", "start", "awaited", "message", "other")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# -- the path ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """A user task: its element, the role whose user does it, the entries, the files."""

    element: str
    values: Mapping[str, Any]
    files: tuple[str, ...] = ()

    @property
    def role(self) -> str:
        return USER_TASKS[self.element][0]


@dataclass(frozen=True)
class Message:
    """An awaited message recorded by a user of ``role`` from their awaited list."""

    name: str
    role: str


def sop_step(element: str, decision: Mapping[str, Any]) -> Step:
    """A step of SOP AP 2.2.1-3 with the entries of tests/processes/entries.py."""
    entries = {**ENTRIES[element], **decision}
    files = tuple(name for name, value in entries.items() if repr(value) == "DOC")
    return Step(element, {k: v for k, v in entries.items() if k not in files}, files)


def the_path() -> list[Step | Message]:
    """Application to certificate handed over: the tasks and messages in order."""
    documents = tuple(f"dok_{name}" for name in (*ALWAYS, "bukti_smm_cppob"))
    audit = [("s06_audit_tahap_1", ADA_TEMUAN), ("s07_tindak_lanjut_audit_tahap_1", {}),
             ("s08_pengambilan_contoh", {}), ("s08_audit_tahap_2", {}),
             ("s09_susun_laporan_audit", ADA_NCR), ("s10_selesaikan_temuan", {}),
             ("s11_evaluasi_tindak_lanjut", EFEKTIF)]
    return [
        Step("p_ajukan_permohonan", BISKUIT, documents),
        Step("p_periksa_kelengkapan", {"dokumen_lengkap": True,
                                       "catatan_kelengkapan": "Lengkap dan terbaca."}),
        Step("p_kaji_ulang_permohonan", {"permohonan_diterima": True,
                                         "catatan_kaji_ulang": "Dalam ruang lingkup."}),
        Message("pembayaran_diterima", "keuangan"),
        Step("p_siapkan_perjanjian", {"catatan_perjanjian": "Mohon ditandatangani direktur."}),
        Step("p_tandatangani_perjanjian", {}, ("dok_perjanjian_ditandatangani",)),
        *(sop_step(element, decision) for element, decision in [*TO_STAGE_1, *audit]),
        Message("hasil_uji_diterima", "ppc"),
        *(sop_step(element, decision) for element, decision in GRANT),
    ]


PATH = the_path()


def staff() -> dict[str, list[str]]:
    """Staff user name -> roles: one per role of entries.USERS, the step-3 team, finance."""
    people = {name: [role] for role, name in USERS.items() if role != "pelanggan"}
    people.update({name: [role] for name, (role, _) in TEAM.items()})
    people[FINANCE] = ["keuangan"]
    return people


def user_of(role: str, customer: str) -> str:
    return customer if role == "pelanggan" else FINANCE if role == "keuangan" else USERS[role]


def profile(n: int) -> dict[str, Any]:
    """A valid company profile for customer company ``n``."""
    return {"legal_name": f"PT Bench Pangan {n}", "npwp": f"01.234.567.8-901.{n:03d}",
            "nib": f"{9120000000000 + n}", "address": f"Jl. Sam Ratulangi {n}, Manado",
            "contact_name": "Eka Putri", "contact_phone": "+62 431 862000",
            "contact_email": f"eka{n}@bench.example", "factories": [
                {"name": f"Pabrik Bench {n}", "address": f"Kawasan Industri Bitung blok {n}"}]}


# -- the client ------------------------------------------------------------------------------


# granian closes a keep-alive connection on which no request came for 30 s (its
# --http1-header-read-timeout); like a browser's pool, a connection idle for longer
# than this is closed and opened anew rather than used and found closed.
IDLE_S = 20.0


class Connection(UserConnection):
    """A user's keep-alive connection that can also send a multipart upload."""

    last_used = 0.0

    def fresh(self) -> None:
        """Reopen the connection if it sat idle long enough for the server to drop it."""
        now = time.monotonic()
        if self.connection is not None and now - self.last_used > IDLE_S:
            self.close()
        self.last_used = now

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        self.fresh()
        return super().call(method, path, body)

    def upload(self, path: str, form_field: str, filename: str, content: bytes
               ) -> tuple[int, bytes]:
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\n"
                f"{form_field}\r\n--{boundary}\r\nContent-Disposition: form-data; "
                f"name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/pdf"
                f"\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
        self.fresh()
        if self.connection is None:
            address = (self.host, self.port)
            self.connection = http.client.HTTPConnection(*address, timeout=60)
        assert self.connection is not None
        headers = {**self.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"}
        try:
            self.connection.request("POST", path, body=body, headers=headers)
            answer = self.connection.getresponse()
            return answer.status, answer.read()
        except OSError:
            self.close()
            raise


@dataclass
class SopTally(Tally):
    """A client's latencies and errors, with the bytes it uploaded."""

    uploaded: int = 0
    # Latency of each completion and message by element (message) name.
    steps: dict[str, list[float]] = field(default_factory=dict)

    def merge(self, other: Tally) -> None:
        super().merge(other)
        if isinstance(other, SopTally):
            self.uploaded += other.uploaded
            for name, values in other.steps.items():
                self.steps.setdefault(name, []).extend(values)

    def step(self, name: str, kind: str) -> None:
        """Note the last call of ``kind`` as ``name``'s too."""
        self.steps.setdefault(name, []).append(self.latencies[kind][-1])


def timed(tally: SopTally, kind: str, user: Connection, method: str, path: str,
          body: Any = None, upload: tuple[str, bytes] | None = None) -> Any:
    """Make one call, note its latency under ``kind``; return its JSON body.

    :raises CallFailed: on a non-2xx answer or a failed request (noted as an error).
    """
    started = time.perf_counter()
    try:
        if upload is None:
            status, content = user.call(method, path, body)
        else:
            status, content = user.upload(path, upload[0], f"{upload[0]}.pdf", upload[1])
    except OSError as exc:
        tally.errors.append(f"{kind} {path}: {exc!r}")
        raise CallFailed(kind) from exc
    tally.latencies.setdefault(kind, []).append(time.perf_counter() - started)
    if not 200 <= status < 300:
        tally.errors.append(f"{kind} {method} {path}: {status} {content[:300]!r}")
        raise CallFailed(kind)
    return json.loads(content) if content else None


def failed(tally: SopTally, what: str) -> CallFailed:
    tally.errors.append(what)
    return CallFailed(what)


def today() -> str:
    return datetime.now(ZoneInfo("Asia/Jakarta")).date().isoformat()


def do_step(step: Step, last: bool, iid: str, user: Connection, tally: SopTally) -> None:
    """Find the step's task in the user's list, open it, upload its files, complete it."""
    listed = timed(tally, "list", user, "GET", f"{API}/tasks?instance_id={iid}")
    found = [t for t in listed["items"] if t["name"] == step.element]
    if len(found) != 1:
        raise failed(tally, f"list: {step.element} not in the list of instance {iid}: "
                            f"{[t['name'] for t in listed['items']]}")
    task_id = found[0]["id"]
    opened = timed(tally, "get", user, "GET", f"{API}/tasks/{task_id}")
    if (opened.get("form") or {}).get("form_id") != step.element:
        raise failed(tally, f"get: task {step.element} came without its form")
    day = today()
    values = {k: day if isinstance(v, str) and _ISO_DATE.fullmatch(v) else v
              for k, v in step.values.items()}
    for name in step.files:
        content = PDF + f"% {iid} {step.element} {name}\n".encode()
        document = timed(tally, "upload", user, "POST", f"{API}/tasks/{task_id}/documents",
                         upload=(name, content))
        tally.uploaded += len(content)
        values[name] = {k: document[k] for k in ("id", "name", "sha256", "size",
                                                  "content_type")}
    done = timed(tally, "complete", user, "POST", f"{API}/tasks/{task_id}/complete",
                 {"variables": values})
    tally.step(step.element, "complete")
    expected = "completed" if last else "running"
    if done["instance_status"] != expected:
        raise failed(tally, f"complete: {step.element} left instance {iid} "
                            f"{done['instance_status']}, not {expected}")


def record(message: Message, iid: str, user: Connection, tally: SopTally) -> None:
    """Find the awaited message in the role's list and record it with valid values."""
    awaited = timed(tally, "awaited", user, "GET",
                    f"{API}/awaited-messages?role={message.role}&per_page=100")
    found = [a for a in awaited["items"]
             if a["instance_id"] == iid and a["message"] == message.name]
    if len(found) != 1:
        raise failed(tally, f"awaited: instance {iid} does not wait for {message.name}")
    if message.name == "pembayaran_diterima":
        # The bill's code is the instance's; the bank's receipt number is unique.
        detail = timed(tally, "other", user, "GET", f"{API}/process-instances/{iid}")
        variables = {"kode_billing": detail["variables"]["kode_billing"],
                     "ntpn": uuid.uuid4().hex[:16].upper(), "tanggal_bayar": today()}
    else:
        variables = dict(HASIL_UJI)
    sent = timed(tally, "message", user, "POST", f"{API}/messages",
                 {"name": message.name, "business_key": found[0]["business_key"],
                  "variables": variables})
    tally.step(message.name, "message")
    if sent["instance"]["status"] != "running":
        raise failed(tally, f"message: {message.name} left {iid} {sent['instance']['status']}")


def run_instance(customer: str, users: Mapping[str, Connection], tally: SopTally) -> None:
    """One application, from the customer's start to the certificate handed over."""
    started = timed(tally, "start", users[customer], "POST",
                    f"{API}/process-definitions/{KEY}/start", {"variables": {}})
    iid = started["id"]
    for n, item in enumerate(PATH):
        user = users[user_of(item.role, customer)]
        if isinstance(item, Message):
            record(item, iid, user, tally)
        else:
            do_step(item, n == len(PATH) - 1, iid, user, tally)
    tally.instances += 1


@contextmanager
def connections(base_url: str, tokens: Mapping[str, str]) -> Iterator[dict[str, Connection]]:
    users = {name: Connection(base_url, token) for name, token in tokens.items()}
    try:
        yield users
    finally:
        for user in users.values():
            user.close()


def client(customer: str, base_url: str, tokens: Mapping[str, str], numbers: Iterator[int],
           lock: threading.Lock, limit: int, tally: SopTally) -> None:
    """One customer's thread: take instance numbers until ``limit``."""
    with connections(base_url, tokens) as users:
        while True:
            with lock:
                n = next(numbers)
            if n >= limit:
                return
            try:
                run_instance(customer, users, tally)
            except CallFailed:
                continue


def drive(urls: Sequence[str], customers: Sequence[str], tokens: Mapping[str, str],
          instances: int) -> tuple[SopTally, float]:
    """Run ``instances`` instances, one thread per customer; return the tally and seconds."""
    numbers, lock = itertools.count(), threading.Lock()
    tallies = [SopTally() for _ in customers]
    elapsed = run_clients([
        functools.partial(client, customer, urls[i % len(urls)], tokens, numbers, lock,
                          instances, tallies[i])
        for i, customer in enumerate(customers)])
    total = SopTally()
    for tally in tallies:
        total.merge(tally)
    return total, elapsed


# -- what the database and the documents hold ------------------------------------------------


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


# -- one run ---------------------------------------------------------------------------------


@dataclass
class Run:
    """What one run with ``customers`` concurrent customers measured."""

    customers: int
    planned: int
    tally: SopTally
    warmup: SopTally
    elapsed: float
    server_cpu: float
    renderer_cpu: float  # of server_cpu, the document render children's
    client_cpu: float  # this process's, driving the customers and staff
    peaks_kib: list[list[int]]  # per node: VmHWM of each process, master first
    db: tuple[DatabaseSize, DatabaseSize]  # before and after the measured instances
    docs: tuple[int, int]
    setup_s: float
    crashed: bool


def add_users(env: dict[str, str], customers: Sequence[str]) -> None:
    """Create staff and customers with ``sertiflow users add``, a few at a time."""
    people: list[tuple[str, list[str], str | None]] = [
        (name, roles, None) for name, roles in staff().items()]
    people += [(name, ["pelanggan"], f"PT Bench Pangan {n}")
               for n, name in enumerate(customers, start=1)]
    add_user(env, *people[0])  # alone: it migrates the new database
    with ThreadPoolExecutor(4) as pool:
        for done in [pool.submit(add_user, env, *person) for person in people[1:]]:
            done.result()


def customer_names(count: int) -> list[str]:
    return [f"pelanggan-{n}" for n in range(1, count + 1)]


class Databases:
    """Fresh databases that already hold the bench's users, copied from a template.

    The users are added once (``sertiflow users add`` per user takes seconds); each
    run gets a copy: of the SQLite file, or ``CREATE DATABASE ... TEMPLATE``.
    """

    def __init__(self, kind: str, stack: ExitStack, customers: int) -> None:
        self.folder = Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="sertiflow-sop-template-")))
        env = server_env(self.folder, self.folder / "template.db")
        self.postgres = postgres(stack) if kind == "postgresql" else None
        if self.postgres is not None:
            env["DATABASE_URL"] = self.postgres.create_database(name="sop_template")
        began = time.perf_counter()
        add_users(env, customer_names(customers))
        print(f"({len(staff()) + customers} users added by the CLI in "
              f"{time.perf_counter() - began:.0f} s)")

    def new(self, folder: Path) -> str:
        if self.postgres is not None:
            return str(self.postgres.create_database(template="sop_template"))
        shutil.copyfile(self.folder / "template.db", folder / "sop.db")
        return f"sqlite:///{folder / 'sop.db'}"


def run(count: int, instances: int, databases: Databases, nodes: int, threads: int | None
        ) -> Run:
    """Start the nodes on a fresh database, drive ``instances`` with ``count`` customers."""
    customers = customer_names(count)
    with tempfile.TemporaryDirectory(prefix="sertiflow-sop-") as tmp, ExitStack() as stack:
        folder = Path(tmp)
        env = server_env(folder, folder / "sop.db")
        url = databases.new(folder)
        env.update({"SERTIFLOW_PROCESSES": str(ROOT / "processes"),
                    "SERTIFLOW_FORMS": str(ROOT / "forms"), "DATABASE_URL": url})
        began = time.perf_counter()
        servers = []
        for n in range(nodes):
            (folder / f"node-{n + 1}").mkdir()
            servers.append(stack.enter_context(
                running_server(env, folder / f"node-{n + 1}", threads=threads)))
        urls = [server.base_url for server in servers]
        tokens = {name: sign_in(urls[0], name) for name in [*staff(), *customers]}
        for n, customer in enumerate(customers, start=1):
            with connections(urls[0], {customer: tokens[customer]}) as own:
                status, body = own[customer].call("PUT", f"{API}/company-profile", profile(n))
                if status != 200:
                    raise SystemExit(f"company profile of {customer}: {status} {body[:300]!r}")
        warmup, _ = drive(urls, customers, tokens, len(customers))
        setup_s = time.perf_counter() - began
        documents = folder / "documents"
        db_before = database_size(url)
        docs_before = folder_bytes(documents)
        cpu_before = sum(tree_cpu_seconds(s.process.pid) for s in servers)
        renderer_before = sum(tree_cpu_seconds(s.process.pid, RENDERER) for s in servers)
        client_before = time.process_time()
        tally, elapsed = drive(urls, customers, tokens, instances)
        client_cpu = time.process_time() - client_before
        server_cpu = sum(tree_cpu_seconds(s.process.pid) for s in servers) - cpu_before
        renderer_cpu = (sum(tree_cpu_seconds(s.process.pid, RENDERER) for s in servers)
                        - renderer_before)
        peaks = [[proc_status_kib(pid, "VmHWM") for pid in process_tree(s.process.pid)]
                 for s in servers]
        crashed = any(s.process.poll() is not None for s in servers)
        db_after = database_size(url)
        docs_after = folder_bytes(documents)
    return Run(count, instances, tally, warmup, elapsed, server_cpu, renderer_cpu, client_cpu,
               peaks,
               (db_before, db_after),
               (docs_before, docs_after), setup_s, crashed)


# -- report ----------------------------------------------------------------------------------


def report(result: Run, database: str) -> None:
    tally, done = result.tally, max(result.tally.instances, 1)
    total = sum(len(v) for v in tally.latencies.values())
    per_minute = 60 * tally.instances / result.elapsed
    print(f"\n== {result.customers} customer(s), {database}: {tally.instances} of "
          f"{result.planned} SOP instances completed in {result.elapsed:.1f} s "
          f"(setup {result.setup_s:.0f} s; warm-up {result.warmup.instances} instance(s), "
          f"not counted)")
    line = f"full SOP instances per minute: {per_minute:7.1f}"
    if result.customers == 4 and database == "SQLite":
        line += (f"   target >= {TARGET_PER_MINUTE:.0f}: "
                 f"{'met' if per_minute >= TARGET_PER_MINUTE else 'MISSED'}")
    print(line)
    print(f"requests per second:           {total / result.elapsed:7.1f}   "
          f"({total} requests, {total / done:.1f} per instance)")
    waited = sum(sum(v) for v in tally.latencies.values()) or 1e-9
    print("latency as the client sees it (ms), calls per instance, share of the time waited:")
    for kind in KINDS:
        values = tally.latencies.get(kind, [])
        if values:
            print(f"  {kind:<9} {len(values) / done:5.1f}/instance  n={len(values):<6} "
                  f"p50 {1000 * percentile(values, 50):6.1f}  "
                  f"p95 {1000 * percentile(values, 95):6.1f}  "
                  f"p99 {1000 * percentile(values, 99):6.1f}  "
                  f"{100 * sum(values) / waited:4.1f} %")
    slowest = sorted(tally.steps.items(), key=lambda item: -percentile(item[1], 50))
    print("  slowest completions and messages, p50 ms: " + ", ".join(
        f"{name} {1000 * percentile(values, 50):.0f}" for name, values in slowest[:8]))
    errors = tally.errors + result.warmup.errors
    missing = result.planned - tally.instances + result.customers - result.warmup.instances
    print(f"errors: {len(errors)}   instances not finished: {missing}")
    for error in errors[:10]:
        print(f"  {error}")
    print(f"server CPU: {result.server_cpu:.1f} s, {1000 * result.server_cpu / done:.0f} ms per "
          f"instance ({1000 * result.server_cpu / max(total, 1):.1f} ms per request)"
          + ("; PostgreSQL's own processes not counted" if database == "PostgreSQL" else ""))
    print(f"  of it the PDF render child(ren): {1000 * result.renderer_cpu / done:.0f} ms per "
          f"instance; the rest {1000 * (result.server_cpu - result.renderer_cpu) / done:.0f} ms. "
          f"The client (this process): {1000 * result.client_cpu / done:.0f} ms per instance")
    before, after = result.db
    per_kb = (after.total - before.total) / done / 1000
    print(f"database per completed instance: {per_kb:.1f} KB   target <= {TARGET_DB_KB:.0f}: "
          f"{'met' if per_kb <= TARGET_DB_KB else 'MISSED'}   (compacted "
          f"{before.total / 1e6:.2f} -> {after.total / 1e6:.2f} MB)")
    growth = list(after.grown(before).items())
    print("  tables (with their indexes) that grew, per instance: " + ", ".join(
        f"{t} {g / done / 1000:.1f} KB ({r / done:.0f} rows)" for t, (g, r) in growth[:8]
        if g > 0))
    print(f"documents apart: uploaded {tally.uploaded / done / 1000:.1f} KB per instance; "
          f"documents folder +{(result.docs[1] - result.docs[0]) / done / 1000:.1f} KB per "
          f"instance (uploads and the generated letters, receipt, bill, certificate)")
    for n, peaks in enumerate(result.peaks_kib, start=1):
        print(f"node {n} peak RSS (VmHWM): {sum(peaks) / 1024:.0f} MiB "
              f"(per process, master first: {', '.join(f'{k / 1024:.0f}' for k in peaks)})")
    if result.crashed:
        print("a server exited during the run")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[1, 4],
                        help="concurrent customers of each run, one run after the other")
    parser.add_argument("--instances", type=int, default=12, help="SOP instances per run")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--nodes", type=int, default=1, help="sertiflow serve processes")
    parser.add_argument("--threads", type=int, default=None,
                        help="each server's threads (default: the server's own)")
    args = parser.parse_args()
    print(f"sertiflow serve over HTTP: the LSPro's SOP, application to certificate handed "
          f"over ({sum(isinstance(i, Step) for i in PATH)} user tasks, "
          f"{sum(isinstance(i, Message) for i in PATH)} awaited messages per instance)")
    print(f"{machine_line()}; {args.nodes} node(s), granian, 1 worker process each")
    results: list[Run] = []
    with ExitStack() as stack:
        databases = Databases(args.database, stack, max(args.customers))
        for count in args.customers:
            results.append(run(count, args.instances, databases, args.nodes, args.threads))
            report(results[-1], "SQLite" if args.database == "sqlite" else "PostgreSQL")
    if any(r.tally.errors or r.warmup.errors or r.crashed or r.tally.instances != r.planned
           for r in results):
        sys.exit(1)


def postgres(stack: ExitStack) -> PostgresServer:
    """Start a throw-away PostgreSQL cluster, stopped and removed when ``stack`` closes."""
    from tests.postgres import PostgresServer, _bin_dir

    bin_dir = _bin_dir()
    if bin_dir is None:
        raise SystemExit("PostgreSQL: no binaries in /usr/lib/postgresql/*/bin")
    base = Path(tempfile.mkdtemp(prefix="sertiflow-pg-"))
    stack.callback(shutil.rmtree, base, ignore_errors=True)
    server = PostgresServer(bin_dir, base)
    server.start()
    stack.callback(server.stop)
    print(f"PostgreSQL from {bin_dir} on port {server.port}, fsync off")
    return server


if __name__ == "__main__":
    main()
