"""The parts a dataset is made of: options, raw samples, splits and metadata.

A dataset kind is a :class:`Builder` made by :func:`dataset_kind` from a generator
``fn(options, rng, base_dir) -> RawData``; the module that defines it lists it in
its ``DATASET_KINDS`` and :data:`graphedit.training.datasets.BUILTIN_MODULES` lists
the module. :mod:`graphedit.training.datasets` turns a spec into
:class:`DatasetSplits`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from graphedit.errors import GraphEditError
from graphedit.nodes.options import Option

TASKS = ("classification", "regression", "segmentation", "reconstruction", "sequence")
# A dataset with several inputs or targets names them: each name feeds the Input or Target node of that
# name (or the node the spec's ``bind`` maps it to), and X and y are dicts of those names.
Data = torch.Tensor | dict[str, torch.Tensor]
Batch = tuple[Data, "Data | None"]


def batch_len(X: torch.Tensor | dict[str, torch.Tensor] | np.ndarray | dict[str, np.ndarray]) -> int:
    """Examples in a batch (or a whole array), named fields or one tensor."""
    return len(next(iter(X.values()))) if isinstance(X, dict) else len(X)


def batch_shape(X: torch.Tensor | dict[str, torch.Tensor]) -> tuple:
    """The shapes of a batch's tensors: what a compiled network is specialised on (a new one recompiles it)."""
    return tuple((k, tuple(v.shape)) for k, v in X.items()) if isinstance(X, dict) else tuple(X.shape)


def _take(data: Any, index: Any) -> Any:
    return {k: v[index] for k, v in data.items()} if isinstance(data, dict) else data[index]


def _moved(data: Any, device: torch.device | str) -> Any:
    return {k: v.to(device) for k, v in data.items()} if isinstance(data, dict) else data.to(device)


class DatasetError(GraphEditError):
    """A dataset spec that cannot be loaded: unknown name, bad option, missing file."""


# --------------------------------------------------------------------- options
def Opt(  # noqa: N802 — reads as the type it makes, in the dataset kinds' tables of options
    default: Any,
    doc: str = "",
    min: float | None = None,  # noqa: A002 — the Option's field
    max: float | None = None,  # noqa: A002
    choices: tuple[Any, ...] = (),
    **more: Any,
) -> Option:
    """A dataset option: an :class:`Option` whose kind follows its default (``[]``: names) or its choices.

    Its name is filled in by :func:`dataset_kind` from the key of its table; check values with
    :func:`option_value`.
    """
    kind = "choice" if choices else OPT_KINDS[type(default)]
    return Option("", kind, default, doc, min=min, max=max, choices=choices, **more)


OPT_KINDS = {bool: "bool", int: "int", float: "float", str: "str", list: "names"}


def option_value(option: Option, value: Any, dataset: str) -> Any:
    """``value`` checked and in canonical form, or a :class:`DatasetError` naming the dataset and option."""
    return option.coerce(value, error=DatasetError, label=f"dataset '{dataset}': option '{option.name}'")


@dataclass
class RawData:
    """What a builder returns: all samples as numpy arrays, before splitting.

    With several inputs or targets, ``X`` and ``y`` are dicts of named arrays (one per Input/Target node).
    """

    X: np.ndarray | dict[str, np.ndarray]
    y: np.ndarray | dict[str, np.ndarray] | None
    task: str
    num_classes: int | None = None
    class_names: list[str] | None = None
    vocab: list[str] | None = None
    image: bool = False  # standardise with one mean/std over all pixels, not per feature
    labels: np.ndarray | None = None  # class numbers of a reconstruction set's samples: for plots, never trained on
    notes: list[str] = field(default_factory=list)  # fix-ups made while reading a user's file, shown in the editor


@dataclass(frozen=True)
class Builder:
    """One dataset kind: its generator, options and defaults. Calling it calls the generator."""

    name: str
    fn: Callable[[dict[str, Any], np.random.Generator, Path | None], RawData]
    options: dict[str, Option]
    doc: str
    default_split: dict[str, float] | None = None
    default_standardize: bool = True
    # the names of its inputs and targets given its options, for a dataset with several (None: one of each)
    names: Callable[[dict[str, Any]], tuple[list[str], list[str]] | None] | None = None

    def __call__(self, options: dict[str, Any], rng: np.random.Generator, base_dir: Path | None) -> RawData:
        return self.fn(options, rng, base_dir)


def dataset_kind(
    name: str,
    options: dict[str, Option],
    doc: str,
    default_split: dict[str, float] | None = None,
    default_standardize: bool = True,
    names: Callable[[dict[str, Any]], tuple[list[str], list[str]] | None] | None = None,
) -> Callable[[Callable], Builder]:
    """Decorator turning a generator ``fn(options, rng, base_dir) -> RawData`` into a :class:`Builder`.

    It registers nothing: the module lists its builders in ``DATASET_KINDS``, and
    :data:`graphedit.training.datasets.BUILTIN_MODULES` lists the module.
    """

    named = {key: replace(option, name=key) for key, option in options.items()}

    def wrap(fn: Callable) -> Builder:
        return Builder(name, fn, named, doc, default_split, default_standardize, names)

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

    def __init__(self, X: Any, y: Any, labels: torch.Tensor | None = None) -> None:
        if y is not None and batch_len(y) != batch_len(X):
            raise ValueError(f"X has {batch_len(X)} samples but y has {batch_len(y)}")
        self.X = X
        self.y = y
        self.labels = labels

    def __len__(self) -> int:
        return batch_len(self.X)

    def to(self, device: torch.device | str) -> InMemorySplit:
        labels = None if self.labels is None else self.labels.to(device)
        return InMemorySplit(_moved(self.X, device), None if self.y is None else _moved(self.y, device), labels)

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
        first = next(iter(data.X.values())) if isinstance(data.X, dict) else data.X
        order = torch.randperm(n, generator=generator).to(first.device) if shuffle else None
        for start in range(0, n, batch_size):
            idx = slice(start, start + batch_size) if order is None else order[start : start + batch_size]
            yield _take(data.X, idx), None if data.y is None else _take(data.y, idx)


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
    # named inputs and targets (a dataset with several): name -> {"shape": [...], "dtype": "..."}; None: one of each
    inputs: dict[str, dict[str, Any]] | None = None
    targets: dict[str, dict[str, Any]] | None = None

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
            **({"inputs": self.inputs, "targets": self.targets} if self.inputs is not None else {}),
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
