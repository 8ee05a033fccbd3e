"""Dataset kind ``image_folders``: several folders of images paired by file stem, one per Input or Target node.

``scans/image/001.png``, ``scans/depth/001.png``, ``scans/mask/001.png``: the subfolders named in option
``inputs`` feed the Input nodes of those names, those in ``targets`` the Target nodes (or the nodes the
spec's ``bind`` maps them to); the files of one example share their stem (``001``) across the folders,
whatever their extensions. Input images become 0–1 floats ``[C, size, size]`` (``color`` grey or rgb).
Target images are segmentation masks by default (``target_kind: mask``): each grey level is a class,
numbered in order (black 0 is the background), resized without blending levels; ``target_kind: image``
makes them 0–1 float images instead (denoising, depth, colourisation).

Files are untrusted: a stem missing from a folder, two files of one stem in a folder, or an image that
cannot be read is one line naming the file and the fix (``unmatched`` / ``unreadable``: ``skip`` leaves
those examples out, stated in the notes).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from graphedit.training.dataset_types import DatasetError, Opt, RawData, dataset_kind
from graphedit.training.userdata import resolve, short_list
from graphedit.training.userdata_images import EXTENSIONS, decode, image_header, pillow

KIND = "image_folders"
MAX_CLASSES = 64  # more grey levels than this in the masks: they are pictures, not masks

OPTIONS = {
    "path": Opt("", "folder with one subfolder of images per Input and Target node (relative to the project)"),
    "inputs": Opt([], "subfolders whose images feed the Input nodes of the same name"),
    "targets": Opt([], "subfolders whose images feed the Target nodes of the same name"),
    "size": Opt(32, "images are resized to size × size pixels", min=4, max=1024),
    "color": Opt("grey", "input images: grey (1 channel) or rgb (3 channels)", choices=("grey", "rgb")),
    "target_kind": Opt(
        "mask", "target images: mask (each grey level a class) or image (0–1 floats)", choices=("mask", "image")
    ),
    "unmatched": Opt(
        "error", "a stem missing from some folder: error, or skip its example (with a note)", choices=("error", "skip")
    ),
    "unreadable": Opt(
        "error", "an image that cannot be read: error, or skip its example (with a note)", choices=("error", "skip")
    ),
}


def _names(o: dict[str, Any]) -> tuple[list[str], list[str]]:
    return list(o["inputs"]), list(o["targets"])


def _stems(folder: Path, notes: list[str]) -> dict[str, Path]:
    """Stem → image file of one subfolder; two images of one stem are an error."""
    found: dict[str, list[Path]] = defaultdict(list)
    other = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        if path.suffix.lower() in EXTENSIONS:
            found[path.stem].append(path)
        else:
            other.append(path.name)
    twice = [files for files in found.values() if len(files) > 1]
    if twice:
        raise DatasetError(
            f"dataset '{KIND}': {folder.name}/ holds {' and '.join(p.name for p in twice[0])}, two images of one "
            "stem, so which belongs to the example is unclear. Fix: keep one file per stem in each folder."
        )
    if other:
        notes.append(f"left out {len(other)} file(s) of {folder.name}/ that are not images: {short_list(other, 3)}")
    return {stem: files[0] for stem, files in found.items()}


def _folders(o: dict[str, Any], base_dir: Path | None) -> tuple[Path, dict[str, dict[str, Path]], list[str]]:
    if not o["inputs"]:
        raise DatasetError(
            f"dataset '{KIND}': option inputs is empty. Fix: name the subfolders whose images feed Input nodes, "
            'e.g. inputs ["image"] and targets ["mask"].'
        )
    twice = sorted(set(o["inputs"]) & set(o["targets"]))
    if twice or len(set(o["inputs"])) < len(o["inputs"]) or len(set(o["targets"])) < len(o["targets"]):
        name = (
            twice[0]
            if twice
            else next(n for n in o["inputs"] + o["targets"] if (o["inputs"] + o["targets"]).count(n) > 1)
        )
        raise DatasetError(f"dataset '{KIND}': folder {name!r} is named twice in inputs/targets. Fix: list it once.")
    root = resolve(KIND, o["path"], base_dir, folder=True)
    subfolders = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    notes: list[str] = []
    stems: dict[str, dict[str, Path]] = {}
    for name in [*o["inputs"], *o["targets"]]:
        if name not in subfolders:
            holds = f"it holds {short_list(subfolders, 6)}" if subfolders else "it has no subfolders"
            raise DatasetError(
                f"dataset '{KIND}': {root.name} has no subfolder {name!r} ({holds}). Fix: name the subfolders in "
                "options inputs and targets, one per Input and Target node."
            )
        stems[name] = _stems(root / name, notes)
        if not stems[name]:
            raise DatasetError(f"dataset '{KIND}': {root.name}/{name}/ holds no images. Fix: put the images there.")
    return root, stems, notes


def _pair(o: dict[str, Any], stems: dict[str, dict[str, Path]], notes: list[str]) -> list[str]:
    """The stems every folder has; the others are an error or left out (``unmatched``)."""
    every = set.intersection(*(set(s) for s in stems.values()))
    lonely = sorted({stem for s in stems.values() for stem in s} - every)
    if lonely:
        missing = [
            f"{stem} (not in {', '.join(n + '/' for n, s in stems.items() if stem not in s)})" for stem in lonely
        ]
        if o["unmatched"] == "error" or not every:
            raise DatasetError(
                f"dataset '{KIND}': {len(lonely)} file stem(s) lack a partner in another folder: "
                f"{short_list(missing, 3)}. Fix: give every example one file of the same stem in each folder"
                f"{'' if not every else ', or set unmatched to skip to leave those out'}."
            )
        notes.append(f"left out {len(lonely)} example(s) whose stem is not in every folder: {short_list(missing, 3)}")
    return sorted(every)


def _mask(path: Path, size: int) -> np.ndarray:
    """A mask as ``uint8`` grey levels ``[size, size]``, resized without blending levels."""
    Image, _ = pillow()
    try:
        with Image.open(path) as img:
            img = img.convert("L")
            if img.size != (size, size):
                img = img.resize((size, size), Image.Resampling.NEAREST)
            return np.asarray(img, dtype=np.uint8)
    except Exception as exc:
        raise DatasetError(
            f"dataset '{KIND}': {path.parent.name}/{path.name} cannot be decoded ({exc}). Fix: replace or delete it."
        ) from None


def _read(o: dict[str, Any], name: str, path: Path, target: bool) -> np.ndarray:
    header = image_header(path)
    if isinstance(header, str):
        raise DatasetError(
            f"dataset '{KIND}': {name}/{path.name} cannot be read as an image: {header}. Fix: replace or delete "
            "it, or set unreadable to skip to leave its example out."
        )
    if target and o["target_kind"] == "mask":
        return _mask(path, o["size"])
    image = decode(path, o["size"], "grey" if target else o["color"])
    return image.astype(np.float32) / np.float32(255.0)


def _classes(levels: np.ndarray, notes: list[str]) -> tuple[np.ndarray, list[str]]:
    values = np.unique(levels)
    if len(values) > MAX_CLASSES:
        raise DatasetError(
            f"dataset '{KIND}': the masks hold {len(values)} grey levels, too many for classes (at most "
            f"{MAX_CLASSES}). Fix: save masks with one flat grey level per class, or set target_kind to image."
        )
    if len(values) < 2:
        raise DatasetError(
            f"dataset '{KIND}': every mask pixel is grey level {int(values[0])}, one class only. Fix: check the "
            "masks, or set target_kind to image."
        )
    lookup = np.zeros(256, dtype=np.int64)
    lookup[values] = np.arange(len(values))
    notes.append(
        f"mask grey levels {', '.join(map(str, values[:6].tolist()))}{', …' if len(values) > 6 else ''} "
        f"are classes 0 … {len(values) - 1}"
    )
    return lookup[levels], [str(int(v)) for v in values]


@dataset_kind(
    KIND,
    OPTIONS,
    "your own images in several folders paired by file name, one folder per Input and Target node (e.g. image + mask)",
    names=_names,
)
def image_folders(o: dict[str, Any], rng: np.random.Generator, base_dir: Path | None) -> RawData:
    root, stems, notes = _folders(o, base_dir)
    keep = _pair(o, stems, notes)
    arrays: dict[str, list[np.ndarray]] = {name: [] for name in stems}
    skipped = []
    for stem in keep:
        try:
            row = {n: _read(o, n, stems[n][stem], n in o["targets"]) for n in stems}
        except DatasetError as exc:
            if o["unreadable"] == "error":
                raise
            skipped.append(f"{stem} ({str(exc).split(': ', 1)[-1].split('. Fix')[0]})")
            continue
        for name, value in row.items():
            arrays[name].append(value)
    if skipped:
        notes.append(f"left out {len(skipped)} example(s) with an unreadable image: {short_list(skipped, 3)}")
    if not arrays[o["inputs"][0]]:
        raise DatasetError(f"dataset '{KIND}': no example of {root.name} could be read. Fix: replace the images.")
    X = {n: np.stack(arrays[n]) for n in o["inputs"]}
    y: dict[str, np.ndarray] = {}
    task, names = "reconstruction", None
    for name in o["targets"]:
        stacked = np.stack(arrays[name])
        if o["target_kind"] == "mask":
            stacked, classes = _classes(stacked, notes)
            task, names = ("segmentation", classes) if names is None else (task, names)
        else:
            task = "regression"
        y[name] = stacked
    return RawData(X, y or None, task, None if names is None else len(names), names, image=True, notes=notes)


DATASET_KINDS = (image_folders,)
