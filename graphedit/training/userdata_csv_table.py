"""Reading a CSV file into a table of text cells, the first step of dataset kind ``csv`` and of its preview.

:func:`read_table` checks that the file is text (falling back to Windows-1252 with a note when it is not UTF-8),
finds the delimiter when option ``delimiter`` is ``auto``, takes the column names from the header row (or names
them by position), and refuses ragged rows with their line numbers. Turning the cells into arrays is
:mod:`graphedit.training.userdata_csv`.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphedit.training.dataset_types import DatasetError
from graphedit.training.userdata import fix_for, not_what_it_says, resolve, short_list, sniff

DELIMITERS = {"auto": None, ",": ",", ";": ";", "tab": "\t", "|": "|", "space": " "}


@dataclass
class Table:
    """The cells of a CSV file as text, with the file line of each row."""

    path: Path
    columns: list[str]
    rows: list[list[str]]
    lines: list[int]
    delimiter: str
    notes: list[str] = field(default_factory=list)


def csv_error(path: Path, message: str) -> DatasetError:
    """An error of dataset kind ``csv`` that names the file."""
    return DatasetError(f"dataset 'csv': {path.name}, {message}")


def read_table(o: dict[str, Any], base_dir: Path | None) -> Table:
    """The file's rows as text cells; raises for non-text files, empty files and ragged rows."""
    path = resolve("csv", o["path"], base_dir)
    kind, what = sniff(path)
    if kind == "empty":
        raise csv_error(
            path, "the file is empty. Fix: export the table again, with a header row and one row per example."
        )
    if kind != "text":
        raise not_what_it_says("csv", path, "CSV text", what, fix_for(kind))
    notes: list[str] = []
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        text = data.decode("cp1252", errors="replace")
        notes.append(
            f"line {line} is not UTF-8 text, so the file was read as Windows-1252 (Western European): check "
            "accented names; to be sure, save the file as CSV UTF-8"
        )
    if not text.strip():
        raise csv_error(path, "the file holds only blank lines. Fix: export the table again.")
    delimiter = DELIMITERS[o["delimiter"]] or _guess_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                records.append((reader.line_num, [cell.strip() for cell in row]))
    except csv.Error as exc:
        raise csv_error(
            path, f'line {reader.line_num}: {exc}. Fix: close the quote (") that opens on that line.'
        ) from None
    if o["header"]:
        line, names = records.pop(0)
        if names and all(is_number(c) for c in names):
            notes.append(
                f"the first row ({short_list(names, 3)}) holds only numbers but is used as column names: "
                "set header to false if it is data"
            )
        columns = [n or f"col{i + 1}" for i, n in enumerate(names)]
        unnamed = [i for i, n in enumerate(names) if not n]
        dupes = sorted({c for c in columns if columns.count(c) > 1})
        if dupes:
            raise csv_error(
                path,
                f"line {line}: column name(s) {', '.join(map(repr, dupes))} appear twice. "
                "Fix: give every column its own name in the header row.",
            )
    else:
        width = max(len(r) for _, r in records)
        columns = [f"col{i + 1}" for i in range(width)]
        unnamed = []
    if not records:
        raise csv_error(path, "there are column names but no rows of data. Fix: add one row per example.")
    rows, lines = _even_rows(path, records, columns, delimiter, notes)
    empty = [i for i in unnamed if not any(r[i] for r in rows)]  # a separator at the end of every line
    if empty:
        notes.append(f"ignored {len(empty)} empty column(s) without a name (separators at the ends of lines)")
        columns = [c for i, c in enumerate(columns) if i not in empty]
        rows = [[c for i, c in enumerate(r) if i not in empty] for r in rows]
    named = [columns[i] for i in unnamed if i not in empty]
    if named:
        notes.append(f"unnamed column(s) named by position: {', '.join(named)}")
    return Table(path, columns, rows, lines, delimiter, notes)


def _guess_delimiter(text: str) -> str:
    """The separator that splits the first lines into the most cells, the same number on every line."""
    sample = [line for line in text.splitlines()[:30] if line.strip()]
    best, best_score = ",", (False, 1)
    for d in (",", ";", "\t", "|"):
        widths = [len(row) for row in csv.reader(sample, delimiter=d)]
        score = (len(set(widths)) == 1, min(widths))  # consistent first, then more cells
        if widths and min(widths) > 1 and score > best_score:
            best, best_score = d, score
    return best


def _even_rows(
    path: Path, records: list[tuple[int, list[str]]], columns: list[str], delimiter: str, notes: list[str]
) -> tuple[list[list[str]], list[int]]:
    """Rows with exactly one cell per column; trailing empty cells (a delimiter at the end of a line) are dropped."""
    width = len(columns)
    rows, lines, bad, trimmed = [], [], [], 0
    for line, row in records:
        if len(row) > width and not any(row[width:]):
            row, trimmed = row[:width], trimmed + 1
        if len(row) != width:
            bad.append((line, len(row)))
            continue
        rows.append(row)
        lines.append(line)
    if bad:
        shown = "; ".join(f"line {ln} has {n}" for ln, n in bad[:3])
        more = f" ({len(bad)} such lines)" if len(bad) > 3 else ""
        name = {"\t": "tab", " ": "space"}.get(delimiter, delimiter)
        raise csv_error(
            path,
            f"rows have different numbers of cells: the header has {width} columns but {shown}{more}. "
            f"Fix: give every row {width} cells separated by '{name}'; a value that contains '{name}' must be "
            'quoted ("…"), and a missing value is an empty cell between two separators.',
        )
    if trimmed:
        notes.append(f"ignored empty cells after the last column on {trimmed} line(s) (trailing separators)")
    return rows, lines


def is_number(cell: str) -> bool:
    try:
        return math.isfinite(float(cell))
    except ValueError:
        return False
