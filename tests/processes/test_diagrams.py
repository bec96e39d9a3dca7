"""Every process in processes/ and every form in forms/, checked as the Modeler would show them.

The engine runs a BPMN file without its diagram, so nothing else notices a flow
node without a shape, an edge without waypoints or a task drawn outside its
lane; analysts would, the first time they open the file in Camunda Modeler.
The tests are parametrised by file so that a failure names the file.

Beyond the drawing, each user task must say who does it (a lane named as a role,
or candidate groups/users) and link a deployed form, and that form must carry
every variable the gateway right after the task reads, so that a decision can
never be left unset. Finally, all of processes/ and forms/ deploy together with
the real domain topics, as ``sertiflow run`` deploys them.
"""

from __future__ import annotations

import ast
import builtins
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from lxml import etree

from engine.composition import Engine
from engine.models import FormDefinition
from engine.scripting.expressions import translate
from engine.tasks.camunda_form_fields import form_fields_camunda
from engine.tasks.form_fields import Field
from tests.processes.driver import Driver

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = sorted((ROOT / "processes").glob("*.bpmn"))
FORMS = sorted((ROOT / "forms").glob("*.form"))
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
}
BPMN = "{{{}}}".format(NS["bpmn"])
CAMUNDA = "{{{}}}".format(NS["camunda"])

# The roles of ARCHITECTURE.md §5: a lane's name is the default role of its user tasks.
ROLES = frozenset({
    "upp", "koordinator-pk", "subkoordinator-sertifikasi", "auditor", "lead-auditor", "ppc",
    "tim-teknis", "kepala-balai", "administrasi", "pelanggan", "admin", "analyst",
})
ACTIVITIES = frozenset({
    "task", "userTask", "serviceTask", "scriptTask", "sendTask", "receiveTask", "manualTask",
    "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
})
EVENTS = frozenset({
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
    "boundaryEvent",
})
GATEWAYS = frozenset({
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
    "complexGateway",
})
FLOW_NODES = ACTIVITIES | EVENTS | GATEWAYS
CONTAINERS = frozenset({"subProcess", "transaction", "adHocSubProcess"})
# How far (in diagram units) a waypoint or boundary event may sit off the line it belongs on.
TOLERANCE = 10.0
NOT_VARIABLES = frozenset(dir(builtins))


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.width / 2, self.y + self.height / 2

    def overlaps(self, other: Box) -> bool:
        """Overlap of the insides: shapes that only touch do not overlap."""
        return (self.x < other.right and other.x < self.right
                and self.y < other.bottom and other.y < self.bottom)

    def contains(self, other: Box) -> bool:
        return (self.x <= other.x and self.y <= other.y
                and other.right <= self.right and other.bottom <= self.bottom)

    def holds_point(self, x: float, y: float, slack: float = 0.0) -> bool:
        return (self.x - slack <= x <= self.right + slack
                and self.y - slack <= y <= self.bottom + slack)


