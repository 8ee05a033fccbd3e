"""Datasets described by a spec dict stored in the project.

A spec reads ``{"name": "circle", "options": {"n": 500, "noise": 0.1},
"split": {"val": 0.2, "test": 0.0}, "seed": 0, "standardize": true}``.
:func:`load_dataset` turns it into :class:`DatasetSplits`: ``train``, ``val``
and ``test`` splits (``None`` when empty) plus :class:`DatasetInfo`, the
metadata the trainer and the editor need (task, shapes, classes, vocab).

A split is either :class:`InMemorySplit` (tensors ``X``/``y`` that the trainer
moves to the training device once and cuts into batches by ``randperm``
indexing) or :class:`StreamedSplit` (a ``torch.utils.data.Dataset`` read
through a ``DataLoader``, for data too large for memory). Both answer
:meth:`Split.batches`, so the trainer does not care which it has.

Built-in generators register themselves in :data:`BUILDERS` (see
:mod:`graphedit.training.builtin_data`); everything here is deterministic
given the spec's seed, and standardisation is fitted on the training split only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from graphedit.errors import GraphEditError

TASKS = ("classification", "regression", "segmentation", "reconstruction", "sequence")
Batch = tuple[torch.Tensor, "torch.Tensor | None"]


class DatasetError(GraphEditError):
    """A dataset spec that cannot be loaded: unknown name, bad option, missing file."""


# --------------------------------------------------------------------- options
@dataclass(frozen=True)
class Opt:
    """One option of a built-in dataset: default, type, range or choices."""

    default: Any
    doc: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] = ()

    def coerce(self, name: str, value: Any, dataset: str) -> Any:
        where = f"dataset '{dataset}': option '{name}'"
        kind = type(self.default)
        if self.choices:
            if value not in self.choices:
                raise DatasetError(f"{where} must be one of {', '.join(map(str, self.choices))}; got {value!r}.")
            return value
        if kind is bool:
            if not isinstance(value, bool):
                raise DatasetError(f"{where} must be true or false, not {value!r}.")
            return value
        if kind is str:
            if not isinstance(value, str):
                raise DatasetError(f"{where} must be text, not {value!r}.")
            return value
        if kind is list:  # a list of names; the settings panel may give them as comma-separated text
            if isinstance(value, str):
                value = [part.strip() for part in value.split(",") if part.strip()]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise DatasetError(f'{where} must be a list of names such as ["a", "b"], not {value!r}.')
            return list(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise DatasetError(f"{where} must be a number, not {value!r}.")
        if kind is int:
            if float(value) != int(value):
                raise DatasetError(f"{where} must be a whole number, not {value!r}.")
            value = int(value)
        else:
            value = float(value)
        if self.min is not None and value < self.min:
            raise DatasetError(f"{where} is {value}, below its minimum {self.min:g}. Fix: use a value ≥ {self.min:g}.")
        if self.max is not None and value > self.max:
            raise DatasetError(f"{where} is {value}, above its maximum {self.max:g}. Fix: use a value ≤ {self.max:g}.")
        return value


@dataclass
class RawData:
    """What a builder returns: all samples as numpy arrays, before splitting."""

    X: np.ndarray
    y: np.ndarray | None
    task: str
    num_classes: int | None = None
    class_names: list[str] | None = None
    vocab: list[str] | None = None
    image: bool = False  # standardise with one mean/std over all pixels, not per feature
    labels: np.ndarray | None = None  # class numbers of a reconstruction set's samples: for plots, never trained on
    notes: list[str] = field(default_factory=list)  # fix-ups made while reading a user's file, shown in the editor


@dataclass(frozen=True)
class Builder:
    name: str
    fn: Callable[[dict[str, Any], np.random.Generator, Path | None], RawData]
    options: dict[str, Opt]
    doc: str
    default_split: dict[str, float] | None = None
    default_standardize: bool = True


BUILDERS: dict[str, Builder] = {}


def register(
    name: str,
    options: dict[str, Opt],
    doc: str,
    default_split: dict[str, float] | None = None,
    default_standardize: bool = True,
) -> Callable:
    """Decorator adding a built-in dataset generator ``fn(options, rng, base_dir) -> RawData``."""

    def wrap(fn: Callable) -> Callable:
        BUILDERS[name] = Builder(name, fn, options, doc, default_split, default_standardize)
        return fn

    return wrap


# ---------------------------------------------------------------------- splits
@runtime_checkable
class Split(Protocol):
    """One part of a dataset (train, val or test) that yields batches."""

    in_memory: bool

    def __len__(self) -> int: ...

    def batches(
        self,
        batch_size: int,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> Iterator[Batch]: ...


class InMemorySplit:
    """Samples held as tensors; ``y`` is ``None`` for reconstruction data, whose ``labels`` may name each
    sample's class for plots (the latent view colours digits by class)."""

    in_memory = True

    def __init__(self, X: torch.Tensor, y: torch.Tensor | None, labels: torch.Tensor | None = None) -> None:
        if y is not None and len(y) != len(X):
            raise ValueError(f"X has {len(X)} samples but y has {len(y)}")
        self.X = X
        self.y = y
        self.labels = labels

    def __len__(self) -> int:
        return len(self.X)

    def to(self, device: torch.device | str) -> InMemorySplit:
        labels = None if self.labels is None else self.labels.to(device)
        return InMemorySplit(self.X.to(device), None if self.y is None else self.y.to(device), labels)

    def batches(
        self,
        batch_size: int,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> Iterator[Batch]:
        data = self if device is None else self.to(device)
        n = len(data)
        # The permutation is drawn on the CPU generator so runs match across devices.
        order = torch.randperm(n, generator=generator).to(data.X.device) if shuffle else None
        for start in range(0, n, batch_size):
            if order is None:
                sl = slice(start, start + batch_size)
                yield data.X[sl], None if data.y is None else data.y[sl]
            else:
                idx = order[start : start + batch_size]
                yield data.X[idx], None if data.y is None else data.y[idx]


class StreamedSplit:
    """Samples read on demand from a ``torch.utils.data.Dataset`` of ``(x, y)`` pairs (``y`` may be ``None``).

    ``normalize=(mean, std)`` standardises each batch on the training device after the transfer, in ``dtype``
    (so ``uint8`` pixels cross the bus as bytes). A dataset whose ``__getitems__`` returns a ready
    ``(X, y)`` tuple for a whole batch (one vectorised read) is used as is; a list is collated item by item.
    """

    in_memory = False

    def __init__(
        self,
        dataset: torch.utils.data.Dataset,
        num_workers: int = 0,
        normalize: tuple[torch.Tensor, torch.Tensor] | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        self.dataset = dataset
        self.num_workers = num_workers
        self.normalize = normalize
        self.dtype = dtype

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def batches(
        self,
        batch_size: int,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> Iterator[Batch]:
        loader = torch.utils.data.DataLoader(
            self.dataset,
            batch_size=batch_size,
            shuffle=shuffle,
            generator=generator,
            num_workers=self.num_workers,
            collate_fn=_collate,
        )
        scale = None
        for X, y in loader:
            if device is not None:
                X = X.to(device, non_blocking=True)
                y = None if y is None else y.to(device, non_blocking=True)
            if self.dtype is not None:
                X = X.to(self.dtype)
            if self.normalize is not None:
                if scale is None or scale[0].device != X.device:
                    scale = tuple(t.to(X.device, X.dtype) for t in self.normalize)
                X = (X - scale[0]) / scale[1]
            yield X, y


def _collate(items: Any) -> Batch:
    if isinstance(items, tuple):  # already a batch, from the dataset's __getitems__
        return items
    xs = torch.stack([torch.as_tensor(x) for x, _ in items])
    if items[0][1] is None:
        return xs, None
    return xs, torch.stack([torch.as_tensor(y) for _, y in items])


# -------------------------------------------------------------------- metadata
@dataclass
class DatasetInfo:
    """What the trainer, the editor and exports need to know about a dataset."""

    name: str
    task: str
    feature_shape: tuple[int, ...]
    feature_dtype: str
    target_shape: tuple[int, ...] | None
    target_dtype: str | None
    num_classes: int | None = None
    class_names: list[str] | None = None
    vocab: list[str] | None = None
    sizes: dict[str, int] = field(default_factory=dict)
    standardization: dict[str, Any] | None = None  # {"mean": float | list, "std": ...} fitted on train
    notes: list[str] = field(default_factory=list)  # stated fix-ups ("3 rows with missing values dropped")
    streamed: bool = False  # read from disk batch by batch instead of held in memory

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "task": self.task,
            "feature_shape": list(self.feature_shape),
            "feature_dtype": self.feature_dtype,
            "target_shape": None if self.target_shape is None else list(self.target_shape),
            "target_dtype": self.target_dtype,
            "num_classes": self.num_classes,
            "class_names": self.class_names,
            "vocab": self.vocab,
            "sizes": dict(self.sizes),
            "standardization": self.standardization,
            "notes": list(self.notes),
            "streamed": self.streamed,
        }


@dataclass
class DatasetSplits:
    train: Split
    val: Split | None
    test: Split | None
    info: DatasetInfo
    spec: dict[str, Any]
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None  # applied by the trainer to training batches

    def split(self, name: str) -> Split | None:
        return {"train": self.train, "val": self.val, "test": self.test}[name]


# --------------------------------------------------------------------- loading
def dataset_names() -> list[str]:
    _ensure_builtins()
    return sorted(BUILDERS)


def normalize_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with every default filled in and every option checked; raises :class:`DatasetError`."""
    _ensure_builtins()
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise DatasetError(
            f'the dataset spec {spec!r} has no name. Fix: give one such as {{"name": "circle"}}; '
            f"built-in datasets are {', '.join(sorted(BUILDERS))}."
        )
    name = spec["name"]
    if name not in BUILDERS:
        raise DatasetError(
            f"unknown dataset '{name}'. Fix: use one of the built-in datasets: {', '.join(sorted(BUILDERS))}."
        )
    builder = BUILDERS[name]
    unknown = sorted(set(spec) - {"name", "options", "split", "seed", "standardize", "augment"})
    if unknown:
        raise DatasetError(f"dataset spec has unknown key(s) {', '.join(unknown)}. Fix: remove them.")
    given = spec.get("options") or {}
    bad = sorted(set(given) - set(builder.options))
    if bad:
        raise DatasetError(
            f"dataset '{name}' has no option {', '.join(map(repr, bad))}. "
            f"Fix: use its options: {', '.join(sorted(builder.options)) or 'none'}."
        )
    options = {k: o.coerce(k, given.get(k, o.default), name) for k, o in builder.options.items()}
    split = dict(builder.default_split or {"val": 0.2, "test": 0.0})
    split.update(spec.get("split") or {})
    for key, value in split.items():
        if key not in ("val", "test") or isinstance(value, bool) or not isinstance(value, (int, float)):
            raise DatasetError(f"dataset '{name}': split {key}={value!r} is invalid. Fix: use val and test fractions.")
        if not 0.0 <= value < 1.0:
            raise DatasetError(f"dataset '{name}': split {key}={value} must lie in [0, 1).")
    if split["val"] + split["test"] >= 1.0:
        raise DatasetError(f"dataset '{name}': val + test = {split['val'] + split['test']:g} leaves no training data.")
    seed = spec.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DatasetError(f"dataset '{name}': seed must be a whole number ≥ 0, not {seed!r}.")
    standardize = spec.get("standardize", builder.default_standardize)
    if not isinstance(standardize, bool):
        raise DatasetError(f"dataset '{name}': standardize must be true or false, not {standardize!r}.")
    normalized = {
        "name": name,
        "options": options,
        "split": {"val": float(split["val"]), "test": float(split["test"])},
        "seed": seed,
        "standardize": standardize,
    }
    if spec.get("augment"):
        from graphedit.training.augment import normalize_augment

        normalized["augment"] = normalize_augment(spec["augment"], name)
    return normalized


def load_dataset(spec: dict[str, Any], base_dir: str | Path | None = None) -> DatasetSplits:
    """Build the dataset a spec describes; ``base_dir`` resolves relative file paths (the project's folder)."""
    spec = normalize_spec(spec)
    builder = BUILDERS[spec["name"]]
    rng = np.random.default_rng(spec["seed"])
    raw = builder.fn(spec["options"], rng, Path(base_dir) if base_dir is not None else None)
    n = len(raw.X) if isinstance(raw, RawData) else len(raw)
    order = np.random.default_rng([spec["seed"], 1]).permutation(n)
    n_test = int(round(spec["split"]["test"] * n))
    n_val = int(round(spec["split"]["val"] * n))
    if n - n_test - n_val < 1:
        raise DatasetError(f"dataset '{spec['name']}' has {n} samples; the split leaves none for training.")
    parts = {"test": order[:n_test], "val": order[n_test : n_test + n_val], "train": order[n_test + n_val :]}
    if not isinstance(raw, RawData):  # a LazyData source: too large for memory, read batch by batch
        from graphedit.training.streaming import streamed_splits

        return _with_augment(streamed_splits(spec, raw, parts))
    X = raw.X
    stats = None
    if spec["standardize"] and np.issubdtype(X.dtype, np.floating):
        X, stats = _standardize(X, parts["train"], raw.image)
    splits: dict[str, InMemorySplit | None] = {}
    for key, idx in parts.items():
        if len(idx) == 0:
            splits[key] = None
            continue
        Xs = torch.from_numpy(np.ascontiguousarray(X[idx]))
        ys = None if raw.y is None else torch.from_numpy(np.ascontiguousarray(raw.y[idx]))
        labels = None if raw.labels is None else torch.from_numpy(np.ascontiguousarray(raw.labels[idx]))
        splits[key] = InMemorySplit(Xs, ys, labels)
    info = DatasetInfo(
        name=spec["name"],
        task=raw.task,
        feature_shape=tuple(raw.X.shape[1:]),
        feature_dtype=str(raw.X.dtype),
        target_shape=None if raw.y is None else tuple(raw.y.shape[1:]),
        target_dtype=None if raw.y is None else str(raw.y.dtype),
        num_classes=raw.num_classes,
        class_names=raw.class_names,
        vocab=raw.vocab,
        sizes={k: len(v) for k, v in parts.items()},
        standardization=stats,
        notes=list(raw.notes),
    )
    return _with_augment(DatasetSplits(splits["train"], splits["val"], splits["test"], info, spec))  # type: ignore[arg-type]


def _with_augment(data: DatasetSplits) -> DatasetSplits:
    if data.spec.get("augment"):
        from graphedit.training.augment import make_augmenter

        data.augment = make_augmenter(data.spec["augment"], data.info, data.spec["seed"])
    return data


def _standardize(X: np.ndarray, train_idx: np.ndarray, image: bool) -> tuple[np.ndarray, dict[str, Any]]:
    train = X[train_idx].astype(np.float64)
    if image:
        mean, std = float(train.mean()), float(train.std())
        std = std if std > 1e-12 else 1.0
        return ((X - mean) / std).astype(np.float32), {"mean": mean, "std": std}
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std = np.where(std > 1e-12, std, 1.0)
    out = ((X - mean) / std).astype(np.float32)
    return out, {"mean": mean.astype(np.float32).tolist(), "std": std.astype(np.float32).tolist()}


def _ensure_builtins() -> None:
    from graphedit.training import builtin_data  # noqa: F401  (registers the built-in generators)
