"""Camunda's ``execution`` and ``task`` objects, for listeners and mappings.

Camunda 7 analysts reach the running instance through two Java objects:
``${execution.setVariable('approved', true)}`` in an execution listener,
``task.setAssignee('demo')`` in a task listener's script. sertiflow gives the
same names to analysts' code as small Python objects with the usual methods,
built inside the script's own process (:mod:`engine.scripting.zygote`) from
plain data the engine sends along (:class:`ContextInfo`):

- variable methods work on the script's namespace, which then holds every
  variable of the task, so ``setVariable`` is an assignment the engine sees as
  a change, ``removeVariable`` a deletion;
- the getters answer from the engine's description of the instance and element;
- what a task listener asks of its task (assignee, due date, candidates...) is
  collected in :attr:`TaskObject.changes` and travels back with the answer.

Nothing here reaches outside the namespace: the objects hold plain data only,
and their attributes start with "_", which analysts' code cannot name.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from datetime import date, datetime
from typing import Any

# Names the engine supplies to code that mentions them (besides the variables).
CONTEXT_NAMES = frozenset({"execution", "task", "now"})


def _variable_name(name: Any) -> str:
    if not isinstance(name, str) or not name or name.startswith("_"):
        raise ValueError(f"{name!r} cannot be a variable name: use a text that does not "
                         "start with '_'")
    return name


class ExecutionObject:
    """Camunda's ``DelegateExecution``, over the script's variables."""

    def __init__(self, variables: MutableMapping[str, Any], info: Mapping[str, Any],
                 locals_: set[str]) -> None:
        self._variables = variables
        self._info = info
        # Names set with setVariableLocal: the engine drops them after the element.
        self._locals = locals_

    # -- variables ------------------------------------------------------------------

    def getVariable(self, name: str) -> Any:
        return self._variables.get(_variable_name(name))

    def getVariableLocal(self, name: str) -> Any:
        return self.getVariable(name)

    def hasVariable(self, name: str) -> bool:
        return _variable_name(name) in self._variables

    def hasVariableLocal(self, name: str) -> bool:
        return _variable_name(name) in self._locals

    def setVariable(self, name: str, value: Any) -> None:
        self._variables[_variable_name(name)] = value

    def setVariableLocal(self, name: str, value: Any) -> None:
        self.setVariable(name, value)
        self._locals.add(name)

    def setVariables(self, values: Mapping[str, Any]) -> None:
        if not isinstance(values, Mapping):
            raise TypeError("setVariables takes a map of names to values")
        for name, value in values.items():
            self.setVariable(name, value)

    def removeVariable(self, name: str) -> None:
        self._variables.pop(_variable_name(name), None)

    def removeVariableLocal(self, name: str) -> None:
        self.removeVariable(name)

    def getVariables(self) -> dict[str, Any]:
        return {k: v for k, v in self._variables.items() if not k.startswith("_")}

    def getVariablesLocal(self) -> dict[str, Any]:
        return {k: self._variables[k] for k in self._locals if k in self._variables}

    def getVariableNames(self) -> list[str]:
        return sorted(self.getVariables())

    # -- the instance and the element -----------------------------------------------

    def getProcessInstanceId(self) -> str | None:
        return self._info.get("processInstanceId")

    def getBusinessKey(self) -> str | None:
        return self._info.get("businessKey")

    def getProcessBusinessKey(self) -> str | None:
        return self.getBusinessKey()

    def getProcessDefinitionId(self) -> str | None:
        return self._info.get("processDefinitionId")

    def getActivityId(self) -> str | None:
        return self._info.get("activityId")

    def getCurrentActivityId(self) -> str | None:
        return self.getActivityId()

    def getCurrentActivityName(self) -> str | None:
        return self._info.get("activityName")

    def getActivityInstanceId(self) -> str | None:
        return self._info.get("activityInstanceId")

    def getId(self) -> str | None:
        return self._info.get("activityInstanceId")

    def getParentId(self) -> str | None:
        return self.getProcessInstanceId()

    def getEventName(self) -> str | None:
        return self._info.get("eventName")

    def getTenantId(self) -> None:
        return None


class TaskObject:
    """Camunda's ``DelegateTask`` of a user task: getters, and setters the engine applies."""

    def __init__(self, execution: ExecutionObject, info: Mapping[str, Any]) -> None:
        self._execution = execution
        self._info = dict(info)
        self.changes: dict[str, Any] = {}

    def _get(self, key: str) -> Any:
        return self.changes.get(key, self._info.get(key))

    def _set(self, key: str, value: Any) -> None:
        self.changes[key] = value

    def getId(self) -> str | None:
        return self._info.get("id")

    def getName(self) -> str | None:
        return self._get("name")

    def setName(self, name: Any) -> None:
        self._set("name", None if name is None else str(name))

    def getDescription(self) -> str | None:
        return self._get("description")

    def setDescription(self, text: Any) -> None:
        self._set("description", None if text is None else str(text))

    def getAssignee(self) -> str | None:
        return self._get("assignee")

    def setAssignee(self, user: Any) -> None:
        self._set("assignee", None if user in (None, "") else str(user))

    def getOwner(self) -> str | None:
        return self._get("owner")

    def setOwner(self, user: Any) -> None:
        self._set("owner", None if user in (None, "") else str(user))

    def getPriority(self) -> int:
        return int(self._get("priority") or 50)

    def setPriority(self, priority: Any) -> None:
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise TypeError(f"the priority must be a whole number, not {priority!r}")
        self._set("priority", priority)

    def getDueDate(self) -> str | None:
        return self._get("dueDate")

    def setDueDate(self, moment: Any) -> None:
        self._set("dueDate", _moment_text(moment))

    def getFollowUpDate(self) -> str | None:
        return self._get("followUpDate")

    def setFollowUpDate(self, moment: Any) -> None:
        self._set("followUpDate", _moment_text(moment))

    def getTaskDefinitionKey(self) -> str | None:
        return self._info.get("taskDefinitionKey")

    def getEventName(self) -> str | None:
        return self._info.get("eventName")

    def getCreateTime(self) -> str | None:
        return self._info.get("createTime")

    def getProcessInstanceId(self) -> str | None:
        return self._execution.getProcessInstanceId()

    def getProcessDefinitionId(self) -> str | None:
        return self._execution.getProcessDefinitionId()

    def getExecutionId(self) -> str | None:
        return self._execution.getId()

    def getExecution(self) -> ExecutionObject:
        return self._execution

    def _names(self, key: str) -> list[str]:
        return list(self._get(key) or [])

    def addCandidateGroup(self, group: Any) -> None:
        self._set("candidateGroups", [*self._names("candidateGroups"), str(group)])

    def addCandidateUser(self, user: Any) -> None:
        self._set("candidateUsers", [*self._names("candidateUsers"), str(user)])

    def deleteCandidateGroup(self, group: Any) -> None:
        self._set("candidateGroups", [g for g in self._names("candidateGroups") if g != group])

    def deleteCandidateUser(self, user: Any) -> None:
        self._set("candidateUsers", [u for u in self._names("candidateUsers") if u != user])

    # The task's variables are the execution's (sertiflow keeps no task-local scope).
    def getVariable(self, name: str) -> Any:
        return self._execution.getVariable(name)

    def getVariableLocal(self, name: str) -> Any:
        return self._execution.getVariableLocal(name)

    def setVariable(self, name: str, value: Any) -> None:
        self._execution.setVariable(name, value)

    def setVariableLocal(self, name: str, value: Any) -> None:
        self._execution.setVariableLocal(name, value)

    def hasVariable(self, name: str) -> bool:
        return self._execution.hasVariable(name)

    def getVariables(self) -> dict[str, Any]:
        return self._execution.getVariables()

    def removeVariable(self, name: str) -> None:
        self._execution.removeVariable(name)


