"""Why this class? Where the network looks, over the probe images: saliency, SmoothGrad or Grad-CAM.

For image classifiers only; the page says why not otherwise. Grad-CAM needs a convolution node (chosen
in the list); saliency and SmoothGrad need only the input gradient. Everything is computed by
:mod:`graphedit.training.explain` on the compiled model, in evaluation mode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from graphedit.ui.inside.page import EVAL_NOTE, InsidePage
from graphedit.ui.inside.plots import ImageCell, make_layout, picture_of
from graphedit.ui.live.base import grey_lut, named_lut

if TYPE_CHECKING:
    from graphedit.ui.inside.dock import InsideDock


PROBES = 8
METHODS = ("saliency", "SmoothGrad", "Grad-CAM")


def image_classifier(seen: Any) -> tuple[bool, str]:
    """Whether the image views apply (an image input, a classification task), and why not."""
    if seen is None:
        return False, "the model is not open"
    if not seen.is_image():
        return False, f"the input is {list(seen.x.shape[1:])}, not an image [C, H, W]"
    if seen.classes() is None or not seen.info.num_classes:
        return False, "the task is not classification (these views explain a class score)"
    if seen.compiled.model is None or len(seen.compiled.input_ids) != 1:
        return False, "the graph needs one Input node"
    return True, ""


class WhyPage(InsidePage):
    def __init__(self, dock: InsideDock, parent: QWidget | None = None) -> None:
        super().__init__(dock, parent)
        self.method = QComboBox()
        self.method.addItems(METHODS)
        self.method.setToolTip(
            "Saliency: |∂score/∂pixel|. SmoothGrad: saliency averaged over noisy copies. "
            "Grad-CAM: the chosen conv node's feature maps weighted by their gradient"
        )
        self.conv = QComboBox()
        self.conv.setToolTip("The convolution node Grad-CAM looks at (later nodes: coarser, more semantic)")
        self.method.currentIndexChanged.connect(lambda _: self.draw())
        self.conv.currentIndexChanged.connect(lambda _: self.draw())
        self.reason = QLabel()
        self.reason.setWordWrap(True)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Method"))
        bar.addWidget(self.method)
        bar.addWidget(QLabel("Conv node"))
        bar.addWidget(self.conv)
        bar.addWidget(self.reason, 1)
        self.grid = make_layout(self)
        self.images = [ImageCell(self.grid, 0, c, grey_lut()) for c in range(PROBES)]
        self.heats = [ImageCell(self.grid, 1, c, named_lut("inferno")) for c in range(PROBES)]
        self.foot = QLabel(f"Above each image: its class → the predicted class (confidence). {EVAL_NOTE}")
        self.foot.setWordWrap(True)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(6, 2, 6, 4)
        layout.addLayout(bar)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.foot)
        self.maps: torch.Tensor | None = None

    def applies(self, seen: Any) -> tuple[bool, str]:
        return image_classifier(seen)

    def show_model(self, seen: Any) -> None:
        from graphedit.training.explain import conv_nodes

        if seen is not None and seen is not self.seen:
            convs = conv_nodes(seen.document)
            self.conv.blockSignals(True)
            self.conv.clear()
            self.conv.addItems(convs)
            self.conv.setCurrentIndex(len(convs) - 1)  # the last conv: the usual Grad-CAM choice
            self.conv.blockSignals(False)
            model = self.method.model()
            assert isinstance(model, QStandardItemModel)
            cam = model.item(METHODS.index("Grad-CAM"))
            cam.setEnabled(bool(convs))
            cam.setToolTip("" if convs else "the graph has no Conv2d node: Grad-CAM needs one")
            if not convs and self.method.currentText() == "Grad-CAM":
                self.method.setCurrentIndex(0)
            self.reason.setText("" if convs else "Grad-CAM is off: the graph has no Conv2d node.")
        super().show_model(seen)

    def compute(self) -> torch.Tensor:
        """``[N, H, W]``: the chosen method's map for each probe image."""
        from graphedit.training.explain import grad_cam, saliency, smoothgrad

        seen, x = self.seen, self.seen.x[:PROBES]
        method = self.method.currentText()
        if method == "Grad-CAM" and self.conv.currentText():
            return grad_cam(seen.compiled, x, self.conv.currentText())
        if method == "SmoothGrad":
            return smoothgrad(seen.compiled, x, samples=16)
        return saliency(seen.compiled, x)

    def draw(self) -> None:
        if self.seen is None or not self.applies(self.seen)[0]:
            return
        x = self.seen.x[:PROBES]
        self.maps = self.compute()
        classes = self.seen.classes()[:PROBES]
        from graphedit.training.explain import predict

        predicted, confidence = predict(self.seen.compiled, x)
        names = self.seen.info.class_names or []
        method = self.method.currentText()
        for i in range(PROBES):
            if i >= len(x):
                self.images[i].show("", None)
                self.heats[i].show("", None)
                continue
            label = names[int(classes[i])] if int(classes[i]) < len(names) else int(classes[i])
            guess = names[int(predicted[i])] if int(predicted[i]) < len(names) else int(predicted[i])
            self.images[i].show(f"{label} → {guess} ({float(confidence[i]):.0%})", picture_of(x[i]))
            heat = self.maps[i].numpy()
            self.heats[i].show(method, heat, (0.0, float(heat.max()) or 1.0))
