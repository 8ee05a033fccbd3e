"""The Training settings dock: the project's dataset and training sections as editors.

Each editor commits through an undoable :class:`~graphedit.ui.runner.edits.SettingCommand`;
the panel re-reads the project on every undo-stack change and when another project
is loaded, so Undo and Open show up here as they do on the canvas. Every editor comes from
the one factory (``graphedit.ui.option_editors``): the training settings' from their declarations
(``graphedit.model.training_options``, placed by their ``group``), the dataset options' from the
builders' options. Choosing a dataset also
fits the graph's Input/Target shapes to it (one undo step with the choice).
Given the window's sweep marks, each training setting and dataset option a sweep
can vary has a ``sweep`` button beside it, made by the marks (``graphedit.ui.experiments.marks``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDockWidget,
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
from graphedit.model.training_options import DATASET_SETTINGS, GROUPS, TRAINING_OPTIONS
from graphedit.nodes.options import Option
from graphedit.training.datasets import BUILDERS, dataset_names, load_dataset
from graphedit.training.settings import TrainSettings
from graphedit.ui.dataset_preview import DatasetPreview
from graphedit.ui.option_editors import make_editor
from graphedit.ui.runner.bind_table import BindTable
from graphedit.ui.runner.edits import fit_graph_to_dataset, get_in, push_setting
from graphedit.ui.runner.widgets import MarkedFields, OptionRow, available_devices, dataset_summary

if TYPE_CHECKING:
    from graphedit.ui.controller import EditorController
    from graphedit.ui.experiments.marks import SweepMarks
    from graphedit.ui.files import ProjectFiles

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
        self.editors: dict[str, Any] = {}  # training setting ("lr", "early_stopping.patience") -> its editor
        self.forms: dict[str, QFormLayout] = {}  # group -> its form
        self._options_for: str | None = None
        self._info_spec: Any = None
        self._in_view = False
        self.info: Any = None
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self._dataset_group())
        for group in GROUPS:
            layout.addWidget(self._settings_group(group))
        self.optimizer_form, self.schedule_form, self.run_form = (self.forms[g] for g in GROUPS)
        for name in ("optimizer", "lr", "schedule", "epochs", "start_from"):  # the ones tests and users reach for
            setattr(self, name, self.editors[name])
        self.early, self.patience = self.editors["early_stopping.enabled"], self.editors["early_stopping.patience"]
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
        for option in DATASET_SETTINGS:
            self._setting("dataset", (option.name,), option, form)
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

    def _settings_group(self, group: str) -> QGroupBox:
        """A box of the training settings declared in ``group`` (``training_options``), in their order."""
        box = QGroupBox(group)
        form = self.forms[group] = QFormLayout(box)
        for option in (o for o in TRAINING_OPTIONS if o.group == group):
            nested = [((option.name, inner.name), inner) for inner in option.options]  # a scope: each of its own
            for path, shown in nested or [((option.name,), option)]:
                self._setting("training", path, shown, form)
        return box

    def _setting(self, section: str, path: tuple[str, ...], option: Option, form: QFormLayout) -> None:
        """One setting's editor (the one factory's), committed as an undoable edit."""
        items = available_devices() if option.name == "device" else ()
        check = lambda v: option.coerce(v, label=option.label, strict=False)  # noqa: E731 — a choice lists all it takes
        editor: Any = make_editor(option, option.defaults(), check, items)
        editor.signals.committed.connect(lambda value: self._commit(section, path, value, option.label))
        editor.signals.refused.connect(self.controller.message.emit)
        if isinstance(editor, QAbstractSpinBox):
            editor.setMinimumWidth(editor.minimumSizeHint().width())  # the form may narrow; a number is never cut
        if section == "training":
            self.editors[".".join(path)] = editor
        self._bind(editor, section, path, editor.set_value, option.defaults())
        form.addRow(option.label, self._markable(editor, section, path, option.kind, option.choices))

    # ------------------------------------------------------------- editors
    def _bind(self, widget: QWidget, section: str, path: tuple[str, ...], show: Any, default: Any = None) -> None:
        self._bindings.append((section, path, show, default))
        self._editors.append(widget)

    def _commit(self, section: str, path: tuple[str, ...], value: Any, label: str) -> None:
        project = self.files.project
        push_setting(self.controller.undo_stack, project, section, path, value, f"{label}: {value}")
        if section == "dataset":
            self._update_info()
        self._update_rows()

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
        for key, editor in self._option_widgets.items():
            self.dataset_form.removeRow(self.fields.forget(editor, sweep_name("dataset", "", key)))
        self._option_widgets = {}
        builder = BUILDERS.get(name)
        for i, (key, opt) in enumerate((builder.options if builder else {}).items()):
            browse = (lambda k=key: self._browse(k)) if key.endswith("path") else None
            commit = lambda v, k=key: self._commit_option(k, v)  # noqa: E731
            editor = OptionRow(opt, name, commit, self.controller.message.emit, browse)
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
            opt: Option = builder.options[key]
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
        """Rows that apply only to some choices: momentum to SGD and RMSprop, the step schedule's two, patience."""
        row, e = self.fields.row, self.editors
        optimizer = e["optimizer"].currentData()
        self.optimizer_form.setRowVisible(row(e["momentum"]), optimizer in ("sgd", "rmsprop"))
        self.optimizer_form.setRowVisible(row(e["nesterov"]), optimizer == "sgd")
        step = e["schedule"].currentData() == "step"
        self.schedule_form.setRowVisible(row(e["step_size"]), step)
        self.schedule_form.setRowVisible(row(e["gamma"]), step)
        self.schedule_form.setRowVisible(row(self.patience), self.early.isChecked())
        self.run_form.setRowVisible(row(e["amp"]), any(d[0].startswith("cuda") for d in available_devices()))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
