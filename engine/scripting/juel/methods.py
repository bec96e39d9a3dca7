"""What a JUEL expression may call: Camunda's ``execution`` and ``task`` objects, the
engine's functions, and the Java methods of strings, lists and maps, each written
as the Python that does the same."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .errors import JuelError

EXECUTION_METHODS = frozenset({
    "getVariable", "getVariableLocal", "setVariable", "setVariableLocal", "hasVariable",
    "hasVariableLocal", "removeVariable", "removeVariableLocal", "getVariables",
    "getVariablesLocal", "getVariableNames", "setVariables", "getProcessInstanceId",
    "getBusinessKey", "getProcessBusinessKey", "getProcessDefinitionId", "getActivityId",
    "getCurrentActivityId", "getCurrentActivityName", "getActivityInstanceId", "getEventName",
    "getId", "getTenantId", "getParentId",
})
TASK_METHODS = frozenset({
    "getId", "getName", "setName", "getDescription", "setDescription", "getAssignee",
    "setAssignee", "getOwner", "setOwner", "getPriority", "setPriority", "getDueDate",
    "setDueDate", "getFollowUpDate", "setFollowUpDate", "getTaskDefinitionKey", "getEventName",
    "getProcessInstanceId", "getProcessDefinitionId", "getExecutionId", "getCreateTime",
    "addCandidateGroup", "addCandidateUser", "deleteCandidateGroup", "deleteCandidateUser",
    "getVariable", "getVariableLocal", "setVariable", "setVariableLocal", "hasVariable",
    "getVariables", "removeVariable",
})
# The names JUEL gives the context objects, with what may be called on each.
CONTEXT_OBJECTS: Mapping[str, frozenset[str]] = {
    "execution": EXECUTION_METHODS,
    "task": TASK_METHODS,
}
# Functions the engine provides at run time, with the number of arguments they take.
FUNCTIONS: Mapping[str, int] = {"now": 0}

# Getters that need an argument are methods, not bean properties (execution.variable).
_GETTERS_WITH_ARGUMENTS = frozenset({"getVariable", "getVariableLocal"})


@dataclass(frozen=True)
class _Method:
    """How one Java method of String, List or Map is written in Python."""

    arities: tuple[int, ...]
    emit: Callable[[str, Sequence[str]], str]  # (receiver, arguments) -> Python


def _dotted(python: str) -> str:
    """Parenthesize a number so a method can follow it (``(5).x``, not ``5.x``)."""
    return f"({python})" if python[:1].isdigit() or python[:1] == "." else python


_VALUE_METHODS: Mapping[str, _Method] = {
    "length": _Method((0,), lambda x, a: f"len({x})"),
    "size": _Method((0,), lambda x, a: f"len({x})"),
    "isEmpty": _Method((0,), lambda x, a: f"(len({x}) == 0)"),
    "contains": _Method((1,), lambda x, a: f"({a[0]} in {x})"),
    "containsKey": _Method((1,), lambda x, a: f"({a[0]} in {x})"),
    "startsWith": _Method((1,), lambda x, a: f"{_dotted(x)}.startswith({a[0]})"),
    "endsWith": _Method((1,), lambda x, a: f"{_dotted(x)}.endswith({a[0]})"),
    "equals": _Method((1,), lambda x, a: f"({x} == {a[0]})"),
    "equalsIgnoreCase": _Method(
        (1,), lambda x, a: f"(str({x}).lower() == str({a[0]}).lower())"),
    "toUpperCase": _Method((0,), lambda x, a: f"{_dotted(x)}.upper()"),
    "toLowerCase": _Method((0,), lambda x, a: f"{_dotted(x)}.lower()"),
    "trim": _Method((0,), lambda x, a: f"{_dotted(x)}.strip()"),
    "substring": _Method((1, 2), lambda x, a: f"{x}[{a[0]}:{a[1] if len(a) > 1 else ''}]"),
    "indexOf": _Method(
        (1,), lambda x, a: f"({_dotted(x)}.index({a[0]}) if {a[0]} in {x} else -1)"),
    "charAt": _Method((1,), lambda x, a: f"{x}[{a[0]}]"),
    "concat": _Method((1,), lambda x, a: f"({x} + {a[0]})"),
    "replace": _Method((2,), lambda x, a: f"{_dotted(x)}.replace({a[0]}, {a[1]})"),
    "get": _Method((1,), lambda x, a: f"{x}[{a[0]}]"),
    "toString": _Method((0,), lambda x, a: f"str({x})"),
}

_PYTHON_INSTEAD = ("sertiflow runs Python, so write a Python expression over the process "
                   "variables instead, e.g. amount > 100 and approved")


def value_call(receiver: str, name: str, arguments: Sequence[str], call: str) -> str:
    """A Java method of String, List or Map, written as the Python that does the same."""
    method = _VALUE_METHODS.get(name)
    if method is None:
        raise JuelError(f"the method call '{call}' is not supported: '{name}' is not one of "
                        f"the JUEL methods sertiflow knows ({', '.join(sorted(_VALUE_METHODS))})"
                        f"; {_PYTHON_INSTEAD}")
    if len(arguments) not in method.arities:
        raise JuelError(f"the method '{name}' takes {_arguments(method.arities)}, not "
                        f"{len(arguments)} (in '{call}')")
    return method.emit(receiver, arguments)


def _arguments(arities: Sequence[int]) -> str:
    """Word how many arguments a method takes: "no arguments", "1 or 2 arguments"."""
    if arities == (0,):
        return "no arguments"
    counts = " or ".join(str(count) for count in arities)
    return f"{counts} argument{'' if arities == (1,) else 's'}"


def context_call(context: str, name: str, arguments: Sequence[str], call: str) -> str:
    """A call on ``execution`` or ``task``, kept for the engine's object of that name."""
    allowed = CONTEXT_OBJECTS[context]
    if name not in allowed:
        raise JuelError(f"'{call}' is not available: sertiflow's {context} object knows only "
                        f"{', '.join(sorted(allowed))}")
    return f"{context}.{name}({', '.join(arguments)})"


