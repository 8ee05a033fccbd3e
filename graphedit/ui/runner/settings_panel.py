"""The Training settings dock: the project's dataset and training sections as editors.

Each editor commits through an undoable :class:`~graphedit.ui.runner.edits.SettingCommand`;
the panel re-reads the project on every undo-stack change and when another project
is loaded, so Undo and Open show up here as they do on the canvas. Dataset options
get editors generated from the builders' ``Opt`` specs. Choosing a dataset also
fits the graph's Input/Target shapes to it (one undo step with the choice).
Given the window's sweep marks, each training setting and dataset option a sweep
can vary has a ``sweep`` button beside it, made by the marks (``graphedit.ui.experiments.marks``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QLabel,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from graphedit.model.experiment import sweep_name
from graphedit.training.datasets import BUILDERS, Opt, dataset_names, load_dataset
from graphedit.training.settings import OPTIMIZERS, SCHEDULES, TrainSettings
from graphedit.ui.dataset_preview import DatasetPreview
from graphedit.ui.runner.bind_table import BindTable
from graphedit.ui.runner.edits import fit_graph_to_dataset, get_in, push_setting
from graphedit.ui.runner.widgets import MarkedFields, NumberEdit, available_devices, dataset_summary

if TYPE_CHECKING:
    from graphedit.ui.controller import EditorController
    from graphedit.ui.experiments.marks import SweepMarks
    from graphedit.ui.files import ProjectFiles

INT_LIMIT = 2**31 - 1
BUILT_IN = "graphedit.training.builtin_"  # generators that build their data in memory in milliseconds
OPTIONS_ROW = 2  # the dataset's options follow its choice and its one-line doc


class TrainingSettingsDock(QDockWidget):
    """Dataset, optimizer, schedule, stopping, seed and device of ``files.project``."""

    datasetInfo = Signal(object)  # DatasetInfo of the chosen dataset, or None when it cannot load

    def __init__(
        self,
        controller: EditorController,
        files: ProjectFiles,
        parent: QWidget | None = None,
        marks: SweepMarks | None = None,
    ) -> None:
        super().__init__("Training", parent)
        self.setObjectName("training_settings")
        self.controller, self.files, self.marks = controller, files, marks
        self.fields = MarkedFields(marks)  # editors with a sweep button beside them
        self.mark_buttons = self.fields.buttons  # swept name -> its sweep button
        self._bindings: list[tuple[str, tuple[str, ...], Any, Any]] = []  # section, path, show(value), default
        self._option_widgets: dict[str, QWidget] = {}
        self._editors: list[QWidget] = []  # widgets whose signals are held while the panel shows the project
        self._options_for: str | None = None
        self._info_spec: Any = None
        self._in_view = False
        self.info: Any = None
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self._dataset_group())
        layout.addWidget(self._optimizer_group())
        layout.addWidget(self._schedule_group())
        layout.addWidget(self._run_group())
        layout.addStretch(1)
        for combo in body.findChildren(QComboBox):  # long item texts must not widen the dock
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        self.setWidget(scroll)
        controller.undo_stack.indexChanged.connect(self.refresh)  # a bound method: dropped when this dock goes
        files.loaded.connect(self.refresh)
        self.visibilityChanged.connect(self._shown)
        self.refresh()

    # --------------------------------------------------------------- groups
    def _dataset_group(self) -> QGroupBox:
        box = QGroupBox("Dataset")
        form = self.dataset_form = QFormLayout(box)
        self.dataset = QComboBox()
        for name in dataset_names():
            self.dataset.addItem(name, name)
            self.dataset.setItemData(self.dataset.count() - 1, BUILDERS[name].doc, Qt.ItemDataRole.ToolTipRole)
        self.dataset.activated.connect(lambda _i: self.choose_dataset(self.dataset.currentData()))
        form.addRow("Dataset", self.dataset)
        self.dataset_doc = QLabel(wordWrap=True)
        self.dataset_doc.setStyleSheet("color: palette(placeholder-text);")
        form.addRow(self.dataset_doc)
        self.val = self._percent("dataset", ("split", "val"), "Validation split", form)
        self.test = self._percent("dataset", ("split", "test"), "Test split", form)
        self._int("dataset", ("seed",), "Data seed", form, 0, INT_LIMIT, "Seed of the data and of the split")
        self._check("dataset", ("standardize",), "Standardise", form, "Scale inputs to mean 0, std 1 (fitted on train)")
        self.info_label = QLabel(wordWrap=True)
        self.info_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.info_label)
        self.bind_table = BindTable(self._commit_bind)
        self.bind_table.hide()
        form.addRow(self.bind_table)
        self.preview = DatasetPreview()
        self.preview.setMinimumHeight(220)
        form.addRow(self.preview)
        return box

    def _optimizer_group(self) -> QGroupBox:
        box = QGroupBox("Optimizer")
        form = self.optimizer_form = QFormLayout(box)
        self.optimizer = self._choice("training", ("optimizer",), "Optimizer", form, OPTIMIZERS)
        self.optimizer.activated.connect(lambda _i: self._update_rows())
        self.lr = self._number("training", ("lr",), "Learning rate", form, positive=True)
        self.momentum = self._real("training", ("momentum",), "Momentum", form, 0.0, 1.0, 0.05)
        self.nesterov = self._check("training", ("nesterov",), "Nesterov", form)
        self._number("training", ("weight_decay",), "Weight decay", form, tip="L2 penalty through the optimizer")
        self._number("training", ("clip_grad",), "Clip gradients", form, tip="Max global gradient norm; 0: off")
        return box

    def _schedule_group(self) -> QGroupBox:
        box = QGroupBox("Schedule")
        form = self.schedule_form = QFormLayout(box)
        self._int("training", ("batch_size",), "Batch size", form, 1, 1 << 20)
        self.epochs = self._int("training", ("epochs",), "Epochs", form, 1, 1_000_000)
        self.schedule = self._choice("training", ("schedule",), "LR schedule", form, SCHEDULES)
        self.schedule.activated.connect(lambda _i: self._update_rows())
        tip = "Epochs between decays; 0: a third of the epochs"
        self.step_size = self._int("training", ("step_size",), "Decay every", form, 0, 1_000_000, tip)
        self.gamma = self._number("training", ("gamma",), "Decay factor", form, positive=True)
        self.early = self._check("training", ("early_stopping", "enabled"), "Early stopping", form)
        self.early.toggled.connect(lambda _on: self._update_rows())
        tip = "Epochs without a better validation loss before stopping"
        self.patience = self._int("training", ("early_stopping", "patience"), "Patience", form, 1, 100_000, tip)
        return box

    def _run_group(self) -> QGroupBox:
        box = QGroupBox("Run")
        form = self.run_form = QFormLayout(box)
        self._int("training", ("seed",), "Seed", form, 0, INT_LIMIT, "Seed of the weights, shuffling and dropout")
        self.device = self._choice("training", ("device",), "Device", form, available_devices())
        self.amp = self._check("training", ("amp",), "Mixed precision", form, "float16 autocast on CUDA")
        starts = [("init", "each layer's init"), ("weights", "the project's weights (fine-tune)")]
        self.start_from = self._choice("training", ("start_from",), "Start from", form, starts)
        self.start_from.setToolTip(
            "Fine-tuning: start from the project's weights where they fit (an imported, pretrained network); "
            "layers they lack, such as a new head, start from their init. Freeze nodes in the Inspector."
        )
        return box

    # ------------------------------------------------------------- editors
    def _bind(self, widget: QWidget, section: str, path: tuple[str, ...], show: Any, default: Any = None) -> None:
        self._bindings.append((section, path, show, default))
        self._editors.append(widget)

    def _commit(self, section: str, path: tuple[str, ...], value: Any, label: str) -> None:
        project = self.files.project
        push_setting(self.controller.undo_stack, project, section, path, value, f"{label}: {value}")
        if section == "dataset":
            self._update_info()

    def _choice(self, section: str, path: tuple[str, ...], label: str, form: QFormLayout, items: Any) -> QComboBox:
        box = QComboBox()
        for item in items:
            value, text = item if isinstance(item, tuple) else (item, str(item))
            box.addItem(text, value)

        def show(value: Any) -> None:
            index = box.findData(value)
            if index < 0:  # a value saved elsewhere (a device this machine lacks): shown, not changed
                box.addItem(f"{value} (not available here)", value)
                index = box.count() - 1
            box.setCurrentIndex(index)

        box.activated.connect(lambda _i: self._commit(section, path, box.currentData(), label))
        self._bind(box, section, path, show)
        form.addRow(
            label, self._markable(box, section, path, "choice", tuple(box.itemData(i) for i in range(len(items))))
        )
        return box

    def _int(
        self, section: str, path: tuple[str, ...], label: str, form: QFormLayout, lo: int, hi: int, tip: str = ""
    ) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(lo, hi)
        spin.setKeyboardTracking(False)
        spin.setToolTip(tip)
        spin.valueChanged.connect(lambda v: self._commit(section, path, int(v), label))
        self._bind(spin, section, path, lambda v: spin.setValue(int(v)), lo)
        spin.setMinimumWidth(spin.minimumSizeHint().width())  # the form may narrow; a number is never cut
        form.addRow(label, self._markable(spin, section, path, "int"))
        return spin

    def _real(
        self, section: str, path: tuple[str, ...], label: str, form: QFormLayout, lo: float, hi: float, step: float
    ) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(lo, hi)
        spin.setSingleStep(step)
        spin.setDecimals(3)
        spin.setKeyboardTracking(False)
        spin.valueChanged.connect(lambda v: self._commit(section, path, round(float(v), 6), label))
        self._bind(spin, section, path, lambda v: spin.setValue(float(v)), lo)
        spin.setMinimumWidth(spin.minimumSizeHint().width())  # the form may narrow; a number is never cut
        form.addRow(label, self._markable(spin, section, path, "float"))
        return spin

    def _percent(self, section: str, path: tuple[str, ...], label: str, form: QFormLayout) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(0, 90)
        spin.setSuffix(" %")
        spin.setKeyboardTracking(False)
        spin.valueChanged.connect(lambda v: self._commit(section, path, round(v / 100.0, 4), label))
        self._bind(spin, section, path, lambda v: spin.setValue(int(round(float(v) * 100))), 0.0)
        spin.setMinimumWidth(spin.minimumSizeHint().width())  # the form may narrow; a number is never cut
        form.addRow(label, spin)
        return spin

    def _number(
        self, section: str, path: tuple[str, ...], label: str, form: QFormLayout, positive: bool = False, tip: str = ""
    ) -> NumberEdit:
        edit = NumberEdit(positive=positive)
        edit.setToolTip(tip)
        edit.committed.connect(lambda v: self._commit(section, path, v, label))
        edit.refused.connect(lambda text: self.controller.message.emit(f"{label}: {text}"))
        self._bind(edit, section, path, edit.set_value, 0.0)
        form.addRow(label, self._markable(edit, section, path, "float"))
        return edit

    def _check(self, section: str, path: tuple[str, ...], label: str, form: QFormLayout, tip: str = "") -> QCheckBox:
        check = QCheckBox()
        check.setToolTip(tip)
        check.toggled.connect(lambda on: self._commit(section, path, bool(on), label))
        self._bind(check, section, path, lambda v: check.setChecked(bool(v)), False)
        form.addRow(label, self._markable(check, section, path, "bool"))
        return check

    def _markable(
        self, widget: QWidget, section: str, path: tuple[str, ...], kind: str, choices: tuple[Any, ...] = ()
    ) -> QWidget:
        """The editor, with a sweep button beside it when a sweep can vary this training setting."""
        if self.marks is None or section != "training" or len(path) != 1:
            return widget
        return self.fields.field(widget, self.marks.training_button(path[0], kind, choices))

    # ------------------------------------------------------------- dataset
    def choose_dataset(self, name: str) -> None:
        """A new dataset: its options reset to their defaults, and the graph's inputs fit to it (one undo step)."""
        project = self.files.project
        if name == project.dataset.get("name"):
            return
        builder = BUILDERS[name]
        spec = {**project.dataset, "name": name, "options": {}, "standardize": builder.default_standardize}
        if builder.default_split:
            spec["split"] = dict(builder.default_split)
        stack = self.controller.undo_stack
        stack.beginMacro(f"Dataset: {name}")
        try:
            push_setting(stack, project, "dataset", (), spec, f"Dataset: {name}")
            self._update_info(read=True)
            if self.info is not None:
                fit_graph_to_dataset(self.controller, self.info, self.controller.message.emit)
        finally:
            stack.endMacro()

    def _commit_option(self, name: str, value: Any) -> None:
        self._commit_option_path(("options", name), value, f"Dataset option {name}")

    def _commit_option_path(self, path: tuple[str, ...], value: Any, label: str) -> None:
        project = self.files.project
        stack = self.controller.undo_stack
        stack.beginMacro(f"{label}: {value}")
        try:
            push_setting(stack, project, "dataset", path, value, f"{label}: {value}")
            self._update_info(read=True)
            if self.info is not None:
                fit_graph_to_dataset(self.controller, self.info, self.controller.message.emit)
        finally:
            stack.endMacro()

    def _build_options(self, name: str) -> None:
        from graphedit.ui.runner.widgets import option_editor

        for key, editor in self._option_widgets.items():
            self.dataset_form.removeRow(self.fields.forget(editor, sweep_name("dataset", "", key)))
        self._option_widgets = {}
        builder = BUILDERS.get(name)
        for i, (key, opt) in enumerate((builder.options if builder else {}).items()):
            browse = (lambda k=key: self._browse(k)) if key.endswith("path") else None
            editor = option_editor(opt, lambda v, k=key: self._commit_option(k, v), browse)
            editor.setToolTip(opt.doc)
            self._option_widgets[key] = editor
            button = None if self.marks is None else self.marks.option_button(name, key, opt)
            row = self.fields.field(editor, button)
            self.dataset_form.insertRow(OPTIONS_ROW + i, key.replace("_", " "), row)  # under the dataset's doc
        self._options_for = name

    def _browse(self, key: str) -> str | None:
        """A file (or, for an image folder, a folder), relative to the project's folder when inside it."""
        project = self.files.project
        base = project.path.parent if project.path is not None else Path.home()
        if self._options_for in ("image_folder", "image_folders") and key == "path":
            what = "one subfolder per class" if self._options_for == "image_folder" else "one subfolder per node"
            chosen = QFileDialog.getExistingDirectory(self, f"Image folder ({what})", str(base))
        else:
            chosen, _ = QFileDialog.getOpenFileName(self, f"Dataset file ({key})", str(base))
        if not chosen:
            return None
        try:
            return Path(chosen).resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            return chosen

    def _show_options(self, spec: dict[str, Any]) -> None:
        name = spec.get("name")
        if name != self._options_for:
            self._build_options(name)
        builder = BUILDERS.get(name)
        if builder is None:
            return
        given = spec.get("options") or {}
        for key, editor in self._option_widgets.items():
            opt: Opt = builder.options[key]
            editor.show_value(given.get(key, opt.default))

    def _shown(self, visible: bool) -> None:
        # a tabbed dock behind another tab is still isVisible(); this signal tells when its tab is in front
        self._in_view = visible
        if visible:
            self._update_info()

    def _update_info(self, read: bool = False) -> None:
        """Read the chosen dataset for its summary, the preview and fitting: when the dataset changes (``read``)
        or the panel is in view. A panel out of view, as at start, describes it by its builder's doc alone, so
        opening a project never waits for a dataset (and the libraries that read it, such as scikit-learn)."""
        project = self.files.project
        spec = project.dataset
        if spec == self._info_spec:
            return
        if not (read or self._in_view):
            self.info = self._info_spec = None
            self.info_label.setText("Shapes, classes and sizes are shown when this panel is in view.")
            return
        self._info_spec = dict(spec)
        base = project.path.parent if project.path is not None else None
        builder = BUILDERS.get(spec.get("name"))
        self.info = None
        if builder is not None and not builder.fn.__module__.startswith(BUILT_IN):
            # a user's files may take long to read: the preview samples them, the run reads them
            self.info_label.setText("Read when a run starts; the graph's inputs are fitted to it then.")
        else:
            try:
                self.info = load_dataset(spec, base_dir=base).info
            except Exception as exc:  # noqa: BLE001 — any dataset problem is shown, never raised at the user
                self.info_label.setText(f"<span style='color:#d04040'>{_escape(str(exc))}</span>")
            else:
                self.info_label.setText(dataset_summary(self.info))
        preview = self.preview.set_spec(dict(spec), base)
        self._show_bind(preview.get("fields") or [])
        self.datasetInfo.emit(self.info)

    def _show_bind(self, fields: list[dict[str, Any]]) -> None:
        doc = self.controller.root  # the Input and Target nodes, also while a block is open
        nodes: dict[str, list[str]] = {"input": [], "target": []}
        for node_id in doc.topological_order():
            role = doc.node_type(node_id).role
            if role in nodes:
                nodes[role].append(node_id)
        self.bind_table.show_fields(fields, self.files.project.dataset.get("bind") or {}, nodes)

    def _commit_bind(self, bind: dict[str, str]) -> None:
        """Feed a named array or column group into another node (one undo step); the shapes follow."""
        self._commit_option_path(("bind",), bind, "Dataset binding")

    # ------------------------------------------------------------- refresh
    def refresh(self, *_: Any) -> None:
        """Show the project's values (after an edit, an undo, or opening another project)."""
        project = self.files.project
        sections = {"dataset": project.dataset, "training": {**TrainSettings().to_dict(), **project.training}}
        name = project.dataset.get("name")
        if name != self._options_for:
            self._build_options(name)
        widgets = [self.dataset, *self._editors, *self._option_widgets.values()]
        blocked = [w.blockSignals(True) for w in widgets]
        try:
            for section, path, show, default in self._bindings:
                show(get_in(sections[section], path, default))
            index = self.dataset.findData(name)
            if index < 0:
                self.dataset.addItem(f"{name} (unknown)", name)
                index = self.dataset.count() - 1
            self.dataset.setCurrentIndex(index)
            self._show_options(project.dataset)
        finally:
            for widget, was in zip(widgets, blocked):
                widget.blockSignals(was)
        builder = BUILDERS.get(name)
        self.dataset_doc.setText(builder.doc if builder else "This build does not know this dataset.")
        self._update_rows()
        self._update_info()
        self._show_bind(self.preview.preview.get("fields") or [])  # a renamed node: the mapping follows

    def _update_rows(self) -> None:
        optimizer = self.optimizer.currentData()
        self.optimizer_form.setRowVisible(self.fields.row(self.momentum), optimizer in ("sgd", "rmsprop"))
        self.optimizer_form.setRowVisible(self.fields.row(self.nesterov), optimizer == "sgd")
        step = self.schedule.currentData() == "step"
        self.schedule_form.setRowVisible(self.fields.row(self.step_size), step)
        self.schedule_form.setRowVisible(self.fields.row(self.gamma), step)
        self.schedule_form.setRowVisible(self.fields.row(self.patience), self.early.isChecked())
        self.run_form.setRowVisible(
            self.fields.row(self.amp), any(d[0].startswith("cuda") for d in available_devices())
        )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
