"""Benchmark: the latency of the commands that make the LSPro's documents, and what
laying each kind of document out as PDF costs.

Run: ``.venv/bin/python bench/documents.py [--instances N] [--tree PATH] [--worker] [--child]``

For each document-making topic (``certificate.issue``, ``billing.issue``,
``letter.generate`` with the Berita Acara, ``certificate.draft``), N instances of
start → user task → the topic's service task → user task are started; the
completion of the first user task is the timed command (it runs the service task,
as completing SOP step 16 issues the certificate). Prints, per topic, the
command's wall time (p50, mean, p95) and its CPU time on this thread, on SQLite.

Where the documents are made after the command (a render queue), it then prints
what making them costs (``drain``: wall ms per document). ``--worker`` runs the
queue's thread while the commands run, as a server process does: the commands then
share the process with the rendering.

``render cpu`` is the CPU one document of the kind costs to lay out: in this thread
while the queue is drained (its few database writes included), or, for the draft,
within its command; with ``--child``, the render child's own CPU (as a server
renders: ``RenderQueue.render_in_child``), the draft's included, read from /proc in
clock ticks (sum enough documents). ``bytes`` is the mean size of the PDFs made.

``--tree PATH`` imports the code of another checkout (a worktree of an older
commit), so that one script compares both: run it alternately from each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--instances", type=int, default=20)
parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parent.parent)
parser.add_argument("--worker", action="store_true")
parser.add_argument("--child", action="store_true",
                    help="render in a child process, as a server does; report its CPU")
args = parser.parse_args()
sys.path.insert(0, str(args.tree.resolve()))
# The render child runs ``python -m``, which imports from the working folder first.
os.chdir(args.tree.resolve())

import sqlalchemy as sa  # noqa: E402

from bench.harness import cpu_seconds  # noqa: E402
from engine.composition import Engine  # noqa: E402
from engine.documents.render_process import RenderProcess  # noqa: E402
from engine.models import Document, Incident  # noqa: E402
from lspro import LsproExtension  # noqa: E402
from tests.builders import definitions, process, service  # noqa: E402
from tests.instances import the_ready_task  # noqa: E402
from tests.settings import LSPRO, settings_for  # noqa: E402

GRANT = {"nomor_permohonan": "PRM-2027-00007", "produk": "BISKUIT", "sni": "SNI 2973:2022",
         "tipe_skema": 5, "merek_kemasan": [{"merek": "Renyah", "kemasan": "kaleng 300 g"}]}
TOPICS = {
    "certificate.issue": {},
    "billing.issue": {"schedule": "INITIAL_OR_RECERT"},
    "letter.generate": {"template": "berita_acara_serah_terima"},
    "certificate.draft": {},
}
WARM_UP = 3


def chain(key: str, topic: str, properties: dict[str, str]) -> bytes:
    inner = ('    <bpmn:startEvent id="start" />\n'
             '    <bpmn:userTask id="before" camunda:candidateGroups="upp" />\n'
             + service("make", topic, **properties)
             + '    <bpmn:userTask id="after" camunda:candidateGroups="upp" />\n'
             '    <bpmn:endEvent id="end" />\n')
    ids = ["start", "before", "make", "after", "end"]
    inner += "".join(f'    <bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}" />\n'
                     for i, (a, b) in enumerate(pairwise(ids)))
    return definitions(key, process(key, inner)).encode()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def render_cpu(child: RenderProcess | None) -> float:
    """CPU seconds spent laying documents out so far: this thread's, or the render
    child's (``--child``)."""
    if child is None:
        return time.thread_time()
    return cpu_seconds(child.pid) if child.pid is not None else 0.0


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-documents-"))
    settings = settings_for(workdir, f"sqlite:///{workdir / 'bench.db'}")
    engine = Engine(settings, extensions=[LsproExtension(LSPRO)])
    engine.migrate()
    queue = getattr(engine, "renders", None)
    child = queue.render_in_child() if queue is not None and args.child else None
    print(f"tree {args.tree} ({'render queue' if queue else 'rendered in the command'}"
          f"{', worker thread' if queue and args.worker else ''}"
          f"{', render child' if child else ''}), {args.instances} commands per topic")
    # WeasyPrint's first document loads Pango (about half a second): not a command's cost.
    from lspro.letters import RECEIPT, render_letter
    from lspro.settings import LsproSettings

    render_letter(RECEIPT, {}, number="0", day=engine.clock.now().date(),
                  settings=engine.provided(LsproSettings), company=None)
    if child is not None:  # and the child's first
        from lspro.documents.render import letter_page
        from lspro.documents.service import RENDERER

        assert queue is not None
        queue.renderers[RENDERER](letter_page(
            RECEIPT, {}, number="0", day=engine.clock.now().date(),
            settings=engine.provided(LsproSettings), company=None).encode())
    if queue is not None and args.worker:
        queue.start_worker()
    for n, (topic, properties) in enumerate(TOPICS.items()):
        key = f"p{n}"
        with engine.write() as s:
            s.deployments.deploy([(f"{key}.bpmn", chain(key, topic, properties))])
        walls: list[float] = []
        cpus: list[float] = []
        instances: list[str] = []
        rendered = 0.0
        for i in range(WARM_UP + args.instances):
            with engine.write() as s:
                # One application per instance: the register refuses a second
                # certificate for one application.
                variables = {**GRANT, "nomor_permohonan": f"PRM-2027-{1000 * n + i:05d}"}
                instance_id = s.runtime.start_instance(key, variables=variables,
                                                       company="PT Bench").id
            instances.append(instance_id)
            task_id = the_ready_task(engine, instance_id).id
            wall, cpu, child_cpu = time.perf_counter(), time.thread_time(), render_cpu(child)
            with engine.write() as s:
                s.runtime.complete_task(task_id, {}, actor="bench")
            if i >= WARM_UP:
                walls.append((time.perf_counter() - wall) * 1000)
                cpus.append((time.thread_time() - cpu) * 1000)
                if child is not None:
                    rendered += render_cpu(child) - child_cpu
        line = (f"  {topic:18} command ms p50 {statistics.median(walls):6.1f}  "
                f"mean {statistics.fmean(walls):6.1f}  p95 {percentile(walls, 0.95):6.1f}  "
                f"cpu mean {statistics.fmean(cpus):6.1f}")
        made = 0
        if queue is not None:
            if args.worker:
                started = time.perf_counter()
                while queue.drain():
                    pass
                line += f"  (queue emptied {1000 * (time.perf_counter() - started):.0f} ms after)"
            else:
                started, cpu = time.perf_counter(), render_cpu(child)
                made = queue.drain(limit=10_000)
                if made:
                    line += (f"  drain {1000 * (time.perf_counter() - started) / made:6.1f} ms"
                             f" per document ({made})")
                    rendered = render_cpu(child) - cpu
        print(line, flush=True)
        sizes = document_sizes(engine, instances)
        if made:  # every document the drain made, the warm-up's too
            print(f"  {'':18} render cpu {1000 * rendered / made:6.1f} ms per document, "
                  f"{statistics.fmean(sizes):7.0f} bytes", flush=True)
        elif child is not None and sizes:  # made by the timed commands, in the child
            print(f"  {'':18} render cpu {1000 * rendered / args.instances:6.1f} ms per "
                  f"document, {statistics.fmean(sizes):7.0f} bytes", flush=True)
        elif sizes:  # made by the commands in this thread: their cpu above
            print(f"  {'':18} {statistics.fmean(sizes):7.0f} bytes", flush=True)
    with engine.read() as s:
        failed = s.session.scalar(sa.select(sa.func.count()).select_from(Incident))
    print(f"  incidents: {failed}")
    if queue is not None:
        queue.stop_worker()
    engine.close()


def document_sizes(engine: Engine, instances: list[str]) -> list[int]:
    """The sizes of the files made so far for these instances."""
    with engine.read() as s:
        return [size for size in s.session.scalars(sa.select(Document.size).where(
            Document.instance_id.in_(instances), Document.size.is_not(None)))
            if size is not None]


if __name__ == "__main__":
    main()
