"""Deployments and the versioned definitions (processes, forms) they bring."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.persistence.db import Base, Str36, Str255


class Deployment(Base):
    """One act of deploying: the files sent together, who sent them, when."""

    __tablename__ = "deployment"

    id: Mapped[Str36] = mapped_column(primary_key=True)
    name: Mapped[Str255]
    source: Mapped[Str255]
    deployed_at: Mapped[datetime]
    deployed_by: Mapped[str | None] = mapped_column(sa.String(255))

    resources: Mapped[list[DeploymentResource]] = relationship(
        back_populates="deployment", order_by="DeploymentResource.name"
    )


class DeploymentResource(Base):
    """A file as it was deployed, byte for byte."""

    __tablename__ = "deployment_resource"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    deployment_id: Mapped[str] = mapped_column(sa.ForeignKey("deployment.id"), index=True)
    name: Mapped[Str255]
    kind: Mapped[str] = mapped_column(sa.String(16))
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)

    deployment: Mapped[Deployment] = relationship(back_populates="resources")


class ProcessDefinition(Base):
    """One version of one process key, with its parsed spec stored once.

    ``spec`` holds the SpiffWorkflow spec of the process and of every process it
    calls or embeds, as JSON: instances keep only their own state.
    """

    __tablename__ = "process_definition"
    __table_args__ = (
        sa.UniqueConstraint("key", "version"),
    )

    id: Mapped[Str255] = mapped_column(primary_key=True)
    key: Mapped[Str255] = mapped_column(index=True)
    version: Mapped[int]
    name: Mapped[str | None] = mapped_column(sa.String(255))
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    deployment_id: Mapped[str] = mapped_column(sa.ForeignKey("deployment.id"), index=True)
    resource_name: Mapped[Str255]
    # Large, and read only by some callers: loaded when first touched. The hot
    # paths read the spec through the engine's SpecCache (Runtime.stored_spec).
    bpmn_xml: Mapped[str] = mapped_column(sa.Text, deferred=True)
    spec: Mapped[dict[str, Any]] = mapped_column(sa.JSON, deferred=True)
    deployed_at: Mapped[datetime]


class FormDefinition(Base):
    """One version of a Camunda Form (form-js JSON), addressed by its form id."""

    __tablename__ = "form_definition"
    __table_args__ = (
        sa.UniqueConstraint("form_id", "version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    form_id: Mapped[Str255] = mapped_column(index=True)
    version: Mapped[int]
    resource_name: Mapped[Str255] = mapped_column(index=True)
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    deployment_id: Mapped[str] = mapped_column(sa.ForeignKey("deployment.id"), index=True)
    schema: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    deployed_at: Mapped[datetime]
