"""Check a Camunda Modeler file against sertiflow's BPMN dialect before it is stored.

Each check reports :class:`~engine.errors.Problem` entries with the file name,
the element id and the line, so an analyst can go straight to the spot in the
Modeler. Nothing here stores anything; the deployment service decides.

Uploaded XML is read by :func:`xml_parser` only, which loads no DTD, expands no
entity and opens no file or URL, and a file with a document type declaration is
refused before it is parsed at all (:func:`doctype_line`): Camunda Modeler never
writes one, and its only use in an upload is an entity trick (XXE, entity
expansion).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import SpiffWorkflow.bpmn.parser as spiff_parser
from lxml import etree

from engine.scripting.expressions import ExpressionError, compile_expression, compile_template

from ..errors import Problem
from ..scripting import SandboxViolation, check_script
from . import conditional
from .adhoc import adhoc_problems
from .compensation import compensation_problems, linked_handler_ids
from .data import data_problems
from .global_tasks import inline_global_tasks

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}
XSD_PATH = Path(spiff_parser.__file__).parent / "schema" / "BPMN20.xsd"

USE_TOPIC = (
    'sertiflow runs Python, not Java: use camunda:type="external" with '
    'camunda:topic="<topic>" and register a Python handler for that topic'
)

FLOW_NODE_TAGS = {
    "task", "userTask", "serviceTask", "sendTask", "receiveTask", "scriptTask", "manualTask",
    "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
    "boundaryEvent", "exclusiveGateway", "parallelGateway", "inclusiveGateway",
    "eventBasedGateway", "complexGateway",
}
CONTAINER_TAGS = {"process", "subProcess", "transaction", "adHocSubProcess"}


def _q(tag: str, ns: str = BPMN_NS) -> str:
    return f"{{{ns}}}{tag}"


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1] if isinstance(tag, str) else ""


@cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_PATH), xml_parser()))


# -- reading XML safely ------------------------------------------------------------

NO_DTD = ("DTDs and entity declarations are not accepted in BPMN files: remove the "
          "<!DOCTYPE ...> declaration (Camunda Modeler never writes one)")

# How a document that is not ASCII-compatible starts (XML 1.0, appendix F); any
# other encoding shows its markup as ASCII bytes, which Latin-1 decodes as is.
_WIDE_ENCODINGS = (
    (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF32_LE, "utf-32"),
    (b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
    (codecs.BOM_UTF16_BE, "utf-16"), (codecs.BOM_UTF16_LE, "utf-16"),
    (b"\x00<\x00?", "utf-16-be"), (b"<\x00?\x00", "utf-16-le"),
)
# What may come before the document type declaration: white space, the XML
# declaration and other processing instructions, comments.
_PROLOG_ITEM = re.compile(r"\s+|<\?.*?\?>|<!--.*?-->", re.DOTALL)


def xml_parser() -> etree.XMLParser:
    """A parser that loads no DTD, expands no entity and opens no file or URL."""
    return etree.XMLParser(resolve_entities=False, load_dtd=False, dtd_validation=False,
                           no_network=True, huge_tree=False)


def doctype_line(content: bytes) -> int | None:
    """The line of the ``<!DOCTYPE`` before the root element; None when there is none.

    Only the prolog is read, so the same text in a comment or a CDATA section
    is no declaration.
    """
    text = _markup(content)
    position = 0
    while (item := _PROLOG_ITEM.match(text, position)) is not None:
        position = item.end()
    if text[position:position + len("<!DOCTYPE")].upper() == "<!DOCTYPE":
        return text.count("\n", 0, position) + 1
    return None


def declares_dtd(root: etree._Element) -> bool:
    """Whether the parsed document has a document type declaration.

    The check after parsing, for an encoding :func:`doctype_line` cannot read.
    """
    info = root.getroottree().docinfo
    return bool(info.doctype) or info.internalDTD is not None or info.externalDTD is not None


def _markup(content: bytes) -> str:
    for start, codec in _WIDE_ENCODINGS:
        if content.startswith(start):
            return content.decode(codec, errors="replace").removeprefix("\ufeff")
    return content.removeprefix(codecs.BOM_UTF8).decode("latin-1")


@dataclass
class References:
    """What a file may refer to beyond itself, for the reference checks."""

    process_keys: set[str] = field(default_factory=set)
    form_ids: set[str] = field(default_factory=set)
    form_files: set[str] = field(default_factory=set)
    topics: set[str] = field(default_factory=set)


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
        executable=[p.get("id") for p in root.iterfind(_q("process"))
                    if p.get("isExecutable") == "true"],
        called={c.get("calledElement") for c in root.iter(_q("callActivity"))
                if c.get("calledElement")},
    )
    if root.tag != _q("definitions"):
        doc.problems.append(Problem(name, "not a BPMN 2.0 file (root element is not "
                                    "bpmn:definitions)", line=root.sourceline))
        return doc
    doc.problems.extend(_schema_problems(name, root))
    if doc.problems:
        return doc
    inline_global_tasks(root)
    doc.called = {c.get("calledElement") for c in root.iter(_q("callActivity"))
                  if c.get("calledElement")}
    if not doc.executable:
        doc.problems.append(Problem(
            name, 'no executable process: tick "Executable" on the process in Camunda '
            'Modeler (isExecutable="true")', line=root.sourceline))
        return doc
    doc.problems.extend(_event_reference_problems(name, root))
    for process in root.iterfind(_q("process")):
        if process.get("isExecutable") == "true":
            broken = [*_identity_problems(name, process), *_link_problems(name, process),
                      *_shared_definition_problems(name, root, process)]
            doc.problems.extend(broken)
            doc.problems.extend(_dialect_problems(name, process))
            doc.problems.extend(compensation_problems(name, process))
            doc.problems.extend(_expression_problems(name, process))
            doc.problems.extend(data_problems(name, process))
            doc.problems.extend(conditional.problems(name, root, process))
            if not broken:  # unreachable elements would only repeat the broken links
                doc.problems.extend(_reachability_problems(name, process))
    return doc


def _unreadable(problem: Problem) -> BpmnDocument:
    return BpmnDocument(problem.file, etree.Element("invalid"), [], set(), [problem])


def check_references(doc: BpmnDocument, refs: References) -> list[Problem]:
    """Report forms, topics and called processes that ``refs`` does not provide."""
    problems = []
    for process in doc.root.iterfind(_q("process")):
        if process.get("isExecutable") != "true":
            continue
        for el in process.iter():
            tag = _local(el.tag)
            problem = None
            if tag in ("serviceTask", "sendTask"):
                topic = el.get(_q("topic", CAMUNDA_NS))
                if topic and topic not in refs.topics:
                    known = ", ".join(sorted(refs.topics)) or "none"
                    problem = f"no handler is registered for topic '{topic}' (known: {known})"
            elif tag in ("userTask", "startEvent"):
                problem = _form_reference_problem(el, refs)
            elif tag == "callActivity":
                called = el.get("calledElement")
                if called and called not in refs.process_keys:
                    problem = (f"calls process '{called}', which is neither in this "
                               "deployment nor deployed before")
            if problem:
                problems.append(Problem(doc.name, problem, el.get("id"), el.sourceline))
    return problems


def _form_reference_problem(task: etree._Element, refs: References) -> str | None:
    form_ref = task.get(_q("formRef", CAMUNDA_NS))
    form_key = task.get(_q("formKey", CAMUNDA_NS))
    if form_ref:
        if form_ref not in refs.form_ids:
            return f"links form id '{form_ref}' (camunda:formRef), which is not deployed"
        return None
    if not form_key:
        return None
    for prefix in ("camunda-forms:deployment:", "camunda-forms:app:"):
        if form_key.startswith(prefix):
            file_name = form_key.removeprefix(prefix).rsplit("/", 1)[-1]
            if file_name not in refs.form_files:
                return f"links form '{file_name}' ({form_key}), which is not deployed"
            return None
    return (f"form key '{form_key}' is an embedded or external form, which sertiflow cannot "
            "show: draw a Camunda Form (.form) and link it with camunda:formRef")


EVENT_REFERENCES = {
    "messageEventDefinition": ("messageRef", "message"),
    "signalEventDefinition": ("signalRef", "signal"),
    "errorEventDefinition": ("errorRef", "error"),
    "escalationEventDefinition": ("escalationRef", "escalation"),
    "receiveTask": ("messageRef", "message"),
    "sendTask": ("messageRef", "message"),
}


def _event_reference_problems(name: str, root: etree._Element) -> Iterator[Problem]:
    """Report event definitions that name a message, signal, error or escalation not defined."""
    for tag, (attribute, target) in EVENT_REFERENCES.items():
        defined = {el.get("id") for el in root.iter(_q(target))}
        for definition in root.iter(_q(tag)):
            ref = definition.get(attribute)
            if ref and ref not in defined:
                yield Problem(name, f"refers to {target} '{ref}', which this file does not "
                              f"define (add it under the diagram's {target.title()}s)",
                              _element_of(definition), definition.sourceline)
            elif not ref and tag == "messageEventDefinition":
                yield Problem(name, "message event without a message: pick or create one in "
                              "the Modeler's Message section", _element_of(definition),
                              definition.sourceline)


def _schema_problems(name: str, root: etree._Element) -> list[Problem]:
    schema = _schema()
    if schema.validate(root):
        return []
    return [
        Problem(name, f"does not match the BPMN 2.0 schema: {error.message}", line=error.line)
        for error in list(schema.error_log)[:5]
    ]


# -- the dialect -----------------------------------------------------------------

UNSUPPORTED_EXTENSIONS: dict[str, str] = {
    "connector": f"Camunda connectors are not supported; {USE_TOPIC}",
    "field": f"field injection belongs to Java delegates; {USE_TOPIC}",
}

# The listener events sertiflow runs (engine.bpmn.hooks), by listener kind.
LISTENER_EVENTS = {
    "executionListener": ("start", "end", "take"),
    "taskListener": ("create", "assignment", "complete"),
}


def _dialect_problems(name: str, process: etree._Element) -> Iterator[Problem]:
    for el in process.iter():
        tag = _local(el.tag)
        element_id = _owner_id(el)
        for attr in ("class", "delegateExpression"):
            value = el.get(_q(attr, CAMUNDA_NS))
            if value:
                yield Problem(name, f"uses Java (camunda:{attr}=\"{value}\"); {USE_TOPIC}",
                              element_id, el.sourceline)
        if el.tag == _q("resource", CAMUNDA_NS) or el.get(_q("resource", CAMUNDA_NS)):
            yield Problem(name, "scripts from external resources are not supported: write the "
                          "Python script inside the task", element_id, el.sourceline)
        if el.tag in {_q(k, CAMUNDA_NS) for k in UNSUPPORTED_EXTENSIONS}:
            yield Problem(name, UNSUPPORTED_EXTENSIONS[_local(el.tag)], element_id,
                          el.sourceline)
        if el.tag in {_q(k, CAMUNDA_NS) for k in LISTENER_EVENTS}:
            yield from _listener_problems(name, el)
        if el.tag == _q("script", CAMUNDA_NS):
            fmt = (el.get("scriptFormat") or "").strip().lower()
            if fmt != "python":
                yield Problem(name, f"script format '{el.get('scriptFormat') or ''}' is not "
                              'supported: write the script in Python (scriptFormat="python")',
                              _element_of(el), el.sourceline)
        if tag == "scriptTask":
            fmt = (el.get("scriptFormat") or "python").strip().lower()
            if fmt != "python":
                yield Problem(name, f"script format '{el.get('scriptFormat')}' is not supported: "
                              'write the script in Python (scriptFormat="python")',
                              element_id, el.sourceline)
        elif tag == "businessRuleTask":
            yield Problem(name, "DMN business rule tasks are not supported: decide with an "
                          "exclusive gateway or a script task", element_id, el.sourceline)
        elif tag in ("serviceTask", "sendTask"):
            yield from _service_task_problems(name, el)
        elif tag == "callActivity":
            yield from _call_activity_problems(name, el)
        elif tag == "signalEventDefinition":
            yield from _mapping_problems(name, el, ("in",))
            if el.find(f"./{_q('extensionElements')}/{_q('out', CAMUNDA_NS)}") is not None:
                yield Problem(name, "camunda:out has no meaning on a signal: what a signal "
                              "carries is named with camunda:in", _element_of(el),
                              el.sourceline)
        elif tag == "adHocSubProcess":
            yield from adhoc_problems(name, el)
        elif tag in _NOT_SUPPORTED:
            yield Problem(name, _NOT_SUPPORTED[tag], _element_of(el), el.sourceline)
        elif tag in ("multiInstanceLoopCharacteristics", "standardLoopCharacteristics"):
            yield from _loop_problems(name, el, element_id)
        for attr in ("startQuantity", "completionQuantity"):
            if el.get(attr) not in (None, "1"):
                yield Problem(name, f"{attr}=\"{el.get(attr)}\" is not supported: an "
                              f"activity starts and completes once per token (leave {attr} "
                              "at 1)", element_id, el.sourceline)
        if tag == "conditionExpression":
            language = (el.get("language") or "").lower()
            if language and language not in ("python", "juel", "${}"):
                yield Problem(name, f"condition language '{el.get('language')}' is not "
                              "supported: write a Python or simple JUEL expression",
                              element_id, el.sourceline)


# Constructs refused by their name, with what to draw instead.
_NOT_SUPPORTED: dict[str, str] = {}


_COLLECTION = re.compile(r"\s*[$#]\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\s*")


def collection_variable(text: str | None) -> str | None:
    """The variable a ``camunda:collection`` names: ``panel`` or ``${panel}``; else None."""
    if text is None:
        return None
    match = _COLLECTION.fullmatch(text)
    if match:
        return match.group(1)
    return text.strip() if text.strip().isidentifier() else None


def _loop_problems(name: str, loop: etree._Element, element_id: str | None
                   ) -> Iterator[Problem]:
    """A loop cardinality or maximum written as a negative number, a collection that is
    not a variable."""
    collection = loop.get(_q("collection", CAMUNDA_NS))
    if collection is not None and collection_variable(collection) is None:
        yield Problem(name, f"camunda:collection '{collection}' must name a variable, e.g. "
                      "${panel} or panel: set the list in a script task or an input "
                      "mapping first", element_id, loop.sourceline)
    if (_local(loop.tag) == "standardLoopCharacteristics" and loop.get("loopMaximum") is None
            and loop.find(_q("loopCondition")) is None):
        yield Problem(name, "a standard loop needs a loopCondition (it runs the activity again "
                      "while the condition holds) or a loopMaximum: without either it would "
                      "never end", element_id, loop.sourceline)
    numbers = [("loopMaximum", loop.get("loopMaximum"))]
    numbers += [(_local(c.tag), (c.text or "").strip()) for c in loop
                if _local(c.tag) == "loopCardinality"]
    for what, text in numbers:
        if text and text.lstrip("-").isdigit() and int(text) < 0:
            yield Problem(name, f"{what} is {text}: a loop runs zero or more times, so it "
                          "cannot be negative", element_id, loop.sourceline)


def _element_of(el: etree._Element) -> str | None:
    """The id of the flow element (node or sequence flow) that ``el`` belongs to."""
    node: etree._Element | None = el
    while node is not None:
        if _local(node.tag) in FLOW_NODE_TAGS or _local(node.tag) == "sequenceFlow":
            return node.get("id")
        node = node.getparent()
    return _owner_id(el)


def _owner_id(el: etree._Element) -> str | None:
    """The id of the nearest element that has one: the BPMN element a problem belongs to."""
    node: etree._Element | None = el
    while node is not None:
        if node.get("id"):
            return str(node.get("id"))
        node = node.getparent()
    return None


def _service_task_problems(name: str, el: etree._Element) -> Iterator[Problem]:
    if el.get(_q("class", CAMUNDA_NS)) or el.get(_q("delegateExpression", CAMUNDA_NS)):
        return  # already reported as Java
    if el.find(f"./{_q('extensionElements')}/{_q('connector', CAMUNDA_NS)}") is not None:
        return  # already reported as a connector
    kind = el.get(_q("type", CAMUNDA_NS))
    if kind == "external":
        if not el.get(_q("topic", CAMUNDA_NS)):
            yield Problem(name, 'external service task without camunda:topic',
                          el.get("id"), el.sourceline)
    elif kind:
        yield Problem(name, f"service task type '{kind}' is not supported; {USE_TOPIC}",
                      el.get("id"), el.sourceline)
    elif not el.get(_q("expression", CAMUNDA_NS)):
        yield Problem(name, 'service task has no implementation: set camunda:type="external" '
                      'with a camunda:topic, or a Python camunda:expression',
                      el.get("id"), el.sourceline)


def _call_activity_problems(name: str, el: etree._Element) -> Iterator[Problem]:
    called = el.get("calledElement") or ""
    if not called:
        yield Problem(name, "call activity names no called process (calledElement)",
                      el.get("id"), el.sourceline)
    elif "${" in called or "#{" in called:
        yield Problem(name, "the called process must be a fixed process id, not an expression",
                      el.get("id"), el.sourceline)
    yield from _mapping_problems(name, el, ("in", "out"))


def _mapping_problems(name: str, el: etree._Element, tags: tuple[str, ...]
                      ) -> Iterator[Problem]:
    """The ``camunda:in``/``camunda:out`` entries of a call activity or signal definition."""
    for tag in tags:
        for mapping in el.iterfind(f"./{_q('extensionElements')}/{_q(tag, CAMUNDA_NS)}"):
            has_source = bool(mapping.get("source") or mapping.get("sourceExpression"))
            if mapping.get("variables") not in (None, "all"):
                yield Problem(name, f'camunda:{tag} variables="{mapping.get("variables")}" is '
                              'not supported: write variables="all"', _element_of(el),
                              mapping.sourceline)
            elif has_source and not mapping.get("target"):
                yield Problem(name, f"camunda:{tag} names a source but no target variable",
                              _element_of(el), mapping.sourceline)
            elif not has_source and mapping.get("variables") is None and not (
                    tag == "in" and mapping.get("businessKey")):
                yield Problem(name, f'camunda:{tag} needs source, sourceExpression or '
                              'variables="all"', _element_of(el), mapping.sourceline)


def _listener_problems(name: str, listener: etree._Element) -> Iterator[Problem]:
    """A listener's event must be one sertiflow runs, and it must say what to run."""
    kind = _local(listener.tag)
    event = listener.get("event") or ""
    owner = listener.getparent().getparent() if listener.getparent() is not None else None
    element_id, line = _element_of(listener), listener.sourceline
    supported = LISTENER_EVENTS[kind]
    label = "execution listener" if kind == "executionListener" else "task listener"
    a_label = f"an {label}" if label[0] in "aeiou" else f"a {label}"
    if event not in supported:
        yield Problem(name, f"{a_label} on the event '{event}' is not supported: use one of "
                      f"{', '.join(supported)}", element_id, line)
    elif event == "take" and (owner is None or _local(owner.tag) != "sequenceFlow"):
        yield Problem(name, "a 'take' listener belongs on a sequence flow", element_id, line)
    elif kind == "taskListener" and (owner is None or _local(owner.tag) != "userTask"):
        yield Problem(name, "task listeners belong on user tasks", element_id, line)
    script = listener.find(_q("script", CAMUNDA_NS))
    if script is None and not listener.get("expression") and not (
            listener.get(_q("class", CAMUNDA_NS)) or listener.get("class")
            or listener.get("delegateExpression")):
        yield Problem(name, f"the {label} says nothing to run: give it an expression or a "
                      "Python script", element_id, line)
    for attr in ("class", "delegateExpression"):
        if listener.get(attr):
            yield Problem(name, f'uses Java ({attr}="{listener.get(attr)}" on {a_label}); '
                          "write an expression or a Python script instead", element_id, line)


