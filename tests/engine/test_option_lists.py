"""The option lists the engine fills for a form (``valuesKey: users:<role>``)."""

from __future__ import annotations

from engine.composition import Engine
from engine.tasks.option_lists import engine_option_lists
from engine.tasks.taskforms import TaskForm
from tests.statements import sent_statements

FORM = TaskForm("camunda-form", schema={"components": [
    {"type": "select", "key": "lead", "valuesKey": "users:auditor"},
    {"type": "group", "path": "panel", "components": [
        {"type": "taglist", "key": "members", "valuesKey": "users:auditor,koordinator-pk"},
    ]},
    {"type": "select", "key": "reviewer", "valuesKey": "users:nobody-has-this"},
    {"type": "select", "key": "colour", "valuesKey": "colours"},  # a variable's list
]})


def test_every_list_of_a_form_comes_from_one_read(engine: Engine) -> None:
    with engine.write() as s:
        for name, roles, display in [("budi", ["auditor"], "Budi Santoso"),
                                     ("ani", ["auditor", "koordinator-pk"], "Ani"),
                                     ("citra", ["koordinator-pk"], None),
                                     ("dodi", ["auditor"], "Dodi")]:
            s.identity.add_user(name, "a-long-password", roles=roles, display_name=display)
        s.identity.set_active("dodi", False)
    with sent_statements(engine.db.engine) as reads, engine.read() as s:
        lists = engine_option_lists(s.session, FORM)
        assert engine_option_lists(s.session, TaskForm("camunda-form", schema={})) == {}
    assert len([q for q in reads if q.startswith("SELECT")]) == 1
    assert lists == {
        "users:auditor": [{"label": "Ani", "value": "ani"},
                          {"label": "Budi Santoso", "value": "budi"}],
        "users:auditor,koordinator-pk": [{"label": "Ani", "value": "ani"},
                                         {"label": "Budi Santoso", "value": "budi"},
                                         {"label": "citra", "value": "citra"}],
        "users:nobody-has-this": [],
    }
