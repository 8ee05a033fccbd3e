"""Built-in image datasets: scikit-learn's digits and synthetic shapes.

``digits`` are 1797 handwritten 8×8 digits (bundled with scikit-learn, no
download), as 64-vectors or, with ``as_images``, as [1, 8, 8] images that
``size`` upsamples (the notes' Keras CNN needs 32×32). ``shapes`` draws a
circle, square or triangle per image, for classification, for segmentation
(a mask per pixel) or for autoencoders (``reconstruct``: no target; the graph
wires the Input to the loss).

Pixels are scaled to [0, 1]; standardisation (on by default in the spec) then
uses one mean and standard deviation over all training pixels.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from graphedit.training.dataset_types import Opt, RawData, dataset_kind

SHAPE_NAMES = ["circle", "square", "triangle"]


def _resize(images: np.ndarray, size: int, mode: str) -> np.ndarray:
    """Resize [N, C, H, W] images with bilinear or nearest interpolation."""
    if images.shape[-1] == size:
        return images
    t = torch.from_numpy(images)
    kwargs = {"align_corners": False} if mode == "bilinear" else {}
    return F.interpolate(t, size=(size, size), mode=mode, **kwargs).numpy()


@dataset_kind(
    "digits",
    {
        "n": Opt(0, "how many digits, drawn at random with the seed (0: all 1797; fewer shows overfitting)", min=0),
        "noise": Opt(0.0, "Gaussian noise on the pixels: its standard deviation on the 0 … 1 scale", min=0.0, max=1.0),
        "as_images": Opt(False, "true: [1, size, size] images for convolutions; false: flat vectors"),
        "size": Opt(8, "side in pixels after upsampling the 8×8 originals", min=4, max=256),
        "interpolation": Opt("bilinear", "how to upsample", choices=("bilinear", "nearest")),
        "task": Opt(
            "classify",
            "classify: label 0–9; parity: even (0) or odd (1); reconstruct: no target (autoencoder)",
            choices=("classify", "parity", "reconstruct"),
        ),
    },
    "scikit-learn's 1797 handwritten digits, 8×8 pixels, classes 0–9",
)
def digits(o: dict[str, Any], rng: np.random.Generator, base_dir: Path | None) -> RawData:
    bunch = _load_digits()
    images, labels = (bunch.images.astype(np.float32) / 16.0)[:, None], bunch.target.astype(np.int64)
    if 0 < o["n"] < len(labels):
        keep = np.sort(rng.choice(len(labels), o["n"], replace=False))
        images, labels = images[keep], labels[keep]
    if o["noise"] > 0:
        images = np.clip(images + rng.normal(0.0, o["noise"], images.shape), 0.0, 1.0).astype(np.float32)
    images = _resize(images, o["size"], o["interpolation"])
    X = images if o["as_images"] else images.reshape(len(images), -1)
    X = np.ascontiguousarray(X, dtype=np.float32)
    if o["task"] == "reconstruct":
        return RawData(X, None, "reconstruction", image=True, labels=labels)
    if o["task"] == "parity":
        return RawData(X, labels % 2, "classification", 2, ["even", "odd"], image=True)
    names = [str(i) for i in range(10)]
    return RawData(X, labels, "classification", 10, names, image=True)


@dataset_kind(
    "digit_pairs",
    {
        "n": Opt(2000, "number of pairs", min=4, max=1_000_000),
        "same": Opt(0.5, "fraction of pairs showing the same digit", min=0.0, max=1.0),
        "as_images": Opt(True, "true: [1, 8, 8] images for convolutions; false: flat 64-vectors"),
    },
    "pairs of scikit-learn's digits for a Siamese network: inputs 'left' and 'right', target 'same' (1: the "
    "same digit, 0: different)",
    names=lambda o: (["left", "right"], ["same"]),
)
def digit_pairs(o: dict[str, Any], rng: np.random.Generator, base_dir: Path | None) -> RawData:
    bunch = _load_digits()
    images = (bunch.images.astype(np.float32) / 16.0)[:, None]
    images = images if o["as_images"] else images.reshape(len(images), -1)
    labels = bunch.target.astype(np.int64)
    by_class = [np.flatnonzero(labels == c) for c in range(10)]
    n = o["n"]
    left = rng.integers(0, len(labels), n)
    same = rng.random(n) < o["same"]
    shift = rng.integers(1, 10, n)  # a different class for the pairs that differ
    right_class = np.where(same, labels[left], (labels[left] + shift) % 10)
    right = np.array([rng.choice(by_class[c]) for c in right_class])
    X = {"left": np.ascontiguousarray(images[left]), "right": np.ascontiguousarray(images[right])}
    y = {"same": same.astype(np.float32)[:, None]}
    return RawData(X, y, "classification", 2, ["different", "same"], image=True, labels=None)


def _load_digits() -> Any:
    """scikit-learn's digits, read from its data file without importing scikit-learn: ``import sklearn`` pulls
    in SciPy, ~90 MiB and seconds that a run on digits does not use. Falls back to ``load_digits``."""
    import gzip
    import importlib.util
    from types import SimpleNamespace

    spec = importlib.util.find_spec("sklearn")  # finds the package without importing it
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(folder) / "datasets" / "data" / "digits.csv.gz"
        if path.exists():
            with gzip.open(path, "rt") as f:
                table = np.loadtxt(f, delimiter=",")
            return SimpleNamespace(images=table[:, :-1].reshape(-1, 8, 8), target=table[:, -1].astype(int))
    from sklearn.datasets import load_digits

    return load_digits()


def _draw_shapes(kinds: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Boolean masks [N, size, size] of one shape each: 0 circle, 1 square, 2 triangle."""
    n = len(kinds)
    r = rng.uniform(0.2, 0.38, n)[:, None, None] * size
    cx = rng.uniform(0, 1, n)[:, None, None] * (size - 2 * r) + r
    cy = rng.uniform(0, 1, n)[:, None, None] * (size - 2 * r) + r
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    dx, dy = xx[None] - cx, yy[None] - cy
    circle = dx**2 + dy**2 <= r**2
    half = r * 0.8
    square = (np.abs(dx) <= half) & (np.abs(dy) <= half)
    # upright triangle: base at cy + r/2, apex at cy − r; inside where |dx| shrinks towards the apex
    height = 1.5 * r
    t = (dy + r) / height
    triangle = (t >= 0) & (t <= 1) & (np.abs(dx) <= t * r * math.sqrt(3) / 2 * 1.15)
    k = kinds[:, None, None]
    return np.where(k == 0, circle, np.where(k == 1, square, triangle))


