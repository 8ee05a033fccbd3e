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

Dataset kinds are listed in one place, :data:`BUILTIN_MODULES` (each module
names its kinds in ``DATASET_KINDS``), as node types are in
:mod:`graphedit.nodes.registry`; the parts a dataset is made of live in
:mod:`graphedit.training.dataset_types`. Everything here is deterministic given
the spec's seed, and standardisation is fitted on the training split only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from graphedit.training import (
    builtin_data,
    builtin_images,
    builtin_text,
    userdata_csv,
    userdata_images,
    userdata_numpy,
    userdata_paired,
    userdata_text,
)
from graphedit.training.dataset_types import (
    Builder,
    DatasetError,
    DatasetInfo,
    DatasetSplits,
    InMemorySplit,
    Opt,
    RawData,
    Split,
    StreamedSplit,
    batch_len,
    option_value,
)

__all__ = [
    "BUILDERS",
    "BUILTIN_MODULES",
    "Builder",
    "DatasetError",
    "DatasetInfo",
    "DatasetSplits",
    "InMemorySplit",
    "Opt",
    "RawData",
    "Split",
    "StreamedSplit",
    "dataset_names",
    "option_value",
    "load_dataset",
    "normalize_spec",
]

# Dataset-kind modules in the order the Training panel lists them; each names its kinds in DATASET_KINDS.
BUILTIN_MODULES = (
    builtin_data,
    builtin_images,
    builtin_text,
    userdata_csv,
    userdata_images,
    userdata_numpy,
    userdata_paired,
    userdata_text,
)
BUILDERS: dict[str, Builder] = {kind.name: kind for module in BUILTIN_MODULES for kind in module.DATASET_KINDS}


# --------------------------------------------------------------------- loading
def dataset_names() -> list[str]:
    return sorted(BUILDERS)


def normalize_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with every default filled in and every option checked; raises :class:`DatasetError`."""
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
    unknown = sorted(set(spec) - {"name", "options", "split", "seed", "standardize", "augment", "bind"})
    if unknown:
        raise DatasetError(f"dataset spec has unknown key(s) {', '.join(unknown)}. Fix: remove them.")
    given = spec.get("options") or {}
    bad = sorted(set(given) - set(builder.options))
    if bad:
        raise DatasetError(
            f"dataset '{name}' has no option {', '.join(map(repr, bad))}. "
            f"Fix: use its options: {', '.join(sorted(builder.options)) or 'none'}."
        )
    options = {k: option_value(o, given.get(k, o.defaults()), name) for k, o in builder.options.items()}
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
    if spec.get("bind"):
        normalized["bind"] = _normalize_bind(spec["bind"], name)
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
    n = batch_len(raw.X) if isinstance(raw, RawData) else len(raw)
    order = np.random.default_rng([spec["seed"], 1]).permutation(n)
    n_test = int(round(spec["split"]["test"] * n))
    n_val = int(round(spec["split"]["val"] * n))
    if n - n_test - n_val < 1:
        raise DatasetError(f"dataset '{spec['name']}' has {n} samples; the split leaves none for training.")
    parts = {"test": order[:n_test], "val": order[n_test : n_test + n_val], "train": order[n_test + n_val :]}
    if not isinstance(raw, RawData):  # a LazyData source: too large for memory, read batch by batch
        from graphedit.training.streaming import streamed_splits

        return _with_augment(streamed_splits(spec, raw, parts))
    if isinstance(raw.X, dict):
        if spec.get("augment"):
            raise DatasetError(
                f"dataset '{spec['name']}' has several inputs; augmentation transforms one. Fix: turn augmentation off."
            )
        return _named_splits(spec, raw, parts)
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


def _normalize_bind(bind: Any, name: str) -> dict[str, str]:
    """``{"left": "input_a"}``: the node each named array or column group feeds, where their names differ."""
    if not isinstance(bind, dict) or not all(isinstance(k, str) and isinstance(v, str) and v for k, v in bind.items()):
        raise DatasetError(
            f'dataset \'{name}\': bind must map data names to node ids, such as {{"left": "input1"}}, not {bind!r}. '
            "Fix: name the node each array or column group feeds."
        )
    nodes = list(bind.values())
    twice = sorted({n for n in nodes if nodes.count(n) > 1})
    if twice:
        raise DatasetError(
            f"dataset '{name}': bind feeds node(s) {', '.join(map(repr, twice))} from more than one name. "
            "Fix: map each node from one array or column group."
        )
    return dict(bind)


def _named_splits(spec: dict[str, Any], raw: RawData, parts: dict[str, np.ndarray]) -> DatasetSplits:
    """Splits of a dataset with named inputs and targets, keyed by the node each name feeds (``bind``)."""
    bind = spec.get("bind") or {}
    X, y = dict(raw.X), dict(raw.y or {})  # type: ignore[arg-type]
    stats: dict[str, Any] = {}
    if spec["standardize"]:
        for key, array in X.items():
            if np.issubdtype(array.dtype, np.floating):
                X[key], stats[key] = _standardize(array, parts["train"], raw.image or array.ndim >= 3)

    def renamed(fields: dict[str, np.ndarray], idx: np.ndarray) -> dict[str, torch.Tensor]:
        return {bind.get(k, k): torch.from_numpy(np.ascontiguousarray(v[idx])) for k, v in fields.items()}

    splits = {
        key: InMemorySplit(renamed(X, idx), renamed(y, idx) if y else None) if len(idx) else None
        for key, idx in parts.items()
    }

    def described(fields: dict[str, np.ndarray]) -> dict[str, dict[str, Any]]:
        return {
            bind.get(k, k): {"shape": list(v.shape[1:]), "dtype": str(v.dtype), "name": k} for k, v in fields.items()
        }

    first_x = next(iter(raw.X.values()))  # type: ignore[union-attr]
    first_y = next(iter(y.values())) if y else None
    info = DatasetInfo(
        name=spec["name"],
        task=raw.task,
        feature_shape=tuple(first_x.shape[1:]),
        feature_dtype=str(first_x.dtype),
        target_shape=None if first_y is None else tuple(first_y.shape[1:]),
        target_dtype=None if first_y is None else str(first_y.dtype),
        num_classes=raw.num_classes,
        class_names=raw.class_names,
        sizes={k: len(v) for k, v in parts.items()},
        standardization=stats or None,
        notes=list(raw.notes),
        inputs=described(raw.X),  # type: ignore[arg-type]
        targets=described(y),
    )
    return DatasetSplits(splits["train"], splits["val"], splits["test"], info, spec)  # type: ignore[arg-type]
