"""Dataset kind ``image_folder``: a folder with one subfolder of images per class.

``cats_and_dogs/cat/001.png``, ``cats_and_dogs/dog/002.jpg``: the subfolder
names, sorted, are the class names. Every image is decoded with Pillow,
converted to grey (``[1, size, size]``) or RGB (``[3, size, size]``) and
resized to ``size``×``size``; pixels become 0–1 floats.

What is repaired and stated in the notes: images of mixed sizes (all resized),
colour images in a grey dataset and the reverse, transparency (drawn on white),
files whose content differs from their extension (read by content), files that
are not images by their extension (left out), images lying outside any class
subfolder (left out). An image that cannot be decoded is *skipped with a note*
naming it and the reason (option ``unreadable: "error"`` refuses instead). An
empty folder, or a folder with a single class, is an error.

When the decoded images would exceed the memory limit, only the file list is
kept and each batch is decoded when the trainer asks for it (``StreamedSplit``);
an image that fails to decode only then raises a ``DatasetError`` naming it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from graphedit.training.dataset_types import DatasetError, Opt, RawData, dataset_kind
from graphedit.training.streaming import LazyData
from graphedit.training.userdata import IMAGE_KINDS, mb, memory_limit, resolve, short_list, sniff

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm"}
FORMATS = {
    "png": {"PNG"},
    "jpg": {"JPEG", "MPO"},
    "jpeg": {"JPEG", "MPO"},
    "bmp": {"BMP"},
    "gif": {"GIF"},
    "tif": {"TIFF"},
    "tiff": {"TIFF"},
    "webp": {"WEBP"},
    "ppm": {"PPM"},
    "pgm": {"PPM"},
    "pbm": {"PPM"},
}

OPTIONS = {
    "path": Opt("", "folder with one subfolder of images per class (relative to the project)"),
    "size": Opt(32, "images are resized to size × size pixels", min=4, max=1024),
    "color": Opt("grey", "grey: 1 channel; rgb: 3 channels", choices=("grey", "rgb")),
    "unreadable": Opt(
        "skip", "an image that cannot be decoded: skip (with a note) or error", choices=("skip", "error")
    ),
    "memory_limit_mb": Opt(0.0, "decode batch by batch when all images exceed this (0: GraphEdit's default)", min=0.0),
    "workers": Opt(0, "processes decoding images while training streams them (0: none)", min=0, max=16),
}


def pillow() -> Any:
    try:
        from PIL import Image, ImageOps
    except ImportError:  # pragma: no cover - Pillow is a dependency
        raise DatasetError("dataset 'image_folder' needs Pillow. Fix: pip install Pillow.") from None
    return Image, ImageOps


@dataclass
class Folder:
    """The images found in a class folder tree, with their classes and header sizes."""

    root: Path
    classes: list[str]
    files: list[Path]
    labels: list[int]
    sizes: list[tuple[int, int]]
    modes: list[str]
    notes: list[str] = field(default_factory=list)


def scan(o: dict[str, Any], base_dir: Path | None) -> Folder:
    """Find the class subfolders and their images, reading only each image's header."""
    root = resolve("image_folder", o["path"], base_dir, folder=True)
    notes: list[str] = []
    subfolders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    loose = [p.name for p in root.iterdir() if p.is_file() and p.suffix.lower() in EXTENSIONS]
    if loose:
        notes.append(
            f"left out {len(loose)} image(s) lying directly in {root.name}, outside any class subfolder "
            f"({short_list(sorted(loose), 3)}): move each into the subfolder of its class"
        )
    classes, files, labels, sizes, modes = [], [], [], [], []
    skipped, other, empty, renamed = [], [], [], []
    for sub in subfolders:
        found = 0
        for path in sorted(p for p in sub.rglob("*") if p.is_file() and not p.name.startswith(".")):
            if path.suffix.lower() not in EXTENSIONS:
                other.append(f"{sub.name}/{path.name}")
                continue
            header = image_header(path)
            if isinstance(header, str):
                if o["unreadable"] == "error":
                    raise DatasetError(
                        f"dataset 'image_folder': {sub.name}/{path.name} cannot be read as an image: {header}. "
                        "Fix: replace or delete it, or set unreadable to 'skip' to leave it out."
                    )
                skipped.append(f"{sub.name}/{path.name} ({header})")
                continue
            fmt, size, mode = header
            if fmt not in FORMATS.get(path.suffix.lower()[1:], {fmt}):
                renamed.append(f"{sub.name}/{path.name} is {fmt}")
            if not found:
                classes.append(sub.name)
            files.append(path)
            labels.append(len(classes) - 1)
            sizes.append(size)
            modes.append(mode)
            found += 1
        if not found:
            empty.append(sub.name)
    if not files:
        seen = f" (it holds {short_list([p.name for p in subfolders], 5)})" if subfolders else " (it is empty)"
        raise DatasetError(
            f"dataset 'image_folder': {root} holds no class subfolders with images{seen}. Fix: put the images of "
            f"each class in a subfolder named after the class, e.g. {root.name}/cat/001.png and "
            f"{root.name}/dog/002.png."
        )
    if len(classes) < 2:
        raise DatasetError(
            f"dataset 'image_folder': only the subfolder '{classes[0]}' of {root.name} holds images, one class, so "
            "there is nothing to tell apart. Fix: add a subfolder of images for every other class."
        )
    if skipped:
        notes.append(f"skipped {len(skipped)} unreadable image(s): {short_list(skipped, 4)}")
    if empty:
        notes.append(f"left out class subfolder(s) without images: {', '.join(empty)}")
    if other:
        notes.append(f"left out {len(other)} file(s) that are not images by their extension: {short_list(other, 4)}")
    if renamed:
        notes.append(f"read {len(renamed)} image(s) by content, not extension: {short_list(renamed, 3)}")
    folder = Folder(root, classes, files, labels, sizes, modes, notes)
    _size_notes(folder, o)
    return folder


