"""Serve the few front-end files the pages use, straight from ``node_modules/``.

The libraries come from the npm registry (``package.json``, ``npm ci``, run by
``make run`` and ``make test``); nothing of them is committed. Only the files
named in :data:`VENDOR` are served, whatever else is installed.
"""

from __future__ import annotations

from pathlib import Path

from flask import abort, current_app, send_file
from flask.typing import ResponseReturnValue

from . import bp

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# URL name -> path under node_modules/.
VENDOR: dict[str, str] = {
    # bpmn-js: the navigated viewer (pan and zoom, markers), and its styles.
    "bpmn-navigated-viewer.js": "bpmn-js/dist/bpmn-navigated-viewer.production.min.js",
    "diagram-js.css": "bpmn-js/dist/assets/diagram-js.css",
    "bpmn-js.css": "bpmn-js/dist/assets/bpmn-js.css",
    # form-js: @bpmn-io/form-js-viewer bundled for the browser (global FormViewer).
    # The viewer package itself ships only ES and CommonJS modules; its umbrella
    # package @bpmn-io/form-js, of the same version, ships this browser bundle.
    "form-viewer.js": "@bpmn-io/form-js/dist/form-viewer.umd.js",
    "form-js.css": "@bpmn-io/form-js-viewer/dist/assets/form-js.css",
    "flatpickr-light.css": "@bpmn-io/form-js-viewer/dist/assets/flatpickr/light.css",
}
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css"}


def node_modules() -> Path:
    configured = current_app.config.get("SERTIFLOW_NODE_MODULES")
    return Path(configured) if configured else PROJECT_ROOT / "node_modules"


def missing_assets() -> list[str]:
    """The vendor files that are not installed (empty when ``npm ci`` has run)."""
    root = node_modules()
    return [name for name, path in VENDOR.items() if not (root / path).is_file()]


@bp.get("/web/vendor/<name>")
def vendor(name: str) -> ResponseReturnValue:
    relative = VENDOR.get(name)
    if relative is None:
        abort(404)
    path = node_modules() / relative
    if not path.is_file():
        abort(404, description=f"{name} is not installed: run 'npm ci' in the project folder "
                               "(make run does)")
    response = send_file(path, mimetype=MEDIA_TYPES[path.suffix], max_age=3600)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
