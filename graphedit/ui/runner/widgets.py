"""Small parts of the Training panel: a dataset option's row, the devices, a dataset's summary, sweep buttons."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QAbstractSpinBox, QHBoxLayout, QLineEdit, QToolButton, QWidget

from graphedit.model.training_options import ALL_GPUS
from graphedit.nodes.options import Option
from graphedit.training.datasets import DatasetInfo, option_value
from graphedit.ui.option_editors import make_editor

if TYPE_CHECKING:
    from graphedit.ui.experiments.marks import SweepMarks


class OptionRow(QWidget):
    """One dataset option: its editor from the one factory (``graphedit.ui.option_editors``), checked as the
    dataset checks it, and a browse button for a path. ``commit(value)`` gets each accepted value, ``refuse(text)``
    the message of a refused one."""

    def __init__(
        self,
        option: Option,
        dataset: str,
        commit: Callable[[Any], None],
        refuse: Callable[[str], None],
        browse: Callable[[], str | None] | None = None,
    ) -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.widget: Any = make_editor(option, option.defaults(), lambda v: option_value(option, v, dataset))
        self.widget.signals.committed.connect(commit)
        self.widget.signals.refused.connect(refuse)
        if isinstance(self.widget, QAbstractSpinBox):  # a narrow form never cuts a number
            self.widget.setMinimumWidth(self.widget.minimumSizeHint().width())
        elif isinstance(self.widget, QLineEdit):
            self.widget.setPlaceholderText(option.doc)
        layout.addWidget(self.widget)
        if browse is not None:
            button = QToolButton()
            button.setText("…")
            button.setToolTip("Choose the file or folder")
            button.clicked.connect(lambda _c=False: self._browse(browse))
            layout.addWidget(button)

    def _browse(self, browse: Callable[[], str | None]) -> None:
        chosen = browse()
        if chosen:
            self.widget.offer(chosen)

    def show_value(self, value: Any) -> None:
        self.widget.set_value(value)


@lru_cache(maxsize=1)
def available_devices() -> tuple[tuple[str, str], ...]:
    """``(value, label)`` of each device this machine has, ``auto`` first; unavailable ones are not listed. With
    several GPUs, ``cuda:all`` trains on all of them at once."""
    import torch

    devices = [("auto", "auto (best available)"), ("cpu", "CPU")]
    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        for i in range(count):
            value = "cuda" if i == 0 else f"cuda:{i}"
            devices.append((value, f"{value} — {torch.cuda.get_device_name(i)}"))
        if count > 1:  # one process per GPU, DistributedDataParallel (graphedit.ui.runner.ranks)
            devices.append((ALL_GPUS, f"all {count} GPUs — one process each"))
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
