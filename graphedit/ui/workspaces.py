"""Workspace layouts: Build, Train and Inspect, switched from the toolbar (Ctrl+1/2/3) and kept per user.

Each workspace arranges the same docks for one task:

* **Build**: the node palette on the left; the inspector (tabbed with the training settings and the
  lesson) over the model summary on the right; problems, code, history, runs, live and inside views in tabs
  below.
* **Train**: the live views across the whole bottom with most of the window (and growing with it), the
  training settings and runs beside the canvas; the palette and the summary step aside.
* **Inspect**: the model summary and the inspector on the right with room, the generated code below.

A user who moves or resizes docks keeps that arrangement for the workspace: leaving one stores its
``saveState()`` in QSettings (``workspace/<name>``), coming back restores it; the workspace in use is
``workspace``. View ▸ Workspace ▸ Reset puts the current one back to its default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDockWidget, QToolBar

if TYPE_CHECKING:
    from graphedit.ui.main_window import MainWindow


WORKSPACES = {"build": "Build", "train": "Train", "inspect": "Inspect"}
TIPS = {
    "build": "Build: palette, canvas, inspector and summary — for wiring a network (Ctrl+1)",
    "train": "Train: the live views take most of the window — for watching a run (Ctrl+2)",
    "inspect": "Inspect: summary, inspector and the generated code — for reading a network (Ctrl+3)",
}
LIVE_SHARE = 0.62  # of the window's height, for the live views across the bottom in Train
SETTING, STATE = "workspace", "workspace/{}"
LEFT, RIGHT, BOTTOM = (
    Qt.DockWidgetArea.LeftDockWidgetArea,
    Qt.DockWidgetArea.RightDockWidgetArea,
    Qt.DockWidgetArea.BottomDockWidgetArea,
)
H, V = Qt.Orientation.Horizontal, Qt.Orientation.Vertical


class Workspaces(QObject):
    """The three layouts of a main window, its toolbar and menu entries; see the module doc."""

    changed = Signal(str)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.current = ""
        self.toolbar = QToolBar("Workspace", window)
        self.toolbar.setObjectName("workspaceToolbar")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.group = QActionGroup(self)
        self.actions: dict[str, QAction] = {}
        for i, (name, title) in enumerate(WORKSPACES.items(), 1):
            action = QAction(title, window, checkable=True)
            action.setShortcut(QKeySequence(f"Ctrl+{i}"))
            action.setToolTip(TIPS[name])
            action.setStatusTip(TIPS[name])
            action.triggered.connect(lambda _c=False, n=name: self.switch(n))
            self.group.addAction(action)
            self.toolbar.addAction(action)
            self.actions[name] = action
        self.reset_action = QAction("&Reset Workspace", window)
        self.reset_action.setStatusTip("Put the docks of this workspace back where they start")
        self.reset_action.triggered.connect(lambda _c=False: self.reset())
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        window.installEventFilter(self)

    def fill_menu(self, menu: Any) -> None:
        menu.addActions(list(self.actions.values()))
        menu.addSeparator()
        menu.addAction(self.reset_action)

    # ------------------------------------------------------------- public
    def restore(self) -> None:
        """At start: the workspace the user was in, with the docks as they left them."""
        name = str(self.window.settings.value(SETTING, "build"))
        self.switch(name if name in WORKSPACES else "build", remember=False)

    def switch(self, name: str, remember: bool = True) -> None:
        if name not in WORKSPACES:
            raise KeyError(f"no workspace '{name}'; the workspaces are {', '.join(WORKSPACES)}")
        settings = self.window.settings
        if remember and self.current:
            settings.setValue(STATE.format(self.current), self.window.saveState())
        self.current = name
        self.actions[name].setChecked(True)
        settings.setValue(SETTING, name)
        state = settings.value(STATE.format(name))
        if state is None or not self.window.restoreState(state):
            self.arrange(name)
        self.changed.emit(name)

    def reset(self) -> None:
        self.window.settings.remove(STATE.format(self.current))
        self.arrange(self.current)

    def save(self) -> None:
        """Keep the current workspace's arrangement (the window calls this when it closes)."""
        if self.current:
            self.window.settings.setValue(STATE.format(self.current), self.window.saveState())

    # ------------------------------------------------------------ layouts
    def arrange(self, name: str) -> None:
        """Put the docks where workspace ``name`` wants them, sized as shares of the window."""
        w = self.window
        for dock in w.docks():  # out of their tab groups first: a dock split off a tabbed one would join its tabs
            dock.setFloating(False)
            w.removeDockWidget(dock)
        self._placed: set[QDockWidget] = set()
        getattr(self, f"_{name}")(w, w.training)
        bottom = next(d for d in w.docks() if d in self._placed and w.dockWidgetArea(d) == BOTTOM)
        for dock in w.docks():  # panels a workspace does not name join the tabs below, behind the others
            if dock not in self._placed and w.dockWidgetArea(dock) == Qt.DockWidgetArea.NoDockWidgetArea:
                w.addDockWidget(BOTTOM, dock)
                w.tabifyDockWidget(bottom, dock)
        w.training.toolbar.show()
        self.toolbar.show()

    def _column(self, area: Qt.DockWidgetArea, groups: list[list[QDockWidget]]) -> None:
        """Tab groups stacked top to bottom in ``area``; the first dock of each group is in front."""
        w = self.window
        w.addDockWidget(area, groups[0][0])
        for above, group in zip(groups, groups[1:]):
            w.splitDockWidget(above[0], group[0], V)
        for group in groups:
            self._placed.update(group)
            for dock in group[1:]:
                w.tabifyDockWidget(group[0], dock)
            for dock in group:
                dock.show()
            group[0].raise_()

    def _build(self, w: Any, t: Any) -> None:
        w.setCorner(Qt.Corner.BottomLeftCorner, LEFT)
        w.setCorner(Qt.Corner.BottomRightCorner, RIGHT)
        self._column(LEFT, [[w.palette]])
        self._column(RIGHT, [[w.inspector, t.settings_dock, w.lesson, w.experiments], [w.summary]])
        self._column(BOTTOM, [[w.problems, w.code_view, w.history, t.runs_dock, t.live, w.inside]])
        width, height = w.width(), w.height()
        w.resizeDocks([w.palette, w.inspector], [int(width * 0.19), int(width * 0.27)], H)
        w.resizeDocks([w.inspector, w.summary], [int(height * 0.55), int(height * 0.3)], V)
        w.resizeDocks([w.problems], [int(height * 0.28)], V)

    def _train(self, w: Any, t: Any) -> None:
        w.setCorner(Qt.Corner.BottomLeftCorner, BOTTOM)
        w.setCorner(Qt.Corner.BottomRightCorner, BOTTOM)
        self._column(RIGHT, [[t.settings_dock, w.inspector, w.lesson, w.experiments]])
        self._column(BOTTOM, [[t.live, w.inside, t.runs_dock, w.problems, w.code_view, w.history]])
        for dock in (w.palette, w.summary):  # step aside (View ▸ Panels brings them back)
            w.addDockWidget(LEFT, dock)
            dock.hide()
            self._placed.add(dock)
        w.resizeDocks([t.settings_dock], [int(w.width() * 0.3)], H)
        self._size_live()

    def _inspect(self, w: Any, t: Any) -> None:
        w.setCorner(Qt.Corner.BottomLeftCorner, LEFT)
        w.setCorner(Qt.Corner.BottomRightCorner, RIGHT)
        self._column(RIGHT, [[w.summary, t.runs_dock], [w.inspector, t.settings_dock, w.lesson, w.experiments]])
        self._column(BOTTOM, [[w.code_view, t.live, w.inside, w.problems, w.history]])
        w.addDockWidget(LEFT, w.palette)
        w.palette.hide()
        self._placed.add(w.palette)
        width, height = w.width(), w.height()
        w.resizeDocks([w.summary], [int(width * 0.4)], H)
        w.resizeDocks([w.summary, w.inspector], [int(height * 0.45), int(height * 0.4)], V)
        w.resizeDocks([w.code_view], [int(height * 0.38)], V)

    def _size_live(self) -> None:
        live = self.window.training.live
        if live.isVisible() and not live.isFloating():
            self.window.resizeDocks([live], [int(self.window.height() * LIVE_SHARE)], V)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        # while training, the live views grow with the window (a main window gives new room to the canvas)
        if watched is self.window and event.type() == QEvent.Type.Resize and self.current == "train":
            self._size_live()
        return False
