"""The one editor factory: a small widget per :class:`~graphedit.nodes.options.Option` kind.

The Inspector (node parameters), the Training panel (training settings) and its dataset options all make their
editors here. Every editor emits ``committed(value)`` with a value the option accepts, or ``refused(message)``
when the user typed something it rejects (the message is the option's own, naming it and the allowed range),
and then shows the last good value again. ``check`` says how a value is checked (by default the option's
``coerce``, raising :class:`~graphedit.errors.ParamError`); any :class:`~graphedit.errors.GraphEditError` it
raises is a refusal.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QValidator
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox, QWidget

from graphedit.errors import GraphEditError
from graphedit.nodes.options import INT_LIMIT, Option

Check = Callable[[Any], Any]
ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class EditorSignals(QObject):
    committed = Signal(object)
    refused = Signal(str)


class _Checked:
    """Mixin: run a raw value through the option's check and emit the outcome."""

    param: Option
    check: Check
    signals: EditorSignals

    def _start(self, param: Option, value: Any, check: Check | None) -> None:
        self.param, self.signals, self._value = param, EditorSignals(), value
        self.check = check or param.coerce

    def offer(self, raw: Any) -> None:
        try:
            value = self.check(raw)
        except GraphEditError as exc:
            self.signals.refused.emit(str(exc))
            self.set_value(self._value)
            return
        if value != self._value:
            self._value = value
            self.signals.committed.emit(value)

    def set_value(self, value: Any) -> None:  # overridden by each editor
        raise NotImplementedError


class _SpinChecked(_Checked):
    """A spin box's checks: Enter or leaving the field with a number typed outside the range refuses it with the
    spec's message (the spin box alone would clamp it silently). Listed before the Qt class, so Qt calls these."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in ENTER_KEYS and self._out_of_range():
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: Any) -> None:
        self._out_of_range()
        super().focusOutEvent(event)

    def set_value(self, value: Any) -> None:
        self._value = value
        self.blockSignals(True)
        self.setValue(self._shown(value))
        self.blockSignals(False)

    def _out_of_range(self) -> bool:  # each spin box's own parse of the typed text
        raise NotImplementedError

    def _shown(self, value: Any) -> Any:
        raise NotImplementedError


class IntEditor(_SpinChecked, QSpinBox):
    """A spin box over the parameter's range; typing a number outside it is refused with a message."""

    def __init__(self, param: Option, value: int, check: Check | None = None) -> None:
        QSpinBox.__init__(self)
        self._start(param, value, check)
        low = -INT_LIMIT if param.min is None else int(max(param.min, -INT_LIMIT))
        self.setRange(low, INT_LIMIT if param.max is None else int(min(param.max, INT_LIMIT)))
        self.setKeyboardTracking(False)
        if param.unit:
            self.setSuffix(f" {param.unit}")
        self.set_value(value)
        self.valueChanged.connect(self.offer)

    def _out_of_range(self) -> bool:
        """Typed text that is a number outside the range: refuse it with the spec's message."""
        try:
            typed = int(self.cleanText())
        except ValueError:
            return False
        if self.minimum() <= typed <= self.maximum():
            return False
        self.offer(typed)
        return True

    def _shown(self, value: Any) -> int:
        return int(value)


