"""Starting the editor: a window paints before torch is imported, then the editor and the project load; the
Training settings panel reads its dataset only when it is in view."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from _window_helpers import REPO, copy_example, make_window, screenshot
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTabBar

from graphedit.ui.runner import settings_panel

pytestmark = pytest.mark.gui


def test_the_start_window_paints_before_torch_loads_then_the_editor_opens_the_project(tmp_path):
    trace = tmp_path / "trace.txt"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "GRAPHEDIT_STARTUP_TRACE": str(trace),
        "GRAPHEDIT_STARTUP_QUIT": "1",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "GRAPHEDIT_RECOVERY_DIR": str(tmp_path / "recovery"),
    }
    project = copy_example(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "graphedit.cli", str(project)], env=env, cwd=REPO, capture_output=True, timeout=300
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    lines = [line.split() for line in trace.read_text().splitlines()]
    assert [line[0] for line in lines] == ["first_paint", "usable"]
    (_, painted, torch_then, _, _), (_, usable, torch_after, dynamo, pyqtgraph) = lines
    assert torch_then == "torch=0" and torch_after == "torch=1"  # painted before the heavy import began
    assert dynamo == "dynamo=0"  # the project's shapes were inferred without loading torch._dynamo
    assert pyqtgraph == "pyqtgraph=0"  # no plot is in front: the Live, Inside and Experiments plots wait to be shown
    assert float(painted) < float(usable)
    assert b"Traceback" not in done.stderr


def test_the_settings_panel_reads_its_dataset_only_when_in_view(qtbot, tmp_path, monkeypatch):
    reads = []
    real = settings_panel.load_dataset
    monkeypatch.setattr(settings_panel, "load_dataset", lambda *a, **k: reads.append(a[0]["name"]) or real(*a, **k))
    window = make_window(qtbot, tmp_path)
    assert window.files.open(copy_example(tmp_path), ask=False)
    dock = window.training.settings_dock
    assert reads == []  # opening the project read no dataset: the panel is behind the Inspector
    assert "digits" in dock.dataset.currentText() and dock.dataset_doc.text()  # described by its builder
    # the tab the user clicks (the main window may keep an unused tab bar with the same tabs: try each)
    for bar in [b for b in window.findChildren(QTabBar) if "Training" in [b.tabText(i) for i in range(b.count())]]:
        index = next(i for i in range(bar.count()) if bar.tabText(i) == "Training")
        QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
        if reads:
            break
    qtbot.waitUntil(lambda: reads == ["digits"], timeout=5000)
    assert "10 classes" in dock.info_label.text()


def test_start_window_shows_the_name_and_progress(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from graphedit.ui.startup import StartWindow

    start = StartWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(start)
    start.resize(1280, 720)
    painted = []
    start.firstPainted.connect(lambda: painted.append(True))
    start.show()
    qtbot.waitUntil(lambda: bool(painted), timeout=5000)
    start.say("Loading PyTorch…")
    assert start.message.text() == "Loading PyTorch…" and start.progress.isVisible()
    screenshot(start, "startup_window.png")
