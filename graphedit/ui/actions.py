"""The main window's menus and their actions, with shortcuts by platform convention."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu

from graphedit.model.starters import STARTERS
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
        self.starters_menu = menu.addMenu("New From &Template")
        self.starters: dict[str, QAction] = {}
        for key, starter in STARTERS.items():
            self.starters[key] = self._action(self.starters_menu, starter.title, lambda k=key: w.new_project(k))
            self.starters[key].setStatusTip(starter.doc)
        self.open = self._action(menu, "&Open…", files.open, Key.Open, "Open a .gproj project")
        self.recent_menu = menu.addMenu("Open &Recent")
        self.examples_menu = menu.addMenu("&Examples")
        menu.addSeparator()
        self.save = self._action(menu, "&Save", files.save, Key.Save)
        self.save_as = self._action(menu, "Save &As…", files.save_as, Key.SaveAs)
        menu.addSeparator()
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
        keys = self.window.canvas.keymap  # the canvas's actions: one keymap (graphedit/ui/canvas/keymap.py)
        self.undo, self.redo = keys.undo, keys.redo
        self.edit_menu.addActions([keys.undo, keys.redo])
        self.edit_menu.addSeparator()
        self.edit_menu.addActions([keys.cut, keys.copy, keys.paste, keys.duplicate, keys.delete, keys.select_all])
        self.edit_menu.addSeparator()
        self.edit_menu.addAction(keys.mute)
        self.edit_menu.addSeparator()
        self.edit_menu.addActions([keys.frame, keys.note])
        self.edit_menu.addAction(keys.find)

    # ------------------------------------------------------------------ View
    def _view(self) -> None:
        w, menu = self.window, self.view_menu
        keys = w.canvas.keymap
        menu.addActions([keys.zoom_in, keys.zoom_out, keys.zoom_reset, keys.zoom_fit, keys.auto_layout])
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
