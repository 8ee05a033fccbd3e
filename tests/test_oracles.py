"""The curriculum's oracles (CURRICULUM.md, "Oracles from the notes"), checked at the node level."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from graphedit.nodes.convolution import conv_out
from graphedit.nodes.init import apply_init
from graphedit.nodes.registry import default_registry
from graphedit.nodes.spec import Call


def build(type_id, params, shapes, device="cpu"):
    t = default_registry().get(type_id)
    p = t.validate_params(params)
    if t.check is not None:
        t.check(p, shapes)
    with torch.device(device):
        return t.build(p, shapes)


def call(built, *xs):
    if isinstance(built, Call):
        return built.fn(list(xs), **built.kwargs) if built.pack else built.fn(*xs, **built.kwargs)
    return built(*xs)


def test_max_pool_2x2_stride_2():
    x = torch.tensor([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=torch.float32)
    pool = build("MaxPool2d", {"kernel": 2, "stride": 2}, [(1, 1, 4, 4)])
    assert call(pool, x.view(1, 1, 4, 4)).view(2, 2).tolist() == [[6, 8], [3, 4]]


@pytest.mark.parametrize("device", ["meta", "cpu"])
def test_conv_10_filters_5x5_pad_2(device):
    conv = build("Conv2d", {"filters": 10, "kernel": 5, "stride": 1, "padding": 2}, [(2, 3, 32, 32)], device)
    out = call(conv, torch.empty(2, 3, 32, 32, device=device))
    assert tuple(out.shape) == (2, 10, 32, 32)
    assert sum(p.numel() for p in conv.parameters()) == 760


@pytest.mark.parametrize(("stride", "size"), [(1, 5), (2, 3)])
def test_output_size_formula(stride, size):
    assert conv_out(7, 3, stride, 0) == math.floor((7 + 2 * 0 - 3) / stride) + 1 == size
    conv = build("Conv2d", {"filters": 1, "kernel": 3, "stride": stride}, [(1, 1, 7, 7)], "meta")
    assert tuple(call(conv, torch.empty(1, 1, 7, 7, device="meta")).shape) == (1, 1, size, size)


def test_perceptron_nand():
    dense = build("Dense", {"units": 1}, [(4, 2)])
    step = build("Step", {}, [(4, 1)])
    with torch.no_grad():
        dense.weight.copy_(torch.tensor([[-2.0, -2.0]]))
        dense.bias.fill_(3.0)
    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = call(step, call(dense, x)).view(-1)
    assert y.tolist() == [1.0, 1.0, 1.0, 0.0]  # NAND


def _notes_softmax(X):
    exps = np.exp(X - np.max(X, axis=1, keepdims=True))
    return exps / np.sum(exps, axis=1, keepdims=True)


def _notes_cross_entropy(X, y):
    """The notes' cross_entropy, literally (seeds/000, "Common losses")."""
    m = y.shape[0]
    p = _notes_softmax(X)
    log_likelihood = -np.log(p[range(m), y])
    loss = np.sum(log_likelihood) / m
    return loss


def test_softmax_cross_entropy_equals_notes():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 5)) * 3
    y = rng.integers(0, 5, size=16)
    ce = build("SoftmaxCrossEntropy", {}, [(16, 5), (16,)])
    got = call(ce, torch.tensor(X, dtype=torch.float64), torch.tensor(y))
    assert got.item() == pytest.approx(_notes_cross_entropy(X, y), rel=1e-9)


def test_init_oracles():
    torch.manual_seed(0)
    for scheme, gain in (("he", 2.0), ("xavier", 1.0)):
        dense = build("Dense", {"units": 500, "init": scheme}, [(1, 500)])
        apply_init(dense, scheme)
        assert dense.weight.std().item() == pytest.approx(math.sqrt(gain / 500), rel=0.05)
