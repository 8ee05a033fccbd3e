"""Transfer learning: frozen nodes keep their weights and batch-norm statistics; per-node learning rates."""

from __future__ import annotations

import json

import pytest
import torch
from graphkit import build, chain

from graphedit.compiler import compile_graph
from graphedit.errors import GraphError, ProjectFileError, TrainingError
from graphedit.model.project import Project, load_project, project_from_json, project_to_json, save_project
from graphedit.training.binding import fit_inputs_to_dataset
from graphedit.training.datasets import load_dataset
from graphedit.training.trainer import Trainer

SPEC = {"name": "circle", "options": {"n": 256, "noise": 0.1}}
SETTINGS = {"epochs": 3, "batch_size": 32, "device": "cpu", "seed": 0, "lr": 0.01, "optimizer": "adam"}
BACKBONE = ("dense1", "bn1", "dense2")


def backbone_and_head():
    """Input → Dense 16 → BatchNorm → ReLU → Dense 16 → ReLU → head Dense 2 → cross-entropy."""
    return build(
        [
            ("point", "Input", {"shape": [2]}),
            ("dense1", "Dense", {"units": 16}),
            ("bn1", "BatchNorm", {}),
            ("relu1", "ReLU", {}),
            ("dense2", "Dense", {"units": 16}),
            ("relu2", "ReLU", {}),
            ("head", "Dense", {"units": 2}),
            ("label", "Target", {}),
            ("ce", "SoftmaxCrossEntropy", {}),
        ],
        [*chain("point", "dense1", "bn1", "relu1", "dense2", "relu2", "head"), "head -> ce.pred", "label -> ce.target"],
    )


def trained(doc, **settings):
    data = load_dataset(SPEC)
    fit_inputs_to_dataset(doc, data.info)
    compiled = compile_graph(doc, seed=0)
    before = {k: v.detach().clone() for k, v in compiled.root.state_dict().items()}
    trainer = Trainer(compiled, data, {**SETTINGS, **settings}, probes=False)
    trainer.fit()
    after = compiled.root.state_dict()
    return trainer, before, after


def test_a_frozen_backbone_keeps_its_weights_and_batchnorm_statistics_while_the_head_learns():
    doc = backbone_and_head()
    for node_id in BACKBONE:
        doc.set_training(node_id, frozen=True)
    trainer, before, after = trained(doc)
    backbone = [k for k in before if k.split(".")[0] in BACKBONE]
    assert any("running_mean" in k for k in backbone) and any("num_batches_tracked" in k for k in backbone)
    for key in backbone:
        assert torch.equal(before[key], after[key]), key  # bit-identical, running statistics included
    assert not torch.equal(before["head.weight"], after["head.weight"])
    history = trainer.history
    assert history[-1]["train"]["loss"] < history[0]["train"]["loss"]
    seen = {id(p) for group in trainer.optimizer.param_groups for p in group["params"]}
    assert seen == {id(p) for p in trainer.root.head.parameters()}  # the optimiser only sees the head

    # the same graph unfrozen moves the backbone, statistics included: the test above can fail
    _, before, after = trained(backbone_and_head())
    assert not torch.equal(before["dense1.weight"], after["dense1.weight"])
    assert not torch.equal(before["bn1.running_mean"], after["bn1.running_mean"])


def test_lr_scale_makes_a_group_of_its_own():
    doc = backbone_and_head()
    doc.set_training("dense1", lr_scale=0.1)
    doc.set_training("bn1", lr_scale=0.1)
    doc.set_training("dense2", lr_scale=0.5)
    trainer, before, after = trained(doc, optimizer="sgd", lr=0.1, epochs=1)
    groups = trainer.optimizer.param_groups
    assert [g["lr_scale"] for g in groups] == [1.0, 0.1, 0.5]
    assert [g["lr"] for g in groups] == pytest.approx([0.1, 0.01, 0.05])
    assert {id(p) for p in groups[1]["params"]} == {
        id(p) for n in ("dense1", "bn1") for p in getattr(trainer.root, n).parameters()
    }
    assert trainer.history[0]["lr"] == pytest.approx(0.1)


def test_everything_frozen_is_one_clear_error():
    doc = backbone_and_head()
    for node_id in (*BACKBONE, "head"):
        doc.set_training(node_id, frozen=True)
    with pytest.raises(TrainingError, match="every layer with weights is frozen.*Fix: unfreeze"):
        trained(doc)


