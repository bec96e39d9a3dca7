"""The option lists a form names with ``valuesKey``, and the data a task's form is given.

form-js fills a select, radio, checklist or taglist from the list found under its
``valuesKey`` in the form's input data (``[{"label": ..., "value": ...}]``). Such a
list is either a process variable of that name (a diagram or a service task put it
there) or one the engine fills itself when the form is shown and again when it is
submitted, so the server checks a choice against the same list the person saw:

``users:<role>[,<role>...]``
    the active users holding any of those roles: the value is the user name, the
    label the person's full name (``users:reviewer`` for a reviewer picker).

Any diagram can use it: in Camunda Modeler set the field's options source to
"Input data" and its key to ``users:reviewer``. The chosen user names can then name
a task's ``camunda:assignee`` or ``camunda:candidateUsers`` (``${reviewer}``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.models.identity import User, UserRole
from engine.tasks.taskforms import TaskForm

USERS_PREFIX: Final = "users:"


def values_keys(schema: Mapping[str, Any] | None) -> list[str]:
    """Every ``valuesKey`` of a form-js schema, groups and lists included, in form order."""
    found: list[str] = []

    def walk(components: Any) -> Iterator[str]:
        for component in components if isinstance(components, list) else []:
            if not isinstance(component, Mapping):
                continue
            key = component.get("valuesKey")
            if isinstance(key, str) and key:
                yield key
            yield from walk(component.get("components"))

    for key in walk((schema or {}).get("components")):
        if key not in found:
            found.append(key)
    return found


def roles_of(key: str) -> list[str] | None:
    """The roles of a ``users:`` key; None for any other key."""
    if not key.startswith(USERS_PREFIX):
        return None
    return [r.strip() for r in key[len(USERS_PREFIX):].split(",") if r.strip()]


# The active users with each of a set of roles; built once.
_HOLDERS = (
    sa.select(User.username, User.display_name, UserRole.role)
    .join(UserRole, UserRole.user_id == User.id)
    .where(User.active.is_(True), UserRole.role.in_(sa.bindparam("p_roles", expanding=True))))


def _options(holders: list[Any], roles: list[str]) -> list[dict[str, str]]:
    """The users among ``holders`` holding any of ``roles``, as form options sorted by
    full name."""
    wanted = set(roles)
    names = {row.username: row.display_name or row.username
             for row in holders if row.role in wanted}
    options = [{"label": label, "value": username} for username, label in names.items()]
    return sorted(options, key=lambda o: (o["label"].casefold(), o["value"]))


def engine_option_lists(session: Session, form: TaskForm | None) -> dict[str, Any]:
    """The lists the engine fills for the form's ``valuesKey`` names (``users:...``).

    One read serves every list of the form (a form may pick several people, each
    of their own roles): the holders of all the roles named, as rows.
    """
    if form is None or form.schema is None:
        return {}
    wanted = {key: roles for key in values_keys(form.schema)
              if (roles := roles_of(key)) is not None}
    every = sorted({role for roles in wanted.values() for role in roles})
    holders = list(session.execute(_HOLDERS, {"p_roles": every})) if every else []
    return {key: _options(holders, roles) for key, roles in wanted.items()}


def form_input_data(session: Session, form: TaskForm | None,
                    variables: Mapping[str, Any]) -> dict[str, Any]:
    """What a task's form is given: its fields' current values and its option lists.

    Without a form, every variable. A ``valuesKey`` naming a process variable gets
    that variable; one the engine fills (``users:...``) gets the engine's list.
    """
    if form is None:
        return dict(variables)
    keys = form.field_keys()
    data = {k: variables[k] for k in keys if k in variables}
    for key in values_keys(form.schema):
        if key in variables:
            data[key] = variables[key]
    data.update(engine_option_lists(session, form))
    return data
