"""Read a Camunda Modeler file and run every check that needs only this file.

:func:`read_bpmn` parses the upload safely (:mod:`.safe_xml`), checks it against
the BPMN 2.0 schema, and then, for each executable process, runs the checks of
the structure (:mod:`.structure`), the dialect (:mod:`.dialect`), the
expressions and scripts (:mod:`.expressions`) and those of the constructs with
modules of their own (compensation, data, conditional events). Each check
reports :class:`~engine.errors.Problem` entries with the file name, the element
id and the line, so an analyst can go straight to the spot in the Modeler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import SpiffWorkflow.bpmn.parser as spiff_parser
from lxml import etree

from ...errors import Problem
from .. import conditional
from ..compensation import compensation_problems
from ..data import data_problems
from ..global_tasks import inline_global_tasks
from .dialect import dialect_problems
from .elements import q
from .expressions import expression_problems
from .references import event_reference_problems
from .safe_xml import NO_DTD, declares_dtd, doctype_line, xml_parser
from .structure import (
    identity_problems,
    link_problems,
    reachability_problems,
    shared_definition_problems,
)

XSD_PATH = Path(spiff_parser.__file__).parent / "schema" / "BPMN20.xsd"


@cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_PATH), xml_parser()))


@dataclass
class BpmnDocument:
    """A well-formed BPMN file: its tree and the processes it makes executable."""

    name: str
    root: etree._Element
    executable: list[str]
    called: set[str]
    problems: list[Problem] = field(default_factory=list)

    def line_of(self, element_id: str | None) -> int | None:
        if not element_id:
            return None
        found = self.root.xpath("//*[@id=$id]", id=element_id)
        return found[0].sourceline if found else None


def read_bpmn(name: str, content: bytes) -> BpmnDocument:
    """Parse ``content`` and run every check that needs only this file."""
    line = doctype_line(content)
    if line is not None:
        return _unreadable(Problem(name, NO_DTD, line=line))
    try:
        root = etree.fromstring(content, xml_parser())
    except etree.XMLSyntaxError as exc:
        return _unreadable(Problem(name, f"not well-formed XML: {exc.msg}", line=exc.lineno))
    if declares_dtd(root):
        return _unreadable(Problem(name, NO_DTD))

    doc = BpmnDocument(
        name,
        root,
        executable=[p.get("id") for p in root.iterfind(q("process"))
                    if p.get("isExecutable") == "true"],
        called={c.get("calledElement") for c in root.iter(q("callActivity"))
                if c.get("calledElement")},
    )
    if root.tag != q("definitions"):
        doc.problems.append(Problem(name, "not a BPMN 2.0 file (root element is not "
                                    "bpmn:definitions)", line=root.sourceline))
        return doc
    doc.problems.extend(_schema_problems(name, root))
    if doc.problems:
        return doc
    inline_global_tasks(root)
    doc.called = {c.get("calledElement") for c in root.iter(q("callActivity"))
                  if c.get("calledElement")}
    if not doc.executable:
        doc.problems.append(Problem(
            name, 'no executable process: tick "Executable" on the process in Camunda '
            'Modeler (isExecutable="true")', line=root.sourceline))
        return doc
    doc.problems.extend(event_reference_problems(name, root))
    for process in root.iterfind(q("process")):
        if process.get("isExecutable") == "true":
            broken = [*identity_problems(name, process), *link_problems(name, process),
                      *shared_definition_problems(name, root, process)]
            doc.problems.extend(broken)
            doc.problems.extend(dialect_problems(name, process))
            doc.problems.extend(compensation_problems(name, process))
            doc.problems.extend(expression_problems(name, process))
            doc.problems.extend(data_problems(name, process))
            doc.problems.extend(conditional.problems(name, root, process))
            if not broken:  # unreachable elements would only repeat the broken links
                doc.problems.extend(reachability_problems(name, process))
    return doc


def _unreadable(problem: Problem) -> BpmnDocument:
    return BpmnDocument(problem.file, etree.Element("invalid"), [], set(), [problem])


def _schema_problems(name: str, root: etree._Element) -> list[Problem]:
    schema = _schema()
    if schema.validate(root):
        return []
    return [
        Problem(name, f"does not match the BPMN 2.0 schema: {error.message}", line=error.line)
        for error in list(schema.error_log)[:5]
    ]