def test_frozen_and_lr_scale_round_trip_through_the_file_and_are_written_only_when_set(tmp_path):
    doc = backbone_and_head()
    doc.set_training("dense1", frozen=True)
    doc.set_training("dense2", lr_scale=0.25)
    path = save_project(Project(document=doc), tmp_path / "p.gproj")
    nodes = {n["id"]: n for n in json.loads(path.read_text())["graph"]["nodes"]}
    assert nodes["dense1"]["frozen"] is True and "lr_scale" not in nodes["dense1"]
    assert nodes["dense2"]["lr_scale"] == 0.25 and "frozen" not in nodes["dense2"]
    assert "frozen" not in nodes["head"] and "lr_scale" not in nodes["head"]
    again = load_project(path).document
    assert again.is_frozen("dense1") and not again.is_frozen("dense2") and again.lr_scale("dense2") == 0.25
    compiled = compile_graph(again)
    assert compiled.frozen_ids == ["dense1"] and compiled.lr_scales == {"dense2": 0.25}


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [("frozen", "yes", "'frozen' must be true or false"), ("lr_scale", 0, "lr_scale 0 must be a number above 0")],
)
def test_a_bad_frozen_or_lr_scale_is_one_line(key, value, needle):
    data = project_to_json(Project(document=backbone_and_head()))
    data["graph"]["nodes"][1][key] = value
    with pytest.raises(ProjectFileError) as caught:
        project_from_json(data, "p.gproj")
    assert needle in str(caught.value) and "node 'dense1'" in str(caught.value) and "\n" not in str(caught.value)


def test_set_training_checks_the_scale():
    doc = backbone_and_head()
    with pytest.raises(GraphError, match="Fix: use e.g. 0.1"):
        doc.set_training("dense1", lr_scale=-1)


@pytest.mark.gui
def test_freezing_from_the_inspector_shows_on_the_canvas_and_in_the_summary(qtbot, tmp_path):
    from _window_helpers import make_window, screenshot
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    window = make_window(qtbot, tmp_path)
    doc = backbone_and_head()
    assert window.files.open(save_project(Project(document=doc), tmp_path / "f.gproj"), ask=False)
    controller, inspector = window.controller, window.inspector
    controller.set_selection(["dense1"])
    box = inspector.frozen_box
    qtbot.waitUntil(box.isVisible)
    QTest.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    assert controller.document.is_frozen("dense1")
    assert window.canvas.scene().nodes["dense1"].frozen
    assert not inspector.lr_scale_box.isEnabled()  # a frozen node does not learn at any rate
    table = window.summary.table
    last = table.rowCount() - 1
    qtbot.waitUntil(lambda: "frozen 48" in table.item(last, 2).text())
    assert "trainable 338" in table.item(last, 2).text()  # bn1's γ, β (32) + dense2 (16·16 + 16) + head (16·2 + 2)
    assert table.item(window.summary.row_of("dense1"), 3).text().startswith("❄")
    controller.set_selection(["dense2"])
    qtbot.waitUntil(lambda: inspector.node_id == "dense2" and inspector.lr_scale_box.isEnabled())
    spin = inspector.lr_scale_box
    spin.setFocus()
    spin.selectAll()
    QTest.keyClicks(spin, "0.1")
    QTest.keyClick(spin, Qt.Key.Key_Return)
    assert controller.document.lr_scale("dense2") == pytest.approx(0.1)
    controller.set_selection(["dense1"])
    inspector.setFloating(True)
    inspector.resize(420, 720)
    inspector.scroll.verticalScrollBar().setValue(inspector.scroll.verticalScrollBar().maximum())
    screenshot(inspector, "inspector_frozen.png")
    window.canvas.set_zoom(1.0)
    window.canvas.centerOn(window.canvas.scene().nodes["dense1"])
    screenshot(window.canvas, "canvas_frozen.png")
    window.summary.setFloating(True)
    window.summary.resize(900, 300)
    screenshot(window.summary, "summary_frozen.png")
    controller.undo_stack.undo()
    assert controller.document.lr_scale("dense2") == 1.0
    controller.undo_stack.undo()
    assert not controller.document.is_frozen("dense1") and not window.canvas.scene().nodes["dense1"].frozen