@dataset_kind(
    "shapes",
    {
        "n": Opt(600, "number of images", min=3, max=200_000),
        "size": Opt(16, "image side in pixels", min=8, max=256),
        "noise": Opt(0.05, "standard deviation of pixel noise", min=0.0, max=1.0),
        "task": Opt(
            "classify",
            "classify: which shape; segment: a mask per pixel; reconstruct: no target (autoencoder)",
            choices=("classify", "segment", "reconstruct"),
        ),
        "mask": Opt(
            "binary",
            "segment masks: binary (float [1, S, S]) or classes (int64 [S, S], 0 = background)",
            choices=("binary", "classes"),
        ),
    },
    "synthetic grey images of a circle, square or triangle (balanced classes)",
)
def shapes(o: dict[str, Any], rng: np.random.Generator, base_dir: Path | None) -> RawData:
    n, size = o["n"], o["size"]
    kinds = rng.permutation(np.arange(n) % 3)
    masks = _draw_shapes(kinds, size, rng)
    brightness = rng.uniform(0.6, 1.0, n)[:, None, None]
    X = masks * brightness + rng.normal(0, o["noise"], masks.shape)
    X = X.astype(np.float32)[:, None]
    if o["task"] == "classify":
        return RawData(X, kinds.astype(np.int64), "classification", 3, list(SHAPE_NAMES), image=True)
    if o["task"] == "reconstruct":
        return RawData(X, None, "reconstruction", image=True, labels=kinds.astype(np.int64))
    if o["mask"] == "binary":
        return RawData(X, masks.astype(np.float32)[:, None], "segmentation", 2, ["background", "shape"], image=True)
    classes = np.where(masks, kinds[:, None, None] + 1, 0).astype(np.int64)
    return RawData(X, classes, "segmentation", 4, ["background", *SHAPE_NAMES], image=True)


DATASET_KINDS = (digits, digit_pairs, shapes)
