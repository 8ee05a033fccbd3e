"""Where things are on screen, for a script that drives the real window with mouse events (a developer hook).

``GRAPHEDIT_SCREEN_MAP=FILE`` makes the editor write, a few times a second and only when something moved, a JSON map
of the screen positions a driver needs (``tools/real_window_check.sh`` reads it to build a network by mouse):

- ``window``: the title; ``training``: the run's state (``idle``, ``running``, …); ``weights``: the file the
  project's weights pointer names (relative to its folder), else ``null``; ``modal``: the open modal dialog's title
  and the visible part of each of its buttons by their text (``&`` left out), else ``null``;
- ``canvas``: the canvas viewport's rectangle; ``zoom``: the canvas's scale;
- ``tabs``: the visible tabs of the window's tab bars (tabbed docks: Inspector, Training, …) by their text;
- ``palette``: the filter box's and the type tree's rectangles, and the visible part of each shown type's row;
- ``inspector``: the node it shows and the visible part of each parameter's editor;
- ``nodes``: per node its type, parameters, card rectangle, error (or ``null``) and the centre of each port
  (``"in:x"``, ``"out:y"``);
- ``edges``: the wires, ``[src, src_port, dst, dst_port]``.

Rectangles are ``[x, y, width, height]`` and points ``[x, y]`` in global (screen) coordinates of Qt's logical
pixels, which are the X server's pixels at a device pixel ratio of 1 (Xvfb's). The file is replaced atomically, so
a reader never sees half of it. Without the variable nothing is installed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QPointF, QRect, QRectF, QSizeF, QTimer
from PySide6.QtWidgets import QAbstractButton, QApplication, QTabBar, QWidget

if TYPE_CHECKING:
    from graphedit.ui.main_window import MainWindow

ENV = "GRAPHEDIT_SCREEN_MAP"
INTERVAL_MS = 150


def _rect(widget: QWidget, rect: QRect) -> list[int]:
    """``rect`` in ``widget``'s coordinates, as a global rectangle."""
    top_left = widget.mapToGlobal(rect.topLeft())
    return [top_left.x(), top_left.y(), rect.width(), rect.height()]


def _seen(widget: QWidget) -> list[int] | None:
    """The part of ``widget`` on screen (not scrolled away or covered by its parents' edges), or ``None``."""
    if not widget.isVisible():
        return None
    rect = widget.visibleRegion().boundingRect()
    return None if rect.isEmpty() else _rect(widget, rect)


def _modal() -> dict[str, Any] | None:
    modal = QApplication.activeModalWidget()
    if modal is None:
        return None
    buttons = {}
    for button in modal.findChildren(QAbstractButton):
        text = button.text().replace("&", "")
        if text and (rect := _seen(button)) is not None:
            buttons[text] = rect
    return {"title": modal.windowTitle(), "buttons": buttons}


def _tabs(window: QWidget) -> dict[str, list[int]]:
    tabs = {}
    for bar in window.findChildren(QTabBar):
        if not bar.isVisible():
            continue
        seen = bar.visibleRegion().boundingRect()
        for i in range(bar.count()):
            rect = bar.tabRect(i).intersected(seen)
            if not rect.isEmpty():
                tabs[bar.tabText(i).replace("&", "")] = _rect(bar, rect)
    return tabs


def screen_map(window: MainWindow) -> dict[str, Any]:
    """The map :class:`ScreenMap` writes (see the module doc)."""
    canvas, viewport = window.canvas, window.canvas.viewport()
    tree = window.palette.tree
    items = {}
    for type_id in window.palette.visible_type_ids():
        rect = tree.visualItemRect(window.palette.item_for(type_id)).intersected(tree.viewport().rect())
        if not rect.isEmpty():
            items[type_id] = _rect(tree.viewport(), rect)
    inspector = window.inspector
    fields = {name: rect for name, editor in inspector.editors.items() if (rect := _seen(editor)) is not None}

    def point(scene_pos: QPointF) -> list[int]:
        p = viewport.mapToGlobal(canvas.mapFromScene(scene_pos))
        return [p.x(), p.y()]

    weights = window.files.project.weights
    nodes = {}
    for node_id, item in canvas.scene().nodes.items():
        w, h = item.size()
        card = canvas.mapFromScene(QRectF(item.scenePos(), QSizeF(w, h)))
        error = item.error
        nodes[node_id] = {
            "type": item.node_type.type_id,
            "params": item.params,
            "rect": _rect(viewport, card.boundingRect()),
            "error": None if error is None else error.problem,
            "ports": {f"{'out' if out else 'in'}:{name}": point(item.port_pos(name, out)) for name, out in item.ports},
        }
    return {
        "window": {
            "title": window.windowTitle(),
            "training": window.session.state,
            "weights": None if weights is None else weights["path"],
            "modal": _modal(),
        },
        "canvas": _rect(viewport, viewport.rect()),
        "zoom": round(canvas.transform().m11(), 4),
        "tabs": _tabs(window),
        "palette": {"filter": _seen(window.palette.filter_box), "tree": _seen(tree.viewport()), "items": items},
        "inspector": {"node": inspector.node_id, "fields": fields},
        "nodes": nodes,
        "edges": [list(edge) for edge in canvas.scene().edges],
    }


class ScreenMap(QObject):
    """Writes :func:`screen_map` to ``path`` whenever it differs from what was written last (polled)."""

    def __init__(self, window: MainWindow, path: str | Path) -> None:
        super().__init__(window)
        self.window, self.path = window, Path(path)
        self.written = ""
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.write)
        self.timer.start(INTERVAL_MS)
        self.write()

    def write(self) -> None:
        text = json.dumps(screen_map(self.window), indent=1, default=str)
        if text == self.written:
            return
        part = self.path.with_name(self.path.name + ".part")
        part.write_text(text, encoding="utf-8")
        os.replace(part, self.path)
        self.written = text


def install_from_env(window: MainWindow) -> ScreenMap | None:
    """Start writing the map when ``GRAPHEDIT_SCREEN_MAP`` names a file."""
    path = os.environ.get(ENV)
    return ScreenMap(window, path) if path else None
