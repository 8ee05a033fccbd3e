"""Exports: all four formats for every example project, checked against the torch model."""

from __future__ import annotations

import json

import onnx
import pytest
import torch
from export_helpers import PROJECTS, child_inputs, run_without_graphedit, trained_copy
from graphkit import build, chain
from safetensors import safe_open

from graphedit.cli import main
from graphedit.commands.export import python_file_name
from graphedit.errors import WeightsError
from graphedit.export import UntrainedError, export_project
from graphedit.export.onnx_export import OPSET, run_onnx
from graphedit.export.weights import compile_for_export
from graphedit.model.project import load_project, new_project


@pytest.mark.slow
@pytest.mark.parametrize("source", PROJECTS, ids=lambda p: p.stem)
def test_every_project_exports_in_all_four_formats(source, tmp_path):
    project = trained_copy(source, tmp_path)
    compiled, trained = compile_for_export(project)
    assert trained
    model = compiled.model.eval()
    specs = [compiled.input_specs[n] for n in compiled.input_ids]
    out = tmp_path / "out"
    out.mkdir()
    files = {
        "torchscript": out / "model.pt",
        "onnx": out / "model.onnx",
        "safetensors": out / "model.safetensors",
        "python": out / python_file_name(source.stem),
    }
    for fmt, path in files.items():
        report = export_project(project, fmt, path)
        assert report["trained"] and path.exists()

    inputs = child_inputs(specs)
    with torch.no_grad():
        want = model(*inputs)
    want = list(want) if isinstance(want, tuple) else [want]

    # ONNX: valid, opset ≥ 17, dynamic batch, ONNX Runtime within 1e-4 of torch
    proto = onnx.load(str(files["onnx"]))
    onnx.checker.check_model(proto)
    assert proto.opset_import[0].version == OPSET >= 17
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    got = run_onnx(files["onnx"], dict(zip(compiled.input_ids, inputs)))
    for a, b in zip(want, got):
        assert float((a - torch.from_numpy(b)).abs().max()) <= 1e-4

    # safetensors: the inference state dict plus the graph as JSON
    with safe_open(str(files["safetensors"]), "pt") as f:
        keys = set(f.keys())
        graph = json.loads(f.metadata()["graph"])
    assert keys == set(model.state_dict())
    assert graph["graph"] == project.document.to_json()
    assert json.loads((out / "model.graph.json").read_text())["outputs"] == graph["outputs"]

    # TorchScript and the .py file run where GraphEdit cannot be imported, with the same outputs
    results = run_without_graphedit(
        specs, [("torchscript", str(files["torchscript"])), ("python", str(files["python"]))], tmp_path
    )
    for a, b in zip(want, results["python"]):
        assert torch.equal(a, torch.tensor(b, dtype=a.dtype))
    for a, b in zip(want, results["torchscript"]):
        assert torch.allclose(a, torch.tensor(b, dtype=a.dtype), atol=1e-6)


def _catalog_doc():
    """Every kind of layer a Python export has to write or inline, plus training-only parts."""
    return build(
        [
            ("pixels", "Input", {"shape": [1, 8, 8]}),
            ("noise", "GaussianNoise", {"std": 0.3}),
            ("conv", "Conv2d", {"filters": 4, "kernel": 3, "padding": "same"}),
            ("bn", "BatchNorm", {}),
            ("step", "Step", {}),
            ("pool", "AvgPool2d", {}),
            ("gap", "GlobalAvgPool", {}),
            ("flat", "Flatten", {}),
            ("cat", "Concat", {"inputs": 2}),
            ("drop", "Dropout", {"p": 0.5}),
            ("maxout", "Maxout", {"units": 6, "pieces": 3}),
            ("sig", "Sigmoid", {"beta": 2.0}),
            ("add", "Add", {"inputs": 3}),
            ("seq", "Reshape", {"shape": [3, 2]}),
            ("lstm", "LSTM", {"units": 5}),
            ("ln", "LayerNorm", {}),
            ("out", "Output", {"name": "scores"}),
            ("label", "Target", {"shape": [5], "dtype": "float32"}),
            ("mse", "MSE", {}),
            ("l2", "L2WeightPenalty", {}),
        ],
        [
            *chain("pixels", "noise", "conv", "bn", "step", "pool"),
            "pool -> gap",
            "pool -> flat",
            "gap -> cat.in1",
            "flat -> cat.in2",
            *chain("cat", "drop", "maxout", "sig"),
            "sig -> add.in1",
            "maxout -> add.in2",
            "sig -> add.in3",
            *chain("add", "seq", "lstm", "ln", "out"),
            "ln -> mse.pred",
            "label -> mse.target",
        ],
    )


