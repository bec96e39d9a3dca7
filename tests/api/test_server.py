"""The production server (``sertiflow serve``: granian and the body-first bridge) as a process.

The other API tests talk to the app through Werkzeug's server in a thread; these
check what only the production server does: reading a body before the app
sees it, refusing a body over the limit unread, streaming long downloads, and
running several workers with one timer sweep.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from api.server import end_on_signals_while_starting
from tests.builders import definitions, linear_user_tasks, process
from tests.databases import new_database
from tests.people import ROOT, CliServer, start_cli_server

UPLOAD_MAX_MB = 1  # the app accepts bodies up to this plus 1 MiB (form fields around a file)
BODY_LIMIT = (UPLOAD_MAX_MB + 1) * 1024 * 1024


def start_server(tmp_path: Path, database_url: str, *options: str, **env: str) -> CliServer:
    """Run ``sertiflow serve`` with demo users and wait until it answers ``/healthz``."""
    processes = tmp_path / "processes"
    processes.mkdir(exist_ok=True)
    (processes / "linear.bpmn").write_text(linear_user_tasks("linear", 2))
    environ = dict(os.environ)
    environ.update({
        "SERTIFLOW_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "SERTIFLOW_SECRET_KEY": "server-test",
        "SERTIFLOW_DEMO": "true",
        "SERTIFLOW_PROCESSES": str(processes),
        "SERTIFLOW_FORMS": str(tmp_path / "forms"),
        "SERTIFLOW_UPLOAD_MAX_MB": str(UPLOAD_MAX_MB),
        "PYTHONPATH": str(ROOT),
        **env,
    })
    return start_cli_server(["serve", *options], environ)


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliServer]:
    folder = tmp_path_factory.mktemp("server")
    served = start_server(folder, new_database(request, folder, migrated=False))
    yield served
    output = served.stop()
    assert "Traceback" not in output, output


def _token(base: str, user: str) -> str:
    answer = requests.post(f"{base}/api/v1/auth/token",
                           json={"username": user, "password": "demo"}, timeout=10)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


def _raw_response(sock: socket.socket, timeout: float = 10) -> bytes:
    """Read what the server answers until it closes or a whole response has come."""
    sock.settimeout(timeout)
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), None)
        if length is not None and len(body) >= length:
            break
    return received


def test_a_slow_upload_holds_up_no_other_request(server: CliServer) -> None:
    # A client that sends its headers and then dribbles the body: the app (one
    # thread with SQLite) must not be waiting for it.
    slow = socket.create_connection(("127.0.0.1", server.port))
    stop = threading.Event()
    try:
        slow.sendall(b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")

        def dribble() -> None:
            while not stop.wait(0.2):
                try:
                    slow.sendall(b" ")
                except OSError:
                    return

        threading.Thread(target=dribble, daemon=True).start()
        time.sleep(0.5)
        began = time.monotonic()
        for _ in range(5):
            answer = requests.get(f"{server.base}/healthz", timeout=5)
            assert answer.status_code == 200
        assert time.monotonic() - began < 3
    finally:
        stop.set()
        slow.close()


def test_a_declared_body_over_the_limit_is_refused_unread(server: CliServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\n"
                     + f"Content-Length: {BODY_LIMIT + 1}\r\n\r\n".encode() + b"{}")
        answer = _raw_response(sock)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"content-type: application/problem+json" in head.lower()
    problem = json.loads(body)
    assert problem["status"] == 413
    assert problem["instance"] == "/api/v1/auth/token"
    assert str(BODY_LIMIT) in problem["detail"]


def test_a_chunked_body_is_cut_off_at_the_limit(server: CliServer) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(BODY_LIMIT // 65536 + 2):
            yield b"x" * 65536

    answer = requests.post(f"{server.base}/api/v1/auth/token", data=chunks(),
                           headers={"Content-Type": "application/json"}, timeout=30)
    assert answer.status_code == 413
    assert answer.headers["Content-Type"] == "application/problem+json"
    # A body within the limit, chunked, still reaches the app whole.
    within = requests.post(
        f"{server.base}/api/v1/auth/token",
        data=iter([b'{"username": "upp", ', b'"password": "demo"}']),
        headers={"Content-Type": "application/json"}, timeout=30)
    assert within.status_code == 201, within.text


def test_a_large_upload_and_its_download_pass_whole(server: CliServer) -> None:
    headers = {"Authorization": f"Bearer {_token(server.base, 'upp')}"}
    started = requests.post(f"{server.base}/api/v1/process-definitions/linear/start",
                            json={"variables": {}}, headers=headers, timeout=10)
    assert started.status_code == 201, started.text
    tasks = requests.get(f"{server.base}/api/v1/tasks",
                         params={"instance_id": started.json()["id"]}, headers=headers,
                         timeout=10).json()["items"]
    # Longer than what the bridge sends in one piece, so the download is streamed.
    content = b"%PDF-1.4\n" + os.urandom(700 * 1024) + b"\n%%EOF\n"
    uploaded = requests.post(
        f"{server.base}/api/v1/tasks/{tasks[0]['id']}/documents", headers=headers,
        files={"file": ("laporan uji.pdf", content, "application/pdf")}, timeout=30)
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["sha256"] == hashlib.sha256(content).hexdigest()
    download = requests.get(f"{server.base}/api/v1/documents/{uploaded.json()['id']}",
                            headers=headers, timeout=30)
    assert download.status_code == 200
    assert download.content == content
    # A PDF opens in the browser's viewer, in a sandbox, never sniffed.
    assert download.headers["Content-Disposition"] == \
        'inline; filename="laporan uji.pdf"'
    assert download.headers["Content-Security-Policy"] == "sandbox"
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_paths_queries_and_repeated_headers_reach_the_app_as_sent(server: CliServer) -> None:
    headers = {"Authorization": f"Bearer {_token(server.base, 'analyst')}"}
    missing = requests.get(f"{server.base}/api/v1/process-definitions/%C3%A9t%C3%A9/xml",
                           headers=headers, timeout=10)
    assert missing.status_code == 404
    assert missing.json()["instance"] == "/api/v1/process-definitions/été/xml"
    bad_page = requests.get(f"{server.base}/api/v1/tasks?page=0&per_page=5", headers=headers,
                            timeout=10)
    assert bad_page.status_code == 422
    assert [e["field"] for e in bad_page.json()["errors"]] == ["page"]
    # Two Cookie headers are one cookie list to the app: the language cookie in
    # the second still arrives (the sign-in page answers in English).
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"GET /signin HTTP/1.1\r\nHost: x\r\nCookie: unrelated=1\r\n"
                     b"Cookie: lang=en\r\nConnection: close\r\n\r\n")
        answer = _raw_response(sock)
    assert answer.startswith(b"HTTP/1.1 200")
    assert b"Sign in" in answer


def test_serve_with_two_workers_and_one_sweep(tmp_path: Path, blank_database_url: str) -> None:
    served = start_server(tmp_path, blank_database_url, "--workers", "2", "--threads", "2")
    try:
        token = _token(served.base, "upp")
        # Both workers answer with the same database; ask a few times.
        for _ in range(6):
            me = requests.get(f"{served.base}/api/v1/me",
                              headers={"Authorization": f"Bearer {token}"}, timeout=5)
            assert me.json()["roles"] == ["upp"]
        time.sleep(2)  # let both workers try the sweep lock
    finally:
        output = served.stop()
    assert "(2 processes)" in output
    assert output.count("this process runs the timer sweep") == 1, output
    assert (tmp_path / "instance" / "scheduler.lock").exists()


def test_serve_runs_one_process_with_sqlite_and_one_per_core_with_postgresql(
        tmp_path: Path, blank_database_url: str) -> None:
    served = start_server(tmp_path, blank_database_url)
    try:
        assert requests.get(f"{served.base}/healthz", timeout=5).status_code == 200
    finally:
        output = served.stop()
    cores = len(os.sched_getaffinity(0))
    expected = 1 if blank_database_url.startswith("sqlite") else cores
    assert f"({expected} process{'es' if expected > 1 else ''})" in output, output


def _a_starting_worker(end_on_signals: bool) -> None:
    """What a granian worker is while it builds its app: forked with the master's
    handlers (which only take note of a signal), busy for a while."""
    if end_on_signals:
        end_on_signals_while_starting()
    time.sleep(30)


@pytest.mark.parametrize("fixed", [True, False])
def test_a_worker_stopped_while_it_starts_ends(fixed: bool) -> None:
    noted: list[int] = []
    before = signal.signal(signal.SIGTERM, lambda number, _frame: noted.append(number))
    try:
        worker = multiprocessing.get_context("fork").Process(
            target=_a_starting_worker, args=(fixed,))
        worker.start()
        time.sleep(0.5)
        worker.terminate()
        worker.join(5)
        ended = worker.exitcode is not None
        if not ended:
            worker.kill()
            worker.join()
    finally:
        signal.signal(signal.SIGTERM, before)
    # With the master's handler left in place the signal is noted and lost.
    assert ended is fixed
    if fixed:
        assert worker.exitcode == -signal.SIGTERM


SLOW_SCRIPT = definitions("slow", process("slow", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />
    <bpmn:scriptTask id="work" scriptFormat="python"><bpmn:script>n = len(sum([[1]] * 300000, []))</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />
    <bpmn:endEvent id="end" />
"""))


