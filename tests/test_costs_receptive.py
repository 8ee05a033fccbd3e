"""FLOPs per node against the textbook formulas; receptive fields against the notes' hand calculation and gradients."""

from pathlib import Path

import graphkit
import pytest
import torch

from graphedit.compiler import compile_graph
from graphedit.compiler.costs import flops_text, node_flops
from graphedit.compiler.receptive import conv_fields, receptive_fields
from graphedit.model.project import load_project

PROJECTS = Path(__file__).resolve().parent.parent / "projects"


def _net(*nodes, wires=None):
    ids = [n[0] for n in nodes]
    return graphkit.build(list(nodes), wires or graphkit.chain(*ids))


def test_dense_flops_are_two_per_weight():
    doc = _net(("input1", "Input", {"shape": [20]}), ("dense1", "Dense", {"units": 7}))
    assert node_flops(doc)["dense1"] == 2 * 20 * 7


@pytest.mark.parametrize(("kernel", "stride", "padding", "groups"), [(3, 1, 1, 1), (5, 2, 0, 1), (3, 1, 1, 4)])
def test_conv2d_flops_follow_the_output_size_formula(kernel, stride, padding, groups):
    c_in, c_out, size = 8, 12, 17
    params = {"filters": c_out, "kernel": kernel, "stride": stride, "padding": padding, "groups": groups}
    doc = _net(("input1", "Input", {"shape": [c_in, size, size]}), ("conv1", "Conv2d", params))
    out = (size + 2 * padding - kernel) // stride + 1  # the notes' output size
    assert node_flops(doc)["conv1"] == 2 * (c_in // groups) * kernel * kernel * c_out * out * out


def test_flops_text():
    assert flops_text(1_500_000) == "1.5 MFLOPs" and flops_text(12) == "12 FLOPs"


def test_keras_cnn_receptive_fields_equal_the_hand_calculation():
    doc = load_project(PROJECTS / "keras_cnn.gproj").document
    fields = conv_fields(doc)
    # r_out = r_in + (k − 1)·j_in, j_out = j_in·s: conv1 5×5/2, conv2 5×5/2, conv3 3×3/2
    assert (fields["conv1"].size, fields["conv1"].jump) == (5, 2)
    assert (fields["conv2"].size, fields["conv2"].jump) == (5 + 4 * 2, 4)
    assert (fields["conv3"].size, fields["conv3"].jump) == (13 + 2 * 4, 8)
    assert receptive_fields(doc)["dense1"].whole and fields["conv3"].text() == "21×21 (jump 8)"


def test_the_theoretical_field_is_where_the_gradient_reaches():
    """With positive weights and inputs no ReLU blocks a gradient: the gradient of one conv3 unit is non-zero
    exactly on its theoretical field, clipped to the image."""
    doc = load_project(PROJECTS / "keras_cnn.gproj").document
    compiled = compile_graph(doc, seed=0)
    with torch.no_grad():
        for p in compiled.root.parameters():
            p.abs_().add_(0.01)
    x = torch.rand(1, 1, 32, 32).add(0.1).requires_grad_()
    out = compiled.taps(image=x, label=torch.zeros(1, dtype=torch.long))["conv3"]
    field = conv_fields(doc)["conv3"]
    for i, j in ((1, 1), (2, 3), (0, 0)):
        (grad,) = torch.autograd.grad(out[0, 0, i, j], x, retain_graph=True)
        rows = grad[0, 0].abs().sum(1).nonzero().flatten()
        cols = grad[0, 0].abs().sum(0).nonzero().flatten()
        lo_r, hi_r = field.region(i)
        lo_c, hi_c = field.region(j)
        assert (rows.min().item(), rows.max().item() + 1) == (max(0, int(lo_r)), min(32, int(hi_r)))
        assert (cols.min().item(), cols.max().item() + 1) == (max(0, int(lo_c)), min(32, int(hi_c)))
