"""Inside a block, an Inspector row of an inner node's parameter: expose it as a block parameter, or take it back.

"Expose" opens a name field beside the value (the parameter's name to begin with; Enter exposes, Esc or leaving
the field cancels); an exposed row says which block parameter sets it, shows the opened copy's value read-only,
and offers "Un-expose". Each is one undo step (``controller.expose``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QToolButton, QWidget

from graphedit.errors import GraphEditError
from graphedit.model.block_changes import free_exposed_name
from graphedit.model.grouping import library_for

if TYPE_CHECKING:
    from graphedit.ui.controller import EditorController

BOUND_TIP = (
    "Set by the block node's parameter '{name}': this is the value of the copy you opened. Change it on the block "
    "node (each block node has its own value), or un-expose it to set it here for every instance."
)


class ExposeRow(QWidget):
    """The editor of one inner parameter with its Expose / Un-expose button. See the module doc."""

    def __init__(
        self,
        controller: EditorController,
        node_id: str,
        param: str,
        editor: QWidget,
        bound: str | None,
        report: Callable[[str], object],
    ) -> None:
        super().__init__()
        self.controller, self.node_id, self.param, self.bound, self.report = controller, node_id, param, bound, report
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        row.addWidget(editor, 1)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("block parameter name")
        self.name_edit.setToolTip("The name of the new block parameter: Enter exposes it, Esc cancels")
        self.name_edit.returnPressed.connect(self._commit)
        self.name_edit.installEventFilter(self)
        self.name_edit.hide()
        row.addWidget(self.name_edit, 1)
        self.button = QToolButton()
        self.button.setText("Un-expose" if bound else "Expose")
        self.button.setToolTip(
            f"Stop '{bound}' setting it: every instance uses the value set here again"
            if bound
            else "Make it a parameter of the block: every block node gets its own value (the current one to start)"
        )
        self.button.clicked.connect(self._clicked)
        row.addWidget(self.button)
        if bound:
            editor.setEnabled(False)
            editor.setToolTip(BOUND_TIP.format(name=bound))

    def _clicked(self) -> None:
        if self.bound:
            self._run(None)
            return
        definition = library_for(self.controller.root).definitions[self.controller.levels[-1].name]
        self.name_edit.setText(free_exposed_name(definition.exposed, self.param))
        self.button.hide()
        self.name_edit.show()
        self.name_edit.setFocus()
        self.name_edit.selectAll()

    def _commit(self) -> None:
        name = self.name_edit.text().strip()
        self._cancel()
        self._run(name)

    def _cancel(self) -> None:
        self.name_edit.hide()
        self.button.show()

    def _run(self, name: str | None) -> None:
        """From the event loop: the edit rebuilds the Inspector's rows, this one too, which must not happen in
        the middle of its own signal."""
        controller, node_id, param, report = self.controller, self.node_id, self.param, self.report

        def run() -> None:
            try:
                controller.expose(node_id, param, name)
            except GraphEditError as exc:
                report(str(exc))
                return
            report("")

        QTimer.singleShot(0, run)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.name_edit and self.name_edit.isVisible():
            if event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Escape:
                self._cancel()
                return True
            if event.type() == QEvent.Type.FocusOut:
                self._cancel()
        return False
