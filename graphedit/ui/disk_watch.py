"""Noticing that another program changed the open project's file, so nothing is silently overwritten.

:class:`DiskWatch` remembers the file as the editor last read or wrote it (modification time, size and SHA-256) and
watches it with a :class:`QFileSystemWatcher`. ``changedOnDisk`` fires (once per burst of events) when the file
differs from that; :meth:`DiskWatch.changed` answers the same question before a save, for systems where the watcher
missed an event. A touch that keeps the bytes is not a change.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

SETTLE_MS = 150  # editors write in several steps; look once they are done
STRAY_AGE_S = 30.0  # an unfinished save's temp file older than this is left over from an interrupted save


@dataclass(frozen=True)
class Signature:
    mtime_ns: int
    size: int
    sha256: str


def signature(path: Path) -> Signature | None:
    try:
        stat = path.stat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
    return Signature(stat.st_mtime_ns, stat.st_size, digest)


class DiskWatch(QObject):
    changedOnDisk = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path: Path | None = None
        self.known: Signature | None = None
        self.watcher = QFileSystemWatcher(self)
        self.watcher.fileChanged.connect(self._event)
        self.watcher.directoryChanged.connect(self._event)  # a save by rename replaces the file we watched
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._look)

    def track(self, path: Path | None) -> None:
        """Watch ``path`` as it is now (just read or written by the editor); ``None`` stops watching."""
        for watched in self.watcher.files() + self.watcher.directories():
            self.watcher.removePath(watched)
        self.path = Path(path) if path is not None else None
        self.known = signature(self.path) if self.path is not None else None
        if self.path is not None:
            self._watch()

    def accept(self) -> None:
        """The user keeps the editor's version: the file as it is now is no longer news."""
        if self.path is not None:
            self.known = signature(self.path)
            self._watch()

    def changed(self) -> bool:
        """Whether the file differs from the version the editor last read or wrote (deleted counts as changed)."""
        if self.path is None or self.known is None:
            return False
        try:
            stat = self.path.stat()
        except OSError:
            return True
        if (stat.st_mtime_ns, stat.st_size) == (self.known.mtime_ns, self.known.size):
            return False
        now = signature(self.path)
        if now is None:
            return True
        if now.sha256 == self.known.sha256:
            self.known = now  # touched, same bytes
            return False
        return True

    def _watch(self) -> None:
        assert self.path is not None
        if self.path.exists() and str(self.path) not in self.watcher.files():
            self.watcher.addPath(str(self.path))
        folder = str(self.path.parent)
        if self.path.parent.is_dir() and folder not in self.watcher.directories():
            self.watcher.addPath(folder)

    def _event(self, _path: str) -> None:
        self._settle.start()

    def _look(self) -> None:
        if self.path is None:
            return
        self._watch()  # re-add a file that was replaced
        if self.changed():
            self.changedOnDisk.emit()


def remove_stray_temp_files(project_file: Path, min_age_s: float = STRAY_AGE_S) -> list[Path]:
    """Delete the temp files an interrupted save of ``project_file`` left beside it; returns them.

    Only names of exactly the pattern :func:`graphedit.model.project.save_project` writes
    (``.<name>.<8 random characters>.tmp``), and only ones old enough that no save is still writing them.
    """
    pattern = re.compile(rf"^\.{re.escape(project_file.name)}\.[a-z0-9_]{{8}}\.tmp$")
    removed = []
    try:
        entries = list(os.scandir(project_file.parent))
    except OSError:
        return []
    now = time.time()
    for entry in entries:
        if not pattern.match(entry.name) or not entry.is_file(follow_symlinks=False):
            continue
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime < min_age_s:
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed
