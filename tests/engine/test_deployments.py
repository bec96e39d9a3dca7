"""Deployment: validation with file, element and line; content-hash versioning."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from engine.bpmn.parser import SertiflowParser
from engine.composition import Engine
from engine.errors import DeploymentRejected, InvalidInput, NotFound
from engine.models import Deployment, DeploymentResource, ProcessDefinition, Task
from tests.builders import definitions, linear_user_tasks, process
from tests.hostile_xml import DOCTYPES, with_doctype
from tests.statements import sent_statements


def deploy(engine: Engine, *files: tuple[str, str | bytes]):  # type: ignore[no-untyped-def]
    with engine.write() as s:
        return s.deployments.deploy(
            [(n, c.encode() if isinstance(c, str) else c) for n, c in files])


def rejected(engine: Engine, *files: tuple[str, str | bytes]) -> DeploymentRejected:
    with pytest.raises(DeploymentRejected) as info:
        deploy(engine, *files)
    return info.value


def count(engine: Engine, model: type) -> int:
    with engine.read() as s:
        return int(s.session.scalar(sa.select(sa.func.count()).select_from(model)))


def test_identical_content_is_not_a_new_version(engine: Engine) -> None:
    first = deploy(engine, ("linear.bpmn", linear_user_tasks("linear", 2)))
    again = deploy(engine, ("linear.bpmn", linear_user_tasks("linear", 2)))
    changed = deploy(engine, ("linear.bpmn", linear_user_tasks("linear", 3)))
    assert [(p.key, p.version, p.unchanged) for p in first.processes] == [("linear", 1, False)]
    assert [(p.version, p.unchanged) for p in again.processes] == [(1, True)]
    assert again.deployment_id is None
    assert [(p.version, p.unchanged) for p in changed.processes] == [(2, False)]
    assert count(engine, ProcessDefinition) == 2
    assert count(engine, Deployment) == 2


def test_running_instances_stay_on_their_version(engine: Engine) -> None:
    deploy(engine, ("linear.bpmn", linear_user_tasks("linear", 1)))
    with engine.write() as s:
        old = s.runtime.start_instance("linear")
    deploy(engine, ("linear.bpmn", linear_user_tasks("linear", 2)))
    with engine.write() as s:
        new = s.runtime.start_instance("linear")
    with engine.read() as s:
        assert s.runtime.instance(old.id).definition_id.startswith("linear:1:")
        assert s.runtime.instance(new.id).definition_id.startswith("linear:2:")
    with engine.write() as s:
        task_id = s.session.scalars(sa.select(Task.id).where(Task.instance_id == old.id)).one()
        s.runtime.complete_task(task_id, {}, actor="u")
    with engine.read() as s:
        assert s.runtime.instance(old.id).status == "completed"



def test_a_start_reads_the_version_its_caller_checked_only_once(engine: Engine) -> None:
    """The API reads the latest version to check the starter, then starts that id:
    the start takes it from the transaction's reads, not from a second statement."""
    deploy(engine, ("linear.bpmn", linear_user_tasks("linear", 1)))
    with engine.write() as s:
        s.runtime.start_instance("linear")  # the spec is in the process's cache now
    with sent_statements(engine.db.engine) as statements, engine.write() as s:
        checked = s.deployments.latest_ref("linear")
        started = s.runtime.start_instance("linear", definition_id=checked.id)
    assert started.definition_id == checked.id
    reads = [q for q in statements if "FROM process_definition" in q]
    assert len(reads) == 1, reads
    # Another transaction has no such memory: an id it never read is looked up.
    with engine.write() as s:
        assert s.runtime.start_instance("linear", definition_id=checked.id).definition_id \
            == checked.id
    with pytest.raises(NotFound), engine.write() as s:
        s.runtime.start_instance("linear", definition_id="linear:9:nothing")

def test_broken_xml_is_refused_with_line(engine: Engine) -> None:
    error = rejected(engine, ("broken.bpmn", "<bpmn:definitions>\n<oops"))
    (problem,) = error.problems
    assert problem.file == "broken.bpmn"
    assert problem.line is not None
    assert "not well-formed" in problem.message


