"""The house rules that keep the layers apart (ARCHITECTURE.md §1)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_ENGINE = {"flask", "flask_smorest", "marshmallow", "api", "werkzeug", "lspro"}
# Words of one certification body (the LSPro) that a generic BPMN engine has no
# reason to know: its name, its certificates, fees, roles and procedures.
LSPRO_WORDS = re.compile(
    r"lspro|sppt|\bsni\b|sertifikat|certificat|bspji|e-?billing|\bntpn\b|makloon|pnbp|"
    r"kepala-balai|koordinator|auditor|\bupp\b|\bppc\b|tim-teknis|laboratori|17065|"
    r"\bkan\b|surveil|permohonan", re.IGNORECASE)


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
        "import sys, engine.composition, engine.time.timers, engine.runtime.commands, "
        "engine.deployment.service\n"
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


def test_the_engine_knows_no_certification_body() -> None:
    """engine/ is a generic BPMN service: the LSPro's words live in lspro/."""
    offenders = []
    files = [p for p in sorted((ROOT / "engine").rglob("*"))
             if p.is_file() and p.suffix in (".py", ".mako", ".ini", ".xsd", ".txt", ".md")]
    assert len(files) > 10
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            found = LSPRO_WORDS.search(line)
            if found:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {found.group(0)!r}")
    assert offenders == []


def test_importing_the_engine_loads_no_extension() -> None:
    code = (
        "import sys, engine.composition, engine.time.timers, engine.runtime.commands, "
        "engine.deployment.service\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'lspro')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == ""


def test_the_web_layer_names_the_lspro_only_as_its_default_extension() -> None:
    """api/ loads extensions by name (api/extensions.py); no module of it imports one."""
    offenders = [f"{path.relative_to(ROOT)} imports {name}"
                 for path in sorted((ROOT / "api").rglob("*.py"))
                 for name in _imported_modules(path) if name.split(".")[0] == "lspro"]
    assert offenders == []


def _test_modules_imported(path: Path) -> set[str]:
    """The test modules (test_*) that a file imports, absolutely or relatively."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names
                         if a.name.rsplit(".", 1)[-1].startswith("test_"))
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            if module.rsplit(".", 1)[-1].startswith("test_"):
                found.add(module)
            package = module if module.endswith(".") else f"{module}."
            found.update(package + a.name for a in node.names if a.name.startswith("test_"))
    return found


def test_no_test_module_imports_another() -> None:
    """Helpers that several test modules share live in modules of their own.

    tests/instances.py, tests/processes/driver.py, tests/web/driving.py...; never in a
    test module, which is read, moved and deleted on its own (and a test function
    imported from one is collected twice).
    """
    offenders = []
    files = sorted((ROOT / "tests").rglob("*.py"))
    assert len(files) > 50
    for path in files:
        for name in sorted(_test_modules_imported(path)):
            offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_a_server_worker_does_not_load_the_migration_tools() -> None:
    """Workers never migrate; Alembic and Mako would cost each one about 9 MiB."""
    code = (
        "import sys, engine.composition, lspro, api\n"
        "from api import create_app\n"
        "tools = ('alembic', 'mako')\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in tools)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == ""