class FloatEditor(_SpinChecked, QDoubleSpinBox):
    """A spin box that shows 0.001 as 0.001 and accepts 1e-4; out-of-range numbers are refused."""

    NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
    PARTIAL = re.compile(r"^[+-]?(\d*\.?\d*)([eE][+-]?)?$")

    def __init__(self, param: Option, value: float, check: Check | None = None) -> None:
        QDoubleSpinBox.__init__(self)
        self._start(param, value, check)
        self.setDecimals(12)
        self.setRange(-1e12 if param.min is None else param.min, 1e12 if param.max is None else param.max)
        span = self.maximum() - self.minimum()
        self.setSingleStep(0.05 if span <= 1 else 0.1 if span <= 10 else 1.0)
        self.setKeyboardTracking(False)
        if param.unit:
            self.setSuffix(f" {param.unit}")
        self.set_value(value)
        self.valueChanged.connect(self.offer)

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def stepBy(self, steps: int) -> None:
        """On a log scale (a learning rate) a step doubles or halves the value; otherwise it adds a step."""
        if not self.param.log:
            super().stepBy(steps)
            return
        self.setValue(min(self.maximum(), max(self.minimum(), self.value() * 2.0**steps)))

    def valueFromText(self, text: str) -> float:
        try:
            return float(text.replace(self.suffix(), "").strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> object:
        body = text.replace(self.suffix(), "").strip() if self.suffix() else text.strip()
        if self.NUMBER.match(body):
            value = float(body)
            state = (
                QValidator.State.Acceptable
                if self.minimum() <= value <= self.maximum()
                else QValidator.State.Intermediate
            )
            return state, text, pos
        if self.PARTIAL.match(body):
            return QValidator.State.Intermediate, text, pos
        return QValidator.State.Invalid, text, pos

    def _out_of_range(self) -> bool:
        body = self.cleanText().strip()
        if not self.NUMBER.match(body):
            return False
        typed = float(body)
        if self.minimum() <= typed <= self.maximum() or not math.isfinite(typed):
            return False
        self.offer(typed)
        return True

    def _shown(self, value: Any) -> float:
        return float(value)


class BoolEditor(QCheckBox, _Checked):
    def __init__(self, param: Option, value: bool, check: Check | None = None) -> None:
        QCheckBox.__init__(self)
        self._start(param, value, check)
        self.set_value(value)
        self.toggled.connect(self.offer)

    def set_value(self, value: Any) -> None:
        self._value = value
        self.blockSignals(True)
        self.setChecked(bool(value))
        self.blockSignals(False)


class ChoiceEditor(QComboBox, _Checked):
    """A fixed list of choices, or (for a number that also takes words, like padding) an editable one.

    ``items`` gives ``(value, text)`` pairs to list instead of the choices (the devices this machine has); a value
    not listed (a device another machine had) is shown as not available here, and kept.
    """

    def __init__(self, param: Option, value: Any, check: Check | None = None, items: Sequence[Any] = ()) -> None:
        QComboBox.__init__(self)
        self._start(param, value, check)
        words = param.choices if param.kind == "choice" else param.allow
        for item in items or [(word, str(word)) for word in words]:
            self.addItem(item[1], item[0])
        if param.kind != "choice":
            self.setEditable(True)
            self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            self.lineEdit().editingFinished.connect(lambda: self.offer(self._parse(self.currentText())))
            self.textActivated.connect(lambda text: self.offer(self._parse(text)))
        else:
            self.activated.connect(lambda index: self.offer(self.itemData(index)))
            self.textActivated.connect(lambda text: self.offer(self.itemData(max(0, self.findText(text)))))
        self.set_value(value)

    def _parse(self, text: str) -> Any:
        text = text.strip()
        if self.param.kind == "int" and text not in self.param.allow:
            try:
                return int(text)
            except ValueError:
                return text
        return text

    def set_value(self, value: Any) -> None:
        self._value = value
        self.blockSignals(True)
        if self.isEditable():
            self.setEditText(str(value))
        else:
            index = self.findData(value)
            if index < 0:
                self.addItem(f"{value} (not available here)", value)
                index = self.count() - 1
            self.setCurrentIndex(index)
        self.blockSignals(False)


class TextEditor(QLineEdit, _Checked):
    """Free text, a tuple of whole numbers typed as ``1, 28, 28``, or a block's overrides as JSON."""

    def __init__(self, param: Option, value: Any, check: Check | None = None) -> None:
        QLineEdit.__init__(self)
        self._start(param, value, check)
        if param.kind == "ints":
            count = f"{param.length} numbers" if param.length else "whole numbers"
            self.setPlaceholderText(f"{count}, e.g. 1, 28, 28")
        elif param.kind == "overrides":
            self.setPlaceholderText('per copy, e.g. {"0": {"stride": 2}}')
        self.set_value(value)
        self.editingFinished.connect(lambda: self.offer(self._parse(self.text())))

    def _parse(self, text: str) -> Any:
        if self.param.kind == "overrides":  # JSON data only: the parameter's own check names what is wrong
            try:
                return json.loads(text) if text.strip() else {}
            except ValueError:
                return text
        if self.param.kind != "ints":
            return text
        parts = [p for p in re.split(r"[\s,×x()\[\]]+", text) if p]
        try:
            return [int(p) for p in parts]
        except ValueError:
            return text

    def set_value(self, value: Any) -> None:
        self._value = value
        if self.param.kind == "overrides":
            self.setText(json.dumps(self.param.to_json_value(value)) if value else "")
        else:
            self.setText(", ".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value))


def make_editor(option: Option, value: Any, check: Check | None = None, items: Sequence[Any] = ()) -> QWidget:
    """The editor of one option; it has ``signals`` (committed, refused) and ``set_value``.

    ``check`` replaces the option's own ``coerce`` (a dataset option names its dataset); ``items`` lists a choice's
    ``(value, text)`` pairs when they are known only here (see :class:`ChoiceEditor`).
    """
    kind = option.kind
    if kind == "choice" or (kind == "int" and option.allow):
        editor: QWidget = ChoiceEditor(option, value, check, items)
    elif kind == "int":
        editor = IntEditor(option, value, check)
    elif kind == "float":
        editor = FloatEditor(option, value, check)
    elif kind == "bool":
        editor = BoolEditor(option, value, check)
    elif kind == "scope":
        raise ValueError(f"option {option.name!r} is a scope: make an editor for each of its options")
    else:
        editor = TextEditor(option, value, check)
    editor.setObjectName(f"param_{option.name}")
    editor.setToolTip(option.doc.replace("`", ""))
    return editor
