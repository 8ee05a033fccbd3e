"""The training toolbar: Run, Pause, Resume and Stop, with a progress bar and an estimate of the time left."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QProgressBar, QStyle, QToolBar, QWidget

from graphedit.ui.line_text import LineText

if TYPE_CHECKING:
    from graphedit.ui.runner.process import TrainingSession


STEPS = 100  # resolution of the progress bar: a change repaints it at once (QProgressBar.setValue), so whole percents


def eta_text(seconds: float) -> str:
    if seconds < 0:
        return "estimating…"
    if seconds < 1:
        return "almost done"
    if seconds < 90:
        return f"about {seconds:.0f} s left"
    if seconds < 90 * 60:
        return f"about {seconds / 60:.0f} min left"
    return f"about {seconds / 3600:.1f} h left"


class TrainingToolbar(QToolBar):
    """Buttons follow the session's state; ``runRequested`` asks the window to start a run of its project."""

    runRequested = Signal()

    def __init__(self, session: TrainingSession, parent: QWidget | None = None) -> None:
        super().__init__("Training", parent)
        self.setObjectName("training_toolbar")
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.session = session
        style = self.style()
        icon = style.standardIcon
        pixmap = QStyle.StandardPixmap
        self.run = self._action("Run", icon(pixmap.SP_MediaPlay), "F5", "Train the project as it is now (F5)")
        self.run.triggered.connect(lambda _c=False: self.runRequested.emit())
        self.pause = self._action("Pause", icon(pixmap.SP_MediaPause), "F6", "Pause after the current step (F6)")
        self.pause.triggered.connect(lambda _c=False: session.pause())
        self.resume = self._action("Resume", icon(pixmap.SP_MediaPlay), "F6", "Continue the paused run (F6)")
        self.resume.triggered.connect(lambda _c=False: session.resume())
        tip = "Stop after the current step; the run is kept (Shift+F5; press again to end it at once)"
        self.stop = self._action("Stop", icon(pixmap.SP_MediaStop), "Shift+F5", tip)
        self.stop.triggered.connect(lambda _c=False: session.stop())
        self.bar = QProgressBar()
        self.bar.setRange(0, STEPS)
        self.bar.setFixedWidth(200)
        self.bar.setTextVisible(True)
        self.addWidget(self.bar)
        self.eta = LineText(width=146)  # the time left: set with every step read
        self.eta.setContentsMargins(8, 0, 8, 0)
        self.addWidget(self.eta)
        self.epochs = self.current_epoch = 0
        session.stateChanged.connect(self.show_state)
        session.progress.connect(self.show_progress)
        session.started.connect(self._started)
        session.step.connect(lambda step: setattr(self, "current_epoch", int(step.get("epoch", 0))))
        session.finished.connect(self._finished)
        session.failed.connect(lambda _m, _n: self._ended("failed"))
        self.show_state(session.state)
        self.bar.setFormat("ready")
        self.bar.setValue(0)

    def _action(self, text: str, icon: Any, key: str, tip: str) -> QAction:
        action = QAction(icon, text, self)
        action.setShortcut(QKeySequence(key))
        action.setToolTip(tip)
        action.setStatusTip(tip)
        self.addAction(action)
        return action

    def actions_for_menu(self) -> list[QAction]:
        return [self.run, self.pause, self.resume, self.stop]

    # ------------------------------------------------------------- updates
    def show_state(self, state: str) -> None:
        training = self.session.is_training()  # a run that reported its end may still be exiting: Run again
        self.run.setEnabled(not training)
        self.pause.setVisible(state != "paused")
        self.pause.setEnabled(training and state == "running")
        self.resume.setVisible(state == "paused")
        self.resume.setEnabled(training and state == "paused")
        self.stop.setEnabled(training)
        if state == "running" and self.session.info is None:
            self.bar.setValue(0)
            self.bar.setFormat("starting…")
            self.eta.setText("")
        elif state == "paused":
            self.eta.setText("paused")
        elif state == "stopping":
            self.eta.setText("stopping…")

    def show_progress(self, fraction: float, eta: float) -> None:
        self.bar.setValue(int(round(fraction * STEPS)))
        if self.session.state == "running":
            self.eta.setText(eta_text(eta))
        if self.session.info is not None and self.session.state != "idle":
            epoch = f"epoch {self.current_epoch}/{self.epochs} · " if self.current_epoch else ""
            self.bar.setFormat(f"{epoch}%p%")

    def _started(self, info: dict[str, Any]) -> None:
        self.epochs, self.current_epoch = int(info.get("epochs", 0)), int(info.get("first_epoch", 0))
        self.bar.setFormat("%p%")

    def _finished(self, message: dict[str, Any]) -> None:
        self._ended(str((message.get("summary") or {}).get("status", "finished")).replace("_", " "))

    def _ended(self, status: str) -> None:
        self.bar.setFormat(status)
        self.eta.setText("")
        self.show_state(self.session.state)
