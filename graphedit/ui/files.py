"""File actions of the editor: new, open, save, save as, recent files, examples, autosave and recovery.

The rule is *never lose work*: a file that cannot be read leaves the current
graph as it is and says why; unsaved changes, trained weights not yet saved and a
running training are asked about before they would be replaced; a recovery copy
is written every minute while there are unsaved changes and offered on the next
start if the editor did not close cleanly. An unsaved project records its runs in
its own per-user folder (:mod:`graphedit.training.user_folders`) and saving it
carries them beside the file. A file another program changed is noticed
(:mod:`graphedit.ui.disk_watch`): the user chooses to reload it or keep theirs.
Dialogs go through :class:`Prompts` so tests can answer them.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QObject, QSettings, QTimer, Signal

from graphedit.errors import GraphEditError
from graphedit.model.blocks import BlockLibrary
from graphedit.model.project import SUFFIX, Project, load_project, new_project, save_project
from graphedit.model.starters import starter_project
from graphedit.training.runs import runs_folder
from graphedit.training.user_folders import carry_runs, new_unsaved_home, relocate_weights, stand_in, undo_carry
from graphedit.ui.disk_watch import DiskWatch, remove_stray_temp_files
from graphedit.ui.prompts import FILE_FILTER, Prompts
from graphedit.ui.recovery import RecoveryStore

if TYPE_CHECKING:
    from graphedit.nodes.registry import Registry
    from graphedit.ui.controller import EditorController


PROJECTS_DIR = Path(__file__).resolve().parents[2] / "projects"
AUTOSAVE_MS = 60_000
MAX_RECENT = 10
__all__ = ["FILE_FILTER", "PROJECTS_DIR", "ProjectFiles", "Prompts", "examples"]


def examples(folder: Path = PROJECTS_DIR) -> list[tuple[str, Path]]:
    """``(menu text, path)`` of each example project in lesson order ("2a · title"; byte copies listed once)."""
    from graphedit.ui.examples_catalog import list_examples  # it draws with the canvas, which imports more

    return [(e.menu_text, e.path) for e in list_examples(folder)]


def node_types(controller: EditorController) -> Registry:
    """The node types a new or opened project starts from: the built-ins, not the open project's blocks."""
    registry = controller.root.registry
    return registry.base if isinstance(registry, BlockLibrary) else registry


class RunGuard(Protocol):
    """A training run that opening another project, closing or moving this one must ask about or wait for."""

    run_dir: str | None  # the folder it records into

    def is_training(self) -> bool: ...

    def is_running(self) -> bool: ...

    def stop(self) -> None: ...


