"""mypy keeps the typed packages clean ([tool.mypy] in pyproject.toml: strict on model, compiler and nodes).

``make lint`` runs the same check; this test keeps it from rotting between lint runs. It runs mypy as
``make lint`` does, from the repository root with the project's configuration and incremental cache.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# a cold cache checks ~50 modules and what they import (torch's stubs) for ~25 s; a warm one takes seconds
pytestmark = pytest.mark.slow


def mypy(*args: str) -> subprocess.CompletedProcess[str]:
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (it comes with the dev extra: pip install -e '.[dev]')")
    return subprocess.run([sys.executable, "-m", "mypy", *args], cwd=REPO, capture_output=True, text=True, timeout=600)


def test_the_typed_packages_pass_mypy():
    result = mypy()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


def test_mypy_reads_the_node_catalog_from_its_source_folder():
    """``nodes/`` is installed as graphedit.nodes; tools/mypy_path maps it so mypy checks nodes/*.py as that."""
    link = REPO / "tools" / "mypy_path" / "graphedit" / "nodes"
    assert link.is_symlink() and link.resolve() == (REPO / "nodes").resolve()
    result = mypy("--verbose")
    checked = {
        line.split("module='", 1)[1].split("'", 1)[0] for line in result.stderr.splitlines() if "Found source" in line
    }
    assert {"graphedit.nodes.spec", "graphedit.nodes.convolution", "graphedit.model.document"} <= checked, checked
