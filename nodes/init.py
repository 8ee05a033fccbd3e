"""Weight initialisation schemes, applied by the compiler after building real modules.

``fan_in`` follows ``torch.nn.init._calculate_fan_in_and_fan_out``: for Linear and
Conv weights ``[out, in/groups, k…]`` it is ``in/groups · k…``; for a transposed
convolution, whose weight is ``[in, out/groups, k…]``, it is ``out/groups · k…``
(PyTorch's convention, kept for consistency). An Embedding is a Dense layer on a
one-hot vector, where exactly one input is 1, so its fan_in is 1 (xavier then gives
N(0, 1), PyTorch's own default). Recurrent layers use the fan_in of each matrix:
features for ``weight_ih``, hidden units for ``weight_hh``. Biases are set to
zero, except with ``torch``, which leaves the module exactly as PyTorch built it.
Normalisation layers (γ = 1, β = 0) are never touched.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from graphedit.errors import ParamError
from graphedit.nodes.spec import INIT_CHOICES

# variance of N(0, gain / fan_in)
_GAIN = {"xavier": 1.0, "he": 2.0, "lecun": 1.0}
_WEIGHTED = (nn.Linear, nn.modules.conv._ConvNd, nn.RNNBase, nn.Embedding)


def _fill(weight: torch.Tensor, scheme: str, fan_in: int) -> None:
    if scheme in _GAIN:
        weight.normal_(0.0, math.sqrt(_GAIN[scheme] / max(fan_in, 1)))
    elif scheme == "uniform":
        weight.uniform_(-0.01, 0.01)
    elif scheme == "zeros":
        weight.zero_()


def _fan_in(weight: torch.Tensor) -> int:
    return nn.init._calculate_fan_in_and_fan_out(weight)[0]


def apply_init(module: nn.Module, scheme: str) -> None:
    """Initialise the weights of ``module`` and its sub-modules with ``scheme``; biases become zero."""
    if scheme not in INIT_CHOICES:
        raise ParamError(f"unknown weight initialisation {scheme!r}; choose one of {', '.join(INIT_CHOICES)}.")
    if scheme == "torch" or not isinstance(module, nn.Module):
        return
    with torch.no_grad():
        for sub in module.modules():
            if not isinstance(sub, _WEIGHTED):
                continue
            for name, p in sub.named_parameters(recurse=False):
                if name.startswith("bias"):
                    p.zero_()
                elif isinstance(sub, nn.Embedding):
                    _fill(p, scheme, 1)
                else:
                    _fill(p, scheme, _fan_in(p))
