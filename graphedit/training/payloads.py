"""The probe payloads: what a :class:`~graphedit.training.events.ProbeEvent` carries to the live views.

Plain dicts of numpy arrays, floats and strings (they pickle to the editor as they are), typed here so the
producers (:mod:`~graphedit.training.probes`, :mod:`~graphedit.training.probe_extras`, the trainer's confusion
matrix), the live views and the tests share one declaration. Keys a payload may lack are marked ``NotRequired``.
No torch, no Qt.
"""

from typing import Literal

import numpy as np
from typing_extensions import NotRequired, TypedDict


class ActivationStats(TypedDict):
    """One node's output on the probe batch: statistics and a histogram (``hist`` counts over ``edges``)."""

    mean: float
    std: float
    zeros: float  # fraction of exact zeros
    min: float
    max: float
    hist: np.ndarray  # [BINS]
    edges: np.ndarray  # [BINS + 1]


class GradientStats(TypedDict):
    """One node's weights after the training step: their gradient norm and their norm."""

    grad_norm: float
    weight_norm: float


class RegionGrid(TypedDict):
    """The extent of the grid the regions are computed on: ``dims`` 2 is a plane, 1 a line along x."""

    x: list[float]
    y: NotRequired[list[float]]
    size: int
    dims: int


class Regions(TypedDict, total=False):
    """Every 2-D node output on the grid: ``maps[node]`` is ``[units, G, G]`` (``[units, 4G]`` for 1-D inputs)."""

    grid: RegionGrid
    maps: dict[str, np.ndarray]
    outputs: list[str]
    prediction: str | None  # the map of the model's output


class Points(TypedDict):
    """A fixed subsample of the 1-D or 2-D training points: ``x`` [N, D], labels or values ``y`` [N]."""

    x: np.ndarray
    y: NotRequired[np.ndarray]


class Predictions(TypedDict):
    """A few probe images with the predicted class, its probability and the true class."""

    images: np.ndarray  # [N, C, H, W]
    pred: np.ndarray  # [N]
    true: np.ndarray  # [N]
    confidence: np.ndarray  # [N]
    class_names: list[str] | None


class Reconstructions(TypedDict):
    """Probe inputs beside the network's outputs (and the targets, for segmentation)."""

    inputs: np.ndarray
    outputs: np.ndarray
    targets: NotRequired[np.ndarray]


class TextSample(TypedDict):
    """Text the character model continues from a probe window, greedily and sampled at ``temperature``."""

    seed: str
    greedy: str
    random: str
    temperature: float


class LatentPlane(TypedDict):
    """A VAE's latent plane: μ of a few hundred examples and the decoder's outputs on a grid of z."""

    node: str  # the Reparameterize node
    mu: np.ndarray  # [N, 2]
    labels: NotRequired[np.ndarray]  # [N]
    grid: np.ndarray  # [K, K, 2]: row i is z₂ = ys[i], column j is z₁ = xs[j]
    samples: NotRequired[np.ndarray]  # [K, K, H, W] or [K, K, H, W, 3]
    pixel_range: NotRequired[list[float]]


class ProbePayload(TypedDict):
    """What one probe saw, every N steps on the fixed probe batch (see :mod:`graphedit.training.probes`)."""

    kind: Literal["probe"]
    step: int
    epoch: int
    activations: dict[str, ActivationStats]
    gradients: dict[str, GradientStats]
    inner_gradients: NotRequired[dict[str, GradientStats]]  # inner nodes of block copies, by path (layer1[1]/conv1)
    seconds: NotRequired[float]  # time the probe took
    feature_maps: NotRequired[dict[str, np.ndarray]]  # per Conv2d node, [C, H, W] of the first probe sample
    filters: NotRequired[dict[str, np.ndarray]]  # the first Conv2d's weights [F, C, k, k]
    regions: NotRequired[Regions]
    points: NotRequired[Points]
    predictions: NotRequired[Predictions]
    reconstructions: NotRequired[Reconstructions]
    samples: NotRequired[TextSample]
    latent: NotRequired[LatentPlane]


class ConfusionPayload(TypedDict):
    """The confusion matrix on the validation split, once per epoch (classification)."""

    kind: Literal["confusion"]
    epoch: int
    matrix: np.ndarray  # [classes, classes]: rows true, columns predicted
    class_names: list[str] | None


Payload = ProbePayload | ConfusionPayload
