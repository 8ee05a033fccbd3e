"""File actions of the editor: new, open, save, save as, recent files, examples, autosave and recovery.

The rule is *never lose work*: a file that cannot be read leaves the current
graph as it is and says why; unsaved changes are asked about before they would
be replaced; a recovery copy is written every minute while there are unsaved
changes and offered on the next start if the editor did not close cleanly.
Dialogs go through :class:`Prompts` so tests can answer them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSettings, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from graphedit.errors import GraphEditError
from graphedit.model.project import SUFFIX, Project, load_project, new_project, save_project
from graphedit.ui.recovery import Recovery, RecoveryStore

PROJECTS_DIR = Path(__file__).resolve().parents[2] / "projects"
AUTOSAVE_MS = 60_000
MAX_RECENT = 10
FILE_FILTER = f"GraphEdit projects (*{SUFFIX});;All files (*)"


class Prompts:
    """The dialogs file actions need. Tests pass an object with the same methods that answers at once."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.parent = parent

    def error(self, title: str, text: str) -> None:
        QMessageBox.critical(self.parent, title, text)

    def ask_save(self, name: str) -> str:
        """``save``, ``discard`` or ``cancel``."""
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.warning(
            self.parent,
            "Unsaved changes",
            f"“{name}” has changes that are not saved. Save them?",
            buttons.Save | buttons.Discard | buttons.Cancel,
            buttons.Save,
        )
        return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")

    def ask_recover(self, recovery: Recovery) -> bool:
        answer = QMessageBox.question(
            self.parent,
            "Recover unsaved work?",
            f"GraphEdit did not close cleanly last time. A recovery copy exists of {recovery.describe()}.\n\n"
            "Restore it? (No deletes the copy.)",
        )
        return answer == QMessageBox.StandardButton.Yes

    def open_path(self, folder: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Open project", folder, FILE_FILTER)
        return path or None

    def save_path(self, suggested: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, "Save project as", suggested, FILE_FILTER)
        return path or None


def examples(folder: Path = PROJECTS_DIR) -> list[tuple[str, Path]]:
    """``(menu text, path)`` of each example project in lesson order ("2a · title"; byte copies listed once)."""
    from graphedit.ui.examples_catalog import list_examples  # it draws with the canvas, which imports more

    return [(e.menu_text, e.path) for e in list_examples(folder)]


class ProjectFiles(QObject):
    """The project the window edits, and everything that reads or writes it."""

    changed = Signal()  # name, path or dirty state changed: the title follows
    recentChanged = Signal()
    loaded = Signal()  # a different project is now in the editor
    aboutToSave = Signal()  # last chance to put view state into the project

    def __init__(
        self,
        controller: Any,
        prompts: Prompts,
        settings: QSettings,
        recovery: RecoveryStore,
        parent: QObject | None = None,
        autosave_ms: int = AUTOSAVE_MS,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.prompts = prompts
        self.settings = settings
        self.recovery = recovery
        self.project: Project = new_project(controller.document.registry)
        self.project.document = controller.document
        self.example_name: str | None = None
        self.recovered = False
        self._unsaved_outside_undo = False  # a recovered copy is unsaved although the undo stack is clean
        self._changed_since_autosave = False
        controller.undo_stack.cleanChanged.connect(lambda _clean: self.changed.emit())
        controller.undo_stack.indexChanged.connect(self._note_change)
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(autosave_ms)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()

    # ----------------------------------------------------------------- state
    @property
    def path(self) -> Path | None:
        return self.project.path

    def is_dirty(self) -> bool:
        return self._unsaved_outside_undo or not self.controller.undo_stack.isClean()

    def display_name(self) -> str:
        if self.project.path is not None:
            return self.project.path.name
        if self.example_name:
            return f"{self.example_name}{SUFFIX}"
        return "Untitled"

    def _note_change(self, *_: Any) -> None:
        self._changed_since_autosave = True

    def _install(self, project: Project, example: str | None = None, unsaved: bool = False) -> None:
        self.project = project
        self.example_name = example
        self.controller.set_document(project.document)
        self.controller.undo_stack.setClean()
        self._unsaved_outside_undo = unsaved
        self._changed_since_autosave = unsaved
        self.loaded.emit()
        self.changed.emit()

    # ----------------------------------------------------------- operations
    def maybe_save(self) -> bool:
        """Ask about unsaved changes; ``False`` means the user cancelled (or saving failed)."""
        if not self.is_dirty():
            return True
        answer = self.prompts.ask_save(self.display_name())
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new(self) -> bool:
        if not self.maybe_save():
            return False
        self._install(new_project(self.controller.document.registry))
        return True

    def open(self, path: str | Path | None = None, ask: bool = True) -> bool:
        """Open a project file; on any error the current graph stays and the error is shown."""
        if ask and not self.maybe_save():
            return False
        if path is None:
            folder = str(self.project.path.parent if self.project.path else Path.home())
            path = self.prompts.open_path(folder)
            if path is None:
                return False
        project = self._load(Path(path))
        if project is None:
            return False
        self._install(project)
        self.add_recent(project.path)
        return True

    def open_example(self, path: str | Path, ask: bool = True) -> bool:
        """Open an example as an unsaved copy, so Save asks where instead of changing the example."""
        if ask and not self.maybe_save():
            return False
        project = self._load(Path(path))
        if project is None:
            return False
        project.path = None
        self._install(project, example=Path(path).stem)
        return True

    def _load(self, path: Path) -> Project | None:
        try:
            return load_project(path, self.controller.document.registry)
        except GraphEditError as exc:
            self.prompts.error("Cannot open the project", f"{exc}\n\nThe graph in the editor is unchanged.")
        except Exception as exc:  # a node pack's migration or a file system oddity: still never lose the graph
            self.prompts.error("Cannot open the project", f"{path}: {type(exc).__name__}: {exc}")
        return None

    def save(self) -> bool:
        if self.project.path is None:
            return self.save_as()
        return self._write(self.project.path)

    def save_as(self, path: str | Path | None = None) -> bool:
        if path is None:
            folder = self.project.path.parent if self.project.path else Path.home()
            path = self.prompts.save_path(str(folder / self.display_name()))
            if path is None:
                return False
        path = Path(path)
        if path.suffix != SUFFIX:
            path = path.with_name(path.name + SUFFIX)
        return self._write(path)

    def _write(self, path: Path) -> bool:
        self.project.document = self.controller.document
        self.aboutToSave.emit()
        try:
            save_project(self.project, path)
        except GraphEditError as exc:
            self.prompts.error("Cannot save the project", f"{exc}\n\nYour graph is still open; save it elsewhere.")
            return False
        except OSError as exc:
            self.prompts.error("Cannot save the project", f"{path}: {exc}\n\nYour graph is still open.")
            return False
        self.example_name = None
        self._unsaved_outside_undo = False
        self.controller.undo_stack.setClean()
        self.recovery.clear()
        self._changed_since_autosave = False
        self.add_recent(path)
        self.changed.emit()
        return True

    # --------------------------------------------------------------- recent
    def recent_files(self) -> list[Path]:
        value = self.settings.value("recent_files", [])
        paths = [value] if isinstance(value, str) else list(value or [])
        return [Path(p) for p in paths if Path(p).exists()]

    def add_recent(self, path: Path | None) -> None:
        if path is None:
            return
        path = Path(path).resolve()
        paths = [path] + [p for p in self.recent_files() if p.resolve() != path]
        self.settings.setValue("recent_files", [str(p) for p in paths[:MAX_RECENT]])
        self.recentChanged.emit()

    def clear_recent(self) -> None:
        self.settings.setValue("recent_files", [])
        self.recentChanged.emit()

    # ------------------------------------------------------ autosave/recover
    def autosave(self, force: bool = False) -> Path | None:
        """Write the recovery copy if there are changes since the last one (and unsaved work at all)."""
        if not self.is_dirty() or not (force or self._changed_since_autosave):
            return None
        self.project.document = self.controller.document
        try:
            written = self.recovery.write(self.project, self.display_name())
        except (GraphEditError, OSError):
            return None  # autosave is a safety net; failing it must not interrupt the user
        self._changed_since_autosave = False
        return written

    def offer_recovery(self) -> bool:
        """Offer copies left by an editor that crashed; restore the first one the user accepts."""
        restored = False
        for recovery in self.recovery.orphans():
            if restored:
                self.recovery.release(recovery)
                continue
            if not self.prompts.ask_recover(recovery):
                self.recovery.discard(recovery)
                continue
            try:
                project = self.recovery.load(recovery)
            except GraphEditError as exc:
                self.prompts.error("Cannot recover", f"{exc}\n\nThe copy is kept at {recovery.project_file}.")
                self.recovery.release(recovery)
                continue
            name = None if project.path or recovery.title == "Untitled" else recovery.title.removesuffix(SUFFIX)
            self._install(project, example=name, unsaved=True)
            self.autosave(force=True)  # our own copy first, then the old one may go
            self.recovery.discard(recovery)
            restored = self.recovered = True
        return restored

    def close(self) -> None:
        """A clean close: no recovery copy is left behind."""
        self.autosave_timer.stop()
        self.recovery.close()