# -- expressions -------------------------------------------------------------------

CRON = re.compile(r"^\S+(\s+\S+){4,6}$")


def _expression_problems(name: str, process: etree._Element) -> Iterator[Problem]:
    for el, text, what in _expressions(process):
        if what == "timer cycle" and CRON.match(text):
            yield Problem(name, f"cron expression '{text}' is not supported: write an ISO 8601 "
                          "repeating interval such as R/PT5M or R/2027-01-01T08:00:00+07:00/P1D",
                          _element_of(el), el.sourceline)
            continue
        try:
            compile_expression(text)
        except ExpressionError as exc:
            yield Problem(name, f"{what} does not compile: {exc}", _element_of(el),
                          el.sourceline)
    for script in process.iter(_q("script")):
        task = script.getparent()
        fmt = (task.get("scriptFormat") or "python").strip().lower() if task is not None else ""
        if fmt != "python" or not (script.text or "").strip():
            if fmt == "python":
                yield Problem(name, "script task has no script", _owner_id(script),
                              script.sourceline)
            continue
        yield from _script_problems(name, script, "script", _owner_id(script))
    for script in process.iter(_q("script", CAMUNDA_NS)):
        if (script.get("scriptFormat") or "").strip().lower() != "python":
            continue  # refused as a format already
        what = f"{_label(_local(script.getparent().tag))} script"
        if not (script.text or "").strip():
            yield Problem(name, f"{what} is empty", _element_of(script), script.sourceline)
            continue
        yield from _script_problems(name, script, what, _element_of(script))
    for el, text, what in _templates(process):
        try:
            compile_template(text)
        except ExpressionError as exc:
            yield Problem(name, f"{what} does not compile: {exc}", _element_of(el),
                          el.sourceline)


