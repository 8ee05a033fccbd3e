"""A block's inputs reach its inside in port order, whatever order its inner graph sorts them in."""

from __future__ import annotations

import torch
from block_nets import node, wire

from graphedit.compiler import compile_graph
from graphedit.model.migrations import FORMAT, VERSION
from graphedit.model.project import project_from_json

DIFF = {  # ports x then skip; sorted by id, skip comes first
    "name": "Diff",
    "params": [],
    "graph": {
        "nodes": [
            node("x", "BlockInput"),
            node("skip", "BlockInput"),
            node("sub", "Subtract"),
            node("y", "BlockOutput"),
        ],
        "edges": [wire("x", "sub", "a"), wire("skip", "sub", "b"), wire("sub", "y")],
    },
}


def test_block_inputs_are_passed_in_port_order():
    nodes = [node("p", "Input", shape=[3]), node("q", "Input", shape=[3]), node("diff", "Diff"), node("out", "Output")]
    edges = [wire("p", "diff", "x"), wire("q", "diff", "skip"), wire("diff", "out")]
    data = {"format": FORMAT, "version": VERSION, "blocks": [DIFF], "graph": {"nodes": nodes, "edges": edges}}
    compiled = compile_graph(project_from_json(data, "t").document, seed=0)
    p, q = torch.randn(2, 3), torch.randn(2, 3)
    assert torch.equal(compiled.model(p, q), p - q)