def test_a_script_at_its_time_limit_holds_up_no_other_request(tmp_path: Path,
                                                              blank_database_url: str) -> None:
    # The script's work is one C call (sum concatenating lists) that would take
    # minutes; it is stopped at its time limit, and reads go on meanwhile.
    processes = tmp_path / "processes"
    processes.mkdir()
    (processes / "slow.bpmn").write_text(SLOW_SCRIPT)
    served = start_server(tmp_path, blank_database_url, SERTIFLOW_SCRIPT_TIMEOUT="3")
    try:
        headers = {"Authorization": f"Bearer {_token(served.base, 'upp')}"}
        started: dict[str, Any] = {}

        def start() -> None:
            began = time.monotonic()
            answer = requests.post(f"{served.base}/api/v1/process-definitions/slow/start",
                                   json={}, headers=headers, timeout=60)
            started.update(status=answer.status_code, body=answer.json(),
                           took=time.monotonic() - began)

        command = threading.Thread(target=start)
        command.start()
        time.sleep(0.5)
        waits = []
        while command.is_alive():
            for path in ("/healthz", "/api/v1/tasks"):
                began = time.monotonic()
                assert requests.get(served.base + path, headers=headers,
                                    timeout=30).status_code == 200
                waits.append(time.monotonic() - began)
            time.sleep(0.1)
        command.join()
        # The start was tried in the event loop, rolled back, and run again in a
        # thread: one instance came of it.
        instances = requests.get(f"{served.base}/api/v1/process-instances?key=slow",
                                 headers=headers, timeout=10).json()
    finally:
        output = served.stop()
    assert "Traceback" not in output, output
    assert instances["total"] == 1
    assert started["status"] == 201 and started["body"]["status"] == "error"
    assert 2.5 < started["took"] < 8, started["took"]
    assert len(waits) >= 6 and max(waits) < 1.0, waits


