"""Defaults and checks for the non-graph sections of a project file.

Each section is stored as given, merged over its defaults (one place: the
``DEFAULT_*`` dicts below; the training settings' are made from ``training_options``),
so a file may leave out what it does not change and keys this GraphEdit does not know
are kept for the next save. Known keys are checked; a bad one raises :class:`SettingError` with a message the loader
prefixes with the file name.
"""

from __future__ import annotations

import copy
import math
import re
from typing import Any

from graphedit.model.training_options import DATASET_SETTINGS, TRAINING_OPTIONS

DEFAULT_META: dict[str, Any] = {"title": "", "description": "", "watch": ""}

DEFAULT_DATASET: dict[str, Any] = {
    "name": "circle",
    "options": {},
    "split": {"val": 0.2, "test": 0.0},
    **{o.name: o.defaults() for o in DATASET_SETTINGS},
}

DEFAULT_TRAINING: dict[str, Any] = {o.name: o.defaults() for o in TRAINING_OPTIONS if o.stored}
"""Written into every saved project, in this order; the declarations are ``training_options.TRAINING_OPTIONS``."""

DEFAULT_VIEW: dict[str, Any] = {"zoom": 1.0, "center": [0.0, 0.0], "panels": [], "live_view": None}

SHA256 = re.compile(r"^[0-9a-f]{64}$")


class SettingError(ValueError):
    """A setting of the wrong type or out of range; the loader adds the file name."""


def merged(defaults: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """``given`` over ``defaults``, one level of nested dicts deep; default keys first, then the rest."""
    out = copy.deepcopy(defaults)
    for key, value in given.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **copy.deepcopy(value)}
        else:
            out[key] = copy.deepcopy(value)
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _number(where: str, v: Any, lo: float | None = None, hi: float | None = None, lo_open: bool = False) -> None:
    if not _is_number(v):
        raise SettingError(f"{where} must be a number, not {v!r}")
    if lo is not None and (v <= lo if lo_open else v < lo):
        raise SettingError(f"{where} is {v}; it must be {'>' if lo_open else '≥'} {lo:g}")
    if hi is not None and v > hi:
        raise SettingError(f"{where} is {v}; it must be ≤ {hi:g}")


def _kind(where: str, v: Any, kind: type | tuple[type, ...], text: str) -> None:
    if not isinstance(v, kind):
        raise SettingError(f"{where} must be {text}, not {v!r}")


def _name(where: str, v: Any) -> None:
    if not isinstance(v, str) or not v.strip():
        raise SettingError(f"{where} must be a non-empty name, not {v!r}")


def _section(name: str, value: Any, defaults: dict[str, Any]) -> dict[str, Any]:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise SettingError(f"'{name}' must be an object {{...}}, not {type(value).__name__}")
    return merged(defaults, value)


def check_meta(value: Any) -> dict[str, Any]:
    meta = _section("meta", value, DEFAULT_META)
    for key in DEFAULT_META:
        _kind(f"meta.{key}", meta[key], str, "text")
    return meta


def check_dataset(value: Any) -> dict[str, Any]:
    d = _section("dataset", value, DEFAULT_DATASET)
    _name("dataset.name", d["name"])
    _kind("dataset.options", d["options"], dict, "an object {...}")
    _kind("dataset.split", d["split"], dict, 'an object such as {"val": 0.2, "test": 0.0}')
    for key in ("val", "test"):
        _number(f"dataset.split.{key}", d["split"].get(key, 0.0), 0.0, 0.95)
    if d["split"].get("val", 0.0) + d["split"].get("test", 0.0) >= 1.0:
        raise SettingError("dataset.split: val + test must leave data to train on; make their sum < 1")
    for option in DATASET_SETTINGS:
        option.coerce(d[option.name], error=SettingError, label=f"dataset.{option.name}")
    if "augment" in d:  # optional; its keys are checked by the training layer (graphedit/training/augment.py)
        _kind("dataset.augment", d["augment"], dict, 'an object such as {"flip": true, "noise": 0.05}')
    return d


def check_training(value: Any) -> dict[str, Any]:
    """The section over its defaults, each declared setting checked (values kept as written; unknown keys kept).

    An optimizer, schedule or device this build does not know is kept (``strict=False``): the file opens, and a
    run says what is wrong.
    """
    t = _section("training", value, DEFAULT_TRAINING)
    for option in TRAINING_OPTIONS:
        if option.name in t:
            option.coerce(t[option.name], error=SettingError, label=f"training.{option.name}", strict=False)
    return t


def check_view(value: Any) -> dict[str, Any]:
    v = _section("view", value, DEFAULT_VIEW)
    _number("view.zoom", v["zoom"], 0.0, lo_open=True)
    center = v["center"]
    if not (isinstance(center, list) and len(center) == 2 and all(map(_is_number, center))):
        raise SettingError(f"view.center must be two numbers [x, y], not {center!r}")
    if not (isinstance(v["panels"], list) and all(isinstance(p, str) for p in v["panels"])):
        raise SettingError(f"view.panels must be a list of panel names, not {v['panels']!r}")
    if v["live_view"] is not None:
        _kind("view.live_view", v["live_view"], str, "a view name or null")
    return v


def check_weights(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"path", "sha256"}:
        raise SettingError('\'weights\' must be null or {"path": "name.safetensors", "sha256": "<64 hex digits>"}')
    path, digest = value["path"], value["sha256"]
    if not isinstance(path, str) or not path or path.startswith(("/", "\\")) or ":" in path or "\\" in path:
        raise SettingError(f"weights.path {path!r} must be a path relative to the project file, with / between folders")
    if not isinstance(digest, str) or not SHA256.match(digest):
        raise SettingError(f"weights.sha256 {digest!r} must be 64 lowercase hex digits (the file's SHA-256)")
    return {"path": path, "sha256": digest}
