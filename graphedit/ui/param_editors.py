"""Editors generated from parameter specs: one small widget per :class:`Param` kind.

Every editor emits ``committed(value)`` with a value the spec accepts, or
``refused(message)`` when the user typed something the spec rejects (the
message is the spec's own, naming the parameter and the allowed range), and
then shows the last good value again.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QValidator
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox, QWidget

from graphedit.errors import ParamError
from graphedit.nodes.spec import Param

INT_LIMIT = 2**31 - 1
ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class EditorSignals(QObject):
    committed = Signal(object)
    refused = Signal(str)


class _Checked:
    """Mixin: run a raw value through the spec and emit the outcome."""

    param: Param
    signals: EditorSignals

    def offer(self, raw: Any) -> None:
        try:
            value = self.param.coerce(raw)
        except ParamError as exc:
            self.signals.refused.emit(str(exc))
            self.set_value(self._value)
            return
        if value != self._value:
            self._value = value
            self.signals.committed.emit(value)

    def set_value(self, value: Any) -> None:  # overridden by each editor
        raise NotImplementedError


class IntEditor(QSpinBox, _Checked):
    """A spin box over the parameter's range; typing a number outside it is refused with a message."""

    def __init__(self, param: Param, value: int) -> None:
        QSpinBox.__init__(self)
        self.param, self.signals, self._value = param, EditorSignals(), value
        low = -INT_LIMIT if param.min is None else int(max(param.min, -INT_LIMIT))
        self.setRange(low, INT_LIMIT if param.max is None else int(min(param.max, INT_LIMIT)))
        self.setKeyboardTracking(False)
        if param.unit:
            self.setSuffix(f" {param.unit}")
        self.set_value(value)
        self.valueChanged.connect(self.offer)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in ENTER_KEYS and self._out_of_range():
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: Any) -> None:
        self._out_of_range()
        super().focusOutEvent(event)

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

    def set_value(self, value: Any) -> None:
        self._value = value
        self.blockSignals(True)
        self.setValue(int(value))
        self.blockSignals(False)


class FloatEditor(QDoubleSpinBox, _Checked):
    """A spin box that shows 0.001 as 0.001 and accepts 1e-4; out-of-range numbers are refused."""

    NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
    PARTIAL = re.compile(r"^[+-]?(\d*\.?\d*)([eE][+-]?)?$")

    def __init__(self, param: Param, value: float) -> None:
        QDoubleSpinBox.__init__(self)
        self.param, self.signals, self._value = param, EditorSignals(), value
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

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in ENTER_KEYS and self._out_of_range():
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: Any) -> None:
        self._out_of_range()
        super().focusOutEvent(event)

    def _out_of_range(self) -> bool:
        body = self.cleanText().strip()
        if not self.NUMBER.match(body):
            return False
        typed = float(body)
        if self.minimum() <= typed <= self.maximum() or not math.isfinite(typed):
            return False
        self.offer(typed)
        return True

    def set_value(self, value: Any) -> None:
        self._value = value
        self.blockSignals(True)
        self.setValue(float(value))
        self.blockSignals(False)


class BoolEditor(QCheckBox, _Checked):
    def __init__(self, param: Param, value: bool) -> None:
        QCheckBox.__init__(self)
        self.param, self.signals, self._value = param, EditorSignals(), value
        self.set_value(value)
        self.toggled.connect(self.offer)

    def set_value(self, value: Any) -> None:
        self._value = value
        self.blockSignals(True)
        self.setChecked(bool(value))
        self.blockSignals(False)


class ChoiceEditor(QComboBox, _Checked):
    """A fixed list of choices, or (for a number that also takes words, like padding) an editable one."""

    def __init__(self, param: Param, value: Any) -> None:
        QComboBox.__init__(self)
        self.param, self.signals, self._value = param, EditorSignals(), value
        words = param.choices if param.kind == "choice" else param.allow
        self.addItems([str(c) for c in words])
        if param.kind != "choice":
            self.setEditable(True)
            self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            self.lineEdit().editingFinished.connect(lambda: self.offer(self._parse(self.currentText())))
        self.set_value(value)
        self.textActivated.connect(lambda text: self.offer(self._parse(text)))

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
            self.setCurrentText(str(value))
        self.blockSignals(False)


class TextEditor(QLineEdit, _Checked):
    """Free text, a tuple of whole numbers typed as ``1, 28, 28``, or a block's overrides as JSON."""

    def __init__(self, param: Param, value: Any) -> None:
        QLineEdit.__init__(self)
        self.param, self.signals, self._value = param, EditorSignals(), value
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


def make_editor(param: Param, value: Any) -> QWidget:
    """The editor for one parameter; it has ``signals`` (committed, refused) and ``set_value``."""
    if param.kind == "int" and param.allow:
        editor: QWidget = ChoiceEditor(param, value)
    elif param.kind == "int":
        editor = IntEditor(param, value)
    elif param.kind == "float":
        editor = FloatEditor(param, value)
    elif param.kind == "bool":
        editor = BoolEditor(param, value)
    elif param.kind == "choice":
        editor = ChoiceEditor(param, value)
    else:
        editor = TextEditor(param, value)
    editor.setObjectName(f"param_{param.name}")
    editor.setToolTip(param.doc)
    return editor