def image_header(path: Path) -> tuple[str, tuple[int, int], str] | str:
    """``(format, (width, height), mode)``, or why the file is not a readable image."""
    Image, _ = pillow()
    try:
        with Image.open(path) as img:
            if img.format == "PNG":
                img.verify()  # checks the chunks' checksums without decoding the pixels
            return str(img.format), img.size, img.mode
    except Exception as exc:  # Pillow raises many kinds (UnidentifiedImageError, OSError, SyntaxError, ...)
        kind, what = sniff(path)
        if kind not in IMAGE_KINDS:
            return f"it is {what}, not an image"
        return f"damaged {kind.upper()} data: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"


def _size_notes(folder: Folder, o: dict[str, Any]) -> None:
    size = o["size"]
    counts = Counter(folder.sizes)
    shown = ", ".join(f"{w}×{h}: {n}" for (w, h), n in counts.most_common(4))
    if len(counts) > 1:
        folder.notes.append(
            f"images come in {len(counts)} sizes ({shown}{', …' if len(counts) > 4 else ''}): "
            f"all resized to {size}×{size}"
        )
    elif next(iter(counts)) != (size, size):
        w, h = next(iter(counts))
        folder.notes.append(f"images resized from {w}×{h} to {size}×{size}")
    if any(w != h for w, h in counts):
        folder.notes.append("images that are not square are stretched to a square")
    modes = Counter(folder.modes)
    colour = sum(n for m, n in modes.items() if m not in ("1", "L", "LA", "I", "I;16", "F"))
    if o["color"] == "grey" and colour:
        folder.notes.append(f"converted {colour} colour image(s) to grey (set color to rgb to keep colour)")
    if o["color"] == "rgb" and colour < len(folder.modes):
        folder.notes.append(
            f"{len(folder.modes) - colour} grey image(s) repeated across the red, green and blue channels"
        )
    alpha = sum(n for m, n in modes.items() if m in ("RGBA", "LA", "PA"))
    if alpha:
        folder.notes.append(f"transparent parts of {alpha} image(s) drawn on white")


def decode(path: Path, size: int, color: str) -> np.ndarray:
    """One image as ``uint8`` ``[C, size, size]``; raises :class:`DatasetError` naming the file."""
    Image, ImageOps = pillow()
    try:
        with Image.open(path) as img:
            if img.format == "JPEG":
                img.draft("L" if color == "grey" else "RGB", (size, size))  # decode at a reduced scale: faster
            ImageOps.exif_transpose(img, in_place=True)  # not a copy of every image: most have no rotation
            img = _to_mode(img, color, Image)
            if img.size != (size, size):
                img = img.resize((size, size), Image.Resampling.BILINEAR)
            arr = np.asarray(img, dtype=np.uint8)
    except DatasetError:
        raise
    except Exception as exc:
        raise DatasetError(
            f"dataset 'image_folder': {path.parent.name}/{path.name} cannot be decoded ({exc}). "
            "Fix: replace or delete the file."
        ) from None
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


