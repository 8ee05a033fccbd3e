"""Dataset kind ``numpy``: features and targets saved with ``numpy.save`` / ``numpy.savez``.

Either ``path`` is a ``.npy`` of features and ``y_path`` a ``.npy`` of targets
(empty: no targets, an autoencoder's data), or ``path`` is a ``.npz`` holding
both under the keys ``x_key`` and ``y_key``. Files are recognised by their
content, not their extension, and nothing is unpickled.

Arrays larger than the memory limit are opened memory-mapped
(``np.load(mmap_mode="r")``; an uncompressed ``.npz`` member is mapped at its
offset inside the archive) and served through a ``StreamedSplit``, a batch at a
time. Layout fix-ups, all stated in the notes: ``uint8`` pixels are scaled to
0–1, ``[N, H, W]`` grey images get a channel axis, channels-last ``[N, H, W, C]``
images become ``[N, C, H, W]``, one-hot targets become class indices.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from graphedit.training.dataset_types import DatasetError, Opt, RawData, dataset_kind
from graphedit.training.streaming import LazyData
from graphedit.training.userdata import fix_for, mb, memory_limit, not_what_it_says, resolve, short_list, sniff
from graphedit.training.userdata_targets import classify_targets

OPTIONS = {
    "path": Opt("", ".npy file of features, or .npz holding features and targets (relative to the project)"),
    "y_path": Opt("", ".npy file of targets for a .npy of features; empty: none (reconstruction)"),
    "x_key": Opt("x", "name of the features array in a .npz"),
    "y_key": Opt("y", "name of the targets array in a .npz; a missing one means no targets"),
    "task": Opt(
        "auto",
        "auto: whole-number or text targets are classes, fractional ones regression, none reconstruction",
        choices=("auto", "classification", "regression", "reconstruction"),
    ),
    "memory_limit_mb": Opt(0.0, "stream from disk when the features exceed this (0: GraphEdit's default)", min=0.0),
    "inputs": Opt([], "arrays of the .npz that feed Input nodes of the same name (several inputs); empty: x_key"),
    "targets": Opt([], "arrays of the .npz that feed Target nodes of the same name, with option inputs"),
}


@dataclass
class Arrays:
    """The opened arrays (memory-mapped when large) and how to lay out a batch of them."""

    X: np.ndarray
    y: np.ndarray | None
    x_name: str
    streamed: bool
    layout: str = ""  # "", "add_channel", "channels_last", "column"
    notes: list[str] = field(default_factory=list)


def _open(path: Path, key: str | None, limit: int, label: str) -> tuple[np.ndarray, bool]:
    """One array: loaded when it fits under ``limit`` bytes, else memory-mapped (``streamed`` is True)."""
    if key is None:
        with open(path, "rb") as f:
            shape, _, dtype = _header(f, path, label)
        big = int(np.prod(shape)) * dtype.itemsize > limit
        try:
            return np.load(path, mmap_mode="r" if big else None, allow_pickle=False), big
        except ValueError as exc:
            raise _broken(path, label, exc) from None
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(key + ".npy")
        with z.open(info) as f:
            shape, fortran, dtype = _header(f, path, label)
        size = int(np.prod(shape)) * dtype.itemsize
        if size <= limit:
            try:
                with z.open(info) as f:
                    return np.lib.format.read_array(f, allow_pickle=False), False
            except ValueError as exc:
                raise _broken(path, label, exc) from None
        if info.compress_type != zipfile.ZIP_STORED:
            raise DatasetError(
                f"dataset 'numpy': array '{key}' in {path.name} is {mb(size)}, above the memory limit of "
                f"{mb(limit)}, and compressed (numpy.savez_compressed), so it cannot be read a piece at "
                "a time. Fix: save it uncompressed with numpy.savez or numpy.save, or raise memory_limit_mb."
            )
    with open(path, "rb") as raw:  # an uncompressed member: map it where it lies inside the archive
        raw.seek(info.header_offset + 26)
        name_len, extra_len = np.frombuffer(raw.read(4), dtype="<u2")
        raw.seek(info.header_offset + 30 + int(name_len) + int(extra_len))
        _header(raw, path, label)
        offset = raw.tell()
    order = "F" if fortran else "C"
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape, order=order), True


def _header(f: Any, path: Path, label: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    fmt = np.lib.format
    try:
        version = fmt.read_magic(f)
        read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, fortran, dtype = read(f)
    except ValueError as exc:
        raise _broken(path, label, exc) from None
    if dtype.hasobject:
        raise DatasetError(
            f"dataset 'numpy': {label} in {path.name} holds Python objects, which GraphEdit never unpickles. "
            "Fix: save a numeric (or text) array, e.g. numpy.asarray(x, dtype='float32')."
        )
    return tuple(shape), bool(fortran), dtype


def _broken(path: Path, label: str, exc: Exception) -> DatasetError:
    return DatasetError(
        f"dataset 'numpy': {label} in {path.name} cannot be read ({str(exc).splitlines()[0]}); the file is "
        "damaged or cut short. Fix: save the array again with numpy.save."
    )


def _npy(o: dict[str, Any], base_dir: Path | None, option: str) -> Path:
    path = resolve("numpy", o[option], base_dir, option=option)
    kind, what = sniff(path)
    if kind != "npy":
        if kind in ("npz", "zip") and option == "path":
            return path
        expected = "a NumPy .npy or .npz file" if option == "path" else "a NumPy .npy file"
        raise not_what_it_says(
            "numpy",
            path,
            expected,
            what,
            fix_for(kind) if kind != "npz" else "give the .npz as option path, with x_key and y_key.",
        )
    return path


def open_arrays(o: dict[str, Any], base_dir: Path | None, force_mmap: bool = False) -> Arrays:
    """Open the features and targets the options name; checks lengths, types and layout."""
    limit = 0 if force_mmap else memory_limit(o["memory_limit_mb"])
    path = _npy(o, base_dir, "path")
    notes: list[str] = []
    if sniff(path)[0] == "npy":
        X, big = _open(path, None, limit, "the features")
        y_big = False
        y = None
        if o["y_path"]:
            y, y_big = _open(_npy(o, base_dir, "y_path"), None, limit, "the targets")
        x_name = path.name
    else:
        try:
            with zipfile.ZipFile(path) as z:
                keys = [n[:-4] for n in z.namelist() if n.endswith(".npy")]
        except zipfile.BadZipFile:
            raise DatasetError(
                f"dataset 'numpy': {path.name} is a damaged ZIP (.npz) archive. Fix: save it again with numpy.savez."
            ) from None
        x_key = _key(keys, o["x_key"], notes)
        if x_key is None:
            raise DatasetError(
                f"dataset 'numpy': {path.name} has no array named {o['x_key']!r}; it holds {short_list(keys, 10)}. "
                "Fix: set x_key (and y_key) to the names used with numpy.savez."
            )
        X, big = _open(path, x_key, limit, f"array '{x_key}'")
        y_key = _key(keys, o["y_key"], notes)
        y, y_big = _open(path, y_key, limit, f"array '{y_key}'") if y_key is not None else (None, False)
        if y_key is None and len(keys) > 1:
            notes.append(f"no array {o['y_key']!r} in {path.name} (it holds {short_list(keys, 6)}): no targets")
        x_name = f"array '{x_key}' of {path.name}"
    if y is not None and y_big:
        y = np.asarray(y)  # targets are read whole: one value (or a few) per example
    arrays = Arrays(X, y, x_name, big, notes=notes)
    _check_layout(arrays)
    return arrays


def _key(keys: list[str], wanted: str, notes: list[str]) -> str | None:
    if wanted in keys:
        return wanted
    folded = [k for k in keys if k.lower() == wanted.lower()]
    if len(folded) == 1:
        notes.append(f"used array {folded[0]!r} for {wanted!r} (the names differ in case)")
        return folded[0]
    return None


def _check_layout(a: Arrays) -> None:
    X = a.X
    if X.ndim == 0 or len(X) == 0:
        raise DatasetError(
            f"dataset 'numpy': {a.x_name} holds no examples (shape {list(X.shape)}). Fix: save an "
            "array with one row per example."
        )
    if X.dtype.kind not in "biuf":
        raise DatasetError(
            f"dataset 'numpy': {a.x_name} has type {X.dtype}, not numbers. Fix: save numbers (float32 for "
            "measurements and pixels, integers for character or token indices)."
        )
    if a.y is not None and len(a.y) != len(X):
        raise DatasetError(
            f"dataset 'numpy': the features have {len(X)} rows but the targets have {len(a.y)}. Fix: save one "
            "target per example, in the same order."
        )
    if X.ndim == 1:
        a.layout = "column"
        a.notes.append(f"{a.x_name} is one number per example: used as a single feature [N, 1]")
    elif X.ndim == 3:
        a.layout = "add_channel"
        a.notes.append(f"{a.x_name} has shape {list(X.shape)}: read as grey images [N, 1, H, W]")
    elif X.ndim == 4 and X.shape[3] in (1, 3, 4) and X.shape[1] not in (1, 3, 4):
        a.layout = "channels_last"
        a.notes.append(f"{a.x_name} has shape {list(X.shape)}: channels last, moved first → [N, C, H, W]")
    if X.dtype == np.uint8:
        a.notes.append("pixel bytes 0–255 scaled to 0–1")


def convert(a: Arrays, X: np.ndarray) -> np.ndarray:
    """A block of feature rows in the model's layout and type (still bytes for uint8; see ``scale``)."""
    if a.layout in ("column", "add_channel"):
        X = X[:, None]
    elif a.layout == "channels_last":
        X = X.transpose(0, 3, 1, 2)
    if X.dtype.kind == "f" or X.dtype == np.bool_:
        return X.astype(np.float32, copy=False)
    if X.dtype == np.uint8:
        return X
    return X.astype(np.int64, copy=False)


