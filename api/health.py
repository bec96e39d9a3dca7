"""Liveness: ``GET /healthz``."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Flask, current_app, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    from . import engine_of

    engine = engine_of(current_app)
    with engine.read() as services:
        services.session.execute(sa.text("SELECT 1"))
    return jsonify(status="ok")


@bp.get("/")
def index() -> ResponseReturnValue:
    """Send a browser to the web pages; tell any other client where the API is."""
    wanted = request.accept_mimetypes.best_match(["application/json", "text/html"])
    if wanted == "text/html" and "web" in current_app.blueprints:
        return redirect(url_for("web.home"))
    return jsonify(name="sertiflow", api="/api/v1", docs="/api/v1/docs",
                   openapi="/api/v1/openapi.json", health="/healthz", metrics="/metrics")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
