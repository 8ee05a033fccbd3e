"""Dataset paths that lead outside the project's folder: read only once the user allowed them (DESIGN.md decision 13).

A project file is untrusted: a dataset path that is absolute, goes up through
``..``, starts with ``~`` or is a symlink out of the project's folder could make
GraphEdit read any file of the user's (and show it in the preview, or train on
it). Such a path is read only when

* the command line names it: ``graphedit check|train --allow-outside PATH``, or
* the user confirmed it in the editor, which records the confirmation in a
  per-user file (``trusted_paths.json`` in the user's config folder), keyed by
  the project file's absolute path and the SHA-256 of its dataset section. The
  confirmation never lives in the project file, so a hostile file cannot confirm
  itself, and it lapses when the dataset section changes.

The config folder is ``$GRAPHEDIT_CONFIG_DIR`` when set (tests point it at a
temporary folder), else ``$XDG_CONFIG_HOME/graphedit`` or ``~/.config/graphedit``.
:func:`resolve <graphedit.training.userdata.resolve>` asks :func:`check_path`
for every path it resolves; callers grant paths for a block with :func:`allowing`.
No Qt and no torch here.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from graphedit.errors import OutsidePathError

CONFIG_ENV = "GRAPHEDIT_CONFIG_DIR"
STORE_NAME = "trusted_paths.json"
PATH_OPTIONS = ("path", "y_path")  # the dataset options that name files (see userdata_*.py)

_allowed: ContextVar[frozenset[str]] = ContextVar("graphedit_allowed_outside", default=frozenset())


def config_dir() -> Path:
    given = os.environ.get(CONFIG_ENV)
    if given:
        return Path(given)
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg) if xdg else Path.home() / ".config") / "graphedit"


def _real(path: str | os.PathLike[str]) -> str:
    return str(Path(path).expanduser().resolve())


def is_inside(path: str | os.PathLike[str], folder: str | os.PathLike[str] | None) -> bool:
    """Whether ``path`` (relative to ``folder``) stays inside ``folder`` once ``..`` and symlinks are followed."""
    if folder is None:
        return False
    given = Path(path).expanduser()
    full = given if given.is_absolute() else Path(folder) / given
    try:
        return Path(_real(full)).is_relative_to(_real(folder))
    except (OSError, RuntimeError):
        return False


def outside_paths(dataset: dict[str, Any], project_dir: str | os.PathLike[str] | None) -> list[str]:
    """The dataset's file options (as written) that lead outside ``project_dir``."""
    options = dataset.get("options") if isinstance(dataset, dict) else None
    if not isinstance(options, dict):
        return []
    values = [options.get(key) for key in PATH_OPTIONS]
    return [v for v in values if isinstance(v, str) and v and not is_inside(v, project_dir)]


def dataset_hash(dataset: dict[str, Any]) -> str:
    text = json.dumps(dataset, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _key(project_path: str | os.PathLike[str], dataset: dict[str, Any]) -> str:
    return f"{_real(project_path)}#{dataset_hash(dataset)}"


def _read_store() -> dict[str, list[str]]:
    try:
        data = json.loads((config_dir() / STORE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def confirmed(project_path: str | os.PathLike[str] | None, dataset: dict[str, Any]) -> list[str]:
    """The outside paths the user confirmed for this project file and dataset section (resolved)."""
    if project_path is None:
        return []
    paths = _read_store().get(_key(project_path, dataset), [])
    return [p for p in paths if isinstance(p, str)]


def confirm(project_path: str | os.PathLike[str], dataset: dict[str, Any], paths: Iterable[str]) -> None:
    """Record that the user allows ``paths`` (as written in the dataset) for this project and dataset section."""
    folder = Path(project_path).parent
    resolved = [_real(p if Path(p).expanduser().is_absolute() else folder / p) for p in paths]
    store = _read_store()
    key = _key(project_path, dataset)
    store[key] = sorted(set(store.get(key, [])) | set(resolved))
    target = config_dir() / STORE_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(store, indent=1, ensure_ascii=False), encoding="utf-8")
    tmp.replace(target)


def unconfirmed(project_path: str | os.PathLike[str] | None, dataset: dict[str, Any]) -> list[str]:
    """The dataset's outside paths the user has not confirmed yet (what the editor asks about)."""
    folder = Path(project_path).parent if project_path is not None else None
    done = set(confirmed(project_path, dataset))
    out = []
    for p in outside_paths(dataset, folder):
        full = Path(p).expanduser() if Path(p).expanduser().is_absolute() or folder is None else folder / p
        if _real(full) not in done:
            out.append(p)
    return out


@contextlib.contextmanager
def allowing(paths: Iterable[str | os.PathLike[str]]) -> Iterator[None]:
    """Within the block, :func:`check_path` lets these paths (and files under these folders) through."""
    token = _allowed.set(_allowed.get() | {_real(p) for p in paths})
    try:
        yield
    finally:
        _allowed.reset(token)


def check_path(path: Path, base_dir: Path | None, kind: str, option: str) -> None:
    """Raise :class:`OutsidePathError` for a dataset path outside ``base_dir`` that was not allowed."""
    if is_inside(path, base_dir):
        return
    real = Path(_real(path))
    if any(real == Path(a) or real.is_relative_to(a) for a in _allowed.get()):
        return
    where = f"the project's folder {base_dir}" if base_dir is not None else "a saved project's folder"
    raise OutsidePathError(
        f"dataset '{kind}': option '{option}' leads outside {where} (to {real}); a project file may only read "
        f"its own folder unless you allow it. Fix: run again with --allow-outside {real}, confirm it in the "
        "editor, or copy the data into the project's folder",
        str(real),
    )
