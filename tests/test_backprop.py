"""Backprop step by step: the gradients at every node equal what autograd gives the compiled objective."""

from pathlib import Path

import graphs
import pytest
import torch

from graphedit.compiler import compile_graph
from graphedit.model.project import load_project
from graphedit.training.backprop import trace

PROJECTS = Path(__file__).resolve().parent.parent / "projects"


def _graph(name):
    if name == "mlp":
        return graphs.mlp(in_shape=(4,), hidden=(8, 6), classes=3)
    if name == "cnn":
        return graphs.cnn(in_shape=(1, 8, 8), classes=3, filters=4)
    return load_project(PROJECTS / "residual_mlp.gproj").document


def _example(compiled, doc):
    torch.manual_seed(1)
    feed = {}
    for node_id in compiled.input_ids:
        feed[node_id] = torch.randn(1, *doc.params(node_id)["shape"])
    for node_id in compiled.target_ids:
        feed[node_id] = torch.tensor([1])
    return feed


@pytest.mark.parametrize("name", ["mlp", "cnn", "residual"])
def test_every_node_gradient_equals_autograd_on_the_objective(name):
    doc = _graph(name)
    compiled = compile_graph(doc, seed=0)
    feed = _example(compiled, doc)
    steps = trace(compiled, doc, feed)
    # independently: the objective's own forward and backward, with module hooks catching ∂L/∂output
    compiled.root.eval()
    compiled.objective.eval()
    caught = {}
    handles = [
        module.register_full_backward_hook(lambda m, gin, gout, n=node_id: caught.__setitem__(n, gout[0].detach()))
        for node_id, module in compiled.root.named_children()
    ]
    compiled.root.zero_grad()
    x = {k: (v.clone().requires_grad_() if k in compiled.input_ids else v) for k, v in feed.items()}
    loss = compiled.objective(**x)["loss"]
    (input_grad,) = torch.autograd.grad(loss, [x[compiled.input_ids[0]]], retain_graph=True)
    loss.backward()
    for handle in handles:
        handle.remove()
    assert steps.loss == pytest.approx(loss.item(), abs=1e-6)
    checked = [n for n in caught if n in steps.grads]
    assert len(checked) >= 3
    for node_id in checked:
        torch.testing.assert_close(steps.grads[node_id], caught[node_id], rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(steps.grads[compiled.input_ids[0]], input_grad, rtol=1e-5, atol=1e-7)
    for name_, param in compiled.root.named_parameters():
        torch.testing.assert_close(steps.param_grads[name_], param.grad, rtol=1e-5, atol=1e-7)
    # the chain rule: a node receives the sum of what its consumers pass back
    received = {}
    for node_id in steps.grads:
        for src, part in steps.contributions(node_id).items():
            received[src] = received.get(src, 0) + part
    for src, total in received.items():
        torch.testing.assert_close(total, steps.grads[src], rtol=1e-5, atol=1e-7)
    # the steps go from the loss back to the input
    assert doc.node_type(steps.order[0]).role == "loss" and steps.order[-1] == compiled.input_ids[0]
    assert "Computed in evaluation mode" in steps.step_text(steps.order[1])


def test_the_trace_runs_in_evaluation_mode_and_restores_training_mode():
    doc = graphs.mlp(in_shape=(4,), hidden=(8,), classes=3)
    compiled = compile_graph(doc, seed=0)
    compiled.root.train()
    trace(compiled, doc, _example(compiled, doc))
    assert compiled.root.training
