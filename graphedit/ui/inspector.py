"""The inspector dock: the selected node's name, doc, formula, parameters, shapes and errors.

Editors are generated from the node type's parameter specs (see
:mod:`graphedit.ui.option_editors`) and every change goes through the
controller, so it is one undo step and every view follows. A value the spec or
the document refuses is not applied; the message says why. A number, choice or
switch has a ``sweep`` button beside it (given the window's sweep marks) that
marks it for the Experiments panel's sweeps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QDockWidget,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from graphedit.errors import GraphEditError
from graphedit.model.document import LR_SCALE_MAX
from graphedit.nodes.options import SWEEPABLE
from graphedit.nodes.spec import shape_text
from graphedit.ui.block_param_row import BOUND_TIP, ExposeRow
from graphedit.ui.icons import family_color, node_icon
from graphedit.ui.option_editors import make_editor

if TYPE_CHECKING:
    from graphedit.model.document import GraphDocument
    from graphedit.ui.controller import EditorController
    from graphedit.ui.experiments.marks import SweepMarks

ERROR_STYLE = (
    "QLabel { background: rgba(229, 57, 53, 40); border: 1px solid #e53935; border-radius: 4px; padding: 6px; }"
)
FORMULA_STYLE = "QLabel { background: rgba(128, 128, 128, 30); border-radius: 4px; padding: 6px; }"


def _label(text: str = "", wrap: bool = True, selectable: bool = True) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(wrap)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class InspectorDock(QDockWidget):
    """Shows and edits the one selected node; says what to do when none or several are selected."""

    def __init__(
        self, controller: EditorController, parent: QWidget | None = None, marks: SweepMarks | None = None
    ) -> None:
        super().__init__("Inspector", parent)
        self.setObjectName("inspector")
        self.controller = controller
        self.marks = marks  # graphedit.ui.experiments.marks.SweepMarks, or None: no sweep buttons
        self.mark_buttons: dict[str, QWidget] = {}
        self.node_id: str | None = None
        self._type_id: str | None = None
        self._shown_doc: GraphDocument | None = None
        self._bound: dict[str, str] = {}
        self.editors: dict[str, QWidget] = {}
        self._extra: Any = None  # a view's text about the selected node (backprop's chain rule), or None
        self._build()
        controller.selectionChanged.connect(self.refresh)
        controller.shapesUpdated.connect(self.refresh)
        controller.documentReplaced.connect(self.refresh)
        self.refresh()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.placeholder = _label("Select a node on the canvas to see and edit it.", selectable=False)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setEnabled(False)

        self.icon = QLabel()
        self.title = QLabel()
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)  # a long type name (SoftmaxCrossEntropy) on a narrow dock
        self.type_label = _label()
        self.type_label.setEnabled(False)
        names = QVBoxLayout()  # the title, and under it the family and type id: each gets the dock's width
        names.setSpacing(0)
        names.addWidget(self.title)
        names.addWidget(self.type_label)
        header = QHBoxLayout()
        header.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        header.addLayout(names, 1)

        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("node_name")
        self.name_edit.setToolTip("The node's name: it names the layer in the generated code (letters, digits, _).")
        self.name_edit.editingFinished.connect(self._rename)
        self.doc = _label()
        self.formula = _label()
        self.formula.setStyleSheet(FORMULA_STYLE)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.formula.setFont(mono)
        self.message_label = _label()
        self.message_label.setObjectName("inspector_message")
        self.message_label.setStyleSheet(ERROR_STYLE)
        self.error_label = _label()
        self.error_label.setObjectName("node_error")
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.addRow("Name", self.name_edit)
        self.params_form = QFormLayout()
        self.params_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.shapes = _label()
        self.shapes.setTextFormat(Qt.TextFormat.RichText)
        self.training_section = _section("Training")
        self.frozen_box = QCheckBox("Frozen: weights and statistics kept")
        self.frozen_box.setObjectName("node_frozen")
        self.frozen_box.setToolTip(
            "A frozen node is not trained: the optimiser does not see its weights and it runs in evaluation mode "
            "(batch-norm statistics kept, dropout off). Freeze a pretrained backbone and train a new head."
        )
        self.frozen_box.toggled.connect(self._set_frozen)
        self.lr_scale_box = QDoubleSpinBox()
        self.lr_scale_box.setObjectName("node_lr_scale")
        self.lr_scale_box.setDecimals(3)
        self.lr_scale_box.setRange(0.001, LR_SCALE_MAX)
        self.lr_scale_box.setSingleStep(0.1)
        self.lr_scale_box.setPrefix("× ")
        self.lr_scale_box.setToolTip(
            "Learning-rate multiplier for this node's weights: 0.1 trains it ten times slower than the rest "
            "(fine-tuning a pretrained backbone after its new head has learned)."
        )
        self.lr_scale_box.editingFinished.connect(self._set_lr_scale)
        self.training_form = QFormLayout()
        self.training_form.addRow(self.frozen_box)
        self.training_form.addRow("Learning rate", self.lr_scale_box)

        self.details = QWidget()
        layout = QVBoxLayout(self.details)
        layout.addLayout(header)
        layout.addLayout(self.form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.message_label)
        layout.addWidget(self.doc)
        layout.addWidget(self.formula)
        layout.addWidget(_section("Parameters"))
        layout.addLayout(self.params_form)
        layout.addWidget(_section("Shapes"))
        layout.addWidget(self.shapes)
        layout.addWidget(self.training_section)
        self.training_widget = QWidget()
        self.training_widget.setLayout(self.training_form)
        layout.addWidget(self.training_widget)
        self.extra_title = _section("")
        self.extra = _label()
        self.extra.setObjectName("inspector_extra")
        layout.addWidget(self.extra_title)
        layout.addWidget(self.extra)
        layout.addStretch(1)

        body = QWidget()
        outer = QVBoxLayout(body)
        outer.addWidget(self.placeholder)
        outer.addWidget(self.details)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(body)
        self.scroll.viewport().installEventFilter(self)
        self.setWidget(self.scroll)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            QTimer.singleShot(0, self, self._fit_height)
        return super().eventFilter(watched, event)

    def _fit_height(self) -> None:
        """Give wrapped text its full height so the scroll area scrolls instead of clipping it."""
        body = self.scroll.widget()
        layout = body.layout()
        width = self.scroll.viewport().width()
        if layout is not None and width > 0:
            layout.activate()
            body.setMinimumHeight(layout.heightForWidth(width) if layout.hasHeightForWidth() else 0)

    # ----------------------------------------------------------------- refresh
    def refresh(self, *_: Any) -> None:
        self._refresh()
        QTimer.singleShot(0, self, self._fit_height)  # other text, other height: scroll rather than squeeze it

    def _refresh(self) -> None:
        selection = [n for n in self.controller.selection() if n in self.controller.document]
        if len(selection) != 1:
            self.node_id = None
            self._type_id = None
            self.details.hide()
            self.placeholder.show()
            self.placeholder.setText(
                f"{len(selection)} nodes selected: select one to edit it."
                if selection
                else "Select a node on the canvas to see and edit it.\n\nDrag a node type from the palette to add one."
            )
            return
        node_id = selection[0]
        doc = self.controller.document
        node_type = doc.node_type(node_id)
        bound = self.controller.bound_by(node_id)
        if (
            node_id != self.node_id
            or node_type.type_id != self._type_id
            or doc is not self._shown_doc
            or bound != self._bound
        ):
            self.message_label.hide()
            self._rebuild_editors(node_id)
            self._shown_doc = doc  # the same id inside a block is another node
        self.node_id, self._type_id = node_id, node_type.type_id
        self.placeholder.hide()
        self.details.show()
        self.icon.setPixmap(node_icon(node_type.category, node_type.title).pixmap(28, 28))
        self.title.setText(node_type.title)
        self.type_label.setText(f"{node_type.category} · {node_type.type_id}")
        self.type_label.setStyleSheet(f"color: {family_color(node_type.category).name()};")
        if not self.name_edit.hasFocus():
            self.name_edit.setText(node_id)
        self.doc.setText(node_type.doc)
        self.formula.setText(node_type.formula)
        self.formula.setVisible(bool(node_type.formula))
        params = {
            **doc.params(node_id),
            **{k: v for k, v in self.controller.shown_params(node_id).items() if k in bound},
        }
        for name, editor in self.editors.items():  # a bound parameter shows the opened copy's value
            if name in params and not editor.hasFocus():
                editor.set_value(params[name])
        self._show_shapes(node_id)
        self._show_training(node_id)
        self._show_extra(node_id)
        QTimer.singleShot(0, self, self._fit_height)

    def set_extra(self, title: str, provider: Any) -> None:
        """A section a view adds about the selected node: ``provider(node_id)`` gives its text (None: no section)."""
        self._extra = provider
        self.extra_title.setText(title.upper())
        self.refresh()

    def _show_extra(self, node_id: str) -> None:
        text = self._extra(node_id) if self._extra is not None else ""
        self.extra.setText(text)
        self.extra_title.setVisible(bool(text))
        self.extra.setVisible(bool(text))

    def _rebuild_editors(self, node_id: str) -> None:
        while self.params_form.rowCount():
            self.params_form.removeRow(0)
        self.editors, self.mark_buttons = {}, {}
        node_type = self.controller.document.node_type(node_id)
        params = self.controller.document.params(node_id)
        bound = self._bound = self.controller.bound_by(node_id)  # inside a block: set by the block's parameters
        inside = bool(getattr(self.controller, "levels", None))
        params = {**params, **{k: v for k, v in self.controller.shown_params(node_id).items() if k in bound}}
        for param in node_type.params:
            editor = make_editor(param, params[param.name])
            editor.signals.committed.connect(lambda value, name=param.name: self._set_param(name, value))
            editor.signals.refused.connect(self.show_message)
            label = QLabel(param.name + (f" ({param.unit})" if param.unit else ""))
            label.setToolTip(param.doc)
            if param.name in bound:
                label.setText(f"{label.text()} ← {bound[param.name]}")
                label.setToolTip(BOUND_TIP.format(name=bound[param.name]))
            row = self._with_mark(node_id, param, editor)
            if inside:
                row = ExposeRow(self.controller, node_id, param.name, row, bound.get(param.name), self.show_message)
            self.params_form.addRow(label, row)
            self.editors[param.name] = editor
        if bound:  # say once whose value a bound row shows
            level = self.controller.levels[-1]
            note = _label(f"← set on the block node: greyed values are those of {level.node_id}, read-only here")
            note.setEnabled(False)
            self.params_form.addRow(note)
        if not node_type.params:
            self.params_form.addRow(QLabel("none"))

    def _with_mark(self, node_id: str, param: Any, editor: QWidget) -> QWidget:
        """The editor, with a sweep button beside it for a number, a choice or a switch."""
        if self.marks is None or param.kind not in SWEEPABLE:
            return editor
        from graphedit.model.experiment import sweep_name
        from graphedit.ui.experiments.marks import MarkButton, beside, suggest

        def suggestion() -> str:
            value = self.controller.document.params(node_id).get(param.name, param.default)
            return suggest(value, param.kind, param.choices, param.min)

        button = MarkButton(self.marks, sweep_name("node", node_id, param.name), suggestion, param.coerce)
        self.mark_buttons[param.name] = button
        return beside(editor, button)

    def _show_shapes(self, node_id: str) -> None:
        info = self.controller.shapes.infos.get(node_id)
        lines = []
        if info is not None:
            for port, shape in info.inputs.items():
                lines.append(f"in <b>{port}</b>: {shape_text(shape)}")
            if info.error is None and not info.blocked:
                for port, shape in info.outputs.items():
                    lines.append(f"out <b>{port}</b>: {shape_text(shape)}")
            elif info.blocked:
                lines.append("out: ? (an upstream node has an error)")
            lines.append(f"parameters: <b>{info.params:,}</b>")
        self.shapes.setText("<br>".join(lines) or "not computed yet")
        error = info.error if info is not None else None
        self.error_label.setVisible(error is not None)
        if error is not None:
            fix = f"\n\nFix: {error.fix}" if error.fix else ""
            self.error_label.setText(f"{error.problem}{fix}")

    def _show_training(self, node_id: str) -> None:
        """Freezing and the learning-rate multiplier, for nodes that have weights."""
        info = self.controller.shapes.infos.get(node_id)
        doc = self.controller.document
        weighted = info is not None and info.params > 0 or doc.is_frozen(node_id) or doc.lr_scale(node_id) != 1.0
        self.training_section.setVisible(weighted)
        self.training_widget.setVisible(weighted)
        self.frozen_box.blockSignals(True)
        self.frozen_box.setChecked(doc.is_frozen(node_id))
        self.frozen_box.blockSignals(False)
        if not self.lr_scale_box.hasFocus():
            self.lr_scale_box.setValue(doc.lr_scale(node_id))
        self.lr_scale_box.setEnabled(not doc.is_frozen(node_id))

    # ----------------------------------------------------------------- edits
    def _set_frozen(self, frozen: bool) -> None:
        if self.node_id is not None:
            self.controller.set_training(self.node_id, frozen=frozen)
            self._show_training(self.node_id)

    def _set_lr_scale(self) -> None:
        if self.node_id is None:
            return
        try:
            self.controller.set_training(self.node_id, lr_scale=round(self.lr_scale_box.value(), 6))
        except GraphEditError as exc:
            self.show_message(str(exc))

    def show_message(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))

    def _set_param(self, name: str, value: Any) -> None:
        if self.node_id is None:
            return
        try:
            self.controller.set_param(self.node_id, name, value)
        except GraphEditError as exc:
            self.show_message(str(exc))
            if name in self.editors and self.node_id in self.controller.document:
                self.editors[name].set_value(self.controller.document.params(self.node_id)[name])
            return
        self.show_message("")

    def _rename(self) -> None:
        new_id = self.name_edit.text().strip()
        if self.node_id is None or new_id == self.node_id:
            return
        try:
            self.controller.rename(self.node_id, new_id)
        except GraphEditError as exc:
            self.show_message(str(exc))
            self.name_edit.setText(self.node_id)
            return
        self.show_message("")
        if new_id not in self.controller.selection():
            self.controller.set_selection([new_id])
        self.refresh()


def _section(text: str) -> QLabel:
    label = QLabel(text.upper())
    font = label.font()
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * 0.85)
    label.setFont(font)
    label.setEnabled(False)
    return label
