"""Marking a parameter for sweeping: the button beside its editor, the small dialog that sets its values, the edit.

A mark is one entry of the project's ``experiment.params`` (``"dense1.units": "16,32,64"``), in the
syntax of ``graphedit sweep --param`` and parsed by the same code
(:mod:`graphedit.model.experiment`). Setting or removing a mark is one undo step of its own; the
buttons follow undo, redo and opening another project through :class:`SweepMarks`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from graphedit.errors import GraphEditError, ParamError
from graphedit.model.events import NodeRenamed
from graphedit.model.experiment import SweepParam, parse_param, sweep_name
from graphedit.ui.runner.edits import SettingCommand

if TYPE_CHECKING:
    from graphedit.ui.controller import EditorController
    from graphedit.ui.files import ProjectFiles

UNMARKED_TEXT = "sweep"
MARKED_STYLE = "QToolButton { font-weight: bold; color: palette(highlight); }"
UNMARKED_STYLE = "QToolButton { color: palette(placeholder-text); }"
MAX_BUTTON_TEXT = 18
UNSWEPT = ("device",)  # training settings a sweep does not vary (graphedit.training.sweep_space.check_params)


class MarkCommand(SettingCommand):
    """Set or remove one mark; never merged with the next edit (two marks are two steps)."""

    def id(self) -> int:
        return -1


class SweepMarks(QObject):
    """The marks of the project the window shows: read, set, remove; ``changed`` after every edit, undo or load."""

    changed = Signal()

    def __init__(self, controller: EditorController, files: ProjectFiles, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller, self.files = controller, files
        controller.undo_stack.indexChanged.connect(self._emit)  # bound methods: dropped when this object goes
        files.loaded.connect(self._emit)
        controller.documentReplaced.connect(self._watch)
        self._document: Any = None
        self._watch()

    def _emit(self, *_: Any) -> None:
        self.changed.emit()

    def _watch(self) -> None:
        if self._document is not None:
            self._document.unsubscribe(self._on_event)
        self._document = self.controller.document
        self._document.subscribe(self._on_event)

    def _on_event(self, event: Any) -> None:
        """A renamed node takes its marks along (and back on undo, which renames it back)."""
        if not isinstance(event, NodeRenamed):
            return
        experiment = self.files.project.experiment
        old = f"{event.old_id}."
        params = experiment.get("params") or {}
        if any(name.startswith(old) for name in params):
            renamed = {(f"{event.new_id}.{n[len(old) :]}" if n.startswith(old) else n): v for n, v in params.items()}
            experiment["params"] = renamed

    # the buttons other panels put beside their editors (they take them from here, so they import nothing of this)
    def training_button(self, key: str, kind: str, choices: tuple[Any, ...] = ()) -> MarkButton | None:
        return training_button(self, self.files, key, kind, choices)

    def option_button(self, dataset: str, key: str, opt: Any) -> MarkButton | None:
        return option_button(self, self.files, dataset, key, opt)

    @staticmethod
    def beside(widget: QWidget, button: QWidget) -> QWidget:
        return beside(widget, button)

    def marks(self) -> dict[str, str]:
        return dict(self.files.project.experiment.get("params") or {})

    def mark(self, name: str) -> str | None:
        return self.marks().get(name)

    def set_mark(self, name: str, values: str | None) -> bool:
        """Mark ``name`` with ``values`` (``None``: remove the mark) as one undo step; ``True`` when it changed."""
        marks = self.marks()
        if values is None:
            if marks.pop(name, None) is None:
                return False
            text = f"Stop sweeping {name}"
        else:
            if marks.get(name) == values:
                return False
            marks[name] = values
            text = f"Sweep {name}: {values}"
        self.controller.undo_stack.push(MarkCommand(self.files.project, "experiment", ("params",), marks, text))
        return True


def suggest(value: Any, kind: str, choices: tuple[Any, ...] = (), lo: float | None = None) -> str:
    """Values to start from: every choice, both truth values, around a number (a decade either way for a float)."""
    if choices:
        return ",".join(str(c) for c in choices)
    if kind == "bool":
        return "true,false"
    if kind == "int" and isinstance(value, int):
        low = max(int(lo) if lo is not None else 1, value // 2) if value > 1 else value
        return ",".join(str(v) for v in dict.fromkeys((low, value, value * 2)))
    if kind == "float" and isinstance(value, (int, float)) and math.isfinite(value):
        if value > 0:
            return f"{value / 10:g}..{value * 10:g}:log"
        return f"{value:g}..{value + 1:g}"
    return str(value)


class MarkDialog(QDialog):
    """Values of one swept parameter: a list, or a range with an optional log scale.

    ``check`` raises :class:`GraphEditError` for a value the parameter does not take (the node's own spec).
    """

    def __init__(
        self, name: str, current: str, check: Callable[[Any], Any] | None, marked: bool, parent: QWidget | None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Sweep {name}")
        self.name, self.check, self.result_text = name, check, None
        self.removed = False
        param = _parse(name, current)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Values of <b>{name}</b> that a sweep tries:"))
        grid = QGridLayout()
        self.as_list, self.as_range = QRadioButton("List"), QRadioButton("Range")
        group = QButtonGroup(self)
        group.addButton(self.as_list)
        group.addButton(self.as_range)
        self.values = QLineEdit(param.values_text() if param and not param.is_range else "")
        self.values.setObjectName("sweep_values")
        self.values.setPlaceholderText("16, 32, 64   or   adam, sgd")
        self.low = QLineEdit("" if not (param and param.is_range) else f"{param.low:g}")
        self.low.setObjectName("sweep_low")
        self.high = QLineEdit("" if not (param and param.is_range) else f"{param.high:g}")
        self.high.setObjectName("sweep_high")
        self.log = QCheckBox("log scale")
        self.log.setToolTip("Sample evenly in orders of magnitude (learning rates, weight decay)")
        self.log.setChecked(bool(param and param.log))
        grid.addWidget(self.as_list, 0, 0)
        grid.addWidget(self.values, 0, 1, 1, 4)
        grid.addWidget(self.as_range, 1, 0)
        grid.addWidget(self.low, 1, 1)
        grid.addWidget(QLabel(".."), 1, 2)
        grid.addWidget(self.high, 1, 3)
        grid.addWidget(self.log, 1, 4)
        layout.addLayout(grid)
        (self.as_range if param and param.is_range else self.as_list).setChecked(True)
        self.as_list.toggled.connect(self._update)
        self.error = QLabel()
        self.error.setObjectName("sweep_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #d04040;")
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.remove_button = QPushButton("Stop sweeping")
        self.remove_button.setEnabled(marked)
        self.remove_button.clicked.connect(self._remove)
        buttons.addButton(self.remove_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        layout.addWidget(buttons)
        self._update()

    def _update(self) -> None:
        on_list = self.as_list.isChecked()
        self.values.setEnabled(on_list)
        for widget in (self.low, self.high, self.log):
            widget.setEnabled(not on_list)

    def text(self) -> str:
        if self.as_list.isChecked():
            return ",".join(part.strip() for part in self.values.text().split(",") if part.strip())
        return f"{self.low.text().strip()}..{self.high.text().strip()}" + (":log" if self.log.isChecked() else "")

    def problem(self) -> str | None:
        """Why the values typed cannot be swept, or ``None``."""
        try:
            param = parse_param(f"{self.name}={self.text()}")
        except GraphEditError as exc:
            return str(exc)
        if self.check is not None:
            for value in param.choices or (param.low, param.high):
                try:
                    self.check(value)
                except GraphEditError as exc:
                    return str(exc)
        return None

    def _accept(self) -> None:
        problem = self.problem()
        self.error.setText(problem or "")
        self.error.setVisible(bool(problem))
        if problem:
            return
        self.result_text = parse_param(f"{self.name}={self.text()}").values_text()
        self.accept()

    def _remove(self) -> None:
        self.removed = True
        self.accept()


def _parse(name: str, values: str) -> SweepParam | None:
    try:
        return parse_param(f"{name}={values}")
    except GraphEditError:
        return None


class MarkButton(QToolButton):
    """Beside a parameter's editor: ``sweep`` while unmarked, the swept values once marked; a click edits them."""

    def __init__(
        self,
        marks: SweepMarks,
        name: str,
        suggestion: Callable[[], str],
        check: Callable[[Any], Any] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.marks, self.name, self.suggestion, self.check = marks, name, suggestion, check
        self.setObjectName(f"sweep_{name}")
        self.setAutoRaise(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.dialog: MarkDialog | None = None
        self.clicked.connect(self.edit)
        marks.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        values = self.marks.mark(self.name)
        if values is None:
            self.setText(UNMARKED_TEXT)
            self.setStyleSheet(UNMARKED_STYLE)
            self.setToolTip(f"Mark {self.name} for sweeping: a sweep (Experiments panel) tries several values")
            return
        shown = values if len(values) <= MAX_BUTTON_TEXT else values[: MAX_BUTTON_TEXT - 1] + "…"
        self.setText(f"⟳ {shown}")
        self.setStyleSheet(MARKED_STYLE)
        self.setToolTip(f"Swept: {self.name} = {values}. Click to change or stop sweeping it.")

    def edit(self) -> MarkDialog:
        """Open the values dialog (non-blocking); its OK sets the mark as one undo step."""
        current = self.marks.mark(self.name)
        self.dialog = MarkDialog(self.name, current or self.suggestion(), self.check, current is not None, self)
        self.dialog.accepted.connect(self._done)
        self.dialog.open()
        return self.dialog

    def _done(self) -> None:
        dialog = self.dialog
        if dialog is None:
            return
        self.marks.set_mark(self.name, None if dialog.removed else dialog.result_text)


def beside(widget: QWidget, button: QWidget) -> QWidget:
    """A row holding an editor and its sweep button."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(widget, 1)
    layout.addWidget(button)
    return row


def training_button(
    marks: SweepMarks, files: ProjectFiles, key: str, kind: str, choices: tuple[Any, ...] = ()
) -> MarkButton | None:
    """The sweep button of a training setting, checked by the project file's own check; None for one not swept."""
    from graphedit.model.project_settings import SettingError, check_training
    from graphedit.training.settings import TrainSettings

    if key in UNSWEPT:
        return None

    def suggestion() -> str:
        value = {**TrainSettings().to_dict(), **files.project.training}.get(key)
        return suggest(value, kind, choices)

    def check(value: Any) -> None:
        try:
            check_training({**files.project.training, key: value})
        except SettingError as exc:
            raise ParamError(str(exc)) from None

    return MarkButton(marks, sweep_name("training", "", key), suggestion, check)


def option_button(marks: SweepMarks, files: ProjectFiles, dataset: str, key: str, opt: Any) -> MarkButton | None:
    """The sweep button of a dataset option (a number, a choice or a switch), checked by the option's spec."""
    from graphedit.nodes.options import SWEEPABLE
    from graphedit.training.datasets import option_value

    kind = opt.kind
    if kind not in SWEEPABLE:
        return None

    def suggestion() -> str:
        value = (files.project.dataset.get("options") or {}).get(key, opt.default)
        return suggest(value, kind, tuple(opt.choices), opt.min)

    return MarkButton(marks, sweep_name("dataset", "", key), suggestion, lambda v: option_value(opt, v, dataset))
