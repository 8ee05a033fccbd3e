"""File ▸ Export ▸ … and File ▸ Import…: the editor's side of `graphedit export` and `graphedit import`.

Both call the same headless functions as the command line
(:func:`graphedit.export.export_project`, :func:`graphedit.importers.import_model`).
An untrained project is never exported silently: the user is asked whether
to export its initial weights. Importing Python (``file.py:Class``,
``module:callable``) runs that code, so the user is asked first; an ONNX file
is only read. Dialogs go through :class:`ModelIOPrompts`,
which tests replace. A module's submodules become blocks unless File ▸ Import as a flat graph is checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from graphedit.errors import GraphEditError
from graphedit.ui.prompts import ask_yes

if TYPE_CHECKING:
    from graphedit.ui.main_window import MainWindow


FORMATS = (
    ("torchscript", "&TorchScript…", "TorchScript (*.pt)", ".pt"),
    ("onnx", "&ONNX…", "ONNX (*.onnx)", ".onnx"),
    ("safetensors", "&safetensors + graph JSON…", "safetensors (*.safetensors)", ".safetensors"),
    ("python", "&PyTorch source (.py)…", "Python (*.py)", ".py"),
)


class ModelIOPrompts:
    """The dialogs export and import need (replaced in tests)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.parent = parent

    def ask_initial_weights(self, name: str) -> bool:
        return ask_yes(
            self.parent,
            "Export an untrained model?",
            f"{name} has no trained weights yet (train it with Run first).\n\n"
            "Export it with its initial, random weights anyway?",
        )

    def export_path(self, suggested: str, file_filter: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, "Export model", suggested, file_filter)
        return path or None

    def picture_path(self, suggested: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(
            self.parent, "Export the graph as a picture", suggested, "SVG (*.svg);;PNG (*.png);;PDF (*.pdf)"
        )
        return path or None

    def import_source(self, folder: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(
            self.parent, "Import a model", folder, "Models (*.onnx *.py);;ONNX (*.onnx);;PyTorch source (*.py)"
        )
        return path or None

    def confirm_run_code(self, source: str) -> bool:
        return ask_yes(
            self.parent,
            "Run this Python code?",
            f"Importing {source} runs its Python code on this computer, with your permissions, "
            "as running the file would.\n\nImport only code you trust. Import it?",
            warning=True,
        )

    def import_class(self, path: str) -> str | None:
        from PySide6.QtWidgets import QInputDialog

        name, ok = QInputDialog.getText(self.parent, "Import a PyTorch module", f"Class in {Path(path).name}:")
        return name.strip() if ok and name.strip() else None

    def pretrained_weights(self, folder: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(
            self.parent,
            "Your pretrained weights (Cancel: the module's own)",
            folder,
            "Weights (*.safetensors *.onnx *.pt *.pth);;All files (*)",
        )
        return path or None

    def confirm_pt(self, path: str) -> bool:
        return ask_yes(
            self.parent,
            "Read a PyTorch .pt file?",
            f"{Path(path).name} is a Python pickle (torch.save). GraphEdit reads only its tensors, with "
            "torch.load(weights_only=True), which refuses any other object.\n\nRead it? (No: convert it to "
            "safetensors first; the error says how.)",
            warning=True,
        )

    def project_path(self, suggested: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(
            self.parent, "Save the imported project", suggested, "GraphEdit (*.gproj)"
        )
        return path or None

    def info(self, title: str, text: str) -> None:
        QMessageBox.information(self.parent, title, text)

    def error(self, title: str, text: str) -> None:
        QMessageBox.warning(self.parent, title, text)


class ModelIO:
    """Adds the export and import actions to a MainWindow's File menu."""

    def __init__(self, window: MainWindow, prompts: ModelIOPrompts | None = None) -> None:
        self.window = window
        self.prompts = prompts or ModelIOPrompts(window)
        self.actions: dict[str, QAction] = {}
        for fmt, label, _, _ in FORMATS:
            action = window.export_menu.addAction(label)
            action.triggered.connect(lambda _=False, f=fmt: self.export(f))
            self.actions[fmt] = action
        window.export_menu.addSeparator()
        self.picture_action = window.export_menu.addAction("&Picture (SVG, PNG, PDF)…")
        self.picture_action.setStatusTip("Save the graph as it is drawn, for a slide or a report")
        self.picture_action.triggered.connect(lambda _=False: self.export_picture())
        self.import_action = QAction("&Import model…", window)
        self.import_action.setStatusTip("Turn an ONNX file or a PyTorch module into a project")
        self.import_action.triggered.connect(lambda _=False: self.import_model())
        window.commands.file_menu.insertAction(window.export_menu.menuAction(), self.import_action)
        self.flat_action = QAction("Import as a &flat graph (no blocks)", window)
        self.flat_action.setCheckable(True)
        self.flat_action.setStatusTip("Import one node per layer instead of one block per submodule")
        window.commands.file_menu.insertAction(window.export_menu.menuAction(), self.flat_action)

    @property
    def project(self) -> Any:
        return self.window.files.project

    def export(self, fmt: str, path: str | None = None) -> dict[str, Any] | None:
        from graphedit.export import UntrainedError, export_project, is_trained

        project = self.project
        name = project.path.name if project.path else "This project"
        initial = False
        if not is_trained(project):
            if not self.prompts.ask_initial_weights(name):
                return None
            initial = True
        _, _, file_filter, suffix = next(f for f in FORMATS if f[0] == fmt)
        if path is None:
            stem = project.path.with_suffix("") if project.path else Path.home() / "model"
            if fmt == "python":
                stem = stem.with_name(stem.name.replace("-", "_") + "_model")
            path = self.prompts.export_path(str(stem) + suffix, file_filter)
            if path is None:
                return None
        try:
            report = export_project(project, fmt, path, initial_weights=initial)
        except UntrainedError as exc:
            self.prompts.error("Cannot export", str(exc))
            return None
        except GraphEditError as exc:
            self.prompts.error("Cannot export", f"{exc}\n\nNothing was written; the project is unchanged.")
            return None
        weights = "trained weights" if report.get("trained") else "its INITIAL (untrained) weights"
        check = report.get("max_abs_diff")
        checked = (
            f"\nChecked against the model in the editor: max |difference| {check:.3g}." if check is not None else ""
        )
        warnings = "".join(f"\n\nWarning: {w}" for w in report.get("warnings", []))
        self.prompts.info("Exported", f"Wrote {fmt} to {report.get('path', path)} with {weights}.{checked}{warnings}")
        self.window.statusBar().showMessage(f"Exported {fmt} to {path}", 8000)
        return report

    def export_picture(self, path: str | None = None) -> Path | None:
        """Write the graph as drawn on the canvas to an SVG, PNG or PDF file (the same drawing as
        ``graphedit render``)."""
        from graphedit.ui.picture import write_picture

        project = self.project
        if path is None:
            stem = project.path.with_suffix("") if project.path else Path.home() / "graph"
            path = self.prompts.picture_path(str(stem) + ".svg")
            if path is None:
                return None
        try:
            out = write_picture(self.window.canvas.scene(), Path(path), project.path)
        except GraphEditError as exc:
            self.prompts.error("Cannot export the picture", str(exc))
            return None
        self.window.statusBar().showMessage(f"Saved the graph as {out}", 8000)
        return out

    def import_model(self, source: str | None = None, out_path: str | None = None, weights: str | None = None) -> bool:
        """Import a model into a new project; ``weights``: the user's pretrained weights for a PyTorch module
        (asked for when the source is chosen here; a ``.pt`` file is read only after the user confirms)."""
        from graphedit.importers import import_source
        from graphedit.importers.pretrained import is_pickle

        ask_weights = source is None
        if source is None:
            folder = str(self.project.path.parent) if self.project.path else str(Path.home())
            source = self.prompts.import_source(folder)
            if source is None:
                return False
            if source.endswith(".py") and ":" not in Path(source).name:
                cls = self.prompts.import_class(source)
                if cls is None:
                    return False
                source = f"{source}:{cls}"
        if not source.endswith(".onnx") and not self.prompts.confirm_run_code(source):
            return False  # file.py:Class and module:callable run code by nature: only when the user says so
        if ask_weights and not source.endswith(".onnx"):
            folder = str(Path(source.rsplit(":", 1)[0]).parent)
            weights = self.prompts.pretrained_weights(folder)
        allow_pt = bool(weights) and is_pickle(weights) and self.prompts.confirm_pt(weights)
        if out_path is None:
            file_part = source.rsplit(":", 1)[0] if source.count(":") and not Path(source).exists() else source
            out_path = self.prompts.project_path(str(Path(file_part).with_suffix(".gproj")))
            if out_path is None:
                return False
        if not self.window.files.maybe_save():
            return False
        try:
            result = import_source(
                source, out_path, weights=weights, allow_pt=allow_pt, flat=self.flat_action.isChecked()
            )
        except GraphEditError as exc:
            self.prompts.error("Cannot import", f"{exc}\n\nThe graph in the editor is unchanged.")
            return False
        opened = self.window.files.open(result.project.path or out_path, ask=False)
        if opened:
            notes = "".join(f"; {note}" for note in result.notes)
            self.window.statusBar().showMessage(f"Imported {source} into {out_path}{notes}", 8000)
        return opened
