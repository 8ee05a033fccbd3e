"""Per-node memory (check, --json, the Summary dock) and the pre-flight refusal of a model that cannot fit."""

from __future__ import annotations

import json

import graphs
import pytest
import torch
from graphkit import build, chain

from graphedit.cli import main
from graphedit.compiler.report import format_table, summarize
from graphedit.errors import TrainingError
from graphedit.model.project import Project, project_to_json, save_project
from graphedit.training import memory
from graphedit.training.events import FailedEvent
from graphedit.training.session import run_project
from graphedit.training.settings import TrainSettings

F32 = 4


def conv_dense():
    return build(
        [
            ("img", "Input", {"shape": [3, 8, 8]}),
            ("conv1", "Conv2d", {"filters": 4, "kernel": 3, "padding": 0}),
            ("flat", "Flatten", {}),
            ("dense1", "Dense", {"units": 5}),
        ],
        chain("img", "conv1", "flat", "dense1"),
    )


def test_memory_figures_equal_the_hand_calculation():
    rows = {r.node_id: r for r in summarize(conv_dense())}
    conv_params = 4 * 3 * 3 * 3 + 4  # filters × in-channels × kernel² + biases
    dense_params = 5 * (4 * 6 * 6) + 5  # units × flattened [4, 6, 6] + biases
    assert rows["conv1"].param_bytes == conv_params * F32
    assert rows["dense1"].param_bytes == dense_params * F32
    assert rows["img"].activation_bytes == 3 * 8 * 8 * F32
    assert rows["conv1"].activation_bytes == 4 * 6 * 6 * F32  # 8 − 3 + 1 = 6
    assert rows["flat"].activation_bytes == 0  # a view of conv1's output
    assert rows["dense1"].activation_bytes == 5 * F32
    table = format_table(list(rows.values()))
    assert "param memory" in table and "activations/example" in table
    total = table.splitlines()[-1]
    assert f"{conv_params + dense_params:,}" in total
    assert f"{(conv_params + dense_params) * F32 / 1024:.2f} KiB" in total


def test_batchnorm_statistics_count_as_parameter_memory():
    doc = build([("x", "Input", {"shape": [6]}), ("bn", "BatchNorm", {})], ["x -> bn"])
    row = next(r for r in summarize(doc) if r.node_id == "bn")
    assert row.params == 2 * 6
    assert row.param_bytes == 2 * 6 * F32 + 2 * 6 * F32 + 8  # weight, bias; running mean, var; int64 count


def test_check_json_has_memory_per_node_and_totals(tmp_path, capsys):
    path = save_project(Project(document=conv_dense()), tmp_path / "m.gproj")
    assert main(["check", str(path), "--json"]) == 0  # it computes; with no loss it cannot train, and says so
    payload = json.loads(capsys.readouterr().out)
    assert not payload["trainable"] and "no loss" in payload["training_errors"][0]["message"]
    assert payload["errors"] == []  # no shape error: the graph computes
    nodes = {n["node"]: n for n in payload["nodes"]}
    assert nodes["dense1"]["param_bytes"] == (5 * 144 + 5) * F32
    assert nodes["conv1"]["activation_bytes_per_example"] == 4 * 6 * 6 * F32
    assert payload["total_param_bytes"] == sum(n["param_bytes"] for n in payload["nodes"])
    assert payload["total_activation_bytes_per_example"] == sum(
        n["activation_bytes_per_example"] for n in payload["nodes"]
    )


@pytest.mark.parametrize(("optimizer", "momentum", "copies"), [("adam", 0.9, 2), ("sgd", 0.9, 1), ("sgd", 0.0, 0)])
def test_training_memory_counts_gradients_and_optimizer_state(optimizer, momentum, copies):
    from graphedit.compiler import ShapeInference

    settings = TrainSettings(optimizer=optimizer, momentum=momentum)
    per_node = memory.training_bytes(ShapeInference(conv_dense(), observe=False), settings)
    assert per_node == {
        "conv1": 112 * F32 * (2 + copies),  # weights, gradients, state
        "dense1": 725 * F32 * (2 + copies),
    }


def test_available_memory_is_a_positive_figure_on_the_cpu():
    free = memory.available_bytes(torch.device("cpu"))
    assert free is None or free > 0


def wide_project() -> dict:
    doc = graphs.mlp(in_shape=(2,), hidden=(4096,), classes=2)
    training = {"epochs": 1, "batch_size": 16, "device": "cpu", "seed": 0, "optimizer": "adam"}
    return project_to_json(Project(document=doc, dataset={"name": "circle", "options": {"n": 64}}, training=training))


def test_training_refuses_a_model_that_cannot_fit_with_the_figure_and_a_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda device: 64 * 1024)  # 64 KiB free
    events = []
    with pytest.raises(TrainingError) as caught:
        run_project(wide_project(), None, {}, [events.append], run_dir=tmp_path / "run", probes=False)
    message = str(caught.value)
    assert "64.0 KiB free" in message and "adam state (2 × the weights)" in message
    assert "Fix: reduce units of dense1 (" in message  # 2 → 4096 (12,288 weights) outweighs 4096 → 2 (8,194)
    failed = [e for e in events if isinstance(e, FailedEvent)]
    assert len(failed) == 1 and "KiB free" in failed[0].message


def test_training_starts_when_the_model_fits(tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda device: 1024**3)
    summary = run_project(wide_project(), None, {}, [], run_dir=tmp_path / "run", probes=False)
    assert summary["status"] == "finished"


@pytest.mark.gui
def test_summary_dock_shows_memory_per_node_and_the_totals(qtbot, tmp_path):
    from _window_helpers import make_window, screenshot

    from graphedit.compiler.report import byte_text

    window = make_window(qtbot, tmp_path)
    controller = window.controller
    assert window.files.open(save_project(Project(document=conv_dense()), tmp_path / "m.gproj"), ask=False)
    table = window.summary.table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers[4:6] == ["Param memory", "Activations/example"]
    dense = window.summary.row_of("dense1")
    assert table.item(dense, 4).text() == byte_text((5 * 144 + 5) * F32)
    assert table.item(dense, 5).text() == byte_text(5 * F32)
    controller.set_param("dense1", "units", 50, merge=False)  # the dock follows an edit
    qtbot.waitUntil(lambda: table.item(window.summary.row_of("dense1"), 4).text() == byte_text((50 * 144 + 50) * F32))
    last = table.rowCount() - 1
    assert table.item(last, 4).text() == byte_text((112 + 50 * 144 + 50) * F32)
    window.summary.setFloating(True)
    window.summary.resize(900, 260)
    screenshot(window.summary, "summary_memory.png")