def _moment_text(moment: Any) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, datetime | date):
        return moment.isoformat()
    if isinstance(moment, str) and moment.strip():
        return moment.strip()
    raise TypeError(f"a date must be a date, a date-time or an ISO 8601 text, not {moment!r}")


class Context:
    """The objects one run of listener or mapping code sees, and what it changed."""

    def __init__(self, variables: MutableMapping[str, Any], info: Mapping[str, Any]) -> None:
        self.locals: set[str] = set()
        self.execution = ExecutionObject(variables, info, self.locals)
        task_info = info.get("task")
        self.task = TaskObject(self.execution, task_info) if task_info is not None else None
        now_text = info.get("now")
        self._now = datetime.fromisoformat(now_text) if now_text else None

    def now(self) -> datetime:
        if self._now is None:
            raise ValueError("now() is not available here")
        return self._now

    def names(self) -> dict[str, Any]:
        """The names to add to the code's builtins."""
        names: dict[str, Any] = {"execution": self.execution, "now": self.now}
        if self.task is not None:
            names["task"] = self.task
        return names

    def effects(self) -> dict[str, Any]:
        """What the run asked of the engine beyond its variables."""
        effects: dict[str, Any] = {}
        if self.locals:
            effects["locals"] = sorted(self.locals)
        if self.task is not None and self.task.changes:
            effects["task"] = self.task.changes
        return effects
