"""Data augmentation of training batches: flips, small shifts and rotations, noise.

A dataset spec may hold ``"augment": {"flip": true, "shift": 2, "rotate": 10, "noise": 0.05}``.
The trainer applies the resulting :class:`Augmenter` to training batches only
(validation, test and probes see the data as it is), after the batch reached the
training device and was standardised, so ``noise`` is in standard deviations.

Everything is vectorised over the batch: flips, shifts and rotations become one
affine matrix per image and a single ``grid_sample`` call; there is no loop over
images. Random draws come from a generator on the training device seeded from
the dataset's seed, so a run is repeatable.

- ``flip``: ``true`` or ``"horizontal"`` mirrors left–right, ``"vertical"`` up–down, ``"both"`` either,
  each with probability ½ per image;
- ``shift``: up to this many pixels in x and y (uniform, sub-pixel; edges repeat the border pixels);
- ``rotate``: up to this many degrees either way;
- ``noise``: standard deviation of Gaussian noise added to every input value (tables too).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from graphedit.training.dataset_types import DatasetError, DatasetInfo

FLIPS = (False, True, "horizontal", "vertical", "both")
LIMITS = {"shift": 64.0, "rotate": 180.0, "noise": 10.0}


def normalize_augment(value: Any, dataset: str) -> dict[str, Any]:
    """The augment options with defaults filled in; raises :class:`DatasetError` naming the bad key."""
    where = f"dataset '{dataset}': augment"
    if not isinstance(value, dict):
        raise DatasetError(
            f'{where} must be an object such as {{"flip": true, "shift": 2, "rotate": 10, "noise": 0.05}}, '
            f"not {value!r}."
        )
    unknown = sorted(set(value) - {"flip", *LIMITS})
    if unknown:
        raise DatasetError(f"{where} has unknown key(s) {', '.join(unknown)}. Fix: use flip, shift, rotate, noise.")
    flip = value.get("flip", False)
    if flip not in FLIPS or (flip in (0, 1) and not isinstance(flip, bool)):
        raise DatasetError(f'{where}.flip must be true, false, "horizontal", "vertical" or "both"; got {flip!r}.')
    out: dict[str, Any] = {"flip": "horizontal" if flip is True else flip}
    for key, limit in LIMITS.items():
        v = value.get(key, 0)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= limit:
            raise DatasetError(f"{where}.{key} must be a number from 0 to {limit:g}; got {v!r}.")
        out[key] = float(v)
    return out


def make_augmenter(options: dict[str, Any], info: DatasetInfo, seed: int) -> Augmenter | None:
    """An :class:`Augmenter` for a dataset, or ``None`` when every option is off; checks the data fits."""
    geometric = [k for k in ("flip", "shift", "rotate") if options.get(k)]
    if not geometric and not options.get("noise"):
        return None
    shape = tuple(info.feature_shape)
    if not info.feature_dtype.startswith("float"):
        raise DatasetError(
            f"dataset '{info.name}': augment cannot change {info.feature_dtype} inputs (character or class "
            "indices). Fix: remove augment from the dataset settings."
        )
    if geometric and len(shape) != 3:
        raise DatasetError(
            f"dataset '{info.name}': augment {', '.join(geometric)} needs images [channels, height, width], but "
            f"this dataset gives {list(shape)}. Fix: use only noise, or turn {', '.join(geometric)} off."
        )
    if geometric and info.task == "segmentation":
        raise DatasetError(
            f"dataset '{info.name}': augment {', '.join(geometric)} would move the images but not their masks. "
            "Fix: use only noise for segmentation."
        )
    return Augmenter(options, seed)


class Augmenter:
    """Random flips, shifts, rotations and noise applied to a batch ``X`` on its own device."""

    def __init__(self, options: dict[str, Any], seed: int) -> None:
        self.flip = options.get("flip") or False
        self.shift = float(options.get("shift", 0.0))
        self.rotate = float(options.get("rotate", 0.0))
        self.noise = float(options.get("noise", 0.0))
        self.seed = seed
        self._generators: dict[str, torch.Generator] = {}

    def __repr__(self) -> str:
        return f"Augmenter(flip={self.flip!r}, shift={self.shift}, rotate={self.rotate}, noise={self.noise})"

    def _generator(self, device: torch.device) -> torch.Generator:
        key = str(device)
        if key not in self._generators:
            self._generators[key] = torch.Generator(device=device).manual_seed(self.seed + 7919)
        return self._generators[key]

    def _uniform(self, n: int, g: torch.Generator, device: torch.device) -> torch.Tensor:
        """``n`` draws from U(−1, 1)."""
        return torch.rand(n, generator=g, device=device) * 2 - 1

    def _signs(self, n: int, g: torch.Generator, device: torch.device, on: bool) -> torch.Tensor:
        if not on:
            return torch.ones(n, device=device)
        return torch.where(torch.rand(n, generator=g, device=device) < 0.5, -1.0, 1.0)

    @torch.no_grad()
    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        g = self._generator(X.device)
        if self.flip or self.shift or self.rotate:
            X = self._geometric(X, g)
        if self.noise:
            X = X + self.noise * torch.randn(X.shape, generator=g, device=X.device, dtype=X.dtype)
        return X

    def _geometric(self, X: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        n, device = X.shape[0], X.device
        height, width = X.shape[-2], X.shape[-1]
        sx = self._signs(n, g, device, self.flip in ("horizontal", "both"))
        sy = self._signs(n, g, device, self.flip in ("vertical", "both"))
        if not self.shift and not self.rotate:  # flips only: exact, no resampling
            X = torch.where((sx < 0).view(-1, 1, 1, 1), X.flip(-1), X)
            return torch.where((sy < 0).view(-1, 1, 1, 1), X.flip(-2), X)
        angle = self._uniform(n, g, device) * math.radians(self.rotate)
        # affine_grid works in coordinates from −1 to 1 across the image: one pixel is 2 / width
        tx = self._uniform(n, g, device) * self.shift * 2 / width
        ty = self._uniform(n, g, device) * self.shift * 2 / height
        cos, sin = torch.cos(angle), torch.sin(angle)
        aspect = height / width  # rotate in pixel space, not in the squashed unit square
        theta = torch.stack(
            [
                torch.stack([cos * sx, -sin * aspect * sy, tx], 1),
                torch.stack([sin / aspect * sx, cos * sy, ty], 1),
            ],
            1,
        ).to(X.dtype)
        grid = F.affine_grid(theta, list(X.shape), align_corners=False)
        return F.grid_sample(X, grid, mode="bilinear", padding_mode="border", align_corners=False)
