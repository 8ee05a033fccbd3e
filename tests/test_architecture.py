"""The architecture contracts of pyproject.toml ([tool.importlinter]; docs/architecture.md, "Layers").

The project keeps them, and they fail where they should: a small stand-in tree with the same packages is checked
clean, then with Qt imported below the UI, with an import pointing up a layer, and with a cycle in a package.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CHECK = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"
PACKAGES = ["cli", "ui", "commands", "importers", "export", "training", "compiler", "model"]


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    """Run import-linter in ``cwd`` on the packages found there first (the real ones when cwd is the repository)."""
    env = {"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-c", CHECK], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_project_keeps_its_architecture_contracts():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def stand_in(root: Path) -> None:
    """graphedit/<package>/__init__.py for every layer, training/a.py and nodes/, with the project's pyproject.toml."""
    (root / "pyproject.toml").write_text((REPO / "pyproject.toml").read_text(encoding="utf-8"), encoding="utf-8")
    for package in ["graphedit", "nodes", *(f"graphedit/{p}" for p in PACKAGES if p != "cli")]:
        (root / package).mkdir(parents=True, exist_ok=True)
        write(root / package / "__init__.py", "")
    write(root / "graphedit" / "cli.py", "import graphedit.ui\nimport graphedit.commands\n")
    write(root / "graphedit" / "errors.py", "")
    write(root / "graphedit" / "ui" / "__init__.py", "import PySide6\nimport graphedit.training\n")
    write(root / "graphedit" / "training" / "a.py", "import graphedit.compiler\nimport numpy\n")
    write(root / "graphedit" / "compiler" / "__init__.py", "import graphedit.model\nimport nodes\n")


@pytest.mark.parametrize(
    ("path", "text", "broken"),
    [
        ("graphedit/model/__init__.py", "import PySide6\n", "Qt only under graphedit.ui"),
        ("nodes/__init__.py", "import graphedit.compiler\n", "Imports only point down"),
        ("graphedit/training/b.py", "import graphedit.training.a\n", "No import cycle inside a package"),
    ],
    ids=["qt-below-ui", "upward", "cycle"],
)
def test_each_contract_fails_when_broken(tmp_path, path, text, broken):
    stand_in(tmp_path)
    clean = lint_imports(tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    write(tmp_path / path, text)
    if broken.startswith("No import cycle"):  # the cycle's other half
        write(tmp_path / "graphedit" / "training" / "a.py", "import graphedit.training.b\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1 and f"{broken} BROKEN" in result.stdout, result.stdout + result.stderr
