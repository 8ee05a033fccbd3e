"""The main window's menus and their actions, with shortcuts by platform convention."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu

from graphedit.ui.files import examples
from graphedit.ui.gallery import show_gallery
from graphedit.ui.theme import THEMES

if TYPE_CHECKING:
    from graphedit.ui.main_window import MainWindow

Key = QKeySequence.StandardKey


class WindowActions(QObject):
    """Builds File, Edit, View and Training; ``export_menu`` is the (for now empty) File ▸ Export submenu."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        bar = window.menuBar()
        self.file_menu = bar.addMenu("&File")
        self.edit_menu = bar.addMenu("&Edit")
        self.view_menu = bar.addMenu("&View")
        self.training_menu = bar.addMenu("&Training")
        self._file()
        self._edit()
        self._view()
        self._training()

    def _action(self, menu: QMenu, text: str, slot, shortcut=None, tip: str = "") -> QAction:  # noqa: ANN001
        action = QAction(text, self.window)
        if isinstance(shortcut, list):
            action.setShortcuts(shortcut)
        elif shortcut is not None:
            action.setShortcut(shortcut)
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    # ------------------------------------------------------------------ File
    def _file(self) -> None:
        w, menu = self.window, self.file_menu
        files = w.files
        self.new = self._action(menu, "&New", files.new, Key.New, "Start an empty graph")
        self.open = self._action(menu, "&Open…", files.open, Key.Open, "Open a .gproj project")
        self.recent_menu = menu.addMenu("Open &Recent")
        self.examples_menu = menu.addMenu("&Examples")
        menu.addSeparator()
        self.save = self._action(menu, "&Save", files.save, Key.Save)
        self.save_as = self._action(menu, "Save &As…", files.save_as, Key.SaveAs)
        menu.addSeparator()
        self.file_menu = menu
        self.export_menu = menu.addMenu("E&xport")
        menu.addSeparator()
        self.quit = self._action(menu, "&Quit", w.close, Key.Quit)
        self.fill_recent()
        self.fill_examples()
        files.recentChanged.connect(self.fill_recent)

    def fill_recent(self) -> None:
        menu = self.recent_menu
        menu.clear()
        recent = self.window.files.recent_files()
        for i, path in enumerate(recent):
            action = menu.addAction(f"&{i + 1} {path.name}" if i < 9 else path.name)
            action.setStatusTip(str(path))
            action.triggered.connect(lambda _c=False, p=path: self.window.files.open(p))
        if recent:
            menu.addSeparator()
            menu.addAction("Clear list").triggered.connect(lambda _c=False: self.window.files.clear_recent())
        menu.setEnabled(bool(recent))

    def fill_examples(self, folder: Path | None = None) -> None:
        menu = self.examples_menu
        menu.clear()
        # the gallery: every example as a card with a thumbnail and what to watch (graphedit/ui/gallery.py)
        self.gallery = menu.addAction("&Gallery…")
        self.gallery.setStatusTip("Browse the examples of the 15 lessons with pictures of their graphs")
        self.gallery.triggered.connect(lambda _c=False: show_gallery(self.window))
        menu.addSeparator()
        found = examples(folder) if folder is not None else examples()
        for title, path in found:
            action = menu.addAction(title)
            action.setStatusTip(f"Open a copy of {path.name}")
            action.triggered.connect(lambda _c=False, p=path: self.window.files.open_example(p))
        menu.setEnabled(bool(found))

    # ------------------------------------------------------------------ Edit
    def _edit(self) -> None:
        w, menu = self.window, self.edit_menu
        stack = w.controller.undo_stack
        self.undo = stack.createUndoAction(w, "&Undo")
        self.undo.setShortcuts(QKeySequence.keyBindings(Key.Undo))
        self.redo = stack.createRedoAction(w, "&Redo")
        self.redo.setShortcuts(QKeySequence.keyBindings(Key.Redo))
        menu.addAction(self.undo)
        menu.addAction(self.redo)
        menu.addSeparator()
        canvas = w.canvas
        self.cut = self._action(menu, "Cu&t", canvas.cut, Key.Cut)
        self.copy = self._action(menu, "&Copy", canvas.copy, Key.Copy)
        self.paste = self._action(menu, "&Paste", canvas.paste, Key.Paste)
        self.duplicate = self._action(menu, "D&uplicate", canvas.duplicate, QKeySequence("Ctrl+D"))
        delete_keys = QKeySequence.keyBindings(Key.Delete)
        if sys.platform == "darwin":
            delete_keys.append(QKeySequence("Backspace"))
        self.delete = self._action(menu, "&Delete", canvas.delete_selected, delete_keys)
        self.select_all = self._action(menu, "Select &All", canvas.select_all, Key.SelectAll)
        menu.addSeparator()
        self.mute = self._action(
            menu,
            "&Mute",
            lambda: w.controller.toggle_muted(w.controller.selection()),
            QKeySequence("M"),
            "A muted node passes its input through unchanged: compare the network with and without it",
        )
        self._canvas_only(self.cut, self.copy, self.paste, self.duplicate, self.delete, self.select_all, self.mute)

    def _canvas_only(self, *actions: QAction) -> None:
        """Editing keys act on the canvas only while it has focus; elsewhere (a text field) they edit text."""
        for action in actions:
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.window.canvas.addAction(action)

    # ------------------------------------------------------------------ View
    def _view(self) -> None:
        w, menu = self.window, self.view_menu
        canvas = w.canvas
        self.zoom_in = self._action(menu, "Zoom &In", lambda: canvas.zoom_by(1.25), Key.ZoomIn)
        self.zoom_out = self._action(menu, "Zoom &Out", lambda: canvas.zoom_by(0.8), Key.ZoomOut)
        self.zoom_fit = self._action(menu, "Zoom to &Fit", canvas.zoom_to_fit, QKeySequence("F"))
        self.auto_layout = self._action(menu, "Auto &Layout", canvas.auto_layout, QKeySequence("L"))
        self._canvas_only(self.zoom_fit, self.auto_layout)
        self.snap = QAction("&Snap to Grid", w, checkable=True)
        self.snap.setChecked(w.settings.value("snap", True, type=bool))
        self.snap.toggled.connect(w.set_snap)
        menu.addAction(self.snap)
        menu.addSeparator()
        theme_menu = menu.addMenu("&Theme")
        group = QActionGroup(w)
        self.themes: dict[str, QAction] = {}
        for name in THEMES:
            action = QAction(name.capitalize(), w, checkable=True)
            action.triggered.connect(lambda _c=False, n=name: w.set_theme(n))
            group.addAction(action)
            theme_menu.addAction(action)
            self.themes[name] = action
        menu.addSeparator()
        self.docks_menu = menu.addMenu("&Panels")
        for dock in w.docks():
            self.docks_menu.addAction(dock.toggleViewAction())

    # -------------------------------------------------------------- Training
    def _training(self) -> None:
        training = self.window.training
        self.training_menu.addActions(training.toolbar.actions_for_menu())
        self.training_menu.addSeparator()
        self._action(
            self.training_menu, "Show Training &Snapshot", training.show_snapshot, None, "The graph being trained"
        )
