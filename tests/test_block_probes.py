"""Probes inside blocks (issue 13): every copy of a repeat has its activations and its gradient norms."""

from __future__ import annotations

import copy

import pytest
import torch
from block_nets import layer_project, siamese_data

from graphedit.compiler.compile import compile_graph
from graphedit.model.project import project_from_json
from graphedit.training.binding import fit_inputs_to_dataset
from graphedit.training.datasets import load_dataset
from graphedit.training.events import ProbeEvent
from graphedit.training.probes import block_parameters
from graphedit.training.trainer import Trainer

CIRCLE = {"name": "circle", "options": {"n": 100, "noise": 0.05}}


@pytest.fixture()
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def probed(data: dict, steps_probe: int = 3) -> tuple[Trainer, list[dict]]:
    doc = project_from_json(copy.deepcopy(data), "test.gproj").document
    dataset = load_dataset(CIRCLE)
    fit_inputs_to_dataset(doc, dataset.info)
    compiled = compile_graph(doc, seed=0)
    events: list = []
    settings = {"device": "cpu", "seed": 0, "epochs": 1, "probe_every": steps_probe, "lr": 0.03}
    trainer = Trainer(compiled, dataset, settings, [events.append], probes=True)
    trainer.fit()
    return trainer, [e.payload for e in events if isinstance(e, ProbeEvent) and e.payload["kind"] == "probe"]


def test_every_copy_of_a_repeat_has_activations_and_gradient_norms(one_thread):
    trainer, probes = probed(layer_project())
    last = probes[-1]
    assert {"hidden/dense", "hidden/relu", "hidden[1]/dense", "hidden[1]/relu"} <= set(last["activations"])
    inner = last["inner_gradients"]
    assert set(inner) == {"hidden/dense", "hidden[1]/dense"}  # the inner nodes with weights, per copy
    assert "hidden" in last["gradients"] and not any("/" in k for k in last["gradients"])  # the layer views' list
    # the norms are those of each copy's own weights (the last probe reads the last step's gradients)
    second = trainer.root.hidden[1].dense
    expected = torch.sqrt(sum(p.grad.pow(2).sum() for p in second.parameters())).item()
    weights = torch.sqrt(sum(p.detach().pow(2).sum() for p in second.parameters())).item()
    assert inner["hidden[1]/dense"]["grad_norm"] == pytest.approx(expected, rel=1e-5)
    assert inner["hidden[1]/dense"]["weight_norm"] == pytest.approx(weights, rel=1e-5)
    assert inner["hidden/dense"]["weight_norm"] != pytest.approx(weights, rel=1e-3)
    # the block node's own norm covers both copies
    total = trainer.root.hidden.parameters()
    assert last["gradients"]["hidden"]["grad_norm"] == pytest.approx(
        torch.sqrt(sum(p.grad.pow(2).sum() for p in total)).item(), rel=1e-5
    )


def test_a_block_sharing_another_blocks_weights_names_them_under_its_own_path():
    data = siamese_data(shared=True)
    doc = project_from_json(copy.deepcopy(data), "test.gproj").document
    compiled = compile_graph(doc, seed=0)
    params = block_parameters(compiled)
    a_keys = sorted(k for k in params if k.startswith("tower_a/"))
    assert a_keys and all(params[k] == params[k.replace("tower_a/", "tower_b/")] for k in a_keys)
    assert params["tower_b"] == list(compiled.root.tower_a.parameters())  # its wires are coloured at the top too


def test_outputs_of_one_size_are_summarised_together_as_each_alone():
    from graphedit.training.probe_stats import BINS
    from graphedit.training.probes import Prober

    gen = torch.Generator().manual_seed(0)
    taps = {f"b[{i}]/relu": torch.randn(8, 16, generator=gen).relu() for i in range(5)}
    taps["big"] = torch.randn(4, 200, 100, generator=gen)
    taps["flat"] = torch.zeros(8, 16)
    prober = Prober.__new__(Prober)
    prober.skip = set()
    stats = prober._activations(taps)
    assert list(stats) == list(taps)  # in the taps' order
    for name, value in taps.items():
        got, v = stats[name], value.flatten()
        assert got["min"] == pytest.approx(v.min().item()) and got["max"] == pytest.approx(max(v.max().item(), 1e-6))
        assert got["mean"] == pytest.approx(v.mean().item(), abs=1e-6)
        assert got["std"] == pytest.approx(v.std(correction=0).item(), abs=1e-6)
        assert got["zeros"] == pytest.approx((v == 0).float().mean().item())
        assert got["hist"].shape == (BINS,) and got["hist"].sum() == pytest.approx(v.numel())
        expected = torch.histc(v, BINS, got["min"], got["max"]).numpy() if name != "big" else got["hist"]
        assert got["hist"] == pytest.approx(expected, abs=1.0)