def check_finite(a: Arrays, limit: int) -> None:
    """Refuse NaN or infinite features, naming the first row; reads a memory-mapped array in chunks."""
    if a.X.dtype.kind != "f":
        return
    row_bytes = max(1, a.X[0].nbytes)
    step = max(1, min(len(a.X), limit // (4 * row_bytes) or 1))
    for start in range(0, len(a.X), step):
        block = np.asarray(a.X[start : start + step])
        bad = ~np.isfinite(block.reshape(len(block), -1)).all(1)
        if bad.any():
            row = start + int(np.flatnonzero(bad)[0])
            raise DatasetError(
                f"dataset 'numpy': row {row} of {a.x_name} holds NaN or infinite values "
                f"({int(bad.sum())} such rows in rows {start}–{start + len(block) - 1}). Fix: replace them before "
                "saving (numpy.nan_to_num), or leave those rows out."
            )


class ArraySource:
    """Rows of a memory-mapped feature array (and the targets) for :class:`~graphedit.training.streaming.LazyData`."""

    def __init__(self, arrays: Arrays, y: np.ndarray | None) -> None:
        self.arrays = arrays
        self.y = y

    def __len__(self) -> int:
        return len(self.arrays.X)

    def read(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        X = convert(self.arrays, np.asarray(self.arrays.X[rows]))
        return X, None if self.y is None else self.y[rows]


@dataset_kind(
    "numpy",
    OPTIONS,
    "your own arrays: .npy files of features (and targets) or a .npz holding both; large ones stream from disk",
    names=lambda o: (list(o["inputs"]), list(o["targets"])) if o["inputs"] else None,
)
def numpy_dataset(o: dict[str, Any], rng: np.random.Generator, base_dir: Path | None) -> RawData | LazyData:
    if o["inputs"]:
        return named_arrays(o, base_dir)
    if o["targets"]:
        raise DatasetError(
            "dataset 'numpy': option targets names arrays, but option inputs is empty. Fix: name the input "
            "arrays too (one per Input node), or clear targets and use x_key and y_key."
        )
    limit = memory_limit(o["memory_limit_mb"])
    a = open_arrays(o, base_dir)
    check_finite(a, limit)
    y, task, names, tnotes = classify_targets(a.y, o["task"], "numpy", a.x_name)
    notes = a.notes + tnotes
    image = a.layout in ("add_channel", "channels_last") or a.X.ndim == 4
    if a.streamed:
        first = convert(a, np.asarray(a.X[:1]))
        notes.append(
            f"{a.x_name} is {mb(a.X.nbytes)}, above the memory limit of {mb(limit)}: read from disk a batch at a time"
        )
        floating = first.dtype.kind == "f" or first.dtype == np.uint8
        return LazyData(
            ArraySource(a, y),
            feature_shape=tuple(first.shape[1:]),
            feature_dtype="float32" if floating else "int64",
            target_shape=None if y is None else tuple(y.shape[1:]),
            target_dtype=None if y is None else str(y.dtype),
            task=task,
            num_classes=None if names is None else len(names),
            class_names=names,
            image=image,
            scale=255.0 if a.X.dtype == np.uint8 else 1.0,
            notes=notes,
        )
    X = convert(a, np.asarray(a.X))
    if X.dtype == np.uint8:
        X = X.astype(np.float32) / 255.0
    return RawData(X, y, task, None if names is None else len(names), names, image=image, notes=notes)


def named_arrays(o: dict[str, Any], base_dir: Path | None) -> RawData:
    """A .npz with one array per Input and Target node (options ``inputs`` and ``targets`` name them)."""
    path = _npy(o, base_dir, "path")
    if sniff(path)[0] == "npy":
        raise DatasetError(
            f"dataset 'numpy': {path.name} is one .npy array, and options inputs/targets name several. Fix: save "
            "them together with numpy.savez('data.npz', left=..., right=..., label=...) and choose that file."
        )
    try:
        with zipfile.ZipFile(path) as z:
            keys = [n[:-4] for n in z.namelist() if n.endswith(".npy")]
    except zipfile.BadZipFile:
        raise DatasetError(
            f"dataset 'numpy': {path.name} is a damaged ZIP (.npz) archive. Fix: save it again with numpy.savez."
        ) from None
    twice = sorted({k for k in o["inputs"] if k in o["targets"]})
    if twice:
        raise DatasetError(
            f"dataset 'numpy': array {twice[0]!r} of {path.name} is named both an input and a target. "
            "Fix: list each array once."
        )
    notes: list[str] = []
    X: dict[str, np.ndarray] = {}
    y: dict[str, np.ndarray] = {}
    task, names = "regression", None
    for role, wanted in (("input", o["inputs"]), ("target", o["targets"])):
        for name in wanted:
            key = _key(keys, name, notes)
            if key is None:
                raise DatasetError(
                    f"dataset 'numpy': {path.name} has no array named {name!r} (an {role} in option {role}s); it "
                    f"holds {short_list(keys, 10)}. Fix: name the arrays as in numpy.savez, or save that array."
                )
            array, _ = _open(path, key, 1 << 62, f"array '{key}'")  # several inputs are read whole
            if role == "input":
                a = Arrays(array, None, f"array '{key}' of {path.name}", False)
                _check_layout(a)
                check_finite(a, memory_limit(o["memory_limit_mb"]))
                notes += a.notes
                X[name] = convert(a, np.asarray(array))
                if X[name].dtype == np.uint8:
                    X[name] = X[name].astype(np.float32) / 255.0
                continue
            target, kind, classes, tnotes = classify_targets(array, o["task"], "numpy", f"array '{key}'")
            if target is None:
                raise DatasetError(
                    f"dataset 'numpy': array '{key}' of {path.name} is listed in targets but task is "
                    "reconstruction. Fix: set task to auto, or leave the array out of targets."
                )
            if not y:
                task, names = kind, classes
            y[name] = target
            notes += [f"'{key}': {note}" for note in tnotes]
    lengths = {k: len(v) for k, v in [*X.items(), *y.items()]}
    if len(set(lengths.values())) > 1:
        raise DatasetError(
            f"dataset 'numpy': the arrays of {path.name} differ in length "
            f"({', '.join(f'{k}: {n}' for k, n in lengths.items())}). Fix: save one row per example in each."
        )
    task = task if y else "reconstruction"
    return RawData(X, y or None, task, None if names is None else len(names), names, notes=notes)


DATASET_KINDS = (numpy_dataset,)
