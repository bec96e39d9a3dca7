"""The data elements of a BPMN document: the variable names they go by, what an
association reaches.

Shared by the parser (:mod:`.parsing`) and the validator (:mod:`.validation`).
"""

from __future__ import annotations

import keyword
from typing import Any

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def q(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def local_name(el: Any) -> str:
    return str(el.tag).rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""


def is_variable_name(name: str | None) -> bool:
    return bool(name) and str(name).isidentifier() and not keyword.iskeyword(str(name))


# -- names ---------------------------------------------------------------------------

def data_object_variable(root: etree._Element, data_object: etree._Element) -> str:
    """The variable a data object is: its name, else its references' name, else its id."""
    if data_object.get("name"):
        return str(data_object.get("name"))
    object_id = data_object.get("id")
    for reference in root.iter(q("dataObjectReference")):
        if reference.get("dataObjectRef") == object_id and reference.get("name"):
            return str(reference.get("name"))
    return str(object_id)


def data_store_name(root: etree._Element, reference: etree._Element) -> str | None:
    """The name of the data store a reference names (the dataStore's, else its own)."""
    store_id = reference.get("dataStoreRef")
    if store_id:
        for store in root.iter(q("dataStore")):
            if store.get("id") == store_id and store.get("name"):
                return str(store.get("name"))
    return reference.get("name")


def io_variable(item: etree._Element) -> str:
    """The variable of a ``dataInput`` or ``dataOutput``: its name, else its id."""
    return str(item.get("name") or item.get("id"))


def by_id(root: etree._Element, element_id: str | None) -> etree._Element | None:
    if not element_id:
        return None
    found = root.xpath("//*[@id=$i]", i=element_id)
    return found[0] if found else None


def far_end(root: etree._Element, ref_id: str | None) -> tuple[str, str] | None:
    """("object", data object id), ("store", store name) or ("variable", name) for an
    association's far end; the last is a data input or output of a process."""
    el = by_id(root, ref_id)
    if el is None:
        return None
    tag = local_name(el)
    if tag in ("dataInput", "dataOutput"):
        io = el.getparent()
        owner = io.getparent() if io is not None else None
        if owner is not None and local_name(owner) in ("process", "subProcess", "transaction"):
            return "variable", io_variable(el)
        return None
    if tag == "dataObjectReference":
        target = by_id(root, el.get("dataObjectRef"))
        if target is not None and local_name(target) == "dataObject":
            return "object", str(target.get("id"))
        return None
    if tag == "dataObject":
        return "object", str(el.get("id"))
    if tag == "dataStoreReference":
        name = data_store_name(root, el)
        return ("store", name) if name else None
    return None
