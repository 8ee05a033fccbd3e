"""Dataset kind ``text_file``: a UTF-8 text file for the character model.

The windows and targets are the built-in ``text`` dataset's (see
:mod:`graphedit.training.builtin_text`); this kind adds what a user's file
needs: the file must be text (a PDF or an image renamed ``.txt`` is named as
such), Windows line endings are folded, and a file that is not UTF-8 is read
as Windows-1252 with a note saying so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from graphedit.training.builtin_text import text as text_windows
from graphedit.training.dataset_types import DatasetError, Opt, RawData, dataset_kind
from graphedit.training.userdata import fix_for, not_what_it_says, resolve, sniff

OPTIONS = {
    "path": Opt("", "UTF-8 text file, relative to the project's folder"),
    "window": Opt(8, "characters the network sees to predict the next one", min=1, max=1024),
    "stride": Opt(1, "characters between the starts of two windows", min=1, max=1024),
    "lowercase": Opt(False, "fold the text to lower case (a smaller vocabulary)"),
    "max_chars": Opt(200_000, "use at most this many characters from the start of the file", min=2),
}


def read_user_text(o: dict[str, Any], base_dir: Path | None) -> tuple[str, list[str]]:
    """The file's text and the notes on how it was read."""
    path = resolve("text_file", o["path"], base_dir)
    kind, what = sniff(path)
    if kind == "empty":
        raise DatasetError(f"dataset 'text_file': {path.name} is empty. Fix: choose a file with some text in it.")
    if kind != "text":
        fix = fix_for(kind) if kind != "pdf" else "copy the text out of the PDF into a .txt file saved as UTF-8."
        raise not_what_it_says("text_file", path, "a text file", what, fix)
    data = path.read_bytes()
    notes = []
    try:
        body = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        body = data.decode("cp1252", errors="replace")
        notes.append(
            f"line {line} is not UTF-8, so the file was read as Windows-1252 text: save it as UTF-8 to be sure"
        )
    if not body.strip():
        raise DatasetError(f"dataset 'text_file': {path.name} holds only blank space. Fix: choose a file with text.")
    if "\r" in body:
        body = body.replace("\r\n", "\n").replace("\r", "\n")
    if len(body) > o["max_chars"]:
        notes.append(f"used the first {o['max_chars']:,} of {len(body):,} characters (option max_chars)")
    return body, notes


@dataset_kind(
    "text_file",
    OPTIONS,
    "your own text: windows of characters from a UTF-8 file, for next-character prediction",
    default_standardize=False,
)
def text_file(o: dict[str, Any], rng: np.random.Generator, base_dir: Path | None) -> RawData:
    body, notes = read_user_text(o, base_dir)
    options = {**o, "text": body[: o["max_chars"]], "path": ""}
    try:
        raw = text_windows(options, rng, base_dir)
    except DatasetError as exc:
        raise DatasetError(
            str(exc).replace("dataset 'text'", f"dataset 'text_file' ({Path(o['path']).name})")
        ) from None
    raw.notes = notes
    return raw


DATASET_KINDS = (text_file,)