class Model:
    """One .bpmn file: its process, flow nodes, lanes and diagram."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.root = etree.parse(str(path)).getroot()
        self.processes = self.root.findall("bpmn:process", NS)
        self.participants = self.root.findall("bpmn:collaboration/bpmn:participant", NS)
        self.nodes: dict[str, etree._Element] = {}
        for process in self.processes:
            for element in process.iter(f"{BPMN}*"):
                if etree.QName(element).localname in FLOW_NODES and element.get("id"):
                    self.nodes[element.get("id")] = element
        self.flows = {f.get("id"): f for f in self.root.iter(f"{BPMN}sequenceFlow")}
        self.lanes = {lane.get("id"): lane for lane in self.root.iter(f"{BPMN}lane")}
        self.shapes: dict[str, Box] = {}
        for shape in self.root.iter(f"{{{NS['bpmndi']}}}BPMNShape"):
            bounds = shape.find("dc:Bounds", NS)
            if bounds is not None:
                self.shapes[shape.get("bpmnElement")] = Box(
                    *(float(bounds.get(k)) for k in ("x", "y", "width", "height")))
        self.edges = {e.get("bpmnElement"): [(float(w.get("x")), float(w.get("y")))
                                              for w in e.findall("di:waypoint", NS)]
                      for e in self.root.iter(f"{{{NS['bpmndi']}}}BPMNEdge")}

    def kind(self, element_id: str) -> str:
        return etree.QName(self.nodes[element_id]).localname

    def containers(self, element_id: str) -> list[str]:
        """The subprocesses around a flow node, innermost first."""
        found = []
        parent = self.nodes[element_id].getparent()
        while parent is not None and etree.QName(parent).localname in CONTAINERS:
            found.append(parent.get("id"))
            parent = parent.getparent()
        return found

    def lane_of(self, element_id: str) -> etree._Element | None:
        """The innermost lane holding a node, or holding the subprocess around it."""
        for candidate in [element_id, *self.containers(element_id)]:
            holding = [lane for lane in self.lanes.values()
                       if candidate in {r.text for r in lane.findall("bpmn:flowNodeRef", NS)}]
            if holding:
                # A lane with a child lane set lists the child's nodes too: take the deepest.
                return max(holding, key=lambda lane: len(list(lane.iterancestors())))
        return None

    def top_level_nodes(self) -> list[str]:
        return [i for i in self.nodes if not self.containers(i)]


def _models() -> list[Any]:
    return [pytest.param(Model(path), id=path.name) for path in PROCESSES]


@pytest.fixture(scope="module")
def forms() -> dict[str, dict[str, Any]]:
    """Every form in forms/, by its form id."""
    found: dict[str, dict[str, Any]] = {}
    for path in FORMS:
        schema = json.loads(path.read_text(encoding="utf-8"))
        found[schema["id"]] = schema
    return found


def test_there_are_processes_and_forms_to_check() -> None:
    assert PROCESSES and FORMS
    assert ROOT / "processes" / "permohonan_sertifikasi.bpmn" in PROCESSES


# -- the pool ---------------------------------------------------------------------------------

@pytest.mark.parametrize("model", _models())
def test_one_executable_pool_whose_process_id_is_the_key(model: Model) -> None:
    assert len(model.processes) == 1, "one process per file"
    process = model.processes[0]
    assert process.get("isExecutable") == "true"
    assert model.path.stem == process.get("id"), "the file is named after its process key"
    assert [p.get("processRef") for p in model.participants] == [process.get("id")]
    assert process.get("name"), "the process has a name"


# -- the diagram ------------------------------------------------------------------------------

@pytest.mark.parametrize("model", _models())
def test_every_node_lane_and_participant_has_a_shape_and_every_flow_an_edge(
        model: Model) -> None:
    drawn = set(model.shapes)
    assert set(model.nodes) - drawn == set(), "flow nodes without a shape"
    assert set(model.lanes) - drawn == set(), "lanes without a shape"
    assert {p.get("id") for p in model.participants} - drawn == set(), "pool without a shape"
    assert set(model.flows) - set(model.edges) == set(), "sequence flows without an edge"
    short = [f for f in model.flows if len(model.edges[f]) < 2]
    assert short == [], "edges with fewer than two waypoints"


@pytest.mark.parametrize("model", _models())
def test_shapes_have_standard_sizes(model: Model) -> None:
    wrong = []
    for element_id in model.nodes:
        box, kind = model.shapes[element_id], model.kind(element_id)
        if kind in EVENTS:
            expected = (36.0, 36.0)
        elif kind in GATEWAYS:
            expected = (50.0, 50.0)
        elif kind in CONTAINERS:
            continue  # an expanded subprocess is as large as its content
        else:
            expected = (100.0, 80.0)
        if (box.width, box.height) != expected:
            wrong.append((element_id, box.width, box.height))
    assert wrong == []


@pytest.mark.parametrize("model", _models())
def test_edges_start_at_their_source_and_end_at_their_target(model: Model) -> None:
    loose = []
    for flow_id, flow in model.flows.items():
        points = model.edges.get(flow_id) or []
        if len(points) < 2:
            continue  # reported by the completeness test
        source, target = model.shapes[flow.get("sourceRef")], model.shapes[flow.get("targetRef")]
        if not source.holds_point(*points[0], TOLERANCE):
            loose.append((flow_id, "start", points[0]))
        if not target.holds_point(*points[-1], TOLERANCE):
            loose.append((flow_id, "end", points[-1]))
    assert loose == []


@pytest.mark.parametrize("model", _models())
def test_no_two_flow_node_shapes_overlap(model: Model) -> None:
    ids = [i for i in model.nodes if model.kind(i) != "boundaryEvent"]
    clashes = []
    for index, first in enumerate(ids):
        for second in ids[index + 1:]:
            # A node drawn inside its expanded subprocess is meant to be there.
            if first in model.containers(second) or second in model.containers(first):
                continue
            if model.shapes[first].overlaps(model.shapes[second]):
                clashes.append((first, second))
    assert clashes == []


@pytest.mark.parametrize("model", _models())
def test_boundary_events_sit_on_their_hosts_border(model: Model) -> None:
    off = []
    for element_id, element in model.nodes.items():
        if model.kind(element_id) != "boundaryEvent":
            continue
        host = model.shapes[element.get("attachedToRef")]
        x, y = model.shapes[element_id].centre
        on_vertical = (min(abs(x - host.x), abs(x - host.right)) <= TOLERANCE
                       and host.y - TOLERANCE <= y <= host.bottom + TOLERANCE)
        on_horizontal = (min(abs(y - host.y), abs(y - host.bottom)) <= TOLERANCE
                         and host.x - TOLERANCE <= x <= host.right + TOLERANCE)
        if not (on_vertical or on_horizontal):
            off.append(element_id)
    assert off == []


@pytest.mark.parametrize("model", _models())
def test_lanes_hold_existing_nodes_drawn_inside_them(model: Model) -> None:
    unknown, outside = [], []
    for lane_id, lane in model.lanes.items():
        lane_box = model.shapes[lane_id]
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            if ref.text not in model.nodes:
                unknown.append((lane_id, ref.text))
                continue
            box = model.shapes[ref.text]
            inside = (lane_box.holds_point(*box.centre)
                      if model.kind(ref.text) == "boundaryEvent" else lane_box.contains(box))
            if not inside:
                outside.append((lane.get("name"), ref.text))
    assert unknown == [], "flowNodeRef to an element that does not exist"
    assert outside == [], "flow nodes drawn outside their lane"
    if model.lanes:
        assert [i for i in model.top_level_nodes() if model.lane_of(i) is None] == [], \
            "flow nodes in no lane"
        pool = model.shapes[model.participants[0].get("id")]
        assert all(pool.contains(model.shapes[lane_id]) for lane_id in model.lanes)


# -- user tasks: who, and with which form ---------------------------------------------------------

# Processes a customer may start; every other one is started by staff (or by
# another process, which no starter list restricts).
CUSTOMER_STARTS = frozenset({"permohonan_sertifikasi", "keluhan", "banding"})


@pytest.mark.parametrize("model", _models())
def test_every_process_names_the_roles_that_may_start_it(model: Model) -> None:
    for process in model.processes:
        groups = {g.strip() for g in
                  (process.get(f"{CAMUNDA}candidateStarterGroups") or "").split(",") if g.strip()}
        assert groups, f"{process.get('id')}: without candidateStarterGroups anyone may start it"
        assert groups <= ROLES, f"{process.get('id')}: unknown roles {groups - ROLES}"
        assert ("pelanggan" in groups) == (process.get("id") in CUSTOMER_STARTS), \
            process.get("id")


@pytest.mark.parametrize("model", _models())
def test_every_user_task_has_a_role(model: Model) -> None:
    without = []
    for element_id, element in model.nodes.items():
        if model.kind(element_id) != "userTask":
            continue
        if element.get(f"{CAMUNDA}candidateGroups") or element.get(f"{CAMUNDA}candidateUsers"):
            continue
        lane = model.lane_of(element_id)
        if lane is None or lane.get("name") not in ROLES:
            without.append((element_id, lane.get("name") if lane is not None else None))
    assert without == [], "user tasks whose lane is not a role and that name no candidates"


@pytest.mark.parametrize("model", _models())
def test_every_user_task_has_a_due_date(model: Model) -> None:
    assert [i for i, e in model.nodes.items()
            if model.kind(i) == "userTask" and not e.get(f"{CAMUNDA}dueDate")] == []


def _form_fields(schema: dict[str, Any]) -> dict[str, Field]:
    return {f.path[0]: f for f in form_fields_camunda(schema) if f.path}


def _names_read(condition: str) -> set[str]:
    tree = ast.parse(translate(condition).strip(), mode="eval")
    return {n.id for n in ast.walk(tree)
            if isinstance(n, ast.Name) and n.id not in NOT_VARIABLES}


def _gateway_reads(model: Model, element_id: str) -> set[str]:
    """The variables read by the conditions of the gateways right after an element."""
    read: set[str] = set()
    for flow in model.flows.values():
        if flow.get("sourceRef") != element_id:
            continue
        target = flow.get("targetRef")
        if model.kind(target) not in ("exclusiveGateway", "inclusiveGateway"):
            continue
        for out in model.flows.values():
            condition = out.find("bpmn:conditionExpression", NS)
            if out.get("sourceRef") == target and condition is not None and condition.text:
                read |= _names_read(condition.text)
    return read


@pytest.mark.parametrize("model", _models())
def test_every_user_task_links_a_form_that_sets_what_the_next_gateway_reads(
        model: Model, forms: dict[str, dict[str, Any]]) -> None:
    problems = []
    for element_id, element in model.nodes.items():
        if model.kind(element_id) != "userTask":
            continue
        form_id = element.get(f"{CAMUNDA}formRef")
        form_key = element.get(f"{CAMUNDA}formKey") or ""
        if form_key.startswith("camunda-forms:"):
            # By file name; another test holds every form's id to its file name.
            form_id = form_key.rsplit(":", 1)[-1].rsplit("/", 1)[-1].removesuffix(".form")
        if not form_id:
            problems.append((element_id, "no camunda:formRef"))
            continue
        if form_id not in forms:
            problems.append((element_id, f"form '{form_id}' is not in forms/"))
            continue
        fields = _form_fields(forms[form_id])
        for variable in sorted(_gateway_reads(model, element_id)):
            found = fields.get(variable)
            if found is None:
                problems.append((element_id, f"the form has no field '{variable}'"))
            elif not found.readonly and not found.required:
                # An optional decision may be left unset, and the gateway then fails.
                problems.append((element_id, f"'{variable}' is entered but not required"))
    assert problems == []


# -- the forms ----------------------------------------------------------------------------------

def _components(components: list[Any]) -> list[dict[str, Any]]:
    found = []
    for component in components:
        found.append(component)
        found.extend(_components(component.get("components") or []))
    return found


@pytest.mark.parametrize("path", FORMS, ids=[p.name for p in FORMS])
def test_every_form_is_a_modeler_form_with_labels_and_descriptions(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema["id"] == path.stem, "form id = file name = the user task's element id"
    assert schema.get("type") == "default"
    assert isinstance(schema.get("schemaVersion"), int)
    assert schema.get("executionPlatform") == "Camunda Platform"
    form_fields_camunda(schema)  # the server can enforce it (raises otherwise)
    components = _components(schema["components"])
    ids = [c.get("id") for c in components]
    assert all(ids) and len(ids) == len(set(ids)), "every component has a unique id"
    unlabelled, undescribed = [], []
    for component in components:
        if component.get("type") == "text":
            if not str(component.get("text") or "").strip():
                unlabelled.append(component["id"])
            continue
        if not str(component.get("label") or "").strip():
            unlabelled.append(component["id"])
        if (component.get("key") or component.get("path")) and not str(
                component.get("description") or "").strip():
            undescribed.append(component["id"])
    assert unlabelled == [], "components without a label (or a text without text)"
    assert undescribed == [], "inputs without a description"


def _messages() -> set[str]:
    return {m.get("name") for path in PROCESSES
            for m in etree.parse(str(path)).getroot().iter(f"{BPMN}message")}


def test_every_form_is_used_by_a_user_task_or_records_a_message(
        forms: dict[str, dict[str, Any]]) -> None:
    linked = set()
    for path in PROCESSES:
        root = etree.parse(str(path)).getroot()
        linked |= {t.get(f"{CAMUNDA}formRef") for t in root.iter(f"{BPMN}userTask")}
        linked |= {(t.get(f"{CAMUNDA}formKey") or "").rsplit(":", 1)[-1].removesuffix(".form")
                   for t in root.iter(f"{BPMN}userTask")}
    assert set(forms) - linked - _messages() == set(), "forms no user task or message uses"


def test_every_message_from_outside_has_a_form_staff_can_record_it_with(
        forms: dict[str, dict[str, Any]]) -> None:
    # Each message names what it carries in CONTRACT.md; its form must ask for it.
    contract = (ROOT / "processes" / "CONTRACT.md").read_text(encoding="utf-8")
    for name in _messages():
        assert name in forms, f"message {name} has no form"
        row = next(line for line in contract.splitlines() if line.startswith(f"| `{name}`"))
        carried = set(re.findall(r"`(\w+)`", row.split("|")[3]))
        assert carried, f"CONTRACT.md names nothing {name} carries"
        keys = {c.get("key") for c in _components(forms[name]["components"])}
        assert carried <= keys, f"{name}: the form lacks {carried - keys}"


# -- all of it together ----------------------------------------------------------------------------

def test_processes_and_forms_deploy_together_with_the_domain_topics(
        driver: Driver, engine: Engine) -> None:
    result = driver.deploy()
    keys = {etree.parse(str(p)).getroot().find("bpmn:process", NS).get("id") for p in PROCESSES}
    assert {p.key for p in result.processes} == keys
    assert all(p.version == 1 for p in result.processes)
    with engine.read() as s:
        deployed = set(s.session.scalars(sa.select(FormDefinition.form_id)))
    assert deployed == {json.loads(p.read_text(encoding="utf-8"))["id"] for p in FORMS}