LETTER = definitions("surat", process("surat", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="letter" />
    <bpmn:serviceTask id="letter" camunda:type="external" camunda:topic="letter.generate"><bpmn:extensionElements><camunda:properties><camunda:property name="template" value="berita_acara_serah_terima" /></camunda:properties></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="letter" targetRef="wait" />
    <bpmn:userTask id="wait" camunda:candidateGroups="upp" />
    <bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="end" />
    <bpmn:endEvent id="end" />
"""))


def descendants(pid: int) -> list[int]:
    """The processes started by ``pid`` and by them, and so on."""
    found, queue = [], [pid]
    while queue:
        for task in Path(f"/proc/{queue.pop()}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except FileNotFoundError:
                continue
            found += children
            queue += children
    return found


def render_children(pid: int) -> list[int]:
    """The document render processes among ``pid``'s descendants."""
    return [p for p in descendants(pid) if b"engine.documents.render_process"
            in Path(f"/proc/{p}/cmdline").read_bytes()]


def running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie not yet reaped counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not running(pid)


def _letter_made(served: CliServer) -> dict[str, Any]:
    """Start the letter process; return its letter once its PDF is made."""
    auth = {"Authorization": f"Bearer {_token(served.base, 'upp')}"}
    started = requests.post(f"{served.base}/api/v1/process-definitions/surat/start",
                            json={"variables": {"nomor_sertifikat": "0001/X/2027"},
                                  "company": "PT Contoh"}, headers=auth, timeout=30)
    assert started.status_code == 201, started.text
    listing = f"{served.base}/api/v1/process-instances/{started.json()['id']}/documents"
    deadline = time.monotonic() + 60  # a generous bound for a loaded machine
    while True:
        [letter] = requests.get(listing, headers=auth, timeout=10).json()["items"]
        if letter["ready"] or time.monotonic() > deadline:
            return dict(letter)
        time.sleep(0.2)


def test_a_worker_makes_the_documents_its_commands_queue(tmp_path: Path,
                                                        blank_database_url: str) -> None:
    """Without the timer sweep and without anyone opening it, the letter's PDF is made
    by the worker's renderer thread, woken when the command that queued it commits,
    in the worker's render process; SIGTERM ends the server and that process too."""
    (tmp_path / "processes").mkdir()
    (tmp_path / "processes" / "surat.bpmn").write_text(LETTER)
    served = start_server(tmp_path, blank_database_url, "--no-scheduler")
    children: list[int] = []
    try:
        letter = _letter_made(served)
        assert letter["ready"] and letter["size"] > 0 and len(letter["sha256"]) == 64
        auth = {"Authorization": f"Bearer {_token(served.base, 'upp')}"}
        pdf = requests.get(f"{served.base}/api/v1/documents/{letter['id']}", headers=auth,
                           timeout=30)
        assert pdf.content.startswith(b"%PDF")
        assert hashlib.sha256(pdf.content).hexdigest() == letter["sha256"]
        children = render_children(served.process.pid)
        assert len(children) == 1, "the PDF was made by one render process of the worker"
    finally:
        output = served.stop()  # SIGTERM; fails if the server has not ended in 60 s
    assert "Traceback" not in output, output
    assert gone_within(children[0], 10), "the render process outlived the server"


def test_a_worker_killed_with_sigkill_leaves_no_render_process(tmp_path: Path,
                                                               blank_database_url: str) -> None:
    (tmp_path / "processes").mkdir()
    (tmp_path / "processes" / "surat.bpmn").write_text(LETTER)
    served = start_server(tmp_path, blank_database_url, "--no-scheduler")
    try:
        assert _letter_made(served)["ready"]
        [child] = render_children(served.process.pid)
        worker = int(Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[1])
        assert worker != served.process.pid  # the worker, not granian's master
        os.kill(worker, signal.SIGKILL)
        assert gone_within(child, 10), "the render process outlived its worker"
    finally:
        served.stop()
