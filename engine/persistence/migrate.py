"""Apply the Alembic migrations of the engine and of the extensions it loads.

The engine's revisions ship inside the ``engine`` package; an extension brings
its own version folder (``Setup.migrations``), a branch rooted on an engine
revision. ``upgrade`` brings every branch to its head.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str, extension_folders: Iterable[Path] = ()) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    folders = [MIGRATIONS / "versions", *extension_folders]
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(str(f) for f in folders))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "heads", *,
            extension_folders: Iterable[Path] = ()) -> None:
    """Bring the database of ``engine`` to ``revision`` (by default every branch's head),
    with the version folders of the extensions in ``extension_folders``."""
    config = alembic_config(str(engine.url.render_as_string(hide_password=False)),
                            extension_folders)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
