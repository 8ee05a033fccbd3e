"""Embeddings of a hidden layer: each example's activations at a chosen node, in two dimensions, coloured by class.

PCA follows the model (it is redrawn when the model reloads, e.g. after a run adopts its weights) and
follows a run: a run started while this view is open (or on its lesson) sends the chosen node's PCA
after each epoch, on the same examples (:mod:`graphedit.training.inside_probes`), and the points move;
t-SNE (scikit-learn) runs on request off the editor's thread and can be cancelled. Moving the mouse
over a point shows that example's input. See :mod:`graphedit.training.embeddings`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from graphedit.ui.background import Job
from graphedit.ui.inside.page import EVAL_NOTE, InsidePage
from graphedit.ui.inside.plots import ImageCell, make_layout, picture_of
from graphedit.ui.live.base import grey_lut, style_plot
from graphedit.ui.live.page import CATEGORICAL, as_image

if TYPE_CHECKING:
    from graphedit.model.document import GraphDocument
    from graphedit.ui.inside.dock import InsideDock


SKIP_ROLES = ("input", "target", "loss", "metric", "output", "weight_penalty")
HOVER_PIXELS = 12


def hidden_nodes(document: GraphDocument) -> list[str]:
    return [n for n in document.topological_order() if document.node_type(n).role not in SKIP_ROLES]


class EmbeddingsPage(InsidePage):
    def __init__(self, dock: InsideDock, parent: QWidget | None = None) -> None:
        super().__init__(dock, parent)
        self.node = QComboBox()
        self.node.setToolTip("The node whose outputs are embedded (one point per example)")
        self.node.currentIndexChanged.connect(lambda _: self.draw())
        self.tsne_button = QPushButton("t-SNE")
        self.tsne_button.setToolTip("Run t-SNE on these points (scikit-learn, off the editor's thread)")
        self.tsne_button.clicked.connect(self.run_tsne)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        self.state = QLabel()
        self.state.setWordWrap(True)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Node"))
        bar.addWidget(self.node)
        bar.addWidget(self.tsne_button)
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.state, 1)
        self.grid = make_layout(self)
        self.plot: pg.PlotItem = self.grid.addPlot(row=0, col=0, rowspan=2)
        self.plot.setMenuEnabled(False)
        self.scatter = pg.ScatterPlotItem(size=7, pen=None)
        self.plot.addItem(self.scatter)
        self.hover_cell = ImageCell(self.grid, 0, 1, grey_lut())
        self.grid.ci.layout.setColumnStretchFactor(0, 4)
        self.grid.ci.layout.setColumnStretchFactor(1, 1)
        self.grid.scene().sigMouseMoved.connect(self._mouse_moved)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(6, 2, 6, 4)
        layout.addLayout(bar)
        layout.addWidget(self.grid, 1)
        self.coords: np.ndarray | None = None
        self.values: Any = None
        self.method = "PCA"
        self.job: Job | None = None
        self.hovered: int | None = None
        self.live_epoch: int | None = None  # the epoch of the run's last embedding shown (None: the model's own)

    def show_model(self, seen: Any) -> None:
        if seen is not None and seen is not self.seen:
            nodes = hidden_nodes(seen.document)
            current = self.node.currentText()
            self.node.blockSignals(True)
            self.node.clear()
            self.node.addItems(nodes)
            default = nodes[-2] if len(nodes) >= 2 else (nodes[0] if nodes else "")
            self.node.setCurrentText(current if current in nodes else default)
            self.node.blockSignals(False)
        super().show_model(seen)

    def chosen_node(self, document: GraphDocument) -> str:
        """The node a run embeds each epoch: the one chosen here, or the default of this graph."""
        nodes = hidden_nodes(document)
        current = self.node.currentText()
        if current in nodes:
            return current
        return nodes[-2] if len(nodes) >= 2 else (nodes[0] if nodes else "")

    def show_probe(self, payload: dict[str, Any]) -> None:
        """A run's embedding at an epoch's end (:mod:`graphedit.training.inside_probes`): these examples, projected."""
        if self.seen is None or payload.get("node") != self.node.currentText():
            return
        coords = np.asarray(payload["coords"], dtype=float)
        if len(coords) != len(self.seen.x):
            return  # other examples than those shown (the dataset changed): wait for the model to reload
        self.cancel()
        self.method, self.live_epoch = "PCA", int(payload.get("epoch", 0))
        share = payload.get("share") or [0.0, 0.0]
        self._show(coords, f"PC1 ({float(share[0]):.0%} of the variance)", f"PC2 ({float(share[1]):.0%})")
        self.state.setText(
            f"Training: epoch {self.live_epoch}, {len(coords)} examples · {payload.get('features', '?')} features, "
            f"projected again after each epoch. {EVAL_NOTE}"
        )

    def applies(self, seen: Any) -> tuple[bool, str]:
        if seen is None:
            return False, "the model is not open"
        if not hidden_nodes(seen.document) or len(seen.compiled.input_ids) != 1:
            return False, "the graph needs one Input and a node to embed"
        return True, ""

    def draw(self) -> None:
        from graphedit.training.embeddings import activations, pca

        if self.seen is None or not self.node.currentText():
            return
        self.cancel()
        self.values = activations(self.seen.compiled, self.node.currentText(), self.seen.x)
        coords, share = pca(self.values)
        self.method, self.live_epoch = "PCA", None
        self._show(coords.numpy(), f"PC1 ({float(share[0]):.0%} of the variance)", f"PC2 ({float(share[1]):.0%})")
        self.state.setText(f"{len(self.values)} examples · {self.values.shape[1]} features. {EVAL_NOTE}")

    def _show(self, coords: np.ndarray, bottom: str, left: str) -> None:
        self.coords = coords
        classes = self.seen.classes()
        colors = [CATEGORICAL[int(c) % len(CATEGORICAL)] for c in classes] if classes is not None else [CATEGORICAL[0]]
        brushes = [pg.mkBrush(*rgb, 200) for rgb in colors] if classes is not None else pg.mkBrush(*colors[0], 200)
        self.scatter.setData(x=coords[:, 0], y=coords[:, 1], brush=brushes)
        style_plot(self.plot, self, f"{self.method} of {self.node.currentText()}, coloured by class", left, bottom)
        self.plot.autoRange()

    # ------------------------------------------------------------ t-SNE
    def run_tsne(self) -> None:
        from graphedit.training.embeddings import TSNE_MAX, tsne

        if self.values is None or (self.job is not None and self.job.is_running()):
            return
        values = self.values[:TSNE_MAX].clone()
        seed = self.seen.seed
        # imported here, on the editor's thread: a module imported by the job's thread went through PySide's
        # import hook while the event loop ran, and the two deadlocked (seen in the suite)
        import sklearn.manifold  # noqa: F401

        self.job = Job(lambda _progress: tsne(values, seed=seed), self)
        self.job.done.connect(self._tsne_done)
        self.job.failed.connect(lambda message: self._tsne_over(f"t-SNE failed: {message}"))
        self.job.cancelled.connect(lambda: self._tsne_over("t-SNE cancelled."))
        self.tsne_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.state.setText(f"t-SNE on {len(values)} points…")
        self.job.start()

    def cancel(self) -> None:
        if self.job is not None and self.job.is_running():
            self.job.cancel()  # scikit-learn cannot stop midway: its result is dropped when it comes
            self._tsne_over("t-SNE cancelled.")

    def _tsne_over(self, text: str) -> None:
        self.tsne_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.state.setText(text)

    def _tsne_done(self, coords: Any) -> None:
        self._tsne_over("t-SNE: distances between clusters mean little; neighbours within them do.")
        self.method = "t-SNE"
        self._show(coords.numpy(), "t-SNE 1", "t-SNE 2")

    # ------------------------------------------------------------ hover
    def _mouse_moved(self, scene_pos: QPointF) -> None:
        if self.coords is None or not len(self.coords):
            return
        here = self.plot.vb.mapSceneToView(scene_pos)
        px, py = self.plot.vb.viewPixelSize()  # data units per screen pixel
        distance = np.hypot((self.coords[:, 0] - here.x()) / px, (self.coords[:, 1] - here.y()) / py)
        nearest = int(distance.argmin())
        if distance[nearest] > HOVER_PIXELS:
            return
        self.hovered = nearest
        x = self.seen.x[nearest]
        classes = self.seen.classes()
        label = f"example {nearest}" + (f", class {int(classes[nearest])}" if classes is not None else "")
        picture = picture_of(x) if x.dim() == 3 else as_image(x.numpy())  # a flat square vector: a small image
        if picture is not None:
            self.hover_cell.show(label, picture)
        else:
            self.hover_cell.show(f"{label}: {', '.join(f'{float(v):.2g}' for v in x.flatten()[:6])}", None)
