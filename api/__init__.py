"""sertiflow's web layer: the Flask application factory."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from flask import Flask, Response

    from engine.composition import Engine
    from engine.config import Settings
    from engine.extensions import Extension

# Flask and the engine are imported when an app is built, not with the package:
# the server's master process (api.server) imports this package and must stay small.

API_DESCRIPTION = """\
sertiflow runs BPMN processes drawn in Camunda Modeler (Camunda 7 flavour),
with the procedures of the extensions it loads. Sign in with `POST /api/v1/auth/token` and
send the token as `Authorization: Bearer <token>`. Errors are
`application/problem+json`; lists are `{"items", "total", "page", "per_page"}`.
"""


def create_app(settings: Settings | None = None, *, engine: Engine | None = None,
               extensions: Iterable[Extension] | None = None, **overrides: Any) -> Flask:
    """Build the Flask app around one :class:`Engine`.

    :param engine: the engine to serve; by default one is built from ``settings``
        with ``extensions`` (by default :func:`api.extensions.default_extensions`).
        A given engine brings its own extensions.
    """
    from flask_smorest import Api

    from engine.composition import Engine
    from engine.config import load_settings

    from .application import SertiflowFlask
    from .jsonio import StrictJSONProvider

    settings = settings or load_settings()
    app = SertiflowFlask(__name__, instance_path=str(settings.instance_path))
    # Before anything renders: the pages' ``tojson`` takes the provider it finds then.
    app.json = StrictJSONProvider(app)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.upload_max_bytes + 1024 * 1024,
        API_TITLE="sertiflow",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        # Interactive docs at /api/v1/docs; the page loads Swagger UI from its CDN
        # (the browser needs the internet; the document itself is served here).
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/",
        API_SPEC_OPTIONS={"info": {"description": API_DESCRIPTION}},
        **overrides,
    )
    if engine is None:
        from .extensions import default_extensions

        chosen = default_extensions() if extensions is None else list(extensions)
        engine = Engine(settings, extensions=chosen)
    app.extensions["sertiflow"] = engine

    from . import errors, health, input_checks, metrics, v1, web
    from .engine_rest import bp as engine_rest_bp

    api = Api(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    v1.register(api)
    for blueprint in engine.setup.rest_blueprints:
        api.register_blueprint(blueprint)
    # After Api(app): its own HTTP error handler would answer in another format.
    errors.init_app(app)
    input_checks.init_app(app)
    app.after_request(_security_headers)
    health.init_app(app)
    metrics.init_app(app)
    app.register_blueprint(engine_rest_bp)
    web.init_app(app, settings)
    return app


def _security_headers(response: Response) -> Response:
    # Uploaded documents are served back; never let a browser guess another type.
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def engine_of(app: Flask) -> Engine:
    engine: Engine = app.extensions["sertiflow"]
    return engine
