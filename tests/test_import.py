"""Imports: hand-written torch modules and ONNX files become projects with the same parameters and outputs."""

from __future__ import annotations

import textwrap
import warnings

import numpy as np
import onnx
import pytest
import torch
from export_helpers import PROJECTS, trained_copy
from graphkit import build, chain
from onnx import TensorProto, helper

from graphedit.cli import main
from graphedit.export import export_project
from graphedit.export.onnx_export import run_onnx
from graphedit.export.weights import compile_for_export, sha256_file
from graphedit.importers import UnsupportedOpError, import_source, load_module
from graphedit.model.project import load_project, new_project, save_project

HAND_WRITTEN = '''
import torch
import torch.nn.functional as F
from torch import nn


class SkipConcat(nn.Module):
    """A small CNN with a skip connection (h + f(h)) and a concatenation."""

    input_shape = (3, 12, 12)

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.conv3 = nn.Conv2d(8, 4, 1)
        self.pool = nn.MaxPool2d(2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(0.3)
        self.fc = nn.Linear(12, 5)

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        r = h + torch.relu(self.conv2(h))
        c = self.pool(torch.cat([r, self.conv3(r)], dim=1))
        z = self.gap(c).view(c.size(0), -1)
        return self.fc(self.drop(z))


class Sequence(nn.Module):
    input_shape = (6, 4)

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 8, batch_first=True)
        self.out = nn.Linear(8, 3)

    def forward(self, x):
        y, _ = self.lstm(x)
        return F.softmax(self.out(y[:, -1]), dim=1)


class Sine(nn.Module):
    input_shape = (4,)

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return torch.sin(self.fc(x))
'''


@pytest.fixture
def hand(tmp_path):
    path = tmp_path / "hand.py"
    path.write_text(textwrap.dedent(HAND_WRITTEN))
    return path


def _params(module):
    return sum(p.numel() for p in module.parameters())


def _randomise_bn(module):
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)


def test_hand_written_module_imports_with_same_params_and_outputs(hand, tmp_path):
    torch.manual_seed(0)
    result = import_source(f"{hand}:SkipConcat", tmp_path / "skip.gproj")
    torch.manual_seed(0)
    source = load_module(f"{hand}:SkipConcat")  # the same weights as the imported instance
    assert result.imported_params == result.source_params == _params(source)
    assert result.max_abs_diff == 0.0
    project = load_project(tmp_path / "skip.gproj")
    types = {project.document.node_type(n).type_id for n in project.document.node_ids()}
    assert {"Add", "Concat", "GlobalAvgPool", "BatchNorm", "MaxPool2d", "Dropout", "Dense"} <= types
    weights = project.weights_file()
    assert weights.name == "skip.safetensors" and sha256_file(weights) == project.weights["sha256"]
    doc = project.document
    xs = {doc.position(n)[0] for n in doc.node_ids()}
    forward = [
        doc.position(e.dst)[0] > doc.position(e.src)[0] or doc.position(e.dst)[1] > doc.position(e.src)[1]
        for e in doc.edges()
    ]
    assert all(forward) and len(xs) > 3  # laid out left to right in layers (a long graph wraps into rows below)

    # the saved project reproduces the source module, and so does its ONNX export imported again
    compiled, trained = compile_for_export(project)
    x = torch.randn(4, 3, 12, 12)
    with torch.no_grad():
        want = source.eval()(x)
        assert torch.allclose(compiled.model.eval()(x), want, atol=1e-5)
    export_project(project, "onnx", tmp_path / "skip.onnx")
    again = import_source(tmp_path / "skip.onnx", tmp_path / "skip2.gproj")
    assert again.imported_params == _params(source)
    with torch.no_grad():
        assert torch.allclose(again.compiled.model(x), want, atol=1e-4)


def test_lstm_and_softmax_import(hand, tmp_path):
    result = import_source(f"{hand}:Sequence", tmp_path / "seq.gproj")
    doc = result.project.document
    lstm = next(n for n in doc.node_ids() if doc.node_type(n).type_id == "LSTM")
    assert doc.params(lstm)["return"] == "last" and result.max_abs_diff == 0.0
    assert result.imported_params == result.source_params


