"""The code dock: the PyTorch code the compiler generates for the current graph.

The model is shown as the ``.py`` export writes it: one class per block
definition, then the model's class (:func:`~graphedit.export.python_model.readable_classes`);
where a layer has no source recipe (a node pack's class), fx's generated
``forward`` is shown instead.

Recompiled a moment after each edit (a short single-shot timer, so a drag or a
burst of edits compiles once); when the graph has an error, the error is shown
instead, naming the node and the fix.
"""

from __future__ import annotations

import keyword
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QRegularExpression, QTimer
from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument
from PySide6.QtWidgets import QDockWidget, QPlainTextEdit, QWidget

from graphedit.compiler import CompileError, compile_graph, readable_code
from graphedit.errors import GraphEditError

if TYPE_CHECKING:
    from graphedit.ui.controller import EditorController


DELAY_MS = 300


class _PythonHighlighter(QSyntaxHighlighter):
    """Keywords, strings and comments: enough to read generated code."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)

        def fmt(color: str, bold: bool = False) -> QTextCharFormat:
            f = QTextCharFormat()
            f.setForeground(QColor(color))
            if bold:
                f.setFontWeight(QFont.Weight.Bold)
            return f

        words = "|".join(keyword.kwlist)
        self.rules = [
            (QRegularExpression(rf"\b({words})\b"), fmt("#c678dd", bold=True)),
            (QRegularExpression(r"\b(torch|nn|F|self)\b"), fmt("#e5a50a")),
            (QRegularExpression(r"\b\d+(\.\d+)?\b"), fmt("#3b8eea")),
            (QRegularExpression(r"'[^']*'|\"[^\"]*\""), fmt("#50a14f")),
            (QRegularExpression(r"#[^\n]*"), fmt("#8a8a8a")),
        ]

    def highlightBlock(self, text: str) -> None:
        for pattern, style in self.rules:
            it = pattern.globalMatch(text)
            while it.hasNext():
                m = it.next()
                self.setFormat(m.capturedStart(), m.capturedLength(), style)


class CodeViewDock(QDockWidget):
    """Read-only generated code of the model (inputs → outputs)."""

    def __init__(self, controller: EditorController, parent: QWidget | None = None, delay_ms: int = DELAY_MS) -> None:
        super().__init__("Code", parent)
        self.setObjectName("code_view")
        self.controller = controller
        self.error: str | None = None
        self.editor = QPlainTextEdit()
        self.editor.setReadOnly(True)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.editor.setFont(font)
        self._highlighter = _PythonHighlighter(self.editor.document())
        self.setWidget(self.editor)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(delay_ms)
        self.timer.timeout.connect(self.update_code)
        self.stale = True  # the code shown is not the graph's
        # in front: as visibilityChanged says (isVisible() stays true for a dock behind another tab)
        self.in_view = False
        self.visibilityChanged.connect(self._visibility)
        controller.shapesUpdated.connect(self.schedule)
        controller.documentReplaced.connect(self.schedule)
        self.schedule()

    def schedule(self, *_: Any) -> None:
        """Recompile soon; edits in quick succession restart the timer and compile once. Behind another tab the
        code is compiled when the dock shows (the editor's start and each edit compile no code nobody reads)."""
        self.stale = True
        if self.in_view:
            self.timer.start()

    def _visibility(self, visible: bool) -> None:
        self.in_view = visible
        if visible and self.stale:
            self.timer.start()

    def code(self) -> str:
        return self.editor.toPlainText()

    def update_code(self) -> None:
        from graphedit.export.python_model import readable_classes  # imported when code is first shown

        self.stale = False
        doc = self.controller.root  # the project's graph, also while a block is open
        if not len(doc):
            self._show("# The graph is empty: drag an Input node from the palette to start.\n", None)
            return
        try:
            compiled = compile_graph(doc, shapes=self.controller.root_shapes)
        except CompileError as exc:
            lines = [
                f"# node '{e.node_id}': {e.problem}" + (f"\n#   fix: {e.fix}" if e.fix else "") for e in exc.errors
            ]
            self._show("# The graph has errors, so there is no code yet:\n" + "\n".join(lines) + "\n", str(exc))
            return
        except GraphEditError as exc:
            self._show(f"# {exc}\n", str(exc))
            return
        except Exception as exc:  # a node pack's build may fail in any way; the editor must stay up
            self._show(f"# compiling failed: {type(exc).__name__}: {exc}\n", str(exc))
            return
        header = f"# generated from the graph: inputs {', '.join(compiled.input_ids)}\n"
        try:
            code = readable_classes(compiled.model, "GraphEditModel")
        except GraphEditError:  # a layer without a source recipe: fx's own code says the same
            code = readable_code(compiled.model)
        self._show(header + code, None)

    def _show(self, text: str, error: str | None) -> None:
        self.error = error
        if text != self.editor.toPlainText():
            scroll = self.editor.verticalScrollBar().value()
            self.editor.setPlainText(text)
            self.editor.verticalScrollBar().setValue(scroll)
