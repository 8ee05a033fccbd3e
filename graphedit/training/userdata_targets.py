"""Targets from a user's array: which task they make, their classes, and the fix-ups stated on the way."""

from __future__ import annotations

import numpy as np

from graphedit.training.dataset_types import DatasetError

AUTO_CLASSES = 20  # task auto: numbers that are all whole and take at most this many values are class labels


def classify_targets(
    y: np.ndarray | None, task: str, kind: str, source: str
) -> tuple[np.ndarray | None, str, list[str] | None, list[str]]:
    """``(y, task, class_names, notes)`` for targets ``y`` (one row per example) under option ``task``."""
    notes: list[str] = []
    where = f"dataset '{kind}'"
    if y is None:
        if task in ("classification", "regression"):
            raise DatasetError(
                f"{where}: task {task} needs targets, and {source} comes without any. Fix: give the targets "
                "(option y_path, or an array named by y_key in the .npz), or set task to reconstruction."
            )
        return None, "reconstruction", None, notes
    if task == "reconstruction":
        notes.append("task reconstruction: the targets are not used (the graph compares its output with its input)")
        return None, "reconstruction", None, notes
    y = np.asarray(y)
    if y.dtype.kind == "b":
        y = y.astype(np.int64)
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        row = int(np.flatnonzero(~np.isfinite(y.reshape(len(y), -1)).all(1))[0])
        raise DatasetError(f"{where}: target row {row} is NaN or infinite. Fix: fill in or leave out those rows.")
    if y.ndim == 2 and y.shape[1] == 1 and task != "regression":
        y = y[:, 0]
    if y.ndim == 2 and task != "regression" and y.dtype.kind in "iuf" and _one_hot(y):
        notes.append(f"one-hot targets ({y.shape[1]} columns) turned into class numbers")
        y = y.argmax(1)
    text = y.dtype.kind in "US"
    whole = text or bool(np.all(y == np.round(y)))
    if task == "auto":
        if y.ndim >= 3 and y.dtype.kind in "iu":
            return _segmentation(y, where, notes)
        few = y.ndim == 1 and whole and len(np.unique(y)) <= AUTO_CLASSES
        task = "classification" if text or y.dtype.kind in "iu" or few else "regression"
        if task == "classification" and y.dtype.kind == "f":
            notes.append("the targets are a few whole numbers: classification (set task to regression to predict them)")
    if task == "regression":
        if text:
            raise DatasetError(
                f"{where}: the targets are text ({y[0]!r}), and regression needs numbers. Fix: set "
                "task to classification or auto."
            )
        y = y.astype(np.float32)
        return (y[:, None] if y.ndim == 1 else y), "regression", None, notes
    if y.ndim != 1:
        raise DatasetError(
            f"{where}: classification needs one class per example, but the targets have shape {list(y.shape)}. "
            "Fix: save a 1-D array of class numbers or names (or one-hot rows), or set task to regression."
        )
    if not whole:
        raise DatasetError(
            f"{where}: the targets have fractional values ({y[~(y == np.round(y))][0]!r}), which "
            "cannot be class numbers. Fix: set task to regression, or save whole numbers."
        )
    classes, codes = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise DatasetError(
            f"{where}: every target is {classes[0]!r}, one class only, so there is nothing to tell apart. Fix: "
            "include examples of the other classes, or choose the right target array."
        )
    if not text and not np.array_equal(classes, np.arange(len(classes))):
        notes.append(f"class values {_few(classes)} renumbered 0 … {len(classes) - 1}")
    names = [str(c.item() if hasattr(c, "item") else c) for c in classes]
    return codes.astype(np.int64).reshape(len(y)), "classification", names, notes


def _segmentation(y: np.ndarray, where: str, notes: list[str]) -> tuple[np.ndarray, str, list[str], list[str]]:
    classes = np.unique(y)
    if classes.min() < 0:
        raise DatasetError(f"{where}: the masks hold negative class numbers. Fix: number the classes from 0.")
    k = int(classes.max()) + 1
    notes.append(f"integer targets of shape {list(y.shape[1:])}: segmentation masks with {k} classes")
    return y.astype(np.int64), "segmentation", [str(i) for i in range(k)], notes


def _one_hot(y: np.ndarray) -> bool:
    return y.shape[1] > 1 and bool(np.isin(y, (0, 1)).all()) and bool((y.sum(1) == 1).all())


def _few(values: np.ndarray) -> str:
    shown = ", ".join(str(v.item()) for v in values[:5])
    return shown + (", …" if len(values) > 5 else "")
