"""The screen map a real-window driver reads (GRAPHEDIT_SCREEN_MAP): what it says is where things are on screen."""

from __future__ import annotations

import json

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QDialog, QPushButton, QTabBar, QVBoxLayout

from graphedit.ui.canvas.port_item import PortItem
from graphedit.ui.screen_map import ENV, install_from_env
from tests._window_helpers import make_window


def _centre(rect: list[int]) -> QPoint:
    return QPoint(rect[0] + rect[2] // 2, rect[1] + rect[3] // 2)


def test_screen_map_points_at_ports_palette_rows_and_fields(qtbot, tmp_path, monkeypatch):
    window = make_window(qtbot, tmp_path)
    window.files.new()
    controller = window.controller
    x = controller.add_node("Input", (0.0, 0.0))
    dense = controller.add_node("Dense", (260.0, 40.0))
    controller.connect(x, "y", dense, "x")
    path = tmp_path / "map.json"
    monkeypatch.setenv(ENV, str(path))
    hook = install_from_env(window)
    assert hook is not None
    read = lambda: json.loads(path.read_text(encoding="utf-8"))  # noqa: E731
    qtbot.waitUntil(lambda: path.exists() and set(read()["nodes"]) == {x, dense}, timeout=5000)
    data = read()
    assert data["edges"] == [[x, "y", dense, "x"]]
    assert data["window"]["modal"] is None and data["window"]["training"] == "idle"

    canvas, viewport = window.canvas, window.canvas.viewport()
    top_left = viewport.mapToGlobal(QPoint(0, 0))
    assert data["canvas"] == [top_left.x(), top_left.y(), viewport.width(), viewport.height()]
    assert data["zoom"] == round(canvas.transform().m11(), 4)
    for node_id, node in data["nodes"].items():
        assert set(node["ports"]) == {f"{'out' if out else 'in'}:{n}" for n, out in canvas.scene().nodes[node_id].ports}
        for key, (gx, gy) in node["ports"].items():
            scene_pos = canvas.mapToScene(viewport.mapFromGlobal(QPoint(gx, gy)))
            hits = [
                (i.node_id, i.name, i.is_output) for i in canvas.scene().items(scene_pos) if isinstance(i, PortItem)
            ]
            side, name = key.split(":")
            assert hits == [(node_id, name, side == "out")]
        card = node["rect"]
        header = canvas.mapToScene(viewport.mapFromGlobal(QPoint(card[0] + card[2] // 2, card[1] + 5)))
        assert canvas.scene().nodes[node_id].contains(canvas.scene().nodes[node_id].mapFromScene(header))

    # the palette: a filtered type's row; the inspector: a parameter's editor; the tabs of the docks
    window.palette.filter_box.setText("Dense")
    controller.set_selection([dense])
    qtbot.waitUntil(
        lambda: read()["inspector"]["node"] == dense and "Dense" in read()["palette"]["items"], timeout=5000
    )
    data = read()
    tree = window.palette.tree
    row = tree.itemAt(tree.viewport().mapFromGlobal(_centre(data["palette"]["items"]["Dense"])))
    assert row is window.palette.item_for("Dense")
    box = window.palette.filter_box
    assert box.rect().contains(box.mapFromGlobal(_centre(data["palette"]["filter"])))
    window.inspector.show()
    window.inspector.raise_()
    qtbot.waitUntil(lambda: "units" in read()["inspector"]["fields"], timeout=5000)
    bar, tab = next(
        (b, i) for b in window.findChildren(QTabBar) for i in range(b.count()) if b.tabText(i) == "Inspector"
    )
    assert bar.tabAt(bar.mapFromGlobal(_centre(read()["tabs"]["Inspector"]))) == tab
    units = window.inspector.editors["units"]
    assert units.rect().contains(units.mapFromGlobal(_centre(read()["inspector"]["fields"]["units"])))
    assert read()["nodes"][dense]["params"]["units"] == 32
    controller.set_param(dense, "units", 2)
    qtbot.waitUntil(lambda: read()["nodes"][dense]["params"]["units"] == 2, timeout=5000)

    # a modal dialog: its title and buttons
    dialog = QDialog(window)
    dialog.setWindowTitle("Question")
    QVBoxLayout(dialog).addWidget(button := QPushButton("&Yes"))
    dialog.setModal(True)
    dialog.show()
    qtbot.waitUntil(lambda: read()["window"]["modal"] is not None, timeout=5000)
    modal = read()["window"]["modal"]
    assert modal["title"] == "Question"
    assert button.rect().contains(button.mapFromGlobal(_centre(modal["buttons"]["Yes"])))
    dialog.close()


def test_no_variable_no_map(qtbot, tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    window = make_window(qtbot, tmp_path, show=False)
    assert install_from_env(window) is None