def test_one_bad_file_refuses_the_whole_deployment(engine: Engine) -> None:
    deploy(engine, ("linear.bpmn", linear_user_tasks("linear", 1)))
    bad = definitions("bad", process("bad", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="java" />
    <bpmn:serviceTask id="java" camunda:class="org.example.Delegate" />
    <bpmn:sequenceFlow id="f2" sourceRef="java" targetRef="end" />
    <bpmn:endEvent id="end" />
"""))
    error = rejected(engine, ("linear.bpmn", linear_user_tasks("linear", 5)), ("bad.bpmn", bad))
    (problem,) = error.problems
    assert (problem.file, problem.element) == ("bad.bpmn", "java")
    assert problem.line == 6
    assert "camunda:type=\"external\"" in problem.message
    assert count(engine, ProcessDefinition) == 1


@pytest.mark.parametrize(("inner", "element", "needle"), [
    ('<bpmn:scriptTask id="s" scriptFormat="groovy"><bpmn:script>x = 1</bpmn:script>'
     '</bpmn:scriptTask>', "s", "write the script in Python"),
    ('<bpmn:scriptTask id="s" scriptFormat="python"><bpmn:script>import os</bpmn:script>'
     '</bpmn:scriptTask>', "s", "import"),
    ('<bpmn:serviceTask id="s" camunda:delegateExpression="${bean}" />', "s", "Java"),
    ('<bpmn:serviceTask id="s" camunda:type="external" camunda:topic="nobody" />', "s",
     "no handler is registered for topic 'nobody'"),
    ('<bpmn:userTask id="s" camunda:formRef="missing-form" />', "s", "not deployed"),
    ('<bpmn:userTask id="s" camunda:formKey="embedded:app:forms/x.html" />', "s",
     "camunda:formRef"),
    ('<bpmn:callActivity id="s" calledElement="ghost" />', "s", "ghost"),
    ('<bpmn:businessRuleTask id="s" camunda:decisionRef="d" />', "s", "DMN"),
    ('<bpmn:userTask id="s" camunda:dueDate="${due +}" />', "s", "does not compile"),
])
def test_refusals_name_element_and_reason(engine: Engine, inner: str, element: str,
                                          needle: str) -> None:
    body = process("p", f"""\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="s" />
    {inner}
    <bpmn:sequenceFlow id="f2" sourceRef="s" targetRef="end" />
    <bpmn:endEvent id="end" />
""")
    error = rejected(engine, ("p.bpmn", definitions("p", body)))
    assert any(p.element == element and needle in p.message and p.line for p in error.problems), \
        error.problems


def test_unreachable_node_is_refused(engine: Engine) -> None:
    body = process("p", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end" />
    <bpmn:endEvent id="end" />
    <bpmn:userTask id="orphan" />
""")
    error = rejected(engine, ("p.bpmn", definitions("p", body)))
    assert [(p.element, "cannot be reached" in p.message) for p in error.problems] == [
        ("orphan", True)]


def test_non_executable_file_is_refused(engine: Engine) -> None:
    xml = linear_user_tasks("p", 1).replace('isExecutable="true"', 'isExecutable="false"')
    (problem,) = rejected(engine, ("p.bpmn", xml)).problems
    assert "no executable process" in problem.message


def test_form_is_versioned_and_referenced(engine: Engine) -> None:
    form = b'{"id": "review-form", "type": "default", "components": [{"key": "ok", "type": "checkbox"}]}'
    body = process("p", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="s" />
    <bpmn:userTask id="s" camunda:formRef="review-form" />
    <bpmn:sequenceFlow id="f2" sourceRef="s" targetRef="end" />
    <bpmn:endEvent id="end" />
""")
    result = deploy(engine, ("review.form", form), ("p.bpmn", definitions("p", body)))
    assert [(f.form_id, f.version) for f in result.forms] == [("review-form", 1)]
    again = deploy(engine, ("review.form", form))
    assert again.forms[0].unchanged
    with engine.write() as s:
        instance = s.runtime.start_instance("p")
    with engine.read() as s:
        form_key = s.session.scalar(sa.select(Task.form_key).where(
            Task.instance_id == instance.id))
    assert form_key == "review-form"


def test_a_completion_checks_the_latest_form_without_a_query_of_its_own(
        engine: Engine) -> None:
    # The latest version's row id comes with the task's row; a version seen before
    # is not read again, and a version deployed since is used at once.
    first = (b'{"id": "review-form", "type": "default", "components": '
             b'[{"key": "ok", "type": "checkbox"}]}')
    second = (b'{"id": "review-form", "type": "default", "components": '
              b'[{"key": "ok", "type": "checkbox"}, {"key": "reason", "type": "textfield", '
              b'"validate": {"required": true}}]}')
    body = process("p", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="s" />
    <bpmn:userTask id="s" camunda:formRef="review-form" />
    <bpmn:sequenceFlow id="f2" sourceRef="s" targetRef="end" />
    <bpmn:endEvent id="end" />
""")
    deploy(engine, ("review.form", first), ("p.bpmn", definitions("p", body)))
    tasks = []
    for _ in range(3):
        with engine.write() as s:
            instance = s.runtime.start_instance("p")
            tasks.append(s.queries.instance_tasks(instance.id)[0].id)
    with engine.write() as s:
        s.submit_task(tasks[0], {"ok": True}, actor="u")
    with sent_statements(engine.db.engine) as statements, engine.write() as s:
        s.submit_task(tasks[1], {"ok": True}, actor="u")
    assert not [q for q in statements if q.startswith("SELECT form_definition")], statements
    deploy(engine, ("review.form", second))
    with pytest.raises(InvalidInput) as refused, engine.write() as s:
        s.submit_task(tasks[2], {"ok": True}, actor="u")
    assert "reason" in refused.value.errors
    with engine.write() as s:
        cleaned, _ = s.submit_task(tasks[2], {"ok": True, "reason": "sesuai"}, actor="u")
    assert cleaned == {"ok": True, "reason": "sesuai"}


def test_call_activity_to_a_process_deployed_before(engine: Engine) -> None:
    deploy(engine, ("child.bpmn", linear_user_tasks("child", 1)))
    parent = process("parent", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call" />
    <bpmn:callActivity id="call" calledElement="child" />
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="after" />
    <bpmn:userTask id="after" />
    <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end" />
    <bpmn:endEvent id="end" />
""")
    deploy(engine, ("parent.bpmn", definitions("parent", parent)))
    with engine.write() as s:
        instance = s.runtime.start_instance("parent", variables={"x": 1})
    for expected in ("task_1", "after"):
        with engine.write() as s:
            (task_id, element) = s.session.execute(sa.select(Task.id, Task.element_id).where(
                Task.state == "ready")).one()
            assert element == expected
            s.runtime.complete_task(task_id, {expected: True}, actor="u")
    with engine.read() as s:
        assert s.runtime.instance(instance.id).status == "completed"


def test_message_reference_must_exist(engine: Engine) -> None:
    body = process("p", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait">
      <bpmn:messageEventDefinition id="med" messageRef="nowhere" />
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end" />
    <bpmn:endEvent id="end" />
""")
    (problem,) = rejected(engine, ("p.bpmn", definitions("p", body))).problems
    assert problem.element == "wait"
    assert "message 'nowhere'" in problem.message
    assert problem.line == 7


# -- document type declarations (XXE, entity expansion) ------------------------------


@pytest.mark.parametrize("kind", sorted(DOCTYPES))
def test_a_doctype_is_refused_before_anything_is_stored(engine: Engine, kind: str) -> None:
    deploy(engine, ("dtd.bpmn", linear_user_tasks("dtd", 1)))
    stored = [count(engine, m) for m in (Deployment, ProcessDefinition, DeploymentResource)]
    error = rejected(engine, ("proses.bpmn", with_doctype(kind)),
                     ("linear.bpmn", linear_user_tasks("linear", 1)))
    (problem,) = error.problems
    assert (problem.file, problem.line, problem.element) == ("proses.bpmn", 2, None)
    assert problem.message.startswith("DTDs and entity declarations are not accepted")
    assert "<!DOCTYPE" in problem.message
    assert "proses.bpmn:2: DTDs" in str(error)
    assert [count(engine, m) for m in (Deployment, ProcessDefinition,
                                       DeploymentResource)] == stored


def test_a_doctype_in_utf16_is_refused_too(engine: Engine) -> None:
    xml = with_doctype("external-system-entity").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    (problem,) = rejected(engine, ("proses.bpmn", xml.encode("utf-16"))).problems
    assert (problem.file, problem.line) == ("proses.bpmn", 2)
    assert "DTDs" in problem.message


def test_a_doctype_hidden_by_the_encoding_is_found_after_parsing(engine: Engine) -> None:
    # In UTF-7 "<!" may be written "+ADwAIQ-": the check before parsing cannot
    # see the declaration, the one after parsing can.
    first, rest = with_doctype("external-system-entity").split("\n", 1)
    content = (first.replace('encoding="UTF-8"', 'encoding="UTF-7"').encode() + b"\n"
               + rest.encode("utf-7").replace(b"<!DOCTYPE", b"+ADwAIQ-DOCTYPE"))
    (problem,) = rejected(engine, ("proses.bpmn", content)).problems
    assert (problem.file, problem.line) == ("proses.bpmn", None)
    assert problem.message.startswith("DTDs and entity declarations are not accepted")
    assert count(engine, ProcessDefinition) == 0


def test_doctype_text_in_a_comment_or_cdata_is_no_declaration(engine: Engine) -> None:
    xml = linear_user_tasks("notes", 1).replace(
        '<bpmn:startEvent id="start" />',
        '<bpmn:startEvent id="start"><bpmn:documentation><![CDATA[Send <!DOCTYPE html> '
        'letters]]></bpmn:documentation></bpmn:startEvent>')
    first, rest = xml.split("\n", 1)
    xml = f"{first}\n<!-- not a <!DOCTYPE x [<!ENTITY a 'b'>]> -->\n<?note ok?>\n{rest}"
    (deployed,) = deploy(engine, ("notes.bpmn", xml)).processes
    assert (deployed.key, deployed.version) == ("notes", 1)


def test_spiffworkflow_parser_refuses_a_doctype_when_given_bytes() -> None:
    parser = SertiflowParser()
    parser.add_bpmn_str(linear_user_tasks("plain", 1).encode(), "plain.bpmn")
    assert parser.get_spec("plain").name == "plain"
    for kind in DOCTYPES:
        with pytest.raises(ValidationException) as info:
            SertiflowParser().add_bpmn_str(with_doctype(kind).encode(), "proses.bpmn")
        assert "DTDs and entity declarations are not accepted" in str(info.value)
