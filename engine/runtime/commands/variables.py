"""The variables a command brings: process data only, and what a process needs to start."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.bpmn.data import required_inputs
from engine.bpmn.workflow import start_events
from engine.errors import InvalidInput
from engine.scripting import UnstorableValue, check_storable
from engine.scripting.values import same_data


def check_variables(variables: Mapping[str, Any],
                    current: Mapping[str, Any] | None = None) -> None:
    """Refuse variable names and values that are not process data (InvalidInput).

    A value that is the same data as the one ``current`` holds under its name (a form
    sending back a 100-KB value it showed) changes nothing and is not walked again.
    """
    bad = [k for k in variables if not isinstance(k, str) or not k.isidentifier()
           or k.startswith("_")]
    if bad:
        raise InvalidInput("variable names must be identifiers not starting with '_'",
                           {str(k): "not a valid variable name" for k in bad})
    errors = {}
    for name, value in variables.items():
        if current is not None and name in current and same_data(value, current[name]):
            continue
        try:
            check_storable(name, value)
        except UnstorableValue as exc:
            errors[name] = exc.message
    if errors:
        raise InvalidInput("variables must be process data", errors)


def check_start_inputs(key: str, stored_spec: Mapping[str, Any],
                       variables: Mapping[str, Any]) -> None:
    """Refuse a start without the data inputs the process's ioSpecification names."""
    missing = [n for n in required_inputs(stored_spec) if n not in variables]
    if missing:
        raise InvalidInput(
            f"process '{key}' needs the start variable{'s' if len(missing) > 1 else ''}"
            f" {', '.join(missing)} (its ioSpecification names them as data inputs)",
            {f"variables.{n}": "required: a data input of the process"
             for n in missing})


def initiator_variable(stored_spec: Mapping[str, Any]) -> str | None:
    """The variable ``camunda:initiator`` names on a start event: it gets the starter."""
    return next((str(e.initiator) for e in start_events(stored_spec) if e.initiator), None)
