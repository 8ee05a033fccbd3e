"""Dataset kind ``csv``: a table of numbers (and text) with one target column.

Reading is in two steps that the preview shares:
:func:`~graphedit.training.userdata_csv_table.read_table` turns the file into
rows of cells (checking it is text, finding the delimiter, refusing ragged rows
with the line number), :func:`table_to_raw` turns chosen columns into arrays.
Text feature columns are one-hot encoded; a text target, or one of
few whole numbers, makes a classification task whose classes are its values.
Missing cells (empty, ``NA``, ``?``, ...) are an error unless option
``missing`` is ``drop`` (leave those rows out) or ``mean`` (fill with the
column's mean, or its most common text); every such fix-up is stated in the notes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from graphedit.training.dataset_types import DatasetError, Opt, RawData, dataset_kind
from graphedit.training.userdata import short_list
from graphedit.training.userdata_csv_table import DELIMITERS, Table, csv_error, is_number, read_table

MISSING = {"", "na", "n/a", "nan", "null", "none", "?", "#n/a"}
MAX_CATEGORIES = 50  # a text feature column with more distinct values is refused (probably a name or an id)
AUTO_CLASSES = 20  # task auto: a numeric target of at most this many whole-number values is a class label

OPTIONS = {
    "path": Opt("", "CSV file, relative to the project's folder"),
    "features": Opt([], "feature columns by name; empty: every column except the target"),
    "target": Opt("", "target column by name; empty: the last column"),
    "task": Opt(
        "auto",
        "auto: text or few whole numbers in the target make classes, other numbers regression",
        choices=("auto", "classification", "regression"),
    ),
    "delimiter": Opt("auto", "what separates cells; auto: guessed from the file", choices=tuple(DELIMITERS)),
    "header": Opt(True, "the first row names the columns; false: they are named col1, col2, …"),
    "missing": Opt(
        "error",
        "missing cells: error; drop: leave those rows out; mean: fill with the column's mean",
        choices=("error", "drop", "mean"),
    ),
    "groups": Opt(
        [],
        "several inputs: column groups 'name=col1|col2', each feeding the Input node of that name (the target "
        "column feeds the Target of its name); empty: one input of the feature columns",
    ),
}


@dataclass
class Column:
    """One parsed column: numbers (with NaN where missing) or text categories."""

    name: str
    numbers: np.ndarray | None
    text: list[str] | None
    missing: np.ndarray


def _parse_column(table: Table, j: int, notes: list[str]) -> Column:
    name = table.columns[j]
    cells = [r[j] for r in table.rows]
    missing = np.array([c.lower() in MISSING for c in cells], dtype=bool)
    present = [c for c, m in zip(cells, missing) if not m]
    numbers = _to_numbers(cells, missing)
    if numbers is None and table.delimiter != "," and all(is_number(c.replace(",", ".")) for c in present):
        numbers = _to_numbers([c.replace(",", ".") for c in cells], missing)
        notes.append(f"column '{name}': decimal commas read as decimal points (1,5 → 1.5)")
    if numbers is not None:
        return Column(name, numbers, None, missing)
    numeric = [is_number(c) for c in present]
    if any(numeric):  # mostly numbers with a few words: a typo, not a category
        i = next(k for k, c in enumerate(cells) if not missing[k] and not is_number(c))
        raise csv_error(
            table.path,
            f"line {table.lines[i]}, column '{name}': {cells[i]!r} is not a number, but the column's other cells "
            f"are ({sum(numeric)} of {len(present)}). Fix: correct the cell, or mark it missing (leave it empty "
            "or write NA) and set missing to 'drop' or 'mean'.",
        )
    return Column(name, None, cells, missing)


def _to_numbers(cells: list[str], missing: np.ndarray) -> np.ndarray | None:
    out = np.full(len(cells), np.nan)
    for k, (cell, m) in enumerate(zip(cells, missing)):
        if m:
            continue
        try:
            v = float(cell)
        except ValueError:
            return None
        if not math.isfinite(v):
            return None
        out[k] = v
    return out


def select_columns(table: Table, o: dict[str, Any]) -> tuple[list[str], str]:
    """The feature columns and the target column the options choose; raises naming unknown columns."""
    columns = table.columns
    target = o["target"] or columns[-1]
    known = f"The columns are: {short_list(columns, 12)}."
    if target not in columns:
        raise csv_error(
            table.path,
            f"there is no column {target!r} to use as the target. Fix: set target to one of the column names. {known}",
        )
    features = list(o["features"]) or [c for c in columns if c != target]
    unknown = [f for f in features if f not in columns]
    if unknown:
        raise csv_error(
            table.path,
            f"feature column(s) {', '.join(map(repr, unknown))} do not exist. Fix: use column "
            f"names from the header. {known}",
        )
    if target in features:
        raise csv_error(
            table.path, f"column {target!r} is both a feature and the target. Fix: remove it from features."
        )
    if not features:
        raise csv_error(table.path, "there is only the target column, no feature to learn from. Fix: add columns.")
    return features, target


def parse_groups(groups: list[str]) -> dict[str, list[str]]:
    """``["size=width|height", "colour=colour"]`` as ``{"size": ["width", "height"], "colour": ["colour"]}``."""
    out: dict[str, list[str]] = {}
    for text in groups:
        name, sep, columns = text.partition("=")
        cols = [c.strip() for c in columns.split("|") if c.strip()]
        if not sep or not name.strip() or not cols:
            raise DatasetError(
                f"dataset 'csv': column group {text!r} is not 'name=column1|column2'. Fix: name the group (its Input "
                "node's name), then '=', then its columns separated by '|'."
            )
        if name.strip() in out:
            raise DatasetError(f"dataset 'csv': column group '{name.strip()}' is named twice. Fix: name each once.")
        out[name.strip()] = cols
    return out


def group_names(o: dict[str, Any]) -> tuple[list[str], list[str]] | None:
    """The inputs and the target of a table read in column groups (None without groups)."""
    if not o["groups"]:
        return None
    return list(parse_groups(o["groups"])), [o["target"]] if o["target"] else []


def table_to_raw(table: Table, o: dict[str, Any]) -> RawData:
    """Features and target as arrays, with missing cells handled as option ``missing`` says."""
    groups = parse_groups(o["groups"])
    if groups and not o["target"]:
        raise csv_error(table.path, "with column groups, name the target column too. Fix: set option target.")
    if groups:
        o = {**o, "features": list(dict.fromkeys(c for cols in groups.values() for c in cols))}
    features, target = select_columns(table, o)
    notes = list(table.notes)
    cols = {c: _parse_column(table, table.columns.index(c), notes) for c in [*features, target]}
    keep = _handle_missing(table, cols, features, target, o["missing"], notes)
    blocks = {}
    for name in features:
        col = cols[name]
        if col.numbers is not None:
            blocks[name] = col.numbers[keep][:, None]
        else:
            blocks[name] = _one_hot(table, col, keep, notes)
    y, task, names = _target(table, cols[target], keep, o["task"], notes)
    classes = None if names is None else len(names)
    if groups:  # several inputs: one array per group, the target named after its column
        X = {g: np.concatenate([blocks[c] for c in cs], axis=1).astype(np.float32) for g, cs in groups.items()}
        return RawData(X, {target: y}, task, classes, names, notes=notes)
    X = np.concatenate(list(blocks.values()), axis=1).astype(np.float32)
    return RawData(X, y, task, classes, names, notes=notes)


def _handle_missing(
    table: Table, cols: dict[str, Column], features: list[str], target: str, mode: str, notes: list[str]
) -> np.ndarray:
    """Rows to keep; fills cells in place for mode ``mean``."""
    n = len(table.rows)
    feature_missing = np.zeros(n, dtype=bool)
    for name in features:
        feature_missing |= cols[name].missing
    target_missing = cols[target].missing
    if not (feature_missing.any() or target_missing.any()):
        return np.ones(n, dtype=bool)
    if mode == "error":
        i = int(np.flatnonzero(feature_missing | target_missing)[0])
        col = next(c for c in [*features, target] if cols[c].missing[i])
        count = int(sum(cols[c].missing.sum() for c in [*features, target]))
        raise csv_error(
            table.path,
            f"line {table.lines[i]}, column '{col}': the value is missing ({table.rows[i][table.columns.index(col)]!r})"
            f"; {count} cell(s) are missing in all. Fix: fill them in, or set missing to 'drop' (leave those rows "
            "out) or 'mean' (fill each with its column's mean).",
        )
    drop = target_missing | (feature_missing if mode == "drop" else False)
    if mode == "mean":
        filled = []
        for name in features:
            col = cols[name]
            k = int(col.missing.sum())
            if not k:
                continue
            if col.missing.all():
                raise csv_error(table.path, f"column '{name}' has no values at all. Fix: leave it out of features.")
            if col.numbers is not None:
                col.numbers[col.missing] = np.nanmean(col.numbers)
            else:
                values = [t for t, m in zip(col.text, col.missing) if not m]  # type: ignore[arg-type]
                common = max(sorted(set(values)), key=values.count)
                col.text = [common if m else t for t, m in zip(col.text, col.missing)]  # type: ignore[arg-type]
            filled.append(f"{name}: {k}")
        if filled:
            notes.append(
                f"filled missing cells with their column's mean (text: most common value) — {', '.join(filled)}"
            )
    if drop.any():
        lines = [str(table.lines[i]) for i in np.flatnonzero(drop)]
        why = "a missing target" if mode == "mean" else "missing values"
        notes.append(f"left out {int(drop.sum())} row(s) with {why} (lines {short_list(lines, 6)})")
    if drop.all():
        raise csv_error(table.path, "every row has a missing value, so none is left. Fix: fill in the missing cells.")
    return ~drop


def _one_hot(table: Table, col: Column, keep: np.ndarray, notes: list[str]) -> np.ndarray:
    values = [t for t, k in zip(col.text, keep) if k]  # type: ignore[arg-type]
    categories = sorted(set(values))
    if len(categories) > MAX_CATEGORIES:
        raise csv_error(
            table.path,
            f"column '{col.name}' holds text with {len(categories)} different values (e.g. {categories[0]!r}), too "
            "many to use as categories. Fix: leave it out of features (it is probably a name or an id).",
        )
    lookup = {c: i for i, c in enumerate(categories)}
    codes = np.array([lookup[v] for v in values])
    notes.append(
        f"column '{col.name}' holds text: one-hot encoded as {len(categories)} columns ({short_list(categories)})"
    )
    return np.eye(len(categories), dtype=np.float32)[codes]


def _target(
    table: Table, col: Column, keep: np.ndarray, task: str, notes: list[str]
) -> tuple[np.ndarray, str, list[str] | None]:
    if col.numbers is None:
        values: list[Any] = [t for t, k in zip(col.text, keep) if k]  # type: ignore[arg-type]
        if task == "regression":
            raise csv_error(
                table.path,
                f"the target column '{col.name}' holds text ({values[0]!r}), and regression needs "
                "numbers. Fix: set task to classification (or auto), or choose a numeric target column.",
            )
        task = "classification"
        note = f"target '{col.name}' holds text: classification into its values"
    else:
        numbers = col.numbers[keep]
        whole = bool(np.all(numbers == np.round(numbers)))
        distinct = np.unique(numbers)
        if task == "auto":
            task = "classification" if whole and len(distinct) <= AUTO_CLASSES else "regression"
            if task == "classification":
                note = (
                    f"target '{col.name}' holds {len(distinct)} whole-number values: classification (set task to "
                    "regression to predict the number instead)"
                )
            else:
                note = f"target '{col.name}' holds numbers: regression"
        else:
            note = ""
        if task == "regression":
            if note:
                notes.append(note)
            return numbers.astype(np.float32)[:, None], "regression", None
        values = [int(v) if whole else float(v) for v in numbers]
    classes = sorted(set(values))
    if len(classes) < 2:
        raise csv_error(
            table.path,
            f"the target column '{col.name}' has one value ({classes[0]!r}) in all {len(values)} rows, so there is "
            "nothing to tell apart. Fix: choose the column that holds the classes (option target), or add rows of "
            "the other classes.",
        )
    if note:
        notes.append(f"{note} — {len(classes)} classes")
    lookup = {c: i for i, c in enumerate(classes)}
    y = np.array([lookup[v] for v in values], dtype=np.int64)
    return y, "classification", [str(c) for c in classes]


@dataset_kind(
    "csv",
    OPTIONS,
    "your own table: a CSV file with feature columns and a target column",
    names=group_names,
)
def csv_dataset(o: dict[str, Any], rng: np.random.Generator, base_dir: Path | None) -> RawData:
    return table_to_raw(read_table(o, base_dir), o)


DATASET_KINDS = (csv_dataset,)
