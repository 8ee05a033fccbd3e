"""A look at a dataset before training: a table, an image grid, class counts, and the notes.

:func:`preview_dataset` is headless (the editor's ``DatasetPreview`` widget
draws its result). It reads only what it shows: the first rows of a table,
a few images per class (for a large folder the class counts come from the
file list, not from decoding everything), the start of a text. It never
raises for a bad dataset: the message goes to ``"error"`` next to whatever
could be read (a CSV whose target has one class still shows its table).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from graphedit.errors import GraphEditError
from graphedit.training.datasets import BUILDERS, load_dataset, normalize_spec

TEXT_CHARS = 2000
MAX_COLUMNS = 12
MAX_POINTS = 2000


def preview_dataset(
    spec: dict[str, Any], base_dir: str | Path | None = None, rows: int = 20, images_per_class: int = 6
) -> dict[str, Any]:
    """What the dataset holds, as plain data.

    Keys: ``name``, ``view`` (``"table"``, ``"images"`` or ``"text"``), ``task``, ``size`` (examples),
    ``feature_shape``, ``streamed``, ``fields`` (a dataset with several named inputs and targets: one
    ``{"name", "role", "shape", "dtype", "node"}`` each, ``node`` the node it feeds), ``columns`` and ``rows``
    (text cells) with ``roles``
    ``feature_shape``, ``streamed``, ``points`` (``[M, 2]`` for 2-D data, view ``"scatter"``) with
    ``point_values`` (each point's class number or target value) and ``class_names``, ``columns`` and
    ``rows`` (text cells) with ``roles``
    (column → ``"feature"``/``"target"``/``"unused"``), ``images`` (a list of ``{"label", "image"}``,
    the image ``uint8`` ``[H, W]`` or ``[H, W, 3]``), ``text``, ``class_counts`` (class name → examples,
    or ``None``), ``notes`` (stated fix-ups) and ``error`` (``None`` or the message of a
    :class:`~graphedit.training.datasets.DatasetError`).
    """
    out: dict[str, Any] = {
        "name": spec.get("name") if isinstance(spec, dict) else None,
        "view": "table",  # or "images", "text", "scatter"
        "task": None,
        "size": None,
        "feature_shape": None,
        "streamed": False,
        "columns": [],
        "rows": [],
        "roles": {},
        "images": [],
        "text": "",
        "class_counts": None,
        "fields": [],
        "notes": [],
        "error": None,
    }
    base = Path(base_dir) if base_dir is not None else None
    try:
        spec = normalize_spec(spec)
        fill = {"csv": _csv, "numpy": _numpy, "image_folder": _images, "text_file": _text}.get(spec["name"], _builtin)
        builder = BUILDERS[spec["name"]]
        if builder.names is not None and builder.names(spec["options"]) is not None:
            fill = _named
        fill(out, spec, base, rows, images_per_class)
    except GraphEditError as exc:
        out["error"] = str(exc)
    return out


def _counts(y: np.ndarray | None, names: list[str] | None) -> dict[str, int] | None:
    if y is None or names is None or y.ndim != 1:
        return None
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=len(names))
    return {name: int(c) for name, c in zip(names, counts)}


def _csv(out: dict[str, Any], spec: dict[str, Any], base: Path | None, rows: int, per_class: int) -> None:
    from graphedit.training.userdata_csv import select_columns, table_to_raw
    from graphedit.training.userdata_csv_table import read_table

    o = spec["options"]
    table = read_table(o, base)
    out.update(columns=table.columns, rows=[list(r) for r in table.rows[:rows]], notes=list(table.notes))
    out["size"] = len(table.rows)
    features, target = select_columns(table, o)
    out["roles"] = {c: "target" if c == target else "feature" if c in features else "unused" for c in table.columns}
    raw = table_to_raw(table, o)
    out.update(task=raw.task, size=len(raw.X), feature_shape=list(raw.X.shape[1:]), notes=raw.notes)
    out["class_counts"] = _counts(raw.y, raw.class_names)


def _numpy(out: dict[str, Any], spec: dict[str, Any], base: Path | None, rows: int, per_class: int) -> None:
    from graphedit.training.userdata import memory_limit
    from graphedit.training.userdata_numpy import convert, open_arrays
    from graphedit.training.userdata_targets import classify_targets

    o = spec["options"]
    a = open_arrays(o, base, force_mmap=True)  # the preview reads only the rows it shows
    y, task, names, notes = classify_targets(a.y, o["task"], "numpy", a.x_name)
    first = convert(a, np.asarray(a.X[:1]))
    out.update(task=task, size=len(a.X), feature_shape=list(first.shape[1:]), notes=a.notes + notes)
    out["streamed"] = a.X.nbytes > memory_limit(o["memory_limit_mb"])
    out["class_counts"] = _counts(y, names)
    if first.ndim == 4:
        picks = _picks(y, per_class, len(a.X))
        images = convert(a, np.asarray(a.X[np.sort(picks)]))
        order = np.argsort(np.argsort(picks))
        out["view"] = "images"
        out["images"] = [
            {"label": names[int(y[i])] if names and y is not None else f"row {i}", "image": _display(images[k])}
            for i, k in zip(picks, order)
        ]
        return
    X = convert(a, np.asarray(a.X[:rows])).reshape(min(rows, len(a.X)), -1)
    _table(out, X, None if y is None else y[:rows], names)


def _picks(y: np.ndarray | None, per_class: int, n: int) -> np.ndarray:
    """Row numbers of the first ``per_class`` examples of each class (the first few rows without classes)."""
    if y is None or y.ndim != 1:
        return np.arange(min(n, per_class * 4))
    return np.concatenate([np.flatnonzero(y == c)[:per_class] for c in np.unique(y)])


def _display(image: np.ndarray) -> np.ndarray:
    """``[C, H, W]`` of any range → ``uint8`` ``[H, W]`` or ``[H, W, 3]``."""
    if image.dtype != np.uint8:
        lo, hi = float(image.min()), float(image.max())
        image = ((image - lo) / (hi - lo if hi > lo else 1.0) * 255).astype(np.uint8)
    return image[0] if image.shape[0] == 1 else np.ascontiguousarray(image[:3].transpose(1, 2, 0))


def _table(out: dict[str, Any], X: np.ndarray, y: np.ndarray | None, names: list[str] | None) -> None:
    width = min(X.shape[1], MAX_COLUMNS)
    columns = [f"x{i + 1}" for i in range(width)] + (["…"] if X.shape[1] > width else [])
    cells = [[f"{v:.4g}" if isinstance(v, float) else str(v) for v in row[:width].tolist()] for row in X]
    if X.shape[1] > width:
        cells = [c + ["…"] for c in cells]
    if y is not None:
        columns.append("target")
        for c, t in zip(cells, y):
            value = t.reshape(-1)
            named = names and value.size == 1 and value.dtype.kind in "iu"
            c.append(names[int(value[0])] if named else ", ".join(f"{v:.4g}" for v in value[:4].tolist()))
    out["columns"], out["rows"] = columns, cells
    out["roles"] = {c: "target" if c == "target" else "feature" for c in columns}


def _images(out: dict[str, Any], spec: dict[str, Any], base: Path | None, rows: int, per_class: int) -> None:
    from graphedit.training.userdata import memory_limit
    from graphedit.training.userdata_images import decode, scan

    o = spec["options"]
    folder = scan(o, base)
    channels = 1 if o["color"] == "grey" else 3
    out.update(view="images", task="classification", size=len(folder.files), notes=list(folder.notes))
    out["feature_shape"] = [channels, o["size"], o["size"]]
    out["streamed"] = len(folder.files) * channels * o["size"] ** 2 * 4 > memory_limit(o["memory_limit_mb"])
    counts = Counter(folder.labels)
    out["class_counts"] = {name: counts.get(i, 0) for i, name in enumerate(folder.classes)}
    shown: Counter = Counter()
    for path, label in zip(folder.files, folder.labels):
        if shown[label] >= per_class:
            continue
        try:
            image = decode(path, o["size"], o["color"])
        except GraphEditError as exc:
            out["notes"].append(str(exc))
            continue
        shown[label] += 1
        out["images"].append({"label": folder.classes[label], "image": _display(image)})


def _text(out: dict[str, Any], spec: dict[str, Any], base: Path | None, rows: int, per_class: int) -> None:
    from graphedit.training.userdata_text import read_user_text

    o = spec["options"]
    body, notes = read_user_text(o, base)
    body = body[: o["max_chars"]]
    if o["lowercase"]:
        body = body.lower()
    out.update(view="text", task="sequence", text=body[:TEXT_CHARS], notes=notes, feature_shape=[o["window"]])
    out["size"] = max(0, (len(body) - o["window"] + o["stride"] - 1) // o["stride"])
    counts = Counter(body)
    out["class_counts"] = {repr(c)[1:-1] if c.isspace() else c: n for c, n in counts.most_common(40)}


def _named(out: dict[str, Any], spec: dict[str, Any], base: Path | None, rows: int, per_class: int) -> None:
    """A dataset with several named inputs and targets: its fields (what each feeds), and the first examples
    of each, as images when the first input is an image, else as a table with a column per field."""
    data = load_dataset(spec, base)
    info = data.info
    out.update(task=info.task, size=sum(info.sizes.values()), feature_shape=list(info.feature_shape))
    out["notes"] = list(info.notes)
    out["fields"] = [
        {"name": f["name"], "role": role, "shape": list(f["shape"]), "dtype": f["dtype"], "node": node_id}
        for role, fields in (("input", info.inputs or {}), ("target", info.targets or {}))
        for node_id, f in fields.items()
    ]
    X, y = next(iter(data.train.batches(max(1, min(rows, 8)))))
    y = y or {}
    name_of = {row["node"]: row["name"] for row in out["fields"]}

    def text(value: np.ndarray) -> str:
        flat = value.reshape(-1)
        shown = ", ".join(f"{v:.3g}" if value.dtype.kind == "f" else str(v) for v in flat[:4])
        return shown + (", …" if flat.size > 4 else "")

    first = next(iter(X.values()))
    if first.dim() == 4:
        out["view"] = "images"
        for i in range(len(first)):
            label = " · ".join(f"{name_of[k]} {text(v[i].cpu().numpy())}" for k, v in y.items())
            for node_id, images in X.items():
                if images.dim() == 4:
                    out["images"].append({"label": f"{name_of[node_id]} {label}", "image": _display(images[i].numpy())})
        return
    fields = {**X, **y}
    out["columns"] = [name_of[k] for k in fields]
    out["roles"] = {name_of[k]: "target" if k in y else "feature" for k in fields}
    out["rows"] = [[text(v[i].cpu().numpy()) for v in fields.values()] for i in range(len(first))]


def _builtin(out: dict[str, Any], spec: dict[str, Any], base: Path | None, rows: int, per_class: int) -> None:
    data = load_dataset(spec, base)
    info = data.info
    out.update(task=info.task, size=sum(info.sizes.values()), feature_shape=list(info.feature_shape))
    out.update(streamed=info.streamed, notes=list(info.notes))
    train = data.train
    X = getattr(train, "X", None)
    if X is None:
        X, y = next(iter(train.batches(max(rows, 256))))
    else:
        y = train.y
    X = X.cpu().numpy()
    y = None if y is None else y.cpu().numpy()
    if info.task == "classification":
        parts = [s for s in (data.train, data.val, data.test) if s is not None and getattr(s, "y", None) is not None]
        if parts:
            ys = np.concatenate([s.y.cpu().numpy().reshape(len(s), -1)[:, 0] for s in parts])  # type: ignore[union-attr]
            labels = ys if ys.dtype.kind in "iu" else (ys > 0).astype(np.int64)
            out["class_counts"] = _counts(labels.astype(np.int64), info.class_names)
    if X.ndim == 4:
        labels = None if y is None or y.ndim != 1 else y
        picks = _picks(labels, per_class, len(X))
        out["view"] = "images"
        out["images"] = [
            {
                "label": info.class_names[int(y[i])] if labels is not None and info.class_names else "",
                "image": _display(X[i]),
            }
            for i in picks
        ]
        return
    if info.vocab and X.dtype.kind in "iu":
        vocab = info.vocab
        out["columns"] = ["window", "next"]
        out["rows"] = [
            ["".join(vocab[c] for c in row), vocab[int(t)] if y is not None else ""]
            for row, t in zip(X[:rows], y[:rows] if y is not None else X[:rows, 0])
        ]
        out["roles"] = {"window": "feature", "next": "target"}
        return
    _table(out, X[:rows].reshape(min(rows, len(X)), -1), None if y is None else y[:rows], info.class_names)
    if X.ndim == 2 and X.shape[1] == 2:  # 2-D points: a scatter shows the task at a glance, as the Playground does
        out["view"] = "scatter"
        out["points"] = X[:MAX_POINTS].astype(np.float32)
        out["point_values"] = None if y is None else y.reshape(len(y), -1)[:MAX_POINTS, 0].astype(np.float32)
        out["class_names"] = info.class_names
