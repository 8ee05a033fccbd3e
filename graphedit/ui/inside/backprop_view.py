"""Backpropagation, step by step, on one example of the dataset.

Every node's forward value shows on the canvas from the start; then, one node at a time from the loss
back to the input (the buttons, or ← and → on the page), the gradient arriving at the node joins its
badge, the node is selected, and the page and the Inspector show the chain rule there: ∂L/∂x = ∂L/∂y ·
∂y/∂x for each input x, with the gradients of the node's own parameters. The values come from the
compiled model itself (:mod:`graphedit.training.backprop`), in evaluation mode. A block node is one step
(its output's value and gradient); entering it on the canvas shows its inner nodes' values, and their
gradients once the walk has reached the block, for the block's first copy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from graphedit.ui.inside.page import EVAL_NOTE, InsidePage
from graphedit.ui.inside.plots import TensorPlot, make_layout, value_text
from graphedit.ui.live.badges import level_prefix
from graphedit.ui.live.page import fmt

if TYPE_CHECKING:
    from graphedit.ui.inside.dock import InsideDock


class BackpropPage(InsidePage):
    def __init__(self, dock: InsideDock, parent: QWidget | None = None) -> None:
        super().__init__(dock, parent)
        self.trace: Any = None
        self.step = 0  # how many nodes of trace.order have received their gradient
        self.example = QSpinBox()
        self.example.setToolTip("Which example of the validation set flows through the network")
        self.example.valueChanged.connect(lambda _: self.retrace())
        self.about = QLabel()
        self.about.setWordWrap(True)  # never pushes the buttons below their size
        self.back_button = QPushButton("← Back one node")
        self.back_button.setToolTip("Pass the gradient one node further back, toward the input (←)")
        self.forward_button = QPushButton("Undo step →")
        self.forward_button.setToolTip("Take the last step back (→)")
        self.restart_button = QPushButton("From the loss")
        self.restart_button.setToolTip("Start again at the loss (Home)")
        self.all_button = QPushButton("All the way")
        self.all_button.setToolTip("Every gradient at once (End)")
        self.back_button.clicked.connect(lambda: self.go(self.step + 1))
        self.forward_button.clicked.connect(lambda: self.go(self.step - 1))
        self.restart_button.clicked.connect(lambda: self.go(1))
        self.all_button.clicked.connect(lambda: self.go(len(self.trace.order) if self.trace else 0))
        for key, button in (
            (Qt.Key.Key_Left, self.back_button),
            (Qt.Key.Key_Right, self.forward_button),
            (Qt.Key.Key_Home, self.restart_button),
            (Qt.Key.Key_End, self.all_button),
        ):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(button.click)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Example"))
        bar.addWidget(self.example)
        bar.addWidget(self.about, 1)
        for button in (self.restart_button, self.back_button, self.forward_button, self.all_button):
            bar.addWidget(button)
        self.plots = make_layout(self)
        self.value_plot = TensorPlot(self.plots, self, 0, 0)
        self.grad_plot = TensorPlot(self.plots, self, 0, 1)
        self.chain = QLabel()
        self.chain.setWordWrap(True)
        self.chain.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(6, 2, 6, 4)
        layout.addLayout(bar)
        layout.addWidget(self.plots, 1)
        layout.addWidget(self.chain)
        self.body.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        dock.controller.levelChanged.connect(self._level_changed)

    # ------------------------------------------------------------ model
    def applies(self, seen: Any) -> tuple[bool, str]:
        if seen is None:
            return False, "the model is not open"
        if not seen.document.node_ids() or not any(
            seen.document.node_type(n).role in ("loss", "weight_penalty") for n in seen.document.node_ids()
        ):
            return False, "the graph has no loss node to backpropagate from"
        return True, ""

    def draw(self) -> None:
        self.example.blockSignals(True)
        self.example.setRange(0, len(self.seen.x) - 1)
        self.example.blockSignals(False)
        self.retrace()

    def retrace(self) -> None:
        from graphedit.training.backprop import trace

        seen = self.seen
        if seen is None:
            return
        self.trace = trace(seen.compiled, seen.document, seen.feed(self.example.value()))
        self.about.setText(self._about())
        self.go(max(1, min(self.step, len(self.trace.order))) if self.step else 1)

    def _about(self) -> str:
        seen, i = self.seen, self.example.value()
        text = f"loss {fmt(self.trace.loss)}"
        classes = seen.classes()
        if classes is not None:
            text = f"class {int(classes[i])} · " + text
        return text

    # ------------------------------------------------------------ steps
    def current(self) -> str | None:
        """The node the last step reached (its gradient is the newest)."""
        if self.trace is None or not self.step:
            return None
        return self.trace.order[self.step - 1]

    def go(self, step: int) -> None:
        if self.trace is None:
            return
        self.step = max(1, min(step, len(self.trace.order)))
        node_id = self.current()
        self.back_button.setEnabled(self.step < len(self.trace.order))
        self.forward_button.setEnabled(self.step > 1)
        self._badges()
        value, grad = self.trace.values.get(node_id), self.trace.grads.get(node_id)
        self.value_plot.show(f"forward value of {node_id}", value, "value")
        self.grad_plot.show(f"gradient ∂L/∂{node_id} arriving", grad, "gradient")
        self.chain.setText(self.chain_text(node_id))
        inspector = getattr(self.dock.window, "inspector", None)
        if inspector is not None and hasattr(inspector, "set_extra"):
            inspector.set_extra("Backprop", self.chain_text)
        controller = self.dock.controller
        if node_id in controller.document and controller.selection() != [node_id]:
            controller.set_selection([node_id])

    def chain_text(self, node_id: str) -> str:
        """The chain rule at a node the walk reached, its parameters' gradients, and the mode."""
        trace = self.trace
        if trace is None or node_id not in trace.values:
            return ""
        if node_id not in trace.order[: self.step]:
            return f"{node_id}: forward value {value_text(trace.values[node_id])}; its gradient comes at a later step."
        params = [
            f"∂L/∂{name} norm {fmt(float(grad.norm()))}"
            for name, grad in trace.param_grads.items()
            if name.split(".")[0] == node_id
        ]
        text = trace.step_text(node_id)
        if params:
            text = text.replace(". Computed", f"; parameters: {', '.join(params)}. Computed")
        return text.replace("Computed in evaluation mode (BatchNorm running statistics, no dropout).", EVAL_NOTE)

    def _badges(self) -> None:
        canvas = getattr(self.dock.window, "canvas", None)
        if canvas is None or self.trace is None:
            return
        reached = set(self.trace.order[: self.step])
        out = {}
        block = self.open_block()
        if block is None:
            values, grads = self.trace.values, self.trace.grads
        else:  # inside a block node: the open copy's inner nodes, their gradients once the walk reached the block
            prefix = self.open_copy()
            values = {k[len(prefix) :]: v for k, v in self.trace.inner_values.items() if k.startswith(prefix)}
            grads = {k[len(prefix) :]: v for k, v in self.trace.inner_grads.items() if k.startswith(prefix)}
            reached = set(values) if block in reached else set()
        for node_id, value in values.items():
            text = value_text(value)
            if node_id in reached and node_id in grads:
                text += f" · ∇ {fmt(float(grads[node_id].norm()))}"
            out[node_id] = text
        canvas.set_badges(out)
        item = canvas.scene().nodes.get(self.current())
        if item is not None:
            canvas.ensureVisible(item.sceneBoundingRect(), 40, 40)  # the walk stays in view

    def open_block(self) -> str | None:
        """The top-level block node the canvas shows the inside of (``None`` at the top level)."""
        levels = getattr(self.dock.controller, "levels", None) or []
        return levels[0].node_id if levels else None

    def open_copy(self) -> str:
        """The trace's key prefix of the copy the canvas shows (``blocks/``, ``blocks[1]/``); deeper than one block,
        none (the trace records the inner nodes of top-level block nodes)."""
        levels = getattr(self.dock.controller, "levels", None) or []
        return level_prefix(self.dock.controller) if len(levels) == 1 else "\0"

    def _level_changed(self) -> None:
        if self.trace is not None and self.isVisible() and self.showing_body():
            self._badges()

    def left(self) -> None:
        canvas = getattr(self.dock.window, "canvas", None)
        if canvas is not None and self.trace is not None:
            canvas.set_badges({})
        inspector = getattr(self.dock.window, "inspector", None)
        if inspector is not None and hasattr(inspector, "set_extra"):
            inspector.set_extra("", None)
