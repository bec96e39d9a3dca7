"""Checking a deployment's data objects, data stores and ioSpecification entries."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from ...errors import Problem
from .elements import data_object_variable, far_end, io_variable, is_variable_name, local_name, q


def data_problems(name: str, process: etree._Element) -> Iterator[Problem]:
    """Refuse data objects, stores and ioSpecification entries that could not run."""
    root = process.getroottree().getroot()
    yield from _association_problems(name, root, process)
    yield from _data_object_problems(name, root, process)
    for io in process.iter(q("ioSpecification")):
        owner = io.getparent()
        for item in io:
            if local_name(item) not in ("dataInput", "dataOutput"):
                continue
            variable = io_variable(item)
            if not is_variable_name(variable):
                what = "data input" if local_name(item) == "dataInput" else "data output"
                yield Problem(name, f"the {what} '{item.get('id')}' of the ioSpecification "
                              f"is the variable '{variable}', which is not a variable name: "
                              "name it like one (letters, digits and _, e.g. "
                              "application_number)", owner.get("id"), item.sourceline)


def _association_problems(name: str, root: etree._Element, process: etree._Element
                          ) -> Iterator[Problem]:
    for tag, end, verb in (("dataInputAssociation", "sourceRef", "reads"),
                           ("dataOutputAssociation", "targetRef", "writes")):
        for association in process.iter(q(tag)):
            owner = association.getparent()
            owner_id = owner.get("id") if owner is not None else None
            line = association.sourceline
            if (association.find(q("transformation")) is not None
                    or association.find(q("assignment")) is not None):
                yield Problem(name, "data association transformations and assignments are "
                              "not supported: copy or compute the value in a script task or a "
                              "camunda:inputOutput mapping", owner_id, line)
                continue
            refs = [(r.text or "").strip() for r in association.iterfind(q(end))]
            found = far_end(root, refs[0] if refs else None)
            if found is None:
                yield Problem(name, f"a data association {verb} '{refs[0] if refs else ''}', "
                              "which is neither a data object, a named data store nor a data "
                              "input or output of the process: draw it to a data object or "
                              "data store reference", owner_id, line)
                continue
            kind, ref = found
            if kind == "store" and not is_variable_name(ref):
                yield Problem(name, f"the data store '{ref}' is the variable of its name, "
                              "which is not a variable name: name it like one (letters, "
                              f"digits and _, e.g. {_variable_like(ref)})", owner_id, line)


def _variable_like(name: str) -> str:
    """A variable name close to ``name``: "Order register" -> "order_register"."""
    suggested = re.sub(r"\W+", "_", name.strip()).strip("_").lower()
    if not suggested or suggested[0].isdigit():
        suggested = f"store_{suggested}".rstrip("_")
    return suggested


def _data_object_problems(name: str, root: etree._Element, process: etree._Element
                          ) -> Iterator[Problem]:
    used = set()
    for association in [*process.iter(q("dataInputAssociation")),
                        *process.iter(q("dataOutputAssociation"))]:
        for end in ("sourceRef", "targetRef"):
            for ref in association.iterfind(q(end)):
                found = far_end(root, (ref.text or "").strip())
                if found is not None and found[0] == "object":
                    used.add(found[1])
    for container in [process, *(el for el in process.iterdescendants()
                                 if local_name(el) in ("subProcess", "transaction",
                                                   "adHocSubProcess"))]:
        seen: dict[str, str] = {}
        for data_object in container.iterfind(q("dataObject")):
            object_id = str(data_object.get("id"))
            variable = data_object_variable(root, data_object)
            labels = {str(r.get("name")) for r in root.iter(q("dataObjectReference"))
                      if r.get("dataObjectRef") == object_id and r.get("name")}
            if not data_object.get("name") and len(labels) > 1:
                yield Problem(name, f"the references of data object '{object_id}' are "
                              f"labelled {', '.join(sorted(labels))}: one data object is one "
                              "variable, so give them one name", object_id,
                              data_object.sourceline)
            elif object_id in used and not is_variable_name(variable):
                yield Problem(name, f"the data object '{variable}' is read or written by a "
                              "task, and its name is the variable's name, which this is not: "
                              "name it like a variable (letters, digits and _, e.g. "
                              "berita_acara)", object_id, data_object.sourceline)
            if variable in seen:
                yield Problem(name, f"the data objects '{seen[variable]}' and '{object_id}' "
                              f"are both named '{variable}' in one process or sub-process: "
                              "give each its own name", object_id, data_object.sourceline)
            seen[variable] = object_id
