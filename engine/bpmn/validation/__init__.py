"""Check a Camunda Modeler file against sertiflow's BPMN dialect before it is stored.

Each check reports :class:`~engine.errors.Problem` entries with the file name,
the element id and the line, so an analyst can go straight to the spot in the
Modeler. Nothing here stores anything; the deployment service decides.

- :mod:`.safe_xml`: reading uploaded XML without DTDs, entities or network;
- :mod:`.document`: :func:`read_bpmn`, the parse and every check of one file;
- :mod:`.references`: what a file names beyond itself (forms, topics, called
  processes) and the events it names inside itself;
- :mod:`.structure`: ids, links, link events, reachability;
- :mod:`.dialect`: the Camunda 7 extensions sertiflow runs and those it refuses;
- :mod:`.expressions`: expressions, templates and scripts that must compile;
- :mod:`.elements`: how the checks read a diagram (namespaces, tags, owners).
"""

from __future__ import annotations

from .dialect import collection_variable, parse_history_ttl
from .document import BpmnDocument, read_bpmn
from .elements import BPMN_NS, CAMUNDA_NS, link_name
from .references import References, check_references
from .safe_xml import NO_DTD, declares_dtd, doctype_line, xml_parser

__all__ = [
    "BPMN_NS",
    "CAMUNDA_NS",
    "NO_DTD",
    "BpmnDocument",
    "References",
    "check_references",
    "collection_variable",
    "declares_dtd",
    "doctype_line",
    "link_name",
    "parse_history_ttl",
    "read_bpmn",
    "xml_parser",
]
