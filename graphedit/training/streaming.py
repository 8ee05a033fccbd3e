"""Datasets too large for memory: read batch by batch from disk (DESIGN.md decision 6).

A builder returns :class:`LazyData` instead of :class:`~graphedit.training.datasets.RawData`
when its samples do not fit under the memory limit: a *source* that reads any set
of rows (a memory-mapped ``.npy`` array, a folder of images decoded on demand)
plus the metadata the trainer needs. :func:`streamed_splits` cuts it into train,
val and test :class:`~graphedit.training.datasets.StreamedSplit`\\ s over the same
seeded permutation as in-memory data, and fits standardisation on a sample of
the training rows only, read in small chunks so memory stays bounded.

Each batch is one vectorised read: the DataLoader hands the batch's indices to
:meth:`SourceSubset.__getitems__`, which sorts them (sequential disk access) and
asks the source for all rows at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch

from graphedit.training.dataset_types import DatasetInfo, DatasetSplits, StreamedSplit

STANDARDIZE_SAMPLE = 2048  # training rows read to fit the mean and standard deviation
CHUNK_ROWS = 64


class Source(Protocol):
    """Rows of a dataset on disk."""

    def __len__(self) -> int: ...

    def read(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Features and targets of ``rows`` (sorted ascending), as numpy arrays."""
        ...


@dataclass
class LazyData:
    """What a builder returns for data read from disk batch by batch.

    ``source.read`` gives features in their stored type (``uint8`` pixels, say); batches are then
    converted to ``feature_dtype`` on the training device and divided by ``scale`` (255 for bytes).
    """

    source: Source
    feature_shape: tuple[int, ...]
    feature_dtype: str
    target_shape: tuple[int, ...] | None
    target_dtype: str | None
    task: str
    num_classes: int | None = None
    class_names: list[str] | None = None
    vocab: list[str] | None = None
    image: bool = False
    scale: float = 1.0
    num_workers: int = 0
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.source)


class SourceSubset(torch.utils.data.Dataset):
    """The rows ``indices`` of a source, as a map-style dataset whose batches are single reads."""

    def __init__(self, source: Source, indices: np.ndarray) -> None:
        self.source = source
        self.indices = np.asarray(indices, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        X, y = self.__getitems__([i])
        return X[0], None if y is None else y[0]

    def __getitems__(self, items: list[int]) -> tuple[torch.Tensor, torch.Tensor | None]:
        rows = np.sort(self.indices[np.asarray(items, dtype=np.int64)])
        X, y = self.source.read(rows)
        return torch.from_numpy(np.ascontiguousarray(X)), None if y is None else torch.from_numpy(
            np.ascontiguousarray(y)
        )


def streamed_splits(spec: dict[str, Any], lazy: LazyData, parts: dict[str, np.ndarray]) -> DatasetSplits:
    """Train/val/test :class:`StreamedSplit`\\ s of ``lazy`` over the index sets ``parts``."""
    floating = lazy.feature_dtype.startswith("float")
    dtype = getattr(torch, lazy.feature_dtype) if floating else None
    stats = None
    normalize = None
    if floating and spec["standardize"]:
        mean, std = _fit(lazy, parts["train"])
        stats = (
            {"mean": float(mean), "std": float(std)}
            if lazy.image
            else {"mean": mean.astype(np.float32).tolist(), "std": std.astype(np.float32).tolist()}
        )
        # in stored units: (x / scale - mean) / std == (x - mean·scale) / (std·scale)
        normalize = (_tensor(np.multiply(mean, lazy.scale)), _tensor(np.multiply(std, lazy.scale)))
    elif floating and lazy.scale != 1.0:
        normalize = (_tensor(0.0), _tensor(lazy.scale))
    splits: dict[str, StreamedSplit | None] = {}
    for key, idx in parts.items():
        subset = SourceSubset(lazy.source, idx)
        splits[key] = StreamedSplit(subset, lazy.num_workers, normalize, dtype) if len(idx) else None
    info = DatasetInfo(
        name=spec["name"],
        task=lazy.task,
        feature_shape=tuple(lazy.feature_shape),
        feature_dtype=lazy.feature_dtype,
        target_shape=lazy.target_shape,
        target_dtype=lazy.target_dtype,
        num_classes=lazy.num_classes,
        class_names=lazy.class_names,
        vocab=lazy.vocab,
        sizes={k: len(v) for k, v in parts.items()},
        standardization=stats,
        notes=lazy.notes,  # the same list: a source may add a note while it reads (an image that fails to decode)
        streamed=True,
    )
    return DatasetSplits(splits["train"], splits["val"], splits["test"], info, spec)  # type: ignore[arg-type]


def _tensor(value: Any) -> torch.Tensor:
    return torch.as_tensor(np.asarray(value, dtype=np.float32))


def _fit(lazy: LazyData, train: np.ndarray) -> tuple[Any, Any]:
    """Mean and standard deviation (one each for images, else per feature) of a sample of training rows."""
    rng = np.random.default_rng(0)
    sample = np.sort(rng.permutation(train)[:STANDARDIZE_SAMPLE])
    total = sq = None
    count = 0
    for start in range(0, len(sample), CHUNK_ROWS):
        X, _ = lazy.source.read(sample[start : start + CHUNK_ROWS])
        X = X.astype(np.float64) / lazy.scale
        if lazy.image:
            s, q, c = X.sum(), np.square(X).sum(), X.size
        else:
            s, q, c = X.sum(0), np.square(X).sum(0), len(X)
        total = s if total is None else total + s
        sq = q if sq is None else sq + q
        count += c
    mean = total / count
    std = np.sqrt(np.maximum(sq / count - np.square(mean), 0.0))
    std = np.where(std > 1e-12, std, 1.0)
    return (mean, std) if not lazy.image else (float(mean), float(std))