def _script_problems(name: str, script: etree._Element, what: str, element_id: str | None
                     ) -> Iterator[Problem]:
    try:
        check_script(script.text or "")
    except SandboxViolation as exc:
        line = script.sourceline + (exc.line - 1 if exc.line else 0)
        yield Problem(name, f"{what} is refused: {exc}", element_id, line)
    except SyntaxError as exc:
        line = script.sourceline + ((exc.lineno or 1) - 1)
        yield Problem(name, f"{what} has a syntax error: {exc.msg}", element_id, line)


def _templates(process: etree._Element) -> Iterator[tuple[etree._Element, str, str]]:
    """Yield the mapping values written as text: constants, ``${...}``, or both mixed."""
    for tag, what in (("inputParameter", "input"), ("outputParameter", "output")):
        for parameter in process.iter(_q(tag, CAMUNDA_NS)):
            label = f"{what} parameter '{parameter.get('name')}'"
            for el in (parameter, *parameter.iter(_q("value", CAMUNDA_NS),
                                                  _q("entry", CAMUNDA_NS))):
                if len(el) == 0 and (el.text or "").strip():
                    yield el, el.text or "", label
    for tag in ("in", "out"):
        for mapping in process.iter(_q(tag, CAMUNDA_NS)):
            for attr in ("sourceExpression", "businessKey"):
                if mapping.get(attr):
                    yield mapping, str(mapping.get(attr)), f"camunda:{tag} {attr}"


