"""The Help menu: keyboard shortcuts (read from the actions themselves), the project file format, the node
reference (``docs/nodes.md``, which is ``graphedit nodes --markdown``: the catalog's own words), and About with
the versions in use."""

from __future__ import annotations

import platform
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLineEdit,
    QMenu,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from graphedit import __version__
from graphedit.ui import APP_NAME

DOCS = Path(__file__).resolve().parents[2] / "docs"
# what the canvas does without an action (CanvasView.keyPressEvent and its mouse modes)
GESTURES = (
    ("Tab, or double-click on empty canvas", "Add a node by typing its name"),
    ("Drag from a port", "Wire it; let go on empty canvas to add a fitting node"),
    ("Space + drag, or middle-drag", "Pan the canvas"),
    ("Ctrl + mouse wheel", "Zoom"),
    ("Esc", "Cancel a drag or close a popup"),
)

if TYPE_CHECKING:
    from graphedit.ui.main_window import MainWindow


def shortcut_rows(window: MainWindow) -> list[tuple[str, str]]:
    """(shortcut, what it does) for every action of the window's menus and toolbars and the canvas's keymap."""
    seen: dict[str, str] = {}
    actions: list[QAction] = []

    def walk(menu: QMenu) -> None:
        for action in menu.actions():
            if action.menu() is not None:
                walk(action.menu())
            else:
                actions.append(action)

    for top in window.menuBar().actions():
        if top.menu() is not None:
            walk(top.menu())
    actions += window.canvas.actions() + window.findChildren(QAction)
    for action in actions:
        keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())
        text = action.text().replace("&", "").rstrip("…")
        if keys and text and keys not in seen:
            seen[keys] = text
    rows = sorted(((v, k) for k, v in seen.items()), key=lambda r: r[0].lower())
    return [(keys, text) for text, keys in rows] + list(GESTURES)


class ShortcutsDialog(QDialog):
    """Every shortcut in one table with a filter box."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setWindowTitle(f"Keyboard Shortcuts — {APP_NAME}")
        self.filter = QLineEdit(placeholderText="Filter (an action or a key)")
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Shortcut", "Action"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.rows = shortcut_rows(window)
        self.table.setRowCount(len(self.rows))
        for i, (keys, text) in enumerate(self.rows):
            self.table.setItem(i, 0, QTableWidgetItem(keys))
            self.table.setItem(i, 1, QTableWidgetItem(text))
        self.filter.textChanged.connect(self._filter)
        _layout(self, [self.filter, self.table])
        self.resize(560, 620)

    def _filter(self, text: str) -> None:
        words = text.lower().split()
        for i, (keys, action) in enumerate(self.rows):
            hay = f"{keys} {action}".lower()
            self.table.setRowHidden(i, not all(w in hay for w in words))


class MarkdownDialog(QDialog):
    """A Markdown text to read (the file format, the node reference), with a filter that finds in it."""

    def __init__(self, parent: QWidget, title: str, markdown: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{title} — {APP_NAME}")
        self.find = QLineEdit(placeholderText="Find (Enter for the next)")
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setMarkdown(markdown)
        self.find.returnPressed.connect(lambda: self.browser.find(self.find.text()))
        _layout(self, [self.find, self.browser])
        self.resize(820, 720)


def _layout(dialog: QDialog, widgets: list[QWidget]) -> None:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    for widget in widgets:
        layout.addWidget(widget)
    layout.addWidget(buttons)


def versions() -> list[tuple[str, str]]:
    import numpy
    import torch

    return [
        (APP_NAME, __version__),
        ("Python", platform.python_version()),
        ("PyTorch", torch.__version__),
        ("NumPy", numpy.__version__),
        ("Qt", qVersion()),
        ("PySide6", pyside_version),
        ("System", f"{platform.system()} {platform.release()} ({platform.machine()})"),
    ]


class HelpMenu:
    """Help ▸ Keyboard Shortcuts, Project File Format, Node Reference, About."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.menu = window.menuBar().addMenu("&Help")
        self.dialog: QDialog | None = None
        self.shortcuts = self._add("&Keyboard Shortcuts", self.show_shortcuts, "Ctrl+/")
        self.format = self._add("Project &File Format", self.show_format)
        self.nodes = self._add("&Node Reference", self.show_nodes, QKeySequence.StandardKey.HelpContents)
        self.menu.addSeparator()
        self.about = self._add(f"&About {APP_NAME}", self.show_about)
        self.about.setMenuRole(QAction.MenuRole.AboutRole)

    def _add(self, text: str, slot: Any, key: Any = None) -> QAction:
        action = QAction(text, self.window)
        if key is not None:
            action.setShortcut(QKeySequence(key))
        action.triggered.connect(lambda _c=False: slot())
        self.menu.addAction(action)
        return action

    def _open(self, dialog: QDialog) -> QDialog:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.dialog = dialog
        return dialog

    def show_shortcuts(self) -> QDialog:
        return self._open(ShortcutsDialog(self.window))

    def show_format(self) -> QDialog:
        path = DOCS / "project-format.md"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            text = (
                "# The project file\n\nThis installation has no copy of `docs/project-format.md`. A project is one "
                "UTF-8 JSON file (`.gproj`); its JSON Schema is `graphedit/model/project.schema.json`."
            )
        return self._open(MarkdownDialog(self.window, "Project File Format", text))

    def show_nodes(self) -> QDialog:
        from graphedit.nodes.reference import markdown

        types = self.window.controller.registry.types()
        return self._open(MarkdownDialog(self.window, "Node Reference", markdown(types)))

    def show_about(self) -> QMessageBox:
        rows = "".join(f"<tr><td>{name}</td><td>&nbsp;&nbsp;{value}</td></tr>" for name, value in versions())
        box = QMessageBox(self.window)
        box.setWindowTitle(f"About {APP_NAME}")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(
            f"<h3>{APP_NAME} {__version__}</h3><p>Design, train and ship neural networks as graphs.</p>"
            f"<table>{rows}</table><p>Python at {sys.executable}</p>"
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()
        self.dialog = box
        return box
