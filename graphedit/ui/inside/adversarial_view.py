"""Adversarial examples: one step of size ε along the sign of the loss's input gradient (FGSM) flips the class.

As the notes' figure (Goodfellow et al., 2014): the original image, the perturbation (amplified to be
seen), the adversarial image, and both predictions with their confidence; and how many of the
correctly classified probe images flip at this ε. ε is a share of the pixel range (the dataset's
values may be standardised): ε = 0.1 moves each pixel by a tenth of the range, clipped to the range.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QSpinBox, QVBoxLayout, QWidget

from graphedit.ui.inside.page import EVAL_NOTE, InsidePage
from graphedit.ui.inside.plots import ImageCell, make_layout, picture_of
from graphedit.ui.inside.why_view import image_classifier
from graphedit.ui.live.base import diverging_lut, grey_lut

if TYPE_CHECKING:
    from graphedit.ui.inside.dock import InsideDock


PROBES = 64
EPSILON_STEPS = 100  # the slider's ticks for ε in [0, MAX_EPSILON]
MAX_EPSILON = 0.3


class AdversarialPage(InsidePage):
    def __init__(self, dock: InsideDock, parent: QWidget | None = None) -> None:
        super().__init__(dock, parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, EPSILON_STEPS)
        self.slider.setValue(EPSILON_STEPS // 3)
        self.slider.setToolTip("ε: how far each pixel moves, as a share of the pixel range")
        self.slider.valueChanged.connect(lambda _: self.draw())
        self.epsilon_label = QLabel()
        self.example = QSpinBox()
        self.example.setToolTip("Which probe image to attack")
        self.example.valueChanged.connect(lambda _: self.draw())
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Example"))
        bar.addWidget(self.example)
        bar.addWidget(QLabel("ε"))
        bar.addWidget(self.slider, 1)
        bar.addWidget(self.epsilon_label)
        self.grid = make_layout(self)
        self.original = ImageCell(self.grid, 0, 0, grey_lut())
        self.perturbation = ImageCell(self.grid, 0, 1, diverging_lut())
        self.adversarial = ImageCell(self.grid, 0, 2, grey_lut())
        self.flips = QLabel()
        self.flips.setWordWrap(True)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(6, 2, 6, 4)
        layout.addLayout(bar)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.flips)
        self.attack: Any = None

    def applies(self, seen: Any) -> tuple[bool, str]:
        return image_classifier(seen)

    def epsilon(self) -> float:
        """ε as a share of the pixel range."""
        return MAX_EPSILON * self.slider.value() / EPSILON_STEPS

    def bounds(self) -> tuple[float, float]:
        return float(self.seen.x.min()), float(self.seen.x.max())

    def draw(self) -> None:
        from graphedit.training.explain import fgsm

        if self.seen is None or not self.applies(self.seen)[0]:
            return
        count = min(PROBES, len(self.seen.x))
        self.example.blockSignals(True)
        self.example.setRange(0, count - 1)
        self.example.blockSignals(False)
        lo, hi = self.bounds()
        x, y = self.seen.x[:count], self.seen.classes()[:count]
        self.attack = fgsm(self.seen.compiled, x, y, self.epsilon() * (hi - lo), (lo, hi))
        a, i = self.attack, self.example.value()
        self.epsilon_label.setText(f"ε = {self.epsilon():.2f} of the pixel range")
        names = self.seen.info.class_names or []

        def name(k: Any) -> str:
            return str(names[int(k)]) if int(k) < len(names) else str(int(k))

        self.original.show(
            f"original: {name(a.clean_class[i])} ({float(a.clean_confidence[i]):.0%})", picture_of(x[i]), (lo, hi)
        )
        perturbation = picture_of(a.adversarial[i] - x[i])
        peak = float(abs(perturbation).max()) or 1.0
        self.perturbation.show("perturbation (amplified)", perturbation, (-peak, peak))
        self.adversarial.show(
            f"adversarial: {name(a.adversarial_class[i])} ({float(a.adversarial_confidence[i]):.0%})",
            picture_of(a.adversarial[i]),
            (lo, hi),
        )
        correct = a.clean_class == y
        flipped = int((a.flipped() & correct).sum())
        self.flips.setText(
            f"At ε = {self.epsilon():.2f}, {flipped} of the {int(correct.sum())} correctly classified probe images "
            f"change class. {EVAL_NOTE}"
        )
