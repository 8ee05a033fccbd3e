"""Built-in 2-D and tabular datasets.

The TensorFlow Playground sets (circle, xor, gauss, spiral; regression plane
and multigauss) follow its ``dataset.ts``: the same radii, paddings and noise
rules, so a network that works there works here. ``logic`` is the four rows of
a truth table (the perceptron lesson's NAND gate); ``regression1d`` is the
notes' noisy line ``y = a·x + b + noise``; iris, wine and breast_cancer are
scikit-learn's bundled tables (no download).

Two-class sets take option ``labels``: ``index`` (class number, int64, for
softmax cross-entropy), ``binary`` (0/1 float of shape [1], for binary
cross-entropy or a Step neuron) or ``signed`` (±1 float of shape [1]).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from graphedit.training.dataset_types import Opt, RawData, dataset_kind

LABELS = Opt("index", "index: class number; binary: 0/1 float; signed: ±1 float", choices=("index", "binary", "signed"))
N = Opt(500, "number of points", min=4, max=1_000_000)
NOISE = Opt(0.0, "noise as in the Playground's slider / 100 (0 … 0.5)", min=0.0, max=1.0)
PLAYGROUND = {"n": N, "noise": NOISE, "labels": LABELS}
PLAYGROUND_REGRESSION = {"n": N, "noise": NOISE}


def _two_class(points: np.ndarray, positive: np.ndarray, labels: str, names: list[str]) -> RawData:
    """``positive`` marks class 1 (the Playground's +1, drawn blue)."""
    X = points.astype(np.float32)
    if labels == "index":
        y = positive.astype(np.int64)
    elif labels == "binary":
        y = positive.astype(np.float32)[:, None]
    else:
        y = np.where(positive, 1.0, -1.0).astype(np.float32)[:, None]
    return RawData(X, y, "classification", num_classes=2, class_names=names)


@dataset_kind("circle", PLAYGROUND, "points inside a disc (class 1) or on a ring around it (class 0)")
def circle(o: dict[str, Any], rng: np.random.Generator, base_dir: Path | None) -> RawData:
    n, noise, radius = o["n"], o["noise"], 5.0
    half = n // 2
    r = np.concatenate([rng.uniform(0, radius * 0.5, half), rng.uniform(radius * 0.7, radius, n - half)])
    angle = rng.uniform(0, 2 * math.pi, n)
    x, y = r * np.sin(angle), r * np.cos(angle)
    nx, ny = rng.uniform(-radius, radius, (2, n)) * noise
    positive = np.hypot(x + nx, y + ny) < radius * 0.5
    return _two_class(np.stack([x, y], 1), positive, o["labels"], ["outside", "inside"])


@dataset_kind("xor", PLAYGROUND, "points in four quadrants; class 1 where x·y ≥ 0 (not linearly separable)")
def xor(o: dict[str, Any], rng: np.random.Generator, base_dir: Path | None) -> RawData:
    n, noise, padding = o["n"], o["noise"], 0.3
    p = rng.uniform(-5, 5, (n, 2))
    p = p + np.where(p > 0, padding, -padding)
    shifted = p + rng.uniform(-5, 5, (n, 2)) * noise
    positive = shifted[:, 0] * shifted[:, 1] >= 0
    return _two_class(p, positive, o["labels"], ["negative", "positive"])


@dataset_kind("gauss", PLAYGROUND, "two Gaussian blobs at (2, 2) and (−2, −2); noise widens them")
def gauss(o: dict[str, Any], rng: np.random.Generator, base_dir: Path | None) -> RawData:
    n, variance = o["n"], 0.5 + o["noise"] * 7.0  # the Playground maps noise 0 … 0.5 to variance 0.5 … 4
    half = n // 2
    centers = np.concatenate([np.full((half, 2), 2.0), np.full((n - half, 2), -2.0)])
    points = centers + rng.normal(0, math.sqrt(variance), (n, 2))
    positive = np.arange(n) < half
    return _two_class(points, positive, o["labels"], ["lower left", "upper right"])


SPIRAL = {**PLAYGROUND, "turns": Opt(1.75, "how many times each arm winds around the centre", min=0.25, max=10.0)}


@dataset_kind("spiral", SPIRAL, "two interleaved spiral arms, one per class")
def spiral(o: dict[str, Any], rng: np.random.Generator, base_dir: Path | None) -> RawData:
    n, noise, turns = o["n"], o["noise"], o["turns"]
    half = n // 2
    arms = []
    for count, delta in ((half, 0.0), (n - half, math.pi)):
        i = np.arange(count)
        r = i / count * 5
        t = turns * i / count * 2 * math.pi + delta
        jitter = rng.uniform(-1, 1, (2, count)) * noise
        arms.append(np.stack([r * np.sin(t) + jitter[0], r * np.cos(t) + jitter[1]], 1))
    positive = np.arange(n) < half
    return _two_class(np.concatenate(arms), positive, o["labels"], ["arm 2", "arm 1"])


@dataset_kind("plane", PLAYGROUND_REGRESSION, "regression: y = (x1 + x2) / 10 on [−6, 6]², noise on the inputs")
def plane(o: dict[str, Any], rng: np.random.Generator, base_dir: Path | None) -> RawData:
    n, noise, radius = o["n"], o["noise"], 6.0
    p = rng.uniform(-radius, radius, (n, 2))
    shifted = p + rng.uniform(-radius, radius, (n, 2)) * noise
    y = (shifted[:, 0] + shifted[:, 1]) / 10.0
    return RawData(p.astype(np.float32), y.astype(np.float32)[:, None], "regression")


MULTIGAUSS = ((-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1))


@dataset_kind("multigauss", PLAYGROUND_REGRESSION, "regression: six signed Gaussian bumps on [−6, 6]²")
def multigauss(o: dict[str, Any], rng: np.random.Generator, base_dir: Path | None) -> RawData:
    n, noise, radius = o["n"], o["noise"], 6.0
    p = rng.uniform(-radius, radius, (n, 2))
    s = p + rng.uniform(-radius, radius, (n, 2)) * noise
    label = np.zeros(n)
    for cx, cy, sign in MULTIGAUSS:
        bump = sign * np.clip(1.0 - np.hypot(s[:, 0] - cx, s[:, 1] - cy) / 2.0, 0.0, 1.0)
        label = np.where(np.abs(bump) > np.abs(label), bump, label)
    return RawData(p.astype(np.float32), label.astype(np.float32)[:, None], "regression")


GATES = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "nand": (1, 1, 1, 0),
    "nor": (1, 0, 0, 0),
    "xor": (0, 1, 1, 0),
}


