"""Recovery copies: the editor autosaves unsaved work so a crash never loses it.

Each running editor owns one *session* in the recovery folder:
``recovery-<id>.gproj`` (the project), ``recovery-<id>.json`` (which file it
copies, when) and ``recovery-<id>.lock`` (a :class:`QLockFile` held while the
editor runs). A clean close deletes all three. On the next start, a session
whose lock can be taken belongs to an editor that is gone without closing
cleanly: its copy is offered. Another editor that is still running keeps its
lock, so its session is left alone.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QLockFile, QStandardPaths

from graphedit.model.project import Project, load_project, save_project

ENV_FOLDER = "GRAPHEDIT_RECOVERY_DIR"


def default_folder() -> Path:
    """``$GRAPHEDIT_RECOVERY_DIR``, else ``<AppDataLocation>/recovery``."""
    if os.environ.get(ENV_FOLDER):
        return Path(os.environ[ENV_FOLDER])
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".graphedit") / "recovery"


@dataclass
class Recovery:
    """A recovery copy left by an editor that did not close cleanly."""

    session: str
    project_file: Path
    original: str | None
    title: str
    saved_at: str
    lock: QLockFile | None = field(default=None, repr=False)
    unsaved_home: str | None = None  # the per-user folder holding the runs of a project that had no file

    def describe(self) -> str:
        what = self.original or f"the unsaved project “{self.title}”"
        return f"{what}, autosaved {self.saved_at}"


class RecoveryStore:
    """The recovery folder: this editor's own session plus the ones crashed editors left behind."""

    def __init__(self, folder: Path | str | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_folder()
        self.session = uuid.uuid4().hex[:12]
        self._lock: QLockFile | None = None

    def _path(self, session: str, suffix: str) -> Path:
        return self.folder / f"recovery-{session}{suffix}"

    def _own_lock(self) -> None:
        if self._lock is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._lock = QLockFile(str(self._path(self.session, ".lock")))
            self._lock.setStaleLockTime(0)
            self._lock.tryLock(0)

    def write(self, project: Project, title: str, unsaved_home: Path | None = None) -> Path:
        """Save a copy of ``project`` as this session's recovery file; ``project.path`` is left as it was.

        ``unsaved_home``: where an unsaved project's runs are, so the recovered copy finds them (and its weights)."""
        self._own_lock()
        target = self._path(self.session, ".gproj")
        original = project.path
        try:
            save_project(project, target)
        finally:
            project.path = original
        info = {
            "original": str(original) if original else None,
            "title": title,
            "saved_at": datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
            "unsaved_home": str(unsaved_home) if unsaved_home is not None and original is None else None,
        }
        self._path(self.session, ".json").write_text(json.dumps(info, indent=2), encoding="utf-8")
        return target

    def clear(self) -> None:
        """Forget this session's copy (after a save: the file on disk is now the newest)."""
        for suffix in (".gproj", ".json"):
            self._path(self.session, suffix).unlink(missing_ok=True)

    def close(self) -> None:
        """A clean close: delete this session's copy and release its lock."""
        self.clear()
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None
        self._path(self.session, ".lock").unlink(missing_ok=True)

    def orphans(self) -> list[Recovery]:
        """Copies whose editor is gone, newest first; each is locked by us until :meth:`release` or :meth:`discard`."""
        if not self.folder.is_dir():
            return []
        found = []
        for info_file in self.folder.glob("recovery-*.json"):
            session = info_file.stem.removeprefix("recovery-")
            project_file = self._path(session, ".gproj")
            if session == self.session or not project_file.exists():
                continue
            lock = QLockFile(str(self._path(session, ".lock")))
            lock.setStaleLockTime(0)
            if not lock.tryLock(0):
                continue  # its editor is still running
            try:
                info = json.loads(info_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                info = {}
            found.append(
                Recovery(
                    session,
                    project_file,
                    info.get("original"),
                    str(info.get("title") or "Untitled"),
                    str(info.get("saved_at") or "at an unknown time"),
                    lock,
                    info.get("unsaved_home") if isinstance(info.get("unsaved_home"), str) else None,
                )
            )
        found.sort(key=lambda r: r.project_file.stat().st_mtime, reverse=True)
        return found

    def load(self, recovery: Recovery) -> Project:
        """The recovered project, pointing at the file it copies (or at none)."""
        project = load_project(recovery.project_file)
        project.path = Path(recovery.original) if recovery.original else None
        return project

    def release(self, recovery: Recovery) -> None:
        """Keep the copy for a later start."""
        if recovery.lock is not None:
            recovery.lock.unlock()
            recovery.lock = None

    def discard(self, recovery: Recovery) -> None:
        for suffix in (".gproj", ".json"):
            self._path(recovery.session, suffix).unlink(missing_ok=True)
        self.release(recovery)
        self._path(recovery.session, ".lock").unlink(missing_ok=True)
