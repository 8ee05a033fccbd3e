"""The canvas's keymap: one QAction per key command, with the platform's standard shortcuts.

The view owns these actions, so their keys work in a bare ``CanvasView`` too; the main window puts
the same actions in its Edit and View menus, and the canvas's context menu shows them. Editing keys
act only while the canvas has focus (elsewhere, in a text field, they edit text); undo and redo act
in the whole window. ``CanvasView.keyPressEvent`` handles only what is not a command: Space held to
pan, Esc to cancel a drag (Tab, for quick add, is caught in ``CanvasView.event``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

from graphedit.ui.canvas.annotation_items import add_note, frame_selection

if TYPE_CHECKING:
    from graphedit.ui.canvas.view import CanvasView

Key = QKeySequence.StandardKey


def _keys(*keys: Key | str) -> list[QKeySequence]:
    out: list[QKeySequence] = []
    for key in keys:
        out += [QKeySequence(key)] if isinstance(key, str) else QKeySequence.keyBindings(key)
    return out


class CanvasKeymap:
    """The canvas's commands as actions: ``undo``, ``redo``, ``cut``, ``copy``, ``paste``, ``duplicate``,
    ``delete``, ``select_all``, ``mute``, ``zoom_in``, ``zoom_out``, ``zoom_reset``, ``zoom_fit``, ``auto_layout``,
    ``frame``, ``note``, ``find``, ``group``, ``ungroup``, ``leave_block`` (Esc leaves too, when no drag or popup
    is active: ``CanvasView.event``)."""

    def __init__(self, view: CanvasView) -> None:
        self.view = view
        stack = view.controller.undo_stack
        self.undo = stack.createUndoAction(view, "&Undo")
        self.undo.setShortcuts(_keys(Key.Undo))
        self.redo = stack.createRedoAction(view, "&Redo")
        self.redo.setShortcuts(_keys(Key.Redo))
        view.addActions([self.undo, self.redo])
        self.cut = self._action("Cu&t", view.clipboard.cut, Key.Cut)
        self.copy = self._action("&Copy", view.clipboard.copy, Key.Copy)
        self.paste = self._action("&Paste", view.clipboard.paste, Key.Paste)
        self.duplicate = self._action("D&uplicate", view.clipboard.duplicate, "Ctrl+D")
        self.delete = self._action("&Delete", view.delete_selected, Key.Delete, "Backspace")
        self.select_all = self._action("Select &All", view.select_all, Key.SelectAll)
        self.mute = self._action("&Mute", view.mute_selected, "M")
        self.mute.setStatusTip(
            "A muted node passes its input through unchanged: compare the network with and without it"
        )
        self.zoom_in = self._action("Zoom &In", lambda: view.zoom_by(1.25), Key.ZoomIn, "+", "=")
        self.zoom_out = self._action("Zoom &Out", lambda: view.zoom_by(0.8), Key.ZoomOut, "-")
        self.zoom_reset = self._action("&Actual Size", lambda: view.set_zoom(1.0), "0")
        self.zoom_fit = self._action("Zoom to &Fit", view.zoom_to_fit, "F")
        self.auto_layout = self._action("Auto &Layout", view.auto_layout, "L")
        self.frame = self._action("&Frame Selection", lambda: frame_selection(view), "G")
        self.frame.setStatusTip("A titled frame around the selected nodes; drag its title to move them together")
        self.note = self._action("Add &Note", lambda: add_note(view), "N")
        self.find = self._action("&Find Node…", view.finder.open, Key.Find)
        self.find.setShortcutContext(Qt.ShortcutContext.WindowShortcut)  # from any panel of the window
        self.find.setStatusTip("Find a node by id or type: it is centred and selected")
        self.group = self._action("&Group into Block", view.group_selected, "Ctrl+G")
        self.group.setStatusTip("Make the selected nodes one block: a definition you can reuse, repeat and open")
        self.ungroup = self._action("U&ngroup Block", view.ungroup_selected, "Ctrl+Shift+G")
        self.leave_block = self._action("&Leave Block", view.leave_block, "Alt+Up", "Esc")
        self.leave_block.setEnabled(False)

    def _action(self, text: str, slot: Callable[[], object], *keys: Key | str) -> QAction:
        action = QAction(text, self.view)
        action.setShortcuts(_keys(*keys))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(lambda _checked=False: slot())
        self.view.addAction(action)
        return action