@dataset_kind(
    "logic",
    {
        "gate": Opt("nand", "truth table to learn", choices=tuple(GATES)),
        "labels": Opt("binary", "", choices=LABELS.choices),
    },
    "the four rows of a logic gate's truth table (inputs 0/1); NAND is the perceptron lesson's gate",
    default_split={"val": 0.0, "test": 0.0},
    default_standardize=False,
)
def logic(o: dict[str, Any], rng: np.random.Generator, base_dir: Path | None) -> RawData:
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    positive = np.array(GATES[o["gate"]], dtype=bool)
    return _two_class(X, positive, o["labels"], ["0", "1"])


@dataset_kind(
    "regression1d",
    {
        "n": Opt(100, "number of points", min=2, max=1_000_000),
        "a": Opt(2.0, "slope"),
        "b": Opt(1.0, "intercept"),
        "noise": Opt(0.5, "standard deviation of the Gaussian noise on y", min=0.0),
        "range": Opt(3.0, "x is drawn uniformly from [−range, range]", min=1e-6),
    },
    "noisy line y = a·x + b + noise (the notes' linear-regression figure)",
    default_standardize=False,
)
def regression1d(o: dict[str, Any], rng: np.random.Generator, base_dir: Path | None) -> RawData:
    x = rng.uniform(-o["range"], o["range"], o["n"])
    y = o["a"] * x + o["b"] + rng.normal(0, o["noise"], o["n"])
    return RawData(x.astype(np.float32)[:, None], y.astype(np.float32)[:, None], "regression")


def _sklearn_table(loader_name: str) -> RawData:
    from sklearn import datasets

    bunch = getattr(datasets, loader_name)()
    names = [str(t) for t in bunch.target_names]
    return RawData(bunch.data.astype(np.float32), bunch.target.astype(np.int64), "classification", len(names), names)


@dataset_kind("iris", {}, "scikit-learn's iris flowers: 4 measurements → 3 species (150 samples)")
def iris(o: dict[str, Any], rng: np.random.Generator, base_dir: Path | None) -> RawData:
    return _sklearn_table("load_iris")


@dataset_kind("wine", {}, "scikit-learn's wine: 13 chemical measurements → 3 cultivars (178 samples)")
def wine(o: dict[str, Any], rng: np.random.Generator, base_dir: Path | None) -> RawData:
    return _sklearn_table("load_wine")


@dataset_kind("breast_cancer", {}, "scikit-learn's breast cancer: 30 cell features → malignant/benign (569 samples)")
def breast_cancer(o: dict[str, Any], rng: np.random.Generator, base_dir: Path | None) -> RawData:
    return _sklearn_table("load_breast_cancer")


DATASET_KINDS = (circle, xor, gauss, spiral, plane, multigauss, logic, regression1d, iris, wine, breast_cancer)
