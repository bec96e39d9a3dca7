"""Liveness: ``GET /healthz``."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Flask, current_app, jsonify
from flask.typing import ResponseReturnValue

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    from . import engine_of

    engine = engine_of(current_app)
    with engine.read() as services:
        services.session.execute(sa.text("SELECT 1"))
    return jsonify(status="ok")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