@pytest.mark.parametrize("source", PROJECTS, ids=lambda p: p.stem)
@pytest.mark.slow
def test_exported_onnx_imports_back_and_exports_the_same(source, tmp_path):
    project = trained_copy(source, tmp_path)
    compiled, _ = compile_for_export(project)
    export_project(project, "onnx", tmp_path / "first.onnx")
    result = import_source(tmp_path / "first.onnx", tmp_path / "imported.gproj")
    expected = sum(p.numel() for p in compiled.model.parameters())
    types = {project.document.node_type(n).type_id for n in project.document.node_ids()}
    if "Reparameterize" in types:  # it returns μ in evaluation, so the log σ² head is not in the ONNX graph
        expected -= sum(p.numel() for p in compiled.root.logvar.parameters())
    assert result.imported_params == result.source_params == expected
    specs = [compiled.input_specs[n] for n in compiled.input_ids]
    inputs = [torch.randint(0, 2, (5, *s)) if d == "int64" else torch.randn(5, *s) for s, d in specs]  # token ids
    with torch.no_grad():
        want = compiled.model.eval()(*inputs)
        got = result.compiled.model(*inputs)
    assert float((want - got).abs().max()) <= 1e-4
    export_project(load_project(tmp_path / "imported.gproj"), "onnx", tmp_path / "second.onnx")
    first = run_onnx(tmp_path / "first.onnx", dict(zip(compiled.input_ids, inputs)))
    second = run_onnx(tmp_path / "second.onnx", dict(zip(result.compiled.input_ids, inputs)))  # two: the Siamese
    assert np.abs(first[0] - second[0]).max() <= 1e-5


def test_python_export_imports_back(tmp_path):
    project = trained_copy(PROJECTS[0], tmp_path)
    export_project(project, "python", tmp_path / "cnn_model.py")
    result = import_source(f"{tmp_path / 'cnn_model.py'}:load_model", tmp_path / "cnn.gproj")
    compiled, _ = compile_for_export(project)
    assert result.imported_params == sum(p.numel() for p in compiled.model.parameters())
    x = torch.randn(2, *compiled.input_specs[compiled.input_ids[0]][0])
    with torch.no_grad():
        assert torch.equal(result.compiled.model(x), compiled.model.eval()(x))


def test_unsupported_ops_are_named(hand, tmp_path):
    with pytest.raises(UnsupportedOpError, match="torch.sin"):
        import_source(f"{hand}:Sine", tmp_path / "sine.gproj")
    graph = helper.make_graph(
        [helper.make_node("Sin", ["x"], ["y"], name="sin1")],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "sin.onnx")
    with pytest.raises(UnsupportedOpError, match="ONNX Sin"):
        import_source(tmp_path / "sin.onnx", tmp_path / "sin.gproj")
    assert not (tmp_path / "sin.gproj").exists()


def test_import_command(hand, tmp_path, capsys):
    assert main(["import", f"{hand}:SkipConcat", "-o", str(tmp_path / "a.gproj"), "--input-shape", "3,16,16"]) == 0
    assert "parameters: 925 (source 925)" in capsys.readouterr().out
    assert load_project(tmp_path / "a.gproj").document.params("x")["shape"] == (3, 16, 16)
    assert main(["import", f"{hand}:Sine", "-o", str(tmp_path / "b.gproj")]) == 1
    assert "torch.sin" in capsys.readouterr().err


def test_every_example_project_is_round_tripped():
    assert len(PROJECTS) >= 20 and {p.stem for p in PROJECTS} >= {"03_perceptron_nand", "14_char_model"}


# One tiny graph per ONNX pattern the importer folds back into a node: (node, its params, input shape)
PATTERN_NODES = {
    "step": ("Step", {}, [6]),
    "steep_sigmoid": ("Sigmoid", {"beta": 2.5}, [6]),
    "gentle_sigmoid": ("Sigmoid", {"beta": 0.3}, [6]),
    "maxout": ("Maxout", {"units": 3, "pieces": 4}, [6]),
    "rnn_last": ("RNN", {"units": 5, "layers": 1, "return": "last"}, [7, 3]),
    "rnn_2_layers_sequence": ("RNN", {"units": 5, "layers": 2, "return": "sequence"}, [7, 3]),
    "lstm_last": ("LSTM", {"units": 4, "layers": 1, "return": "last"}, [7, 3]),
    "lstm_2_layers_sequence": ("LSTM", {"units": 4, "layers": 2, "return": "sequence"}, [7, 3]),
    "gru_sequence": ("GRU", {"units": 6, "layers": 1, "return": "sequence"}, [7, 3]),
    "gru_3_layers_last": ("GRU", {"units": 6, "layers": 3, "return": "last"}, [7, 3]),
}


def _pattern_project(name, tmp_path):
    """Input [→ Dense] → the node → Output, with random 'trained' weights, saved under ``tmp_path``."""
    type_id, params, shape = PATTERN_NODES[name]
    project = new_project()
    flat = len(shape) == 1  # a Dense before a flat node, so the pattern starts inside the graph
    path = ["x", "pre", "node", "y"] if flat else ["x", "node", "y"]
    nodes = {"x": ("Input", {"shape": shape}), "pre": ("Dense", {"units": 3}), "node": (type_id, params)}
    nodes["y"] = ("Output", {"name": "y"})
    project.document = build([(n, *nodes[n]) for n in path], chain(*path))
    (tmp_path / "src").mkdir()
    save_project(project, tmp_path / "src" / f"{name}.gproj")
    return trained_copy(tmp_path / "src" / f"{name}.gproj", tmp_path)


