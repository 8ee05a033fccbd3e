"""Text sampled from the character model (lesson 14): greedy and random continuations of a probe window.

The newest sample is on top; earlier ones below show how the text grows from
noise into words. Greedy decoding (always the likeliest character) tends to
loop; sampling at temperature 1 is livelier and makes more mistakes.
"""

from __future__ import annotations

import html

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QTextEdit, QVBoxLayout, QWidget

from graphedit.ui.live.page import LiveView
from graphedit.ui.live.state import LiveState


def _show(text: str) -> str:
    return html.escape(text).replace("\n", "↵")


def _label(text: str, width: int = 9) -> str:
    return text + "&nbsp;" * max(1, width - len(text))  # monospace: the seeds line up


class TextView(LiveView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QTextEdit()
        self.edit.setReadOnly(True)
        self.edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        self.show_note("Generated text appears for character models (text datasets), with the first probe.")

    def applies(self, state: LiveState) -> bool:
        return state.info is None or state.task() == "sequence"

    def render(self, state: LiveState) -> None:
        if not state.samples:
            self.show_note("Generated text appears for character models (text datasets), with the first probe.")
            return
        self.show_body()
        parts = []
        for step, sample in reversed(state.samples):
            temperature = f"T = {sample.get('temperature', 1.0):g}:"
            seed = f"<span style='color:gray'>{_show(sample.get('seed', ''))}</span>"
            parts.append(
                f"<p><b>step {step}</b><br>"
                f"{_label('greedy:')}{seed}<b>{_show(sample.get('greedy', ''))}</b><br>"
                f"{_label(temperature)}{seed}{_show(sample.get('random', ''))}</p>"
            )
        self.edit.setHtml(
            "<p style='color:gray'>Grey: the window the model starts from; then one character at a time, "
            "each fed back in.</p>" + "".join(parts)
        )