def _expressions(process: etree._Element) -> Iterator[tuple[etree._Element, str, str]]:
    """Yield every expression the engine will evaluate, with a label for messages."""
    text_tags = {
        "conditionExpression": "condition",
        "timeDuration": "timer duration",
        "timeDate": "timer date",
        "timeCycle": "timer cycle",
        "loopCardinality": "loop cardinality",
        "completionCondition": "completion condition",
        "activationCondition": "activation condition",
        "loopCondition": "loop condition",
    }
    for el in process.iter():
        what = text_tags.get(_local(el.tag))
        if what and (el.text or "").strip():
            yield el, el.text.strip(), what
        for attr in ("expression", "dueDate", "followUpDate"):
            value = el.get(_q(attr, CAMUNDA_NS))
            if value:
                yield el, value, f"camunda:{attr}"
        listener = el.tag in (_q("executionListener", CAMUNDA_NS), _q("taskListener", CAMUNDA_NS))
        if listener and el.get("expression"):
            yield el, str(el.get("expression")), f"{_label(_local(el.tag))} expression"
        for attr in ("assignee", "candidateUsers", "candidateGroups", "priority"):
            value = el.get(_q(attr, CAMUNDA_NS)) or ""
            if "${" in value or "#{" in value:
                yield el, value, f"camunda:{attr}"


