"""A block's forward takes its inputs in port order (the definition's insertion order), not in name order.

Found by the importer: a DenseNet layer with ten inputs ``x1`` … ``x10`` was fed ``x10`` where ``x2`` belonged,
because the copy's placeholders followed the graph's name-sorted topological order.
"""

from __future__ import annotations

import torch
from graphkit import build

from graphedit.compiler import compile_graph
from graphedit.model.blocks import BlockLibrary


def test_block_inputs_follow_port_order_not_name_order():
    library = BlockLibrary()
    inside = build(
        [("second", "BlockInput", {}), ("first", "BlockInput", {}), ("sub", "Subtract", {}), ("y", "BlockOutput", {})],
        ["second -> sub.a", "first -> sub.b", "sub -> y"],
        registry=library,
    )
    library.define("Difference", inside, [])
    assert library.definitions["Difference"].inputs() == ["second", "first"]  # ports: second, then first
    doc = build(
        [("p", "Input", {"shape": [3]}), ("q", "Input", {"shape": [3]}), ("diff", "Difference", {}),
         ("out", "Output", {})],
        ["p -> diff.second", "q -> diff.first", "diff -> out"],
        registry=library,
    )  # fmt: skip
    compiled = compile_graph(doc, seed=0)
    p, q = torch.randn(2, 3), torch.randn(2, 3)
    assert compiled.input_ids == ["p", "q"]
    torch.testing.assert_close(compiled.model(p, q), p - q)
