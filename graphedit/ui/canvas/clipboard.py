"""Cut, copy, paste and duplicate on the canvas, through the system clipboard (so between windows too).

The clipboard holds the selection as JSON (``graphedit-subgraph``, also as text). Pasting puts it at the
mouse when the mouse is over the canvas, else a little further along with each paste.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QGuiApplication

from graphedit.errors import GraphEditError
from graphedit.ui.canvas import style
from graphedit.ui.controller import CLIPBOARD_MIME

if TYPE_CHECKING:
    from graphedit.ui.canvas.view import CanvasView


class CanvasClipboard:
    def __init__(self, view: CanvasView) -> None:
        self.view = view
        self._pastes = 0  # pastes since the last copy: each lands a little further along

    def copy(self) -> bool:
        nodes = self.view.scene().selected_node_ids()
        if not nodes:
            return False
        text = json.dumps(self.view.controller.copy_json(nodes), indent=1)
        mime = QMimeData()
        mime.setData(CLIPBOARD_MIME, text.encode("utf-8"))
        mime.setText(text)
        QGuiApplication.clipboard().setMimeData(mime)
        self._pastes = 0
        return True

    def cut(self) -> None:
        if self.copy():
            self.view.controller.remove_nodes(self.view.scene().selected_node_ids())

    def paste(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        raw = bytes(mime.data(CLIPBOARD_MIME)).decode("utf-8") if mime.hasFormat(CLIPBOARD_MIME) else mime.text()
        try:
            data = json.loads(raw)
            assert isinstance(data, dict) and isinstance(data.get("nodes"), list)
        except (ValueError, AssertionError):
            self.view.show_message("The clipboard holds no GraphEdit nodes.")
            return
        self._pastes += 1
        offset = (30.0 * self._pastes, 30.0 * self._pastes)
        cursor = self.view.mapFromGlobal(self.view.cursor().pos())
        if self.view.viewport().rect().contains(cursor) and data["nodes"]:
            at = self.view.mapToScene(cursor)
            left = min(n["position"][0] for n in data["nodes"])
            top = min(n["position"][1] for n in data["nodes"])
            offset = (style.snap(at.x() - left), style.snap(at.y() - top))
        try:
            self.view.controller.paste_json(data, offset)
        except (GraphEditError, KeyError, TypeError, ValueError) as exc:
            self.view.show_message(f"Cannot paste: {exc}", error=True)

    def duplicate(self) -> None:
        nodes = self.view.scene().selected_node_ids()
        if nodes:
            self.view.controller.paste_json(self.view.controller.copy_json(nodes), (40.0, 40.0))
