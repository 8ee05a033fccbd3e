"""Where the runs of a project that has no file yet live, and how they join the project when it is saved (no Qt).

A project without a file still records its runs: each unsaved project gets its own folder under the user's data
folder (``$XDG_DATA_HOME/graphedit/unsaved-runs/<unique>``, or platformdirs' user data folder where platformdirs is
installed), never a shared temp folder that the system empties. Inside it the project behaves as if it were the file
``untitled.gproj``: runs sit in ``untitled.runs/<run>/`` and the weights pointer is relative, as for a saved project.
Saving the project moves (or, for Save As of a saved project, copies) the runs into ``<stem>.runs/`` beside the new
file and rewrites the pointer.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path

from graphedit.training.runs import runs_folder

APP = "graphedit"
UNSAVED = "unsaved-runs"
STAND_IN = "untitled.gproj"  # the file name an unsaved project's runs are recorded beside


def user_data_dir() -> Path:
    """The per-user data folder of GraphEdit."""
    try:
        from platformdirs import user_data_dir as platform_dir
    except ImportError:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        return Path(base) / APP
    return Path(platform_dir(APP, appauthor=False))


def unsaved_runs_root() -> Path:
    return user_data_dir() / UNSAVED


def new_unsaved_home() -> Path:
    """A folder name no other unsaved project uses (created when its first run is recorded)."""
    return unsaved_runs_root() / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def stand_in(home: Path) -> Path:
    """The file an unsaved project in ``home`` pretends to be: its runs folder is ``home/untitled.runs``."""
    return home / STAND_IN


def relocate_weights(
    weights: dict[str, str] | None, old_file: Path, new_file: Path, carried: list[tuple[Path, Path]]
) -> dict[str, str] | None:
    """The pointer ``weights`` (relative to ``old_file``'s folder) rewritten for ``new_file``.

    A pointer into a run folder that was carried follows it to its new place; any other one keeps its file and only
    changes its base folder.
    """
    if weights is None:
        return None
    target = (old_file.parent / weights["path"]).resolve()
    for old, new in carried:
        if target.is_relative_to(old.resolve()):
            target = new.resolve() / target.relative_to(old.resolve())
            break
    rel = os.path.relpath(target, new_file.parent.resolve())
    return {**weights, "path": Path(rel).as_posix()}


def carry_runs(
    old_file: Path, new_file: Path, move: bool, only: Path | None = None, skip: Path | None = None
) -> list[tuple[Path, Path]]:
    """Move (or copy) the run folders beside ``old_file`` into ``new_file``'s runs folder; returns (old, new) pairs.

    ``only`` limits it to one run folder (Save As of a saved project copies the run its weights come from); ``skip``
    leaves one behind (a run still recording). A run
    whose name is taken in the new folder keeps its name with ``-2``, ``-3``… A failure undoes what was done.
    """
    source = runs_folder(old_file)
    if not source.is_dir() or source.resolve() == runs_folder(new_file).resolve():
        return []
    runs = sorted(p for p in source.iterdir() if p.is_dir() and not p.name.startswith("."))
    if only is not None:
        runs = [p for p in runs if p.resolve() == only.resolve()]
    if skip is not None:
        runs = [p for p in runs if p.resolve() != skip.resolve()]
    target = runs_folder(new_file)
    done: list[tuple[Path, Path]] = []
    try:
        for run in runs:
            target.mkdir(parents=True, exist_ok=True)
            dest, n = target / run.name, 1
            while dest.exists():
                n += 1
                dest = target / f"{run.name}-{n}"
            if move:
                shutil.move(str(run), str(dest))
            else:
                shutil.copytree(run, dest)
            done.append((run, dest))
    except OSError:
        undo_carry(done, move)
        raise
    if move:
        remove_if_empty(source)
    return done


def join_run(run_dir: Path, project_file: Path) -> Path:
    """Move one run folder into ``project_file``'s runs folder unless it is there already; returns where it is."""
    run_dir = Path(run_dir)
    if run_dir.parent.resolve() == runs_folder(project_file).resolve():
        return run_dir
    old_file = run_dir.parent.with_name(run_dir.parent.name.removesuffix(".runs") + ".gproj")
    carried = carry_runs(old_file, project_file, move=True, only=run_dir)
    return carried[0][1] if carried else run_dir


def undo_carry(done: list[tuple[Path, Path]], moved: bool) -> None:
    """Put carried runs back (or delete the copies)."""
    for old, new in reversed(done):
        if moved:
            old.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(new), str(old))
        else:
            shutil.rmtree(new, ignore_errors=True)


def remove_if_empty(folder: Path) -> None:
    """Remove ``folder`` and then its parent if nothing is left in them (an unsaved home after its runs moved)."""
    for path in (folder, folder.parent) if folder.parent.parent == unsaved_runs_root() else (folder,):
        try:
            path.rmdir()
        except OSError:
            return
