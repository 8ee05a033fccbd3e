"""Summary statistics of the outputs a probe sees: min, max, mean, spread, exact zeros and a histogram each.

Small outputs of one size (the copies of a repeated block, ``layer1/conv1``, ``layer1[1]/conv1``, ...) are
summarised together, a few torch ops for all of them, so recording every copy keeps the probes cheap.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from graphedit.training.payloads import ActivationStats

BINS = 30
HIST_SAMPLE = 1 << 15  # values a histogram is counted from
STACKED = 1 << 16  # outputs up to this size are summarised with the others of their size in one go


def activation_stats(chosen: list[tuple[str, torch.Tensor]]) -> dict[str, ActivationStats]:
    """The statistics of each flat float output in ``chosen`` (name, values), in its order; outputs with a
    non-finite value are left out."""
    # small outputs of one size (the copies of a repeated block) are summarised together: a few ops for all
    groups: dict[int, list[tuple[str, torch.Tensor]]] = {}
    for n, f in chosen:
        groups.setdefault(f.numel() if f.numel() <= STACKED else -len(groups) - 1, []).append((n, f))
    out: dict[str, ActivationStats] = {}
    for group in groups.values():
        rows, low, high, mean, std, zeros = _row_stats([f for _, f in group])
        high = torch.where(high > low, high, low + 1e-6)
        hist = _histograms(rows, low, high).cpu().numpy()
        stats = torch.stack([low, high, mean, std, zeros], 1).cpu()
        for i, (node_id, _) in enumerate(group):
            lo, hi, mu, sd, zero = stats[i].tolist()
            if not (math.isfinite(lo) and math.isfinite(hi)):
                continue
            out[node_id] = {
                "mean": mu,
                "std": sd,
                "zeros": zero,
                "min": lo,
                "max": hi,
                "hist": hist[i],
                "edges": np.linspace(lo, hi, BINS + 1, dtype=np.float32),
            }
    return {n: out[n] for n, _ in chosen if n in out}


def _row_stats(flat: list[torch.Tensor]) -> tuple[torch.Tensor, ...]:
    """The outputs as rows of one tensor, and each row's min, max, mean, std and fraction of exact zeros.

    On the CPU torch's ``std_mean`` and a whole tensor's ``count_nonzero`` take 4-10× as long as the mean and the
    squared deviations from it (the two-pass formula, as stable) and as ``count_nonzero`` along a dimension: a
    probe's statistics were most of its time. One output alone is reduced whole where that is faster (min, max)."""
    if len(flat) == 1:
        f = flat[0]
        rows = f[None]
        low, high = (v[None] for v in torch.aminmax(f))
    else:
        rows = torch.stack(flat)
        low, high = torch.aminmax(rows, dim=1)
    mean = rows.mean(1)
    std = torch.sub(rows, mean[:, None]).square_().mean(1).sqrt_()
    zeros = 1 - torch.count_nonzero(rows, dim=1) / rows.shape[1]
    return rows, low, high, mean, std, zeros


def _histograms(rows: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    """Counts of each row of ``rows`` in BINS equal bins over [lo, hi] of that row, as ``torch.histc`` but faster:
    from an evenly strided sample of at most HIST_SAMPLE values a row (the views draw the shape), scaled to its
    size; one ``bincount`` for all rows."""
    k, size = rows.shape
    step = -(-size // HIST_SAMPLE)
    sample = rows[:, ::step]
    scale = (BINS / (hi - lo))[:, None]
    index = ((sample - lo[:, None]) * scale).nan_to_num_(0.0).long().clamp_(0, BINS - 1)
    index += torch.arange(k, device=rows.device)[:, None] * BINS
    counts = torch.bincount(index.flatten(), minlength=k * BINS).float().reshape(k, BINS)
    return counts * (size / sample.shape[1])
