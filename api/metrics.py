"""``GET /metrics``: Prometheus text exposition of the engine's state."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Flask, Response

from engine.models import Incident, ProcessInstance, Task, Timer

from .context import engine

bp = Blueprint("metrics", __name__)


def _line(name: str, value: float, **labels: str) -> str:
    if labels:
        inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        return f"{name}{{{inner}}} {value:g}"
    return f"{name} {value:g}"


@bp.get("/metrics")
def metrics() -> Response:
    """Counts by status, open tasks and overdue tasks, timers, open incidents."""
    now = engine().clock.now()
    lines = [
        "# HELP sertiflow_instances Process instances by definition key and status.",
        "# TYPE sertiflow_instances gauge",
    ]
    with engine().read() as services:
        session = services.session
        for key, status, count in session.execute(
                sa.select(ProcessInstance.definition_key, ProcessInstance.status,
                          sa.func.count()).group_by(ProcessInstance.definition_key,
                                                    ProcessInstance.status)):
            lines.append(_line("sertiflow_instances", count, key=key, status=status))
        lines += ["# HELP sertiflow_open_tasks Ready user tasks by definition key.",
                  "# TYPE sertiflow_open_tasks gauge"]
        for key, count in session.execute(
                sa.select(Task.definition_key, sa.func.count()).where(Task.state == "ready")
                .group_by(Task.definition_key)):
            lines.append(_line("sertiflow_open_tasks", count, key=key))
        overdue = session.scalar(sa.select(sa.func.count()).select_from(Task).where(
            Task.state == "ready", Task.due_order < now))
        timers = session.scalar(sa.select(sa.func.count()).select_from(Timer))
        due = session.scalar(sa.select(sa.func.count()).select_from(Timer).where(
            Timer.due_at <= now))
        incidents = session.scalar(sa.select(sa.func.count()).select_from(Incident).where(
            Incident.status == "open"))
    lines += [
        "# HELP sertiflow_overdue_tasks Ready user tasks past their due time.",
        "# TYPE sertiflow_overdue_tasks gauge", _line("sertiflow_overdue_tasks", overdue or 0),
        "# HELP sertiflow_timers Waiting timers.", "# TYPE sertiflow_timers gauge",
        _line("sertiflow_timers", timers or 0),
        "# HELP sertiflow_timers_due Timers due and not yet fired.",
        "# TYPE sertiflow_timers_due gauge", _line("sertiflow_timers_due", due or 0),
        "# HELP sertiflow_open_incidents Incidents waiting for an admin.",
        "# TYPE sertiflow_open_incidents gauge",
        _line("sertiflow_open_incidents", incidents or 0),
    ]
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
