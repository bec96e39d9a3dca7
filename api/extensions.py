"""Which extensions a sertiflow server loads.

``SERTIFLOW_EXTENSIONS`` names them as comma-separated ``module:factory``
entries (each factory takes the environment and returns the extension); unset,
the LSPro's extension is loaded, the procedures this service was built for. Set
to an empty value, none is: the plain BPMN service. This is the one module of
``api/`` that names an extension.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping

from engine.config import ConfigError
from engine.extensions import Extension

VARIABLE = "SERTIFLOW_EXTENSIONS"
DEFAULT = "lspro:extension"


def default_extensions(environ: Mapping[str, str] | None = None) -> list[Extension]:
    """The extensions ``SERTIFLOW_EXTENSIONS`` names (the LSPro's when unset).

    :raises ConfigError: when one cannot be loaded or configured.
    """
    env = os.environ if environ is None else environ
    specs = env.get(VARIABLE, DEFAULT)
    return [load_extension(spec.strip(), env) for spec in specs.split(",") if spec.strip()]


def load_extension(spec: str, environ: Mapping[str, str] | None = None) -> Extension:
    """Build the extension named ``module:factory``; the factory takes the environment.

    :raises ConfigError: when the name is malformed or names nothing importable.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"{VARIABLE}: an extension is named as module:factory, not {spec!r}")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{VARIABLE}: cannot load the extension {spec!r}: {exc}") from None
    extension: Extension = factory(environ)
    return extension
