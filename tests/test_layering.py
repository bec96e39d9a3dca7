"""The house rules that keep the layers apart (ARCHITECTURE.md §1)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_ENGINE = {"flask", "flask_smorest", "marshmallow", "api", "werkzeug"}


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_engine_source_imports_no_web_layer() -> None:
    offenders = []
    files = sorted((ROOT / "engine").rglob("*.py"))
    assert len(files) > 10
    for path in files:
        for name in _imported_modules(path):
            if name.split(".")[0] in FORBIDDEN_IN_ENGINE:
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_importing_the_engine_loads_no_web_layer() -> None:
    forbidden = sorted(FORBIDDEN_IN_ENGINE)
    code = (
        "import sys, engine.engine, engine.timers, engine.runtime, engine.deployments\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {forbidden!r})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == ""


def test_only_the_adapter_imports_spiffworkflow() -> None:
    offenders = []
    for path in sorted((ROOT / "engine").rglob("*.py")):
        if (ROOT / "engine" / "bpmn") in path.parents:
            continue
        if any(n.split(".")[0] == "SpiffWorkflow" for n in _imported_modules(path)):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