def test_catalog_layers_export_and_training_parts_are_left_out(tmp_path):
    project = new_project()
    project.document = _catalog_doc()
    project.path = tmp_path / "catalog.gproj"
    for fmt, name in [("python", "catalog_model.py"), ("onnx", "c.onnx"), ("torchscript", "c.pt")]:
        report = export_project(project, fmt, tmp_path / name, initial_weights=True)
        assert report["max_abs_diff"] <= 1e-4 and report["trained"] is False
    source = (tmp_path / "catalog_model.py").read_text()
    for gone in (
        "self.noise",
        "self.drop",
        "mse",
        "l2_penalty",
        "label",
        "class GaussianNoise",
        "nn.Dropout",
        "graphedit.",
    ):
        assert gone not in source
    for inlined in ("class Maxout(nn.Module)", "class Recurrent(nn.Module)", "def step(", "def global_avg_pool("):
        assert inlined in source
    assert "self.bn = nn.BatchNorm2d(4, eps=1e-05, momentum=0.1" in source
    assert "scores" in source


def test_untrained_project_is_refused_unless_initial_weights_are_asked_for(tmp_path, capsys):
    source = PROJECTS[0]
    with pytest.raises(UntrainedError, match="initial-weights"):
        export_project(load_project(source), "onnx", tmp_path / "x")
    assert main(["export", str(source), "--format", "onnx", "-o", str(tmp_path / "m.onnx")]) == 1
    assert "has not been trained" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()
    args = ["export", str(source), "--format", "onnx", "-o", str(tmp_path / "m.onnx"), "--initial-weights"]
    assert main(args) == 0
    assert "INITIAL (untrained) weights" in capsys.readouterr().out


def test_changed_weights_file_is_refused(tmp_path):
    project = trained_copy(PROJECTS[-1], tmp_path)
    project.weights_file().write_bytes(project.weights_file().read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(WeightsError, match="SHA-256"):
        export_project(project, "safetensors", tmp_path / "w.safetensors")


def test_python_export_is_bit_identical_for_recurrent_layers(tmp_path):
    # a GRU takes another kernel when its weights do not require grad; the export must not change that
    project = new_project()
    project.document = build(
        [("seq", "Input", {"shape": [5, 3]}), ("gru", "GRU", {"units": 4}), ("rnn", "RNN", {"units": 2})],
        ["seq -> gru", "seq -> rnn"],
    )
    report = export_project(project, "python", tmp_path / "rec_model.py", initial_weights=True)
    assert report["max_abs_diff"] == 0.0


def test_parity_is_measured_against_the_outputs_scale():
    from graphedit.export.common import scaled_diff

    tens = [torch.tensor([30.0, -2.0])]  # float32 rounding grows with the values
    assert scaled_diff(tens, [torch.tensor([30.0003, -2.0])]) == pytest.approx(1e-5, rel=1e-2)
    halves = [torch.tensor([0.5])]  # below 1 the difference counts as it is
    assert scaled_diff(halves, [torch.tensor([0.5003])]) == pytest.approx(3e-4, rel=1e-2)
    assert scaled_diff(tens, [torch.tensor([30.0, float("nan")])]) == float("inf")
