"""The user's own data: CSV tables, NumPy arrays, folders of images and text files.

Four dataset kinds live beside this module, each in its own: ``csv``
(:mod:`~graphedit.training.userdata_csv`), ``numpy``
(:mod:`~graphedit.training.userdata_numpy`), ``image_folder``
(:mod:`~graphedit.training.userdata_images`) and ``text_file``
(:mod:`~graphedit.training.userdata_text`); :func:`preview_dataset` comes from
:mod:`~graphedit.training.userdata_preview`. This module holds what they share:
resolving a path against the project's folder, telling what a file really is
from its first bytes (a PNG renamed ``.csv`` is named as a PNG), and the memory
limit above which arrays and image folders are streamed from disk instead of
loaded at once.

A file that cannot be used raises :class:`~graphedit.training.datasets.DatasetError`
naming the file (and line, row or column), what is wrong and the fix. A problem
that can be repaired safely is repaired and *stated*: the note lands in
``DatasetInfo.notes`` (and in the preview), e.g. "3 rows with missing values left out".
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from graphedit.training.dataset_types import DatasetError
from graphedit.training.trust import check_path

USER_KINDS = ("csv", "numpy", "image_folder", "image_folders", "text_file")
MEMORY_LIMIT_MB = 1024.0  # data larger than this is read from disk batch by batch; tests lower it
MB = 1024 * 1024
IMAGE_KINDS = {"png", "jpeg", "gif", "bmp", "webp", "tiff"}

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png", "a PNG image"),
    (b"\xff\xd8\xff", "jpeg", "a JPEG image"),
    (b"GIF87a", "gif", "a GIF image"),
    (b"GIF89a", "gif", "a GIF image"),
    (b"II*\x00", "tiff", "a TIFF image"),
    (b"MM\x00*", "tiff", "a TIFF image"),
    (b"\x93NUMPY", "npy", "a NumPy .npy array"),
    (b"%PDF", "pdf", "a PDF document"),
    (b"\x1f\x8b", "gzip", "gzip-compressed data"),
    (b"SQLite format 3\x00", "sqlite", "an SQLite database"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole", "an old Office file (.xls or .doc)"),
)


def memory_limit(option_mb: float) -> int:
    """The limit in bytes: the dataset's ``memory_limit_mb`` option, or the module default when it is 0."""
    return int((option_mb if option_mb > 0 else MEMORY_LIMIT_MB) * MB)


def mb(n_bytes: float) -> str:
    """``12 MB``, ``0.5 MB``: a size for a message."""
    return f"{n_bytes / MB:.3g} MB"


def resolve(kind: str, value: str, base_dir: Path | None, folder: bool = False, option: str = "path") -> Path:
    """``value`` as a path (relative to the project's folder); raises when it is empty or missing."""
    what = "folder" if folder else "file"
    if not value:
        raise DatasetError(
            f"dataset '{kind}': option '{option}' is empty. Fix: choose the {what} to train on "
            "(a path relative to the project's folder, or an absolute one)."
        )
    path = Path(value).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    check_path(path, base_dir, kind, option)  # outside the project's folder only when allowed (trust.py)
    if not path.exists():
        where = f" (looked in the project's folder {base_dir})" if base_dir is not None else ""
        raise DatasetError(
            f"dataset '{kind}': the {what} {path} does not exist{where}. Fix: check option '{option}'; "
            "relative paths start at the folder the project is saved in."
        )
    if folder and not path.is_dir():
        hint = " It is a ZIP archive: unzip it first." if sniff(path)[0] == "zip" else ""
        raise DatasetError(
            f"dataset '{kind}': {path} is a file, not a folder.{hint} Fix: point option '{option}' at the folder "
            "that holds one subfolder of images per class."
        )
    if not folder and path.is_dir():
        raise DatasetError(f"dataset '{kind}': {path} is a folder, not a file. Fix: choose a file inside it.")
    return path


def sniff(path: Path) -> tuple[str, str]:
    """What a file holds judging by its first bytes: ``(kind, description)``.

    Kinds: an image kind (``png``, ``jpeg``, ...), ``npy``, ``npz``, ``xlsx``, ``zip``, ``pdf``,
    ``gzip``, ``sqlite``, ``ole``, ``pickle``, ``empty``, ``text`` or ``binary``.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}. Fix: check the file's permissions.") from None
    if not head:
        return "empty", "empty (0 bytes)"
    for magic, kind, text in _MAGIC:
        if head.startswith(magic):
            return kind, text
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp", "a WebP image"
    if head[:2] == b"BM" and b"\x00" in head[:64]:
        return "bmp", "a BMP image"
    if head[:4] == b"PK\x03\x04":
        return _zip_kind(path)
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "pickle", "a Python pickle (GraphEdit never unpickles files it is given)"
    if b"\x00" in head:
        return "binary", "binary data, not text"
    try:
        sample = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            try:
                sample = head.decode("cp1252")
            except UnicodeDecodeError:
                return "binary", "binary data, not text"
        else:
            sample = head[: exc.start].decode("utf-8")
    first = sample.lstrip("\ufeff").splitlines()[0][:40] if sample.strip() else ""
    return "text", f"text (it begins {first!r})" if first else "text"


def _zip_kind(path: Path) -> tuple[str, str]:
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except (zipfile.BadZipFile, OSError):
        return "zip", "a damaged ZIP archive"
    if names and all(n.endswith(".npy") for n in names):
        return "npz", "a NumPy .npz archive of arrays"
    if any(n.startswith("xl/") for n in names):
        return "xlsx", "an Excel workbook (.xlsx)"
    return "zip", "a ZIP archive"


def not_what_it_says(kind: str, path: Path, expected: str, actual: str, fix: str) -> DatasetError:
    """The error for a file whose content is not what its kind (and usually its extension) says."""
    return DatasetError(f"dataset '{kind}': {path.name} is not {expected}: it is {actual}. Fix: {fix}")


def fix_for(actual_kind: str) -> str:
    """How to use a file of ``actual_kind`` instead."""
    if actual_kind in IMAGE_KINDS:
        return "for images use dataset kind 'image_folder' with one subfolder per class."
    if actual_kind in ("npy", "npz"):
        return "for NumPy arrays use dataset kind 'numpy'."
    if actual_kind in ("xlsx", "ole"):
        return "save the sheet as CSV (in a spreadsheet: Save As ▸ CSV UTF-8) and use dataset kind 'csv'."
    if actual_kind == "text":
        return "for a table of values use dataset kind 'csv'; for prose use 'text_file'."
    return "choose the right file, or export the data as CSV text."


def short_list(items: list[str], limit: int = 5) -> str:
    """``a, b, c, … (12 in all)``."""
    shown = ", ".join(items[:limit])
    return f"{shown}, … ({len(items)} in all)" if len(items) > limit else shown


__all__ = ["USER_KINDS", "MEMORY_LIMIT_MB", "memory_limit", "resolve", "sniff"]