@pytest.mark.parametrize("name", PATTERN_NODES)
def test_onnx_patterns_import_back_as_their_node(name, tmp_path):
    project = _pattern_project(name, tmp_path)
    compiled, _ = compile_for_export(project)
    export_project(project, "onnx", tmp_path / "first.onnx")
    result = import_source(tmp_path / "first.onnx", tmp_path / "imported.gproj")
    type_id, params, shape = PATTERN_NODES[name]
    doc = result.project.document
    found = [n for n in doc.node_ids() if doc.node_type(n).type_id == type_id]
    assert len(found) == 1 and {k: doc.params(found[0])[k] for k in params} == params
    expected = sum(p.numel() for p in compiled.model.parameters())
    assert result.imported_params == result.source_params == expected
    x = torch.randn(5, *shape)
    with torch.no_grad():
        assert float((compiled.model.eval()(x) - result.compiled.model(x)).abs().max()) <= 1e-5
    export_project(load_project(tmp_path / "imported.gproj"), "onnx", tmp_path / "second.onnx")
    first, second = (run_onnx(tmp_path / f, {"x": x}) for f in ("first.onnx", "second.onnx"))
    assert np.abs(first[0] - second[0]).max() <= 1e-5


def _torch_onnx(tmp_path, module, shape=(7, 3)):
    """``module`` as torch's exporter writes it (the TorchScript one, as GraphEdit's export uses)."""
    path = tmp_path / "torch.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), torch.randn(2, *shape), str(path), dynamo=False, opset_version=20)
    return path


class _Last(torch.nn.Module):
    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        return self.rnn(x)[0][:, -1]


class _LearnedStart(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.RNN(3, 4, batch_first=True)
        self.h0 = torch.nn.Parameter(torch.ones(1, 1, 4))

    def forward(self, x):
        return self.rnn(x, self.h0.expand(1, x.shape[0], 4).contiguous())[0]


@pytest.mark.parametrize(
    ("module", "match"),
    [
        (_Last(torch.nn.LSTM(3, 4, batch_first=False)), "ONNX LSTM.*only batch-first"),
        (_LearnedStart(), "ONNX RNN.*initial_h must be zero"),
    ],
    ids=["time_first", "learned_initial_state"],
)
def test_recurrent_layers_graphedit_cannot_express_are_named(module, match, tmp_path):
    with pytest.raises(UnsupportedOpError, match=match):
        import_source(_torch_onnx(tmp_path, module), tmp_path / "rec.gproj")


def test_a_bidirectional_gru_read_at_its_last_step_imports_exactly(tmp_path):
    """torch's ``gru(x)[0][:, -1]``: the bidirectional GRU folds into one node, the last step is a Slice."""
    torch.manual_seed(0)
    module = _Last(torch.nn.GRU(3, 4, batch_first=True, bidirectional=True)).eval()
    result = import_source(_torch_onnx(tmp_path, module), tmp_path / "rec.gproj")
    doc = result.project.document
    gru = next(n for n in doc.node_ids() if doc.node_type(n).type_id == "GRU")
    assert doc.params(gru)["bidirectional"] is True
    x = torch.randn(2, 7, 3)
    with torch.no_grad():
        assert float((result.compiled.model(x) - module(x)).abs().max()) <= 1e-5


def test_gru_that_resets_before_the_linear_map_is_refused(tmp_path):
    path = _torch_onnx(tmp_path, _Last(torch.nn.GRU(3, 4, batch_first=True)))
    model = onnx.load(str(path))
    gru = next(n for n in model.graph.node if n.op_type == "GRU")
    next(a for a in gru.attribute if a.name == "linear_before_reset").i = 0
    onnx.save(model, str(path))
    with pytest.raises(UnsupportedOpError, match="ONNX GRU.*linear_before_reset=0"):
        import_source(path, tmp_path / "rec.gproj")


def test_the_hand_written_lstm_imports_from_its_onnx_export(hand, tmp_path):
    source = load_module(f"{hand}:Sequence").eval()
    result = import_source(_torch_onnx(tmp_path, source, (6, 4)), tmp_path / "seq.gproj")
    assert result.imported_params == result.source_params == _params(source)
    x = torch.randn(3, 6, 4)
    with torch.no_grad():
        assert torch.allclose(result.compiled.model(x), source(x), atol=1e-5)
