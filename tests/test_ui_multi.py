"""Live curves of a network with several inputs and outputs: one curve per output's loss and metric."""

from __future__ import annotations

import numpy as np
import pytest
from _live_helpers import replay, train_events
from graphkit import build
from test_ui_live import make_dock, shoot

from graphedit.training import trust

pytestmark = pytest.mark.gui


def two_headed(tmp_path):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 300, 4)).astype(np.float32)
    np.savez(tmp_path / "two.npz", a=a, b=b, size=(a - b).sum(1, keepdims=True), kind=(a[:, 0] > b[:, 0]).astype(int))
    doc = build(
        [
            ("a", "Input", {}),
            ("b", "Input", {}),
            ("size", "Target", {}),
            ("kind", "Target", {}),
            ("concat1", "Concat", {}),
            ("dense1", "Dense", {"units": 16}),
            ("relu1", "ReLU", {}),
            ("size_head", "Dense", {"units": 1}),
            ("kind_head", "Dense", {"units": 2}),
            ("mse", "MSE", {}),
            ("ce", "SoftmaxCrossEntropy", {}),
            ("kind_accuracy", "Accuracy", {}),
        ],
        ["a -> concat1.in1", "b -> concat1.in2", "concat1 -> dense1", "dense1 -> relu1", "relu1 -> size_head"]
        + ["relu1 -> kind_head", "size_head -> mse.pred", "size -> mse.target", "kind_head -> ce.pred"]
        + ["kind -> ce.target", "kind_head -> kind_accuracy.pred", "kind -> kind_accuracy.target"],
    )
    options = {"path": str(tmp_path / "two.npz"), "inputs": ["a", "b"], "targets": ["size", "kind"]}
    return doc, {"name": "numpy", "options": options}


def test_each_output_has_its_loss_and_metric_curves(qtbot, tmp_path):
    doc, spec = two_headed(tmp_path)
    with trust.allowing([str(tmp_path)]):
        events = train_events(doc, spec, {"epochs": 6, "lr": 0.01, "optimizer": "adam", "batch_size": 32})
    epochs = [e for e in events if e["type"] == "epoch"]
    assert {"mse", "ce", "kind_accuracy"} <= set(epochs[-1]["val"])
    assert epochs[-1]["val"]["kind_accuracy"] > 0.8 and epochs[-1]["val"]["mse"] < epochs[0]["val"]["mse"]
    dock, session, *_ = make_dock(qtbot, doc)
    replay(session, events)
    dock.show_view("curves")
    dock.flush()
    view = dock.view("curves")
    assert set(view.part_curves) == {"mse", "ce"}  # each output's loss beside the total, on the loss plot
    assert set(view.metric_curves) == {"kind_accuracy"}  # its metric below
    assert all(c in view.loss_plot.listDataItems() for c in view.part_curves["mse"])
    _, mse_train, _ = view.part_curves["mse"]
    assert mse_train.getData()[1][-1] == pytest.approx(epochs[-1]["train"]["mse"])
    _, train, val = view.metric_curves["kind_accuracy"]
    assert len(val.getData()[0]) == len(epochs) and val.getData()[1][-1] == pytest.approx(
        epochs[-1]["val"]["kind_accuracy"]
    )
    for name in ("activations", "gradients"):
        dock.show_view(name)
        dock.flush()
        assert dock.view(name).showing_body(), name
    dock.show_view("curves")
    dock.resize(1000, 720)
    shoot(dock, "live_two_outputs.png")


def test_the_dataset_panel_maps_each_named_input_to_a_node(qtbot, tmp_path):
    import shutil
    from pathlib import Path

    from _window_helpers import make_window, screenshot
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    example = Path(__file__).resolve().parents[1] / "projects" / "07b_siamese_digits.gproj"
    path = Path(shutil.copy(example, tmp_path / "siamese.gproj"))
    window = make_window(qtbot, tmp_path)
    assert window.files.open(path, ask=False)
    dock, project, controller = window.training.settings_dock, window.files.project, window.controller
    dock.show()
    dock.raise_()
    table = dock.bind_table
    qtbot.waitUntil(lambda: table.rowCount() == 3 and table.isVisible())
    assert [table.item(r, 0).text() for r in range(3)] == ["left", "right", "same"]
    combo = table.cellWidget(1, 3)
    assert [combo.itemText(i) for i in range(combo.count())] == ["left", "right"]
    controller.rename("right", "second")  # the graph changes: 'right' now has no node, and the panel says so
    qtbot.waitUntil(lambda: "no such Input node" in table.cellWidget(1, 3).currentText())
    combo = table.cellWidget(1, 3)
    QTest.mouseClick(combo, Qt.MouseButton.LeftButton, pos=QPoint(10, combo.height() // 2))
    index = combo.findData("second")
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    assert project.dataset["bind"] == {"right": "second"}
    qtbot.waitUntil(lambda: table.cellWidget(1, 3).currentData() == "second")
    dock.setFloating(True)
    dock.resize(520, 720)
    screenshot(dock, "dataset_bind.png")
    controller.undo_stack.undo()
    assert not project.dataset.get("bind")
    # before Run: 'right' has no node again, so the run does not start, and the banner says why in one line
    assert window.training.run() is None
    banner = window.training.banner
    assert (
        banner.isVisible() and "'right' has no Input node" in banner.text() and not window.training.session.is_running()
    )


def test_start_from_the_projects_weights_is_a_training_setting(qtbot, tmp_path):
    from _window_helpers import make_window
    from test_ui_training import tiny_project

    window = make_window(qtbot, tmp_path)
    assert window.files.open(tiny_project(tmp_path), ask=False)
    dock, project = window.training.settings_dock, window.files.project
    combo = dock.start_from
    assert combo.currentData() == "init"
    index = combo.findData("weights")
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    assert project.training["start_from"] == "weights"
    window.controller.undo_stack.undo()
    assert project.training.get("start_from", "init") == "init" and combo.currentData() == "init"
