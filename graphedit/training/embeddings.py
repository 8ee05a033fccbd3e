"""Embeddings of a hidden layer: any node's activations over examples, reduced to two dimensions.

PCA (torch's SVD on the centred activations) is cheap enough to follow the probes during training;
t-SNE (scikit-learn) runs on request on at most :data:`TSNE_MAX` points, off the editor's thread. The
activations come from the compiled graph's ``taps`` in evaluation mode, flattened to one row per example.
"""

from __future__ import annotations

from typing import Any

import torch

TSNE_MAX = 1000


@torch.no_grad()
def activations(compiled: Any, node_id: str, x: torch.Tensor, batch: int = 512) -> torch.Tensor:
    """``[N, features]``: the node's output for each example of ``x``."""
    modes = [m.training for m in (compiled.root, compiled.taps)]
    compiled.root.eval()
    compiled.taps.eval()
    try:
        rows = []
        for start in range(0, x.shape[0], batch):
            chunk = x[start : start + batch]
            feed = {compiled.input_ids[0]: chunk}
            feed.update(
                {t: torch.zeros(chunk.shape[0], dtype=torch.long, device=chunk.device) for t in compiled.target_ids}
            )
            rows.append(compiled.taps(**feed)[node_id].detach().flatten(1).float())
        return torch.cat(rows)
    finally:
        compiled.root.train(modes[0])
        compiled.taps.train(modes[1])


def pca(values: torch.Tensor, components: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """The first principal components (``[N, components]``) and the share of variance each explains."""
    centred = values - values.mean(0, keepdim=True)
    _, s, v = torch.linalg.svd(centred, full_matrices=False)
    k = min(components, v.shape[0])
    coords = centred @ v[:k].T
    variance = s.square()
    share = variance[:k] / variance.sum().clamp_min(1e-12)
    if k < components:  # fewer features than components: pad with zeros
        coords = torch.cat([coords, coords.new_zeros(coords.shape[0], components - k)], 1)
        share = torch.cat([share, share.new_zeros(components - k)])
    return coords, share


def tsne(values: torch.Tensor, seed: int = 0, perplexity: float = 30.0) -> torch.Tensor:
    """t-SNE coordinates of at most :data:`TSNE_MAX` rows (scikit-learn; seeded, so repeatable)."""
    if values.shape[0] > TSNE_MAX:
        raise ValueError(f"t-SNE runs on at most {TSNE_MAX} points, not {values.shape[0]}. Fix: take a subset.")
    from sklearn.manifold import TSNE

    perplexity = min(perplexity, max(2.0, (values.shape[0] - 1) / 3))
    coords = TSNE(2, perplexity=perplexity, random_state=seed, init="pca").fit_transform(values.double().numpy())
    return torch.from_numpy(coords).float()
