"""Small editors of the training panels: numbers in any notation, dataset options from ``Opt`` specs, devices."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QWidget,
)

from graphedit.training.datasets import DatasetInfo, Opt

if TYPE_CHECKING:
    from graphedit.ui.experiments.marks import SweepMarks

INT_LIMIT = 2**31 - 1


class NumberEdit(QLineEdit):
    """A float typed as ``0.001`` or ``1e-3``; commits on Enter or leaving the field, refuses what is not a number."""

    committed = Signal(float)
    refused = Signal(str)

    def __init__(self, positive: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.positive = positive
        self._value = 0.0
        self.editingFinished.connect(self._finish)

    def value(self) -> float:
        return self._value

    def set_value(self, value: Any) -> None:
        self._value = float(value)
        self.setText(f"{self._value:g}")

    def _finish(self) -> None:
        text = self.text().strip().replace(",", ".")
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        bad = not math.isfinite(value) or value < 0 or (self.positive and value == 0)
        if bad:
            need = "a number > 0" if self.positive else "a number ≥ 0"
            self.refused.emit(f"“{text}” is not {need}, such as 0.001 or 1e-3")
            self.set_value(self._value)
            return
        if value != self._value:
            self._value = value
            self.committed.emit(value)
        self.set_value(value)


class OptionEditor(QWidget):
    """One dataset option: a check box, spin box, choice or text field by the option's default and range."""

    def __init__(self, opt: Opt, commit: Callable[[Any], None], browse: Callable[[], str | None] | None = None) -> None:
        super().__init__()
        self.opt, self.commit = opt, commit
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        kind = type(opt.default)
        self.widget: Any
        if opt.choices:
            self.widget = QComboBox()
            self.widget.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            self.widget.setMinimumContentsLength(8)
            for choice in opt.choices:
                self.widget.addItem(str(choice), choice)
            self.widget.activated.connect(lambda _i: commit(self.widget.currentData()))
        elif kind is bool:
            self.widget = QCheckBox()
            self.widget.toggled.connect(lambda on: commit(bool(on)))
        elif kind is int:
            self.widget = QSpinBox()
            lo = -INT_LIMIT if opt.min is None else int(max(opt.min, -INT_LIMIT))
            self.widget.setRange(lo, INT_LIMIT if opt.max is None else int(min(opt.max, INT_LIMIT)))
            self.widget.setKeyboardTracking(False)
            self.widget.valueChanged.connect(lambda v: commit(int(v)))
            self.widget.setMinimumWidth(self.widget.minimumSizeHint().width())  # a narrow form never cuts a number
        elif kind is float:
            self.widget = QDoubleSpinBox()
            self.widget.setDecimals(4)
            self.widget.setRange(-1e9 if opt.min is None else opt.min, 1e9 if opt.max is None else opt.max)
            self.widget.setSingleStep(0.05 if (opt.max or 10) <= 1 else 0.5)
            self.widget.setKeyboardTracking(False)
            self.widget.valueChanged.connect(lambda v: commit(round(float(v), 6)))
            self.widget.setMinimumWidth(self.widget.minimumSizeHint().width())
        else:  # text, or a list of names typed comma-separated (the option checks it)
            self.widget = QLineEdit()
            self.widget.setPlaceholderText(opt.doc)
            self.widget.editingFinished.connect(self._commit_text)
        layout.addWidget(self.widget)
        if browse is not None:
            button = QToolButton()
            button.setText("…")
            button.setToolTip("Choose the file or folder")
            button.clicked.connect(lambda _c=False: self._browse(browse))
            layout.addWidget(button)

    def _commit_text(self) -> None:
        text = self.widget.text().strip()
        if isinstance(self.opt.default, list):
            self.commit([part.strip() for part in text.split(",") if part.strip()])
        else:
            self.commit(text)

    def _browse(self, browse: Callable[[], str | None]) -> None:
        chosen = browse()
        if chosen:
            self.widget.setText(chosen)
            self.commit(chosen)

    def show_value(self, value: Any) -> None:
        was = self.widget.blockSignals(True)
        try:
            if isinstance(self.widget, QComboBox):
                self.widget.setCurrentIndex(max(0, self.widget.findData(value)))
            elif isinstance(self.widget, QCheckBox):
                self.widget.setChecked(bool(value))
            elif isinstance(self.widget, (QSpinBox, QDoubleSpinBox)):
                self.widget.setValue(value)
            elif isinstance(value, (list, tuple)):
                self.widget.setText(", ".join(map(str, value)))
            else:
                self.widget.setText(str(value))
        finally:
            self.widget.blockSignals(was)


def option_editor(
    opt: Opt, commit: Callable[[Any], None], browse: Callable[[], str | None] | None = None
) -> OptionEditor:
    return OptionEditor(opt, commit, browse)


@lru_cache(maxsize=1)
def available_devices() -> tuple[tuple[str, str], ...]:
    """``(value, label)`` of each device this machine has, ``auto`` first; unavailable ones are not listed."""
    import torch

    devices = [("auto", "auto (best available)"), ("cpu", "CPU")]
    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        for i in range(count):
            value = "cuda" if i == 0 else f"cuda:{i}"
            devices.append((value, f"{value} — {torch.cuda.get_device_name(i)}"))
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append(("mps", "Apple GPU (mps)"))
    return tuple(devices)


def _shape(shape: Any) -> str:
    return "[" + ", ".join(map(str, shape)) + "]"


def dataset_summary(info: DatasetInfo) -> str:
    """One short paragraph on a dataset: task, shapes, classes, split sizes."""
    if info.inputs is not None:  # named inputs and targets: each with its shape
        named = [f"{f['name']} {_shape(f['shape'])}" for f in [*info.inputs.values(), *(info.targets or {}).values()]]
        parts = [f"<b>{info.task}</b>: inputs and targets " + ", ".join(named)]
    else:
        parts = [f"<b>{info.task}</b>: inputs {_shape(info.feature_shape)} {info.feature_dtype}"]
    if info.target_shape is not None and info.inputs is None:
        parts.append(f"targets {_shape(info.target_shape)} {info.target_dtype}")
    if info.num_classes:
        names = info.class_names or []
        shown = ", ".join(names[:6]) + (" …" if len(names) > 6 else "")
        parts.append(f"{info.num_classes} classes" + (f" ({shown})" if shown else ""))
    if info.vocab:
        parts.append(f"vocabulary of {len(info.vocab)}")
    sizes = " · ".join(f"{k} {v}" for k, v in info.sizes.items() if v)
    return "; ".join(parts) + (f"<br>{sizes}" if sizes else "")


class MarkedFields:
    """Editors of a form with a sweep button beside them (from the window's sweep marks): each one's field in the
    form (the editor, or a row of it and its button) and the buttons by swept name."""

    def __init__(self, marks: SweepMarks | None) -> None:
        self.marks = marks
        self.buttons: dict[str, QWidget] = {}
        self._rows: dict[QWidget, QWidget] = {}

    def field(self, editor: QWidget, button: QWidget | None) -> QWidget:
        """What goes into the form for ``editor``: itself without a button, else a row of both."""
        if button is None:
            return editor
        self.buttons[button.name] = button
        self._rows[editor] = row = self.marks.beside(editor, button)
        return row

    def row(self, editor: QWidget) -> QWidget:
        """The form's field holding ``editor`` (to show or hide its row)."""
        return self._rows.get(editor, editor)

    def forget(self, editor: QWidget, name: str) -> QWidget:
        """Drop an editor that leaves the form; returns its field, to remove."""
        self.buttons.pop(name, None)
        return self._rows.pop(editor, editor)
