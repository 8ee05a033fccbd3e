"""Backprop step by step on a graph built with blocks (lesson 05b): block nodes, and inside them."""

from __future__ import annotations

import pytest
import torch
from _window_helpers import PROJECTS

from graphedit.compiler.block_modules import first_copy
from graphedit.model.project import load_project
from graphedit.training.backprop import trace
from graphedit.training.inspection import open_inspection


@pytest.fixture(scope="module")
def seen():
    torch.manual_seed(0)
    return open_inspection(load_project(PROJECTS / "05b_deep_residual.gproj"), None, examples=4)


def test_block_nodes_have_the_gradients_autograd_gives(seen):
    result = trace(seen.compiled, seen.document, seen.feed(1))
    assert "blocks" in result.order and seen.document.node_type("blocks").block is not None
    seen.compiled.taps.eval()
    taps = seen.compiled.taps(**seen.feed(1))
    for node_id in result.order:
        if node_id in seen.compiled.input_ids:
            continue
        (expected,) = torch.autograd.grad(taps["ce"], taps[node_id], retain_graph=True)
        torch.testing.assert_close(result.grads[node_id], expected, rtol=1e-5, atol=1e-7)
        torch.testing.assert_close(result.values[node_id], taps[node_id].detach())


def test_inner_nodes_of_the_first_copy_have_their_values_and_gradients(seen):
    result = trace(seen.compiled, seen.document, seen.feed(1))
    assert {"blocks/dense_a", "blocks/relu_a", "blocks/add", "blocks/relu"} <= set(result.inner_grads)
    copy = first_copy(seen.compiled.root._modules["blocks"])
    kept = {}

    def hook(_module, _args, output):
        output.retain_grad()
        kept["dense_a"] = output

    handle = copy.get_submodule("dense_a").register_forward_hook(hook)
    try:
        seen.compiled.objective.eval()
        loss = seen.compiled.objective(**seen.feed(1))["loss"]
        loss.backward()
    finally:
        handle.remove()
        seen.compiled.root.zero_grad()
    torch.testing.assert_close(result.inner_values["blocks/dense_a"], kept["dense_a"].detach())
    torch.testing.assert_close(result.inner_grads["blocks/dense_a"], kept["dense_a"].grad, rtol=1e-5, atol=1e-7)
    assert not hasattr(copy.__dict__, "forward") and "forward" not in copy.__dict__  # the block runs as before


def test_every_copy_has_its_inner_values_and_gradients(seen):
    result = trace(seen.compiled, seen.document, seen.feed(1))
    module = seen.compiled.root._modules["blocks"]
    assert {f"blocks[{i}]/dense_a" for i in range(1, 7)} <= set(result.inner_grads)
    with torch.no_grad():  # copy 2 is fed copy 1's output, the block node's output is the last copy's
        second = module[1].get_submodule("dense_a")(result.inner_values["blocks/relu"])
    torch.testing.assert_close(result.inner_values["blocks[1]/dense_a"], second)
    torch.testing.assert_close(result.inner_values["blocks[6]/relu"], result.values["blocks"])
    assert not torch.equal(result.inner_grads["blocks[1]/dense_a"], result.inner_grads["blocks/dense_a"])
