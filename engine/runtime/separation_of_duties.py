"""Separation of duties: who may not take a task because of what they did before.

A user task lists, in ``camunda:property name="excludeCompletersOf"
value="audit_stage2,panel_review"``, the elements whose completers may not
complete it; an audit standard may ask, for example, that the reviewer is not
the one who did the work. Completing, claiming and assigning a task check it,
so the rule holds whoever calls the engine.
"""

from __future__ import annotations

from engine.errors import Forbidden
from engine.runtime.store import InstanceStore, TaskRow

#: The property naming the excluded elements: the one a task's row keeps (the
#: checks read the row, not the definition; see engine.runtime.projection).
EXCLUDE_COMPLETERS_OF = "excludeCompletersOf"


def check_separation_of_duties(store: InstanceStore, task: TaskRow, actor: str | None) -> None:
    """Refuse (:class:`~engine.errors.Forbidden`) a user who completed an excluded element."""
    excluded = [e.strip() for e in
                str((task.properties or {}).get(EXCLUDE_COMPLETERS_OF, "")).split(",")
                if e.strip()]
    if not excluded or actor is None:
        return
    done = store.completed_by(task.instance_id, excluded, actor)
    if done:
        raise Forbidden(f"separation of duties: {actor} completed {', '.join(done)} in this "
                        f"instance and may not complete {task.element_id}")