# -- structure ----------------------------------------------------------------------

def _identity_problems(name: str, process: etree._Element) -> Iterator[Problem]:
    """Report elements without an id and links (flows, boundary events, defaults) to none.

    SpiffWorkflow would skip an element without an id, and a flow to a missing
    element only shows as everything after it being unreachable.
    """
    for container in [process, *_nested_containers(process)]:
        ids = {c.get("id") for c in container if c.get("id")}
        for child in container:
            tag = _local(child.tag)
            if tag not in FLOW_NODE_TAGS and tag != "sequenceFlow":
                continue
            label = _label(tag)
            if not child.get("id"):
                yield Problem(name, f"a {label} has no id; every element needs one (the "
                              "Modeler gives each an id: draw it again or set the id)",
                              None, child.sourceline)
                continue
            links = {"sequenceFlow": ("sourceRef", "targetRef"),
                     "boundaryEvent": ("attachedToRef",)}.get(tag, ("default",))
            for attribute in links:
                target = child.get(attribute)
                if tag == "sequenceFlow" and not target:
                    yield Problem(name, f"sequence flow '{child.get('id')}' has no {attribute}",
                                  child.get("id"), child.sourceline)
                elif target and target not in ids:
                    yield Problem(name, f"{label} '{child.get('id')}' names '{target}' as its "
                                  f"{attribute}, but there is no element with that id here",
                                  child.get("id"), child.sourceline)


