"""sertiflow's web layer: the Flask application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask

from engine.config import Settings, load_settings
from engine.engine import Engine


def create_app(settings: Settings | None = None, *, engine: Engine | None = None,
               **overrides: Any) -> Flask:
    """Build the Flask app around one :class:`Engine`."""
    settings = settings or load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.update(SECRET_KEY=settings.secret_key, **overrides)
    app.extensions["sertiflow"] = engine or Engine(settings)

    from . import health

    health.init_app(app)
    return app


def engine_of(app: Flask) -> Engine:
    engine: Engine = app.extensions["sertiflow"]
    return engine