def _to_mode(img: Any, color: str, Image: Any) -> Any:
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):  # 16-bit or float grey: scale to bytes, not clip
        arr = np.asarray(img, dtype=np.float64)
        top = arr.max() if arr.max() > 0 else 1.0
        img = Image.fromarray((arr / (65535.0 if top > 255 else 255.0) * 255).clip(0, 255).astype(np.uint8), "L")
    if img.mode == "P" or img.mode in ("RGBA", "LA", "PA"):
        img = img.convert("RGBA")
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, img)
    mode = "L" if color == "grey" else "RGB"
    return img if img.mode == mode else img.convert(mode)


class ImageSource:
    """Images decoded when a batch asks for them, for :class:`~graphedit.training.streaming.LazyData`.

    With ``skip``, an image that fails to decode is left out of its batch (which is one shorter) and
    named once in ``notes`` (the dataset's notes list, so the editor sees it); otherwise it raises.
    """

    def __init__(
        self, files: list[Path], labels: np.ndarray, size: int, color: str, skip: bool, notes: list[str]
    ) -> None:
        self.files = files
        self.labels = labels
        self.size = size
        self.color = color
        self.skip = skip
        self.notes = notes
        self.failed: set[int] = set()

    def __len__(self) -> int:
        return len(self.files)

    def read(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        images, keep = [], []
        for k, i in enumerate(rows):
            try:
                images.append(decode(self.files[i], self.size, self.color))
                keep.append(k)
            except DatasetError as exc:
                if not self.skip:
                    raise
                if i not in self.failed:
                    self.failed.add(int(i))
                    self.notes.append(f"skipped while streaming: {str(exc).split(': ', 1)[-1].split('. Fix')[0]}")
        if not images:
            raise DatasetError(
                "dataset 'image_folder': no image of a whole batch could be decoded (see the notes). "
                "Fix: replace the damaged images."
            )
        return np.stack(images), self.labels[rows[keep]]


@dataset_kind(
    "image_folder",
    OPTIONS,
    "your own images: a folder with one subfolder of images per class; large folders are decoded as they stream",
)
def image_folder(o: dict[str, Any], rng: np.random.Generator, base_dir: Path | None) -> RawData | LazyData:
    folder = scan(o, base_dir)
    size, channels = o["size"], 1 if o["color"] == "grey" else 3
    labels = np.asarray(folder.labels, dtype=np.int64)
    limit = memory_limit(o["memory_limit_mb"])
    need = len(folder.files) * channels * size * size * 4
    if need > limit:
        folder.notes.append(
            f"{len(folder.files)} images would take {mb(need)} decoded, above the memory limit of "
            f"{mb(limit)}: decoded a batch at a time while training"
        )
        return LazyData(
            ImageSource(folder.files, labels, size, o["color"], o["unreadable"] == "skip", folder.notes),
            feature_shape=(channels, size, size),
            feature_dtype="float32",
            target_shape=(),
            target_dtype="int64",
            task="classification",
            num_classes=len(folder.classes),
            class_names=list(folder.classes),
            image=True,
            scale=255.0,
            num_workers=o["workers"],
            notes=folder.notes,
        )
    X = np.empty((len(folder.files), channels, size, size), dtype=np.float32)
    keep = np.ones(len(folder.files), dtype=bool)
    failed = []
    for i, path in enumerate(folder.files):
        try:
            X[i] = decode(path, size, o["color"]) / np.float32(255.0)
        except DatasetError as exc:  # the header read, the pixels did not (a truncated file)
            if o["unreadable"] == "error":
                raise
            keep[i] = False
            failed.append(f"{path.parent.name}/{path.name} ({str(exc).split('(', 1)[-1].rsplit(')', 1)[0]})")
    if failed:
        folder.notes.append(f"skipped {len(failed)} image(s) that failed to decode: {short_list(failed, 4)}")
        X, labels = X[keep], labels[keep]
        if len(np.unique(labels)) < 2:
            raise DatasetError(
                "dataset 'image_folder': after skipping unreadable images one class is left. "
                "Fix: replace the damaged images."
            )
    return RawData(
        X, labels, "classification", len(folder.classes), list(folder.classes), image=True, notes=folder.notes
    )


DATASET_KINDS = (image_folder,)