def context_property(context: str, name: str, source: str) -> str:
    """A bean property of ``execution`` or ``task``, read with its getter."""
    if context == "task" and name == "execution":
        return "execution"
    getter = f"get{name[:1].upper()}{name[1:]}"
    if getter in CONTEXT_OBJECTS[context] and getter not in _GETTERS_WITH_ARGUMENTS:
        return f"{context}.{getter}()"
    raise JuelError(f"'{source}' is not available: sertiflow's {context} object has the "
                    f"properties {', '.join(_properties(context))}")


def _properties(context: str) -> list[str]:
    """The bean properties of a context object: its getters without arguments."""
    names = [f"{getter[3].lower()}{getter[4:]}" for getter in CONTEXT_OBJECTS[context]
             if getter.startswith("get") and getter not in _GETTERS_WITH_ARGUMENTS]
    return sorted([*names, "execution"] if context == "task" else names)


def function_call(name: str, arguments: Sequence[str], call: str) -> str:
    """A JUEL function: only those the engine provides."""
    if name == "dateTime":
        raise JuelError("Camunda's dateTime() (Joda-Time) is not available: write a Python "
                        "expression with datetime and timedelta instead, or an ISO 8601 "
                        "duration such as P2D in the due date")
    if name not in FUNCTIONS:
        raise JuelError(f"the function '{name}' is not available in JUEL here (only "
                        f"{', '.join(f'{known}()' for known in sorted(FUNCTIONS))}); "
                        f"{_PYTHON_INSTEAD}")
    if len(arguments) != FUNCTIONS[name]:
        raise JuelError(f"the function '{name}' takes {_arguments((FUNCTIONS[name],))}, "
                        f"not {len(arguments)} (in '{call}')")
    return f"{name}({', '.join(arguments)})"
