"""Frozen nodes inside a block definition do not train, in every copy and with shared weights; an inner node's
learning-rate multiplier applies in every copy, times the block node's (issue 13)."""

from __future__ import annotations

import pytest
import torch
from block_nets import chain, node, wire

from graphedit.compiler import compile_graph
from graphedit.model.migrations import FORMAT, VERSION
from graphedit.model.project import project_from_json
from graphedit.training.binding import fit_inputs_to_dataset
from graphedit.training.datasets import load_dataset
from graphedit.training.trainer import Trainer

SPEC = {"name": "circle", "options": {"n": 128, "noise": 0.1}}
SETTINGS = {"epochs": 2, "batch_size": 32, "device": "cpu", "seed": 0, "lr": 0.01, "optimizer": "adam"}


def project(shared: bool, nested: bool = False) -> dict:
    """points → lift → hidden (Pair ×2) → head → loss; Pair is x → stiff (frozen) → bn (frozen) → relu → loose → y.

    With ``nested``, Pair holds an Inner block (x → core (frozen) → y) after ``loose``.
    """
    core = {**node("core", "Dense", units=8), "frozen": True}
    inner = {
        "name": "Inner",
        "params": [],
        "graph": {
            "nodes": [node("x", "BlockInput"), core, node("y", "BlockOutput")],
            "edges": chain("x", "core", "y"),
        },
    }
    pair_nodes = [
        node("x", "BlockInput"),
        {**node("stiff", "Dense", units=8), "frozen": True},
        {**node("bn", "BatchNorm"), "frozen": True},
        node("relu", "ReLU"),
        node("loose", "Dense", units=8),
    ]
    ids = ["x", "stiff", "bn", "relu", "loose"]
    if nested:
        pair_nodes.append(node("deep", "Inner"))
        ids.append("deep")
    pair = {
        "name": "Pair",
        "params": [],
        "graph": {"nodes": [*pair_nodes, node("y", "BlockOutput")], "edges": chain(*ids, "y")},
    }
    nodes = [
        node("points", "Input", shape=[2]),
        node("lift", "Dense", units=8),  # shared copies need equal input and output shapes
        node("hidden", "Pair", repeat=2, shared=shared),
        node("head", "Dense", units=2),
        node("label", "Target", shape=[1], dtype="int64"),
        node("ce", "SoftmaxCrossEntropy"),
    ]
    edges = chain("points", "lift", "hidden", "head") + [wire("head", "ce", "pred"), wire("label", "ce", "target")]
    blocks = [inner, pair] if nested else [pair]
    return {"format": FORMAT, "version": VERSION, "blocks": blocks, "graph": {"nodes": nodes, "edges": edges}}


def trained(data: dict):
    doc = project_from_json(data, "test").document
    dataset = load_dataset(SPEC)
    fit_inputs_to_dataset(doc, dataset.info)
    compiled = compile_graph(doc, seed=0)
    before = {k: v.detach().clone() for k, v in compiled.root.state_dict().items()}
    Trainer(compiled, dataset, SETTINGS, probes=False).fit()
    return compiled, before, compiled.root.state_dict()


@pytest.mark.parametrize("shared", [False, True])
def test_a_frozen_inner_node_keeps_its_weights_in_every_copy(shared):
    compiled, before, after = trained(project(shared))
    copies = ["hidden.0"] if shared else ["hidden.0", "hidden.1"]
    assert compiled.frozen_ids == [f"{c}.{n}" for c in copies for n in ("stiff", "bn")]
    assert ("hidden.1.stiff.weight" in before) is not shared  # shared: one module, one set of keys
    for key in before:
        if ".stiff." in key or ".bn." in key:  # weights and running statistics, bit for bit
            assert torch.equal(before[key], after[key]), key
    for copy in copies:
        assert not torch.equal(before[f"{copy}.loose.weight"], after[f"{copy}.loose.weight"])
    assert not torch.equal(before["head.weight"], after["head.weight"])


def test_a_frozen_node_of_a_nested_block_keeps_its_weights():
    compiled, before, after = trained(project(shared=False, nested=True))
    assert "hidden.1.deep.core" in compiled.frozen_ids
    for copy in ("hidden.0", "hidden.1"):
        assert torch.equal(before[f"{copy}.deep.core.weight"], after[f"{copy}.deep.core.weight"])
        assert not torch.equal(before[f"{copy}.loose.weight"], after[f"{copy}.loose.weight"])


def test_an_inner_learning_rate_multiplies_the_block_nodes():
    data = project(shared=False)
    data["blocks"][0]["graph"]["nodes"][4]["lr_scale"] = 0.5  # loose
    data["graph"]["nodes"][2]["lr_scale"] = 0.2  # hidden
    doc = project_from_json(data, "test").document
    compiled = compile_graph(doc, seed=0)
    assert compiled.lr_scales == {"hidden": 0.2, "hidden.0.loose": 0.1, "hidden.1.loose": 0.1}
    trainer = Trainer(compiled, load_dataset(SPEC), {**SETTINGS, "optimizer": "sgd", "lr": 1.0}, probes=False)
    groups = {g["lr_scale"]: {id(p) for p in g["params"]} for g in trainer.optimizer.param_groups}
    root = compiled.root
    assert groups[0.1] == {  # 0.2 × 0.5: exactly 0.1 in floating point
        id(p) for c in ("0", "1") for p in root.get_submodule(f"hidden.{c}.loose").parameters()
    }
    assert {id(p) for p in root.head.parameters()} <= groups[1.0]
