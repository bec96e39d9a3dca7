"""Deployments, process definitions and process instances in Camunda 7's shapes."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from engine.bpmn.parser import history_ttl_days
from engine.models import Deployment, ProcessDefinition


def camunda_time(moment: datetime | None) -> str | None:
    """Camunda's date format, ``yyyy-MM-dd'T'HH:mm:ss.SSSZ``."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}" \
        + moment.strftime("%z")


def deployment_dict(row: Deployment) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "source": row.source,
            "deploymentTime": camunda_time(row.deployed_at), "tenantId": None, "links": []}


_NAMESPACE = re.compile(r'targetNamespace\s*=\s*"([^"]*)"')


def definition_dict(row: ProcessDefinition) -> dict[str, Any]:
    namespace = _NAMESPACE.search(row.bpmn_xml or "")
    return {
        "id": row.id, "key": row.key, "category": namespace.group(1) if namespace else None,
        "description": None, "name": row.name, "version": row.version,
        "resource": row.resource_name, "deploymentId": row.deployment_id, "diagram": None,
        "suspended": False, "tenantId": None, "versionTag": None,
        "historyTimeToLive": history_ttl_days(row.bpmn_xml or "", row.key),
        "startableInTasklist": True,
    }


def instance_dict(started: Any) -> dict[str, Any]:
    return {
        "id": started.id, "definitionId": started.definition_id,
        "businessKey": started.business_key, "caseInstanceId": None,
        "ended": started.status in ("completed", "cancelled"),
        "suspended": started.status == "suspended", "tenantId": None, "links": [],
    }
