"""BPMN files with a document type declaration: entity tricks a deployment must refuse.

Each file is a valid one-task process with a ``<!DOCTYPE ...>`` on line 2, right
after the XML declaration, and (where it declares one) an entity used in the
start event's documentation, so the file would deploy if the declaration were
ignored.
"""

from __future__ import annotations

from tests.builders import linear_user_tasks

LAUGHS = "".join(
    f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
)

# name -> (the declaration, the entity reference used in the body or "")
DOCTYPES: dict[str, tuple[str, str]] = {
    "internal-entity": ('<!DOCTYPE bpmn:definitions [<!ENTITY step "Langkah">]>', "&step;"),
    "external-system-entity": (
        '<!DOCTYPE bpmn:definitions [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "&xxe;"),
    "external-public-dtd": (
        '<!DOCTYPE bpmn:definitions PUBLIC "-//Example//DTD BPMN//EN" '
        '"http://127.0.0.1:9/bpmn.dtd">', ""),
    "parameter-entity": (
        '<!DOCTYPE bpmn:definitions [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd">'
        ' %remote;]>', ""),
    "billion-laughs": (f'<!DOCTYPE lolz [<!ENTITY lol0 "lol">{LAUGHS}]>', "&lol9;"),
    "bare-doctype": ("<!DOCTYPE definitions>", ""),
}


def with_doctype(kind: str, key: str = "dtd") -> str:
    """A deployable one-task process ``key`` with the declaration ``kind`` on line 2."""
    declaration, reference = DOCTYPES[kind]
    xml = linear_user_tasks(key, 1)
    if reference:
        xml = xml.replace('<bpmn:startEvent id="start" />',
                          '<bpmn:startEvent id="start"><bpmn:documentation>'
                          f"{reference}</bpmn:documentation></bpmn:startEvent>")
    first, rest = xml.split("\n", 1)
    assert first.startswith("<?xml")
    return f"{first}\n{declaration}\n{rest}"
