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

# a cold cache checks ~55 modules and what they import (torch's stubs) for ~25 s; a warm one takes seconds
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mypy() -> subprocess.CompletedProcess[str]:
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (it comes with the dev extra: pip install -e '.[dev]')")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--verbose"], cwd=REPO, capture_output=True, text=True, timeout=600
    )


def test_the_typed_packages_pass_mypy(mypy):
    assert mypy.returncode == 0, mypy.stdout
    assert "Success: no issues found" in mypy.stdout


def test_mypy_reads_the_node_catalog_from_its_source_folder(mypy):
    """``nodes/`` is installed as graphedit.nodes; tools/mypy_path maps it so mypy checks nodes/*.py as that."""
    link = REPO / "tools" / "mypy_path" / "graphedit" / "nodes"
    assert link.is_symlink() and link.resolve() == (REPO / "nodes").resolve()
    sources = [line.split("module='", 1)[1] for line in mypy.stderr.splitlines() if "Found source" in line]
    checked = {source.split("'", 1)[0] for source in sources}
    assert {"graphedit.nodes.spec", "graphedit.nodes.convolution", "graphedit.model.document"} <= checked, checked