def _label(tag: str) -> str:
    """``sequenceFlow`` -> ``sequence flow``: a tag in an analyst's words."""
    return "".join(f" {c.lower()}" if c.isupper() else c for c in tag).strip()


def link_name(event: etree._Element) -> str | None:
    """The link name of a link event (its definition's ``name``, else the event's)."""
    definition = event.find(_q("linkEventDefinition"))
    if definition is None:
        return None
    return str(definition.get("name") or event.get("name") or "")


def _links(container: etree._Element) -> tuple[list[etree._Element], dict[str, list[str]]]:
    """The link throw events of a (sub)process, and its catch events' ids by link name."""
    throws: list[etree._Element] = []
    catches: dict[str, list[str]] = {}
    for node in container:
        name = link_name(node)
        if name is None:
            continue
        if _local(node.tag) == "intermediateThrowEvent":
            throws.append(node)
        else:
            catches.setdefault(name, []).append(str(node.get("id")))
    return throws, catches


def _link_problems(name: str, process: etree._Element) -> Iterator[Problem]:
    """A link throw event needs exactly one catch event of its name in its (sub)process."""
    for container in [process, *_nested_containers(process)]:
        throws, catches = _links(container)
        for event in throws:
            link = link_name(event)
            found = catches.get(link or "", [])
            if len(found) != 1:
                what = ("no link catch event" if not found else
                        f"{len(found)} link catch events ({', '.join(found)})")
                yield Problem(name, f"link '{link}' has {what} of the same name in its "
                              "process or sub-process: a link jumps to exactly one",
                              event.get("id"), event.sourceline)


