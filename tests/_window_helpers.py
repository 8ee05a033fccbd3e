"""Helpers for the editor window tests: answered dialogs and a window kept off the user's settings."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QObject, QSettings

REPO = Path(__file__).resolve().parents[1]
PROJECTS = REPO / "projects"
# screenshots to look at go outside the source tree: $GRAPHEDIT_SCREENSHOTS, else <temp>/graphedit-screenshots
SCREENSHOTS = Path(os.environ.get("GRAPHEDIT_SCREENSHOTS") or Path(tempfile.gettempdir()) / "graphedit-screenshots")
SIZE = (1400, 850)


class FakePrompts:
    """Answers the window's dialogs at once and records what was asked."""

    def __init__(self, save: str = "discard", recover: bool = True, save_path: str | None = None) -> None:
        self.save_answer = save
        self.recover_answer = recover
        self.save_path_answer = save_path
        self.open_path_answer: str | None = None
        self.stop_answer = True  # stop a running training
        self.reload_answer = False  # keep the editor's version of a file changed on disk
        self.overwrite_answer = False  # do not replace a file another program changed
        self.errors: list[tuple[str, str]] = []
        self.asked_save: list[str] = []
        self.asked_recover: list = []
        self.asked: list[str] = []  # ask_stop_training, ask_reload, ask_overwrite, in order

    def error(self, title: str, text: str) -> None:
        self.errors.append((title, text))

    def ask_save(self, name: str) -> str:
        self.asked_save.append(name)
        return self.save_answer

    def ask_stop_training(self, name: str) -> bool:
        self.asked.append("stop_training")
        return self.stop_answer

    def ask_reload(self, name: str) -> bool:
        self.asked.append("reload")
        return self.reload_answer

    def ask_overwrite(self, name: str) -> bool:
        self.asked.append("overwrite")
        return self.overwrite_answer

    def ask_recover(self, recovery) -> bool:
        self.asked_recover.append(recovery)
        return self.recover_answer

    def open_path(self, folder: str) -> str | None:
        return self.open_path_answer

    def save_path(self, suggested: str) -> str | None:
        return self.save_path_answer


def make_window(qtbot, tmp_path: Path, prompts: FakePrompts | None = None, show: bool = True, **kwargs):
    """A MainWindow with its settings and recovery folder under ``tmp_path``."""
    from graphedit.ui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    kwargs.setdefault("recovery_dir", tmp_path / "recovery")
    window = MainWindow(prompts=prompts or FakePrompts(), settings=settings, **kwargs)
    qtbot.addWidget(window)
    window.resize(*SIZE)
    if show:
        window.show()
        qtbot.waitExposed(window)
    return window


def copy_example(tmp_path: Path, name: str = "keras_cnn.gproj") -> Path:
    target = tmp_path / name
    shutil.copy(PROJECTS / name, target)
    return target


class _Delivered(QObject):
    """Counts the events the application delivers (an application-wide event filter sees each one)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: QObject, event) -> bool:  # noqa: N802 (Qt's name)
        self.count += 1
        return False


def settle(limit_s: float = 5.0) -> None:
    """Run the event loop until a pass delivers no event: posted events (layout requests, repaints, the
    zero-time single-shots such as the canvas's zoom to fit) and whatever they post in turn are done, as
    a user sees the window once the editor is idle. Timers with a delay are not waited for."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    delivered = _Delivered()
    app.installEventFilter(delivered)
    try:
        end = time.monotonic() + limit_s  # a repeating timer that fires on every pass (an animation) ends it too
        while time.monotonic() < end:
            delivered.count = 0
            app.processEvents()
            if delivered.count == 0:
                return
    finally:
        app.removeEventFilter(delivered)


def screenshot(widget, name: str) -> Path:
    settle()  # layouts and queued single-shots done, as a user's eye would see it
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    assert widget.grab().save(str(path))
    return path


def assert_banner_covers_no_node(window) -> None:
    """Every node's rectangle on the canvas widget lies clear of the banner (it sits above the viewport)."""
    canvas, banner = window.canvas, window.training.banner
    assert banner.isVisible()
    window.canvas.zoom_to_fit()
    for node_id, item in canvas.scene().nodes.items():
        rect = canvas.mapFromScene(item.sceneBoundingRect()).boundingRect().translated(canvas.viewport().pos())
        visible = rect.intersected(canvas.viewport().geometry())
        assert visible.isEmpty() or not visible.intersects(banner.geometry()), node_id
