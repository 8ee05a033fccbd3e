"""Starting the editor without a black window: a light start window paints at once, then the heavy part loads.

Importing torch and the editor takes seconds. :class:`StartWindow` needs only Qt: it is shown where the editor will
be, in its theme, with a progress line. :class:`EditorLoader` then works in steps, each from the event loop, so the
window keeps painting: torch and the torch-only modules import in a thread (the GUI thread keeps the event loop
turning), the main window is built in the GUI thread, the project opens in it while the start window names it,
and the window then takes the start window's place. The editor process never compiles (runs train in a worker
process), so its shape inference answers ``torch._dynamo``'s questions without loading it
(``graphedit/compiler/nodynamo.py``).

``GRAPHEDIT_STARTUP_TRACE=FILE`` appends ``<event> <time.time()> torch=<0|1> dynamo=<0|1> pyqtgraph=<0|1>`` lines
for ``first_paint`` and ``usable`` (see ``bench/startup.py``): which heavy modules were loaded by then (the plots'
pyqtgraph loads when a plot is first shown, not to start). With ``GRAPHEDIT_STARTUP_QUIT=1`` as well the editor
quits once usable.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from graphedit.ui import APP_NAME

if TYPE_CHECKING:
    from graphedit.ui.main_window import MainWindow


TRACE_ENV = "GRAPHEDIT_STARTUP_TRACE"
QUIT_ENV = "GRAPHEDIT_STARTUP_QUIT"
POLL_MS = 30
PAINT_WAIT_MS = 1000  # a start window that gets no paint event (minimised, say) does not hold the loading back
# imported off the GUI thread: torch and modules that need only torch and Python (never Qt: its objects belong
# to the thread that makes them)
BACKGROUND_IMPORTS = ("torch", "graphedit.nodes.registry", "graphedit.compiler.shapes", "graphedit.model.project")


def trace(event: str) -> None:
    """Note a startup moment for bench/startup.py when GRAPHEDIT_STARTUP_TRACE names a file."""
    path = os.environ.get(TRACE_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            dynamo = getattr(sys.modules.get("torch._dynamo"), "__file__", None) is not None  # the real module
            plots = "pyqtgraph" in sys.modules
            loaded = f"torch={int('torch' in sys.modules)} dynamo={int(dynamo)} pyqtgraph={int(plots)}"
            f.write(f"{event} {time.time():.6f} {loaded}\n")


class StartWindow(QWidget):
    """What the user sees while the editor loads: the window's frame, its title and a progress line."""

    firstPainted = Signal()

    def __init__(self, settings: QSettings) -> None:
        super().__init__()
        self.setWindowTitle(f"Loading… — {APP_NAME}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(1400, 850)
        geometry = settings.value("window_geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        title = QLabel(APP_NAME)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 2.2)
        font.setBold(True)
        title.setFont(font)
        self.message = QLabel("Starting…")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy until a step says how far
        self.progress.setTextVisible(False)
        self.progress.setFixedWidth(320)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        for widget in (title, self.message, self.progress):
            layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(3)
        self.painted = False
        self.installEventFilter(self)

    def say(self, text: str) -> None:
        self.message.setText(text)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self and event.type() == QEvent.Type.Paint and not self.painted:
            self.painted = True
            trace("first_paint")
            self.firstPainted.emit()
        return super().eventFilter(watched, event)


class EditorLoader(QObject):
    """Loads the editor in steps from the event loop; ``window`` is the MainWindow once it is built."""

    def __init__(self, start: StartWindow, open_project: Callable[[Any], None], opening: str = "Opening…") -> None:
        super().__init__()
        self.start = start
        self.open_project = open_project
        self.opening = opening  # what the start window says while the project opens
        self.window: MainWindow | None = None
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def begin(self) -> None:
        """Start loading once the start window has painted (the import would otherwise compete with the paint)."""
        self.start.firstPainted.connect(lambda: QTimer.singleShot(0, self._import_in_background))
        QTimer.singleShot(PAINT_WAIT_MS, self._import_in_background)

    def _import_in_background(self) -> None:
        if self._thread is not None:
            return
        self.start.say("Loading PyTorch…")
        self._thread = threading.Thread(target=self._import, name="graphedit-imports", daemon=True)
        self._thread.start()
        self._wait()

    def _import(self) -> None:
        try:
            for name in BACKGROUND_IMPORTS:
                importlib.import_module(name)
            # the editor never compiles in its own process: its shape inference need not wait for torch._dynamo
            importlib.import_module("graphedit.compiler.nodynamo").defer_for_process()
        except BaseException as exc:  # reported in the GUI thread, where importing again raises it properly
            self.error = exc

    def _wait(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            QTimer.singleShot(POLL_MS, self._wait)
            return
        self.start.say("Building the editor…")
        QTimer.singleShot(0, self._build)

    def _build(self) -> None:
        try:
            from graphedit.ui.main_window import MainWindow

            window = MainWindow()
        except Exception as exc:  # a broken install: say so in the window rather than leave it loading forever
            self.start.progress.hide()
            self.start.say(f"The editor could not start: {type(exc).__name__}: {exc}")
            raise
        self.window = window
        self.start.say(self.opening)
        QTimer.singleShot(0, self._open)  # the start window says so first

    def _open(self) -> None:
        """Open the project, then show the window in the start window's place: its first paint is of the project
        (shown empty first, the whole window was laid out and painted twice before the editor was usable)."""
        window = self.window
        self.open_project(window)
        window.setGeometry(self.start.geometry())
        window.show()
        self.start.close()
        window.repaint()
        trace("usable")
        if os.environ.get(QUIT_ENV):
            QTimer.singleShot(0, window.close)
