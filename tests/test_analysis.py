"""The analysis before Run (graphedit.compiler.analysis): each kind of problem found, none in the examples."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from graphkit import build, chain
from graphs import mlp

from graphedit.compiler.analysis import analyze, summary_text
from graphedit.model.project import load_project

PROJECTS = Path(__file__).resolve().parents[1] / "projects"


def found(problems, level=None):
    return [(p.level, p.node_id, p.problem) for p in problems if level is None or p.level == level]


def data(task="classification", classes=3, targets=True, named=None):
    shape = () if targets else None
    return SimpleNamespace(name="toy", task=task, num_classes=classes, target_shape=shape, inputs=named, targets=named)


def test_a_sound_classifier_has_no_problems():
    doc = mlp()
    assert analyze(doc, training={"optimizer": "adam", "lr": 0.01}, data=data(classes=2)) == []
    assert summary_text([]) == "no errors"


def test_no_loss_is_an_error_naming_the_fix():
    doc = build(
        [("x", "Input", {"shape": [2]}), ("d", "Dense", {"units": 2}), ("o", "Output", {})], chain("x", "d", "o")
    )
    problems = analyze(doc)
    (error,) = [p for p in problems if p.is_error]
    assert error.node_id is None and "no loss" in error.problem and "SoftmaxCrossEntropy" in error.fix


def test_shape_errors_come_first_in_graph_order():
    doc = build(
        [("img", "Input", {"shape": [1, 8, 8]}), ("conv", "Conv2d", {}), ("dense", "Dense", {"units": 3})],
        chain("img", "conv", "dense"),
    )
    problems = analyze(doc)
    assert problems[0].node_id == "dense" and "Flatten" in problems[0].fix
    assert summary_text(problems).startswith("2 errors")


def test_two_inputs_and_two_targets_cannot_be_fed():
    doc = mlp()
    doc.add_node("Input", node_id="input2", params={"shape": [2]})
    doc.add_node("Target", node_id="target2", params={"shape": [1], "dtype": "int64"})
    errors = found(analyze(doc, data=data()), "error")
    assert any(n == "input2" and "2 Input nodes" in text for _, n, text in errors)
    assert any(n == "target2" and "2 Target nodes" in text for _, n, text in errors)
    # a dataset with named inputs and targets feeds several (training.binding checks the names)
    named = {"input1": {}, "input2": {}}
    assert not [p for p in analyze(doc, data=data(named=named)) if "Input nodes" in p.problem]


def test_dataset_without_targets_refuses_a_target_node():
    errors = found(analyze(mlp(), data=data(task="reconstruction", targets=False)), "error")
    assert [(n, "no targets" in t) for _, n, t in errors] == [("target1", True)]


def test_targets_of_the_wrong_kind():
    reg = analyze(mlp(classes=3), data=data(task="regression"))
    assert any(p.node_id == "loss1" and "wrong kind" in p.problem and "MSE" in p.fix for p in reg)
    cls = analyze(mlp(classes=1, loss="MSE", accuracy=False, target_dtype="float32"), data=data(classes=5))
    assert any(p.node_id == "loss1" and "wrong kind" in p.problem and "SoftmaxCrossEntropy" in p.fix for p in cls)
    binary = analyze(mlp(classes=1, loss="MSE", accuracy=False, target_dtype="float32"), data=data(classes=2))
    assert not [p for p in binary if p.is_error]


def test_a_loss_no_parameter_reaches_is_an_error():
    doc = build(
        [("x", "Input", {"shape": [2]}), ("t", "Target", {"shape": [2]}), ("act", "ReLU", {}), ("mse", "MSE", {})],
        [*chain("x", "act"), "act -> mse.pred", "t -> mse.target"],
    )
    errors = found(analyze(doc), "error")
    assert [(n, "no parameter reaches" in t) for _, n, t in errors] == [("mse", True)]


def test_a_node_no_data_reaches_is_an_error_and_a_dead_branch_a_warning():
    doc = mlp()
    doc.add_node("Parameter", node_id="const", params={"shape": [4]})
    doc.add_node("ReLU", node_id="orphan")
    doc.connect("const", doc.node_type("const").output_ports()[0].name, "orphan", "x")
    doc.add_node("Dense", node_id="spare", params={"units": 3})
    doc.connect("input1", "y", "spare", "x")
    problems = analyze(doc)
    assert ("error", "orphan") in [(p.level, p.node_id) for p in problems]
    warned = {p.node_id for p in problems if not p.is_error and "dead branch" in p.problem}
    assert warned == {"const", "orphan", "spare"}


def test_softmax_before_cross_entropy_is_a_warning():
    doc = mlp()
    doc.add_node("Softmax", node_id="soft")
    edge = doc.edge_into("loss1", "pred")
    doc.disconnect(edge)
    doc.connect("out", "y", "soft", "x")
    doc.connect("soft", "y", "loss1", "pred")
    (warning,) = analyze(doc)
    assert warning.level == "warning" and warning.node_id == "soft" and "'out'" in warning.fix


@pytest.mark.parametrize(("optimizer", "lr", "word"), [("adam", 5.0, "high"), ("sgd", 1e-7, "low")])
def test_a_learning_rate_far_outside_the_usual_range_is_a_warning(optimizer, lr, word):
    (warning,) = analyze(mlp(), training={"optimizer": optimizer, "lr": lr})
    assert warning.level == "warning" and f"far too {word}" in warning.problem
    assert analyze(mlp(), training={"optimizer": optimizer, "lr": 0.01}) == []


def test_every_example_analyses_without_errors():
    for path in sorted(PROJECTS.glob("*.gproj")):
        project = load_project(path)
        problems = analyze(project.document, training=project.training)
        assert not [p for p in problems if p.is_error], (path.name, [str(p) for p in problems])
