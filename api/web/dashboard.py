"""The dashboard: running work per process and step, overdue tasks per role, SLA, incidents."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from engine.errors import Forbidden
from engine.queries.monitoring import Monitoring

from ..context import engine
from . import bp, i18n
from .charts import compliance_chart
from .session import reading

WEEKS = 8


@bp.get("/dashboard")
def dashboard() -> ResponseReturnValue:
    with reading() as (services, actor):
        if actor.is_customer:
            raise Forbidden("the dashboard is for staff")
        built = engine()
        monitoring = Monitoring(services.session, built.clock, built.settings.timezone)
        weeks = monitoring.sla_compliance(WEEKS)
        lang = i18n.current()
        chart = compliance_chart(weeks, title=i18n.translate(lang, "dashboard.chart_title"),
                                 no_data=i18n.translate(lang, "dashboard.no_data"))
        clocks = services.service_clocks.running(per_page=20)
        by_status = monitoring.instances_by_status()
        return render_template(
            "dashboard.html", by_status=by_status,
            running_total=sum(c.get("running", 0) for c in by_status.values()),
            steps=monitoring.open_steps(), overdue=monitoring.overdue_by_role(), weeks=weeks,
            chart=chart, incident_count=monitoring.open_incident_count(),
            incidents=services.queries.incidents(per_page=10).items, clocks=clocks)