def _shared_definition_problems(name: str, root: etree._Element, process: etree._Element
                                ) -> Iterator[Problem]:
    """An ``eventDefinitionRef`` must name an event definition at the top of the file."""
    shared = {el.get("id") for el in root if _local(el.tag).endswith("EventDefinition")}
    for ref in process.iter(_q("eventDefinitionRef")):
        target = (ref.text or "").strip()
        if target not in shared:
            yield Problem(name, f"eventDefinitionRef '{target}' names no event definition at "
                          "the top of this file", _element_of(ref), ref.sourceline)


def _reachability_problems(name: str, process: etree._Element) -> Iterator[Problem]:
    """Report flow nodes that no path from a start event reaches."""
    handlers = linked_handler_ids(process)  # compensation handlers are reached by none
    for container in [process, *_nested_containers(process)]:
        nodes = {c.get("id"): c for c in container if _local(c.tag) in FLOW_NODE_TAGS}
        flows: dict[str, list[str]] = {}
        for flow in container.iterfind(_q("sequenceFlow")):
            flows.setdefault(flow.get("sourceRef", ""), []).append(flow.get("targetRef", ""))
        attached: dict[str, list[str]] = {}
        for node_id, node in nodes.items():
            if _local(node.tag) == "boundaryEvent":
                attached.setdefault(node.get("attachedToRef", ""), []).append(node_id)
        roots = [i for i, n in nodes.items() if _local(n.tag) == "startEvent"]
        if (not roots or _local(container.tag) == "adHocSubProcess") and nodes and (
                container.get("triggeredByEvent") != "true"):
            # An ad-hoc subprocess or a process started by its first activity.
            roots = [i for i, n in nodes.items() if not any(i in t for t in flows.values())
                     and _local(n.tag) != "boundaryEvent"]
        throws, catches = _links(container)
        for event in throws:  # a link throw event continues at its catch event
            flows.setdefault(str(event.get("id")), []).extend(
                catches.get(link_name(event) or "", []))
        successors = {i: [*flows.get(i, []), *attached.get(i, [])] for i in nodes}
        reached = _walk(roots, successors)
        for node_id, node in nodes.items():
            if (node_id not in reached and not _is_event_subprocess(node)
                    and node.get("isForCompensation") != "true" and node_id not in handlers):
                yield Problem(name, f"{_local(node.tag)} cannot be reached from a start event",
                              node_id, node.sourceline)


def _nested_containers(process: etree._Element) -> Iterable[etree._Element]:
    return [el for el in process.iterdescendants() if _local(el.tag) in CONTAINER_TAGS]


def _is_event_subprocess(node: etree._Element) -> bool:
    return _local(node.tag) == "subProcess" and node.get("triggeredByEvent") == "true"


def _walk(roots: Iterable[str], successors: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        stack.extend(successors.get(current, []))
    return seen
