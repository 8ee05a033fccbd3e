"""A module that ``forward`` calls more than once imports as one block node per call sharing its weights
(issue 13, item 5): a Siamese encoder keeps its state-dict keys and its outputs."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from graphedit.cli import main
from graphedit.compiler import compile_graph
from graphedit.export import export_project
from graphedit.importers import import_module
from graphedit.model.project import load_project


class Encoder(nn.Module):
    def __init__(self, features: int = 6, width: int = 8) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(features, width), nn.ReLU(), nn.Linear(width, width))
        self.norm = nn.LayerNorm(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(torch.relu(self.body(x)))


class Siamese(nn.Module):
    """``self.encoder(a)``, ``self.encoder(b)``: one encoder, its distance to a score."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = Encoder()
        self.head = nn.Linear(8, 1)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(a) - self.encoder(b))


class TwoPairs(nn.Module):
    """Two encoders of one class, each called twice, and a third called once: three sets of weights."""

    def __init__(self) -> None:
        super().__init__()
        self.left, self.right, self.single = Encoder(), Encoder(), Encoder()
        self.head = nn.Linear(8, 1)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        x = self.left(a) - self.left(b)
        y = self.right(a) * self.right(b)
        return self.head(x + y + self.single(a))


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _pair(seed: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(4, 6, generator=gen), torch.randn(4, 6, generator=gen)


def _reloaded(out, model) -> object:
    """The saved project compiled afresh: it takes the module's state dict by its own keys."""
    compiled = compile_graph(load_project(out).document, seed=0)
    assert set(compiled.root.state_dict()) == set(model.state_dict())
    compiled.root.load_state_dict(model.state_dict(), strict=True)
    return compiled.model.eval()


def test_a_siamese_encoder_imports_as_two_block_nodes_sharing_one_definitions_weights(tmp_path, capsys):
    torch.manual_seed(0)
    model, out = Siamese().eval(), tmp_path / "siamese.gproj"
    result = import_module(model, out, [(6,), (6,)])
    assert result.notes == [] and result.max_abs_diff <= 1e-5
    doc = result.project.document
    calls = [n for n in doc.node_ids() if doc.node_type(n).block is not None]
    assert calls == ["encoder", "encoder_1"]
    assert {doc.node_type(n).type_id for n in calls} == {"Encoder"} and all(doc.params(n)["shared"] for n in calls)
    assert set(result.compiled.root.state_dict()) == set(model.state_dict())  # encoder.body.0.weight, once
    assert result.imported_params == result.source_params == sum(p.numel() for p in model.parameters())
    a, b = _pair()
    with torch.no_grad():
        torch.testing.assert_close(_reloaded(out, model)(a, b), model(a, b), rtol=1e-5, atol=1e-5)
    targets = [n.target for n in result.compiled.model.graph.nodes if n.op == "call_module"]
    assert targets.count("encoder") == 2 and "encoder_1" not in result.compiled.root._modules  # one module, twice
    main(["check", str(out), "--json"])  # every shape found (two inputs: no dataset fits them, which is fine)
    assert not [row for row in json.loads(capsys.readouterr().out)["nodes"] if row.get("error")]
    exported = export_project(load_project(out), "safetensors", tmp_path / "siamese.safetensors", True)
    assert exported["trained"] and exported["tensors"] == len(model.state_dict())  # the tied weights once


def test_two_modules_each_called_twice_keep_their_own_weights(tmp_path):
    torch.manual_seed(1)
    model, out = TwoPairs().eval(), tmp_path / "pairs.gproj"
    result = import_module(model, out, [(6,), (6,)])
    assert result.max_abs_diff <= 1e-5
    doc = result.project.document
    kinds = {n: doc.node_type(n).type_id for n in doc.node_ids() if doc.node_type(n).block is not None}
    assert set(kinds) == {"left", "left_1", "right", "right_1", "single"}
    assert kinds["left"] == kinds["left_1"] != kinds["right"] == kinds["right_1"]  # one shared group per definition
    assert not doc.params("single")["shared"] and all(doc.params(n)["shared"] for n in kinds if n != "single")
    a, b = _pair(6)
    with torch.no_grad():
        torch.testing.assert_close(_reloaded(out, model)(a, b), model(a, b), rtol=1e-5, atol=1e-5)


def test_the_flat_import_of_a_module_called_twice_stays_available(tmp_path):
    torch.manual_seed(2)
    model = Siamese().eval()
    result = import_module(model, tmp_path / "flat.gproj", [(6,), (6,)], flat=True)
    doc = result.project.document
    assert not doc.registry.definitions and result.max_abs_diff <= 1e-5
    assert result.imported_params > result.source_params  # flat: each call has its own copy, and the note says so
    assert result.notes == [
        f"encoder.body.0, encoder.body.2, encoder.norm called more than once: imported with a copy of the weights "
        f"per call ({result.imported_params - result.source_params:,} parameters more), which train apart"
    ]


class TwiceLinear(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(6, 6)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.fc(a)))


def test_a_layer_called_twice_is_copied_with_a_note(tmp_path):
    torch.manual_seed(3)
    model = TwiceLinear().eval()
    result = import_module(model, tmp_path / "twice.gproj", [(6,)])
    assert result.max_abs_diff <= 1e-5 and len(result.notes) == 1
    assert result.notes[0].startswith("fc called more than once") and "42 parameters more" in result.notes[0]
