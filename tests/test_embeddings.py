"""Embeddings: a hidden layer's activations, PCA against numpy's, t-SNE separating two clear classes."""

import graphs
import numpy as np
import pytest
import torch

from graphedit.compiler import compile_graph
from graphedit.training.embeddings import TSNE_MAX, activations, pca, tsne


def test_activations_are_the_node_output_per_example():
    doc = graphs.mlp(in_shape=(3,), hidden=(5,), classes=2)
    compiled = compile_graph(doc, seed=0)
    x = torch.randn(7, 3)
    acts = activations(compiled, "dense1", x, batch=4)
    expected = compiled.root.dense1(x)
    torch.testing.assert_close(acts, expected.detach())


def test_pca_matches_the_covariance_eigenvectors():
    torch.manual_seed(0)
    values = torch.randn(200, 2) @ torch.tensor([[3.0, 0.0], [0.0, 0.5]]) @ torch.tensor([[0.6, 0.8], [-0.8, 0.6]])
    coords, share = pca(values)
    cov = np.cov(values.numpy().T)
    top = np.linalg.eigh(cov)[1][:, -1]
    direction = (values - values.mean(0)).numpy() @ top
    assert abs(np.corrcoef(direction, coords[:, 0].numpy())[0, 1]) == pytest.approx(1.0, abs=1e-5)
    assert share[0] > 0.9 and float(share.sum()) == pytest.approx(1.0, abs=1e-5)
    assert pca(torch.randn(10, 1))[0].shape == (10, 2)


def test_tsne_keeps_two_clusters_apart_and_refuses_too_many_points():
    torch.manual_seed(0)
    values = torch.cat([torch.randn(40, 6), torch.randn(40, 6) + 12])
    coords = tsne(values)
    a, b = coords[:40].mean(0), coords[40:].mean(0)
    spread = max(coords[:40].std(0).max(), coords[40:].std(0).max())
    assert (a - b).norm() > 3 * spread
    with pytest.raises(ValueError, match="at most"):
        tsne(torch.zeros(TSNE_MAX + 1, 2))
