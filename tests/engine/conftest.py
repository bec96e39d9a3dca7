"""Fixtures the engine's test modules share (a test module may not import another)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.archive import Archiver
from engine.composition import Engine


@pytest.fixture
def archiver(engine: Engine, tmp_path: Path) -> Archiver:
    """An archiver of ``engine``'s database, writing its files under ``tmp_path``."""
    return Archiver(engine.db, engine.clock, tmp_path / "archive")