class ProjectFiles(QObject):
    """The project the window edits, and everything that reads or writes it."""

    changed = Signal()  # name, path or dirty state changed: the title follows
    recentChanged = Signal()
    loaded = Signal()  # a different project is now in the editor
    aboutToSave = Signal()  # last chance to put view state into the project

    def __init__(
        self,
        controller: EditorController,
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
        self.project: Project = new_project(node_types(controller))
        self.project.document = controller.document
        self.example_name: str | None = None
        self.recovered = False
        self.unsaved_home = new_unsaved_home()  # where the runs of this project live while it has no file
        self.run_guard: RunGuard | None = None  # the training session, set by the training feature
        self.disk = DiskWatch(self)
        self.disk.changedOnDisk.connect(self._changed_on_disk)
        self._asking_disk = False
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
        return self._unsaved_outside_undo or not self.controller.undo_stack.isClean() or self.has_unsaved_runs()

    def runs_base(self) -> Path:
        """The project file runs are recorded beside: the project's, or the stand-in in its unsaved folder."""
        return self.project.path if self.project.path is not None else stand_in(self.unsaved_home)

    def weights_file(self) -> Path | None:
        """The weights the project points to (an unsaved project's point into its unsaved folder)."""
        weights = self.project.weights
        return None if weights is None else self.runs_base().parent / weights["path"]

    def has_unsaved_runs(self) -> bool:
        """Trained weights of a project that has no file yet: losing them is losing work."""
        return self.project.path is None and any(runs_folder(self.runs_base()).glob("*/*.safetensors"))

    def training_running(self) -> bool:
        return self.run_guard is not None and self.run_guard.is_training()

    def display_name(self) -> str:
        if self.project.path is not None:
            return self.project.path.name
        if self.example_name:
            return f"{self.example_name}{SUFFIX}"
        return "Untitled"

    def _note_change(self, *_: Any) -> None:
        self._changed_since_autosave = True

    def _install(
        self, project: Project, example: str | None = None, unsaved: bool = False, unsaved_home: Path | None = None
    ) -> None:
        self.project = project
        self.example_name = example
        self.unsaved_home = unsaved_home or new_unsaved_home()
        self.controller.set_document(project.document)
        self.controller.undo_stack.setClean()
        self._unsaved_outside_undo = unsaved
        self._changed_since_autosave = unsaved
        self.disk.track(project.path)
        if project.path is not None:
            remove_stray_temp_files(project.path)
        self.loaded.emit()
        self.changed.emit()

    # ----------------------------------------------------------- operations
    def maybe_save(self) -> bool:
        """Ask about a running training and unsaved changes; ``False`` means the user cancelled (or saving failed)."""
        if self.training_running() and not self.prompts.ask_stop_training(self.display_name()):
            return False
        if self.is_dirty():
            answer = self.prompts.ask_save(self.display_name())
            if answer == "cancel" or answer == "save" and not self.save():
                return False
        if self.run_guard is not None and self.run_guard.is_running():
            self.run_guard.stop()
        return True

    def new(self, starter: str | None = None) -> bool:
        """An empty project, or with ``starter`` (a key of :data:`graphedit.model.starters.STARTERS`) one whose
        dataset, small network, training settings and live view fit together and learn in a default run."""
        if not self.maybe_save():
            return False
        registry = node_types(self.controller)
        self._install(starter_project(starter, registry) if starter else new_project(registry))
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
        self._carry_example_weights(Path(path))
        return True

    def _carry_example_weights(self, example: Path) -> None:
        """An example that starts from weights (fine-tuning) gets a copy of them in its unsaved folder."""
        weights = self.project.weights
        source = example.parent / weights["path"] if weights is not None else None
        if source is None or not source.is_file():
            return
        self.unsaved_home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, self.unsaved_home / source.name)
        self.project.weights = {**weights, "path": source.name}

    def _load(self, path: Path) -> Project | None:
        try:
            return load_project(path, node_types(self.controller))
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
        self.project.document = self.controller.root
        self.aboutToSave.emit()
        path = Path(path)
        same = self.project.path is not None and _same_file(self.project.path, path)
        if same and self.disk.changed() and not self.prompts.ask_overwrite(self.display_name()):
            return False
        try:
            self._save_with_runs(path)
        except GraphEditError as exc:
            self.prompts.error("Cannot save the project", f"{exc}\n\nYour graph is still open; save it elsewhere.")
            return False
        except OSError as exc:
            self.prompts.error("Cannot save the project", f"{path}: {exc}\n\nYour graph is still open.")
            return False
        self.disk.track(path)
        remove_stray_temp_files(path)
        self.example_name = None
        self._unsaved_outside_undo = False
        self.controller.undo_stack.setClean()
        self.recovery.clear()
        self._changed_since_autosave = False
        self.add_recent(path)
        self.changed.emit()
        return True

    def _save_with_runs(self, path: Path) -> None:
        """Save to ``path`` with the project's runs: an unsaved project's move beside the file; Save As of a saved
        project copies the run its weights come from. The weights pointer (and those the undo stack holds) follow.
        A failed save puts everything back."""
        old = self.runs_base()
        if _same_file(old, path):
            save_project(self.project, path)
            return
        moved = self.project.path is None
        weights = self.weights_file()
        if moved:
            guard = self.run_guard
            busy = Path(guard.run_dir) if guard is not None and guard.is_running() and guard.run_dir else None
            carried = carry_runs(old, path, move=True, skip=busy)  # a run still recording follows when done
        else:
            carried = carry_runs(old, path, move=False, only=weights.parent) if weights is not None else []
        pointers = self._weight_pointers()
        for holder, key, pointer in pointers:
            setattr(holder, key, relocate_weights(pointer, old, path, carried))
        try:
            save_project(self.project, path)
        except BaseException:
            for holder, key, pointer in pointers:
                setattr(holder, key, pointer)
            undo_carry(carried, moved)
            raise

    def _weight_pointers(self) -> list[tuple[Any, str, Any]]:
        """``(holder, attribute, pointer)``: the project's weights and those undoable weight edits would restore."""
        from graphedit.ui.runner.edits import WeightsCommand

        found: list[tuple[Any, str, Any]] = [(self.project, "weights", self.project.weights)]
        stack = self.controller.undo_stack
        for i in range(stack.count()):
            command = stack.command(i)
            if isinstance(command, WeightsCommand) and command.project is self.project:
                found += [(command, "before", command.before), (command, "after", command.after)]
        return found

    def _changed_on_disk(self) -> None:
        """Another program changed the open file: reload it, or keep the editor's version as unsaved work."""
        if self._asking_disk or self.project.path is None:
            return
        self._asking_disk = True
        try:
            path = self.project.path
            if self.prompts.ask_reload(self.display_name()):
                project = self._load(path)
                if project is not None:
                    self._install(project)
                    return
            self.disk.accept()
            self._unsaved_outside_undo = True
            self.changed.emit()
        finally:
            self._asking_disk = False

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
        self.project.document = self.controller.root
        try:
            written = self.recovery.write(self.project, self.display_name(), self.unsaved_home)
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
            home = Path(recovery.unsaved_home) if recovery.unsaved_home else None
            self._install(project, example=name, unsaved=True, unsaved_home=home)
            self.autosave(force=True)  # our own copy first, then the old one may go
            self.recovery.discard(recovery)
            restored = self.recovered = True
        return restored

    def close(self) -> None:
        """A clean close: no recovery copy is left behind."""
        self.autosave_timer.stop()
        self.disk.track(None)
        self.recovery.close()


def _same_file(a: Path, b: Path) -> bool:
    return Path(a).resolve() == Path(b).resolve()
