"""The wheel is the whole program: built offline from a copy of the sources, it holds every module and data file,
and `graphedit FILE` opens the editor from the unpacked wheel with the installed dependencies but without the
editable install of this checkout."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

import graphedit
from graphedit.cli import main

REPO = Path(__file__).resolve().parents[1]
SOURCES = ["pyproject.toml", "setup.py", "README.md"]
# not shipped: documentation for the developers
DOCS = (".md",)
# top-level folders that must not land in site-packages
STRAY_TOPS = ("nodes", "resources", "tests", "bench", "tools")


def package_dirs() -> dict[str, str]:
    """setup.py's PACKAGE_DIRS (installed package -> source folder), read without running setup()."""
    tree = ast.parse((REPO / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["PACKAGE_DIRS"]:
            return ast.literal_eval(node.value)
    raise AssertionError("setup.py has no PACKAGE_DIRS")


def source_files(folder: str):
    for path in sorted((REPO / folder).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", *DOCS):
            yield path


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built offline from a copy of what the sdist would hold (no stale build/ folder of the checkout)."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        shutil.copy2(REPO / name, src / name)
    for folder in package_dirs().values():
        shutil.copytree(REPO / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "--no-index"]
        + ["-w", str(out), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    warnings = [line for line in built.stderr.splitlines() if "Warning" in line or "would be ignored" in line]
    assert not warnings, f"the build is not clean: {warnings}"
    (path,) = out.glob("graphedit-*.whl")
    return path


@pytest.mark.slow
def test_wheel_holds_every_module_and_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "/".join([*package.split("."), *path.relative_to(REPO / folder).parts])
        for package, folder in package_dirs().items()
        for path in source_files(folder)
    }
    assert "graphedit/model/project.schema.json" in expected and "graphedit/nodes/__init__.py" in expected
    missing = sorted(expected - names)
    assert not missing, f"missing from the wheel: {missing[:10]}"
    strays = sorted(n for n in names if "__pycache__" in n or n.endswith(".pyc") or n.split("/")[0] in STRAY_TOPS)
    assert not strays, f"the wheel holds what it must not: {strays[:10]}"

    dist = f"graphedit-{graphedit.__version__}.dist-info"
    metadata = zipfile.ZipFile(wheel).read(f"{dist}/METADATA").decode()
    assert f"Version: {graphedit.__version__}\n" in metadata
    entry_points = zipfile.ZipFile(wheel).read(f"{dist}/entry_points.txt").decode()
    assert "graphedit = graphedit.cli:main" in entry_points


# Runs under `python -I -S`: no .pth file is processed, so neither this checkout's editable finder nor any other
# is installed; the wheel comes first on sys.path, the installed dependencies after it.
OPEN_EDITOR = textwrap.dedent(
    """
    import sys
    wheel, project, *sites = sys.argv[1:]
    sys.path[:0] = [wheel]
    sys.path.extend(sites)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from graphedit.cli import main, version
    from graphedit.ui.main_window import MainWindow

    app = QApplication([sys.argv[0]])
    opened = []

    def poll():
        windows = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if windows and "keras_cnn" in windows[0].windowTitle():
            opened.append(windows[0].windowTitle())
            app.quit()
        else:
            QTimer.singleShot(50, poll)

    QTimer.singleShot(0, poll)
    QTimer.singleShot(90_000, app.quit)
    code = main([project])
    assert code == 0 and opened, (code, opened)
    outside = sorted(m.__file__ for n, m in sys.modules.items()
                     if n.split(".")[0] == "graphedit" and getattr(m, "__file__", None)
                     and not m.__file__.startswith(wheel))
    assert not outside, outside
    assert "graphedit.nodes" in sys.modules and "graphedit.ui.runner" in sys.modules
    print("opened", opened[0], "version", version())
    """
)


def dependency_dirs() -> list[str]:
    """The installed dependencies' folders of this interpreter, less any that would import graphedit itself."""
    dirs = []
    for entry in sys.path:
        path = Path(entry or ".").resolve()
        if not path.is_dir() or path == REPO or (path / "graphedit").exists() or (path / "nodes").is_dir():
            continue
        dirs.append(str(path))
    return dirs


@pytest.mark.slow
@pytest.mark.gui
def test_editor_opens_from_the_unpacked_wheel(wheel, tmp_path):
    unpacked = tmp_path / "unpacked"
    zipfile.ZipFile(wheel).extractall(unpacked)
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "GRAPHEDIT"))}
    env |= {"QT_QPA_PLATFORM": "offscreen", "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config")}
    env |= {"XDG_DATA_HOME": str(home / "data"), "XDG_CACHE_HOME": str(home / "cache")}
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", OPEN_EDITOR, str(unpacked), str(REPO / "projects" / "keras_cnn.gproj")]
        + dependency_dirs(),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"version {graphedit.__version__}" in done.stdout


def test_version_and_help_name_the_editor(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"graphedit {graphedit.__version__}"
    with pytest.raises(SystemExit):
        main(["--help"])
    shown = capsys.readouterr().out
    assert "graphedit [FILE.gproj]" in shown and "open the editor" in shown
    assert all(command in shown for command in ("check", "train", "export", "import"))
