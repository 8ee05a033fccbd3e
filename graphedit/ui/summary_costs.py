"""What each node costs, for the Summary dock: FLOPs, receptive field, measured time, and badges on the canvas.

FLOPs (torch's flop counter on meta tensors) and receptive fields come from the graph alone and follow
every edit. Time comes from a short profiled run (:mod:`graphedit.training.node_profile`) started with
the "Profile time" button: it runs off the editor's thread on the project's training device, with the
project's weights and a batch of its dataset, and its figures are dropped when the graph changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from graphedit.compiler.costs import flops_of, flops_text
from graphedit.compiler.receptive import field_of
from graphedit.compiler.report import SummaryRow, byte_text
from graphedit.ui.background import Job

if TYPE_CHECKING:
    from graphedit.compiler.shapes import ShapeInference
    from graphedit.model.document import GraphDocument
    from graphedit.model.project import Project
    from graphedit.training.node_profile import NodeTimes
    from graphedit.ui.main_window import MainWindow


BADGES = ("none", "FLOPs", "memory", "time")
PROFILE_STEPS = 3


class CostCells:
    """Each node's FLOPs per example and receptive field as the Summary's text, kept current cheaply.

    Shape inference gives a node a new info object whenever it computes the node again, which it does
    for the node an edit touched and everything downstream of it; FLOPs and fields depend on nothing
    else, so a node whose info object is the one seen last time keeps its cells (an edit of a
    10,000-node graph recomputes the few nodes it touched, not all of them).
    """

    def __init__(self) -> None:
        self.flops_cache: dict = {}
        self.seen: dict[str, tuple] = {}  # node -> (info, flops, field, spatial input or None, texts)

    def cells(self, document: GraphDocument, inference: ShapeInference) -> tuple[dict[str, tuple[str, str]], int]:
        """``{node: (FLOPs text, field text)}`` and the total FLOPs."""
        infos, seen = inference.infos, self.seen
        fields: dict[str, Any] = {}
        order = inference.order() if len(document) else []
        total, spatial = 0, False
        for node_id in order:
            info = infos.get(node_id)
            known = seen.get(node_id)
            if known is None or known[0] is not info or info is None:
                flops = flops_of(document, inference, node_id, self.flops_cache)
                field = field_of(document, node_id, fields)
                shape = document.params(node_id).get("shape") or []
                is_input = document.node_type(node_id).role == "input"
                spatial_input = (len(shape) >= 2) if is_input else None  # [C, L], [C, H, W]; None: not an input
                texts = (flops_text(flops) if flops is not None else "", field.text() if field is not None else "")
                known = seen[node_id] = (info, flops or 0, field, spatial_input, texts)
            if known[2] is not None:
                fields[node_id] = known[2]
            total += known[1]
            spatial = spatial or bool(known[3])
        if len(seen) > len(order):
            for gone in set(seen) - set(order):
                del seen[gone]
        # fields only mean something for inputs with positions; an input's own field is itself
        return {n: seen[n][4] if spatial and seen[n][3] is None else (seen[n][4][0], "") for n in order}, total


def time_text(times: NodeTimes | None, node_id: str) -> tuple[str, str]:
    if times is None or node_id not in times.nodes():
        return "", ""
    forward, backward = times.forward.get(node_id, 0.0), times.backward.get(node_id, 0.0)
    return f"{forward:.3g} + {backward:.3g} ms", f"{times.share(node_id):.1%}"


def badges(
    kind: str, rows: list[SummaryRow], costs: dict[str, tuple[str, str]], times: NodeTimes | None
) -> dict[str, str]:
    """The canvas badge of each node for the chosen kind ("none": no badges)."""
    if kind == "FLOPs":
        return {n: c[0] for n, c in costs.items() if c[0]}
    if kind == "memory":
        return {r.node_id: f"W {byte_text(r.param_bytes)} · A {byte_text(r.activation_bytes)}" for r in rows}
    if kind == "time" and times is not None:
        return {n: f"{times.total(n):.2g} ms · {times.share(n):.0%}" for n in times.nodes()}
    return {}


class CostsBar(QWidget):
    """The row above the Summary table: which badges the canvas shows, and the "Profile time" button."""

    changed = Signal()  # badges kind or times changed: the Summary redraws

    def __init__(self, window: MainWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.times: NodeTimes | None = None
        self.job: Job | None = None
        self.combo = QComboBox()
        self.combo.addItems([k.capitalize() if k != "FLOPs" else k for k in BADGES])
        self.combo.setToolTip("Badges on the canvas: FLOPs per example, parameter/activation memory, or measured time")
        self.combo.currentIndexChanged.connect(lambda _: self.changed.emit())
        self.button = QPushButton("Profile time")
        self.button.setToolTip(
            f"Time each node's forward and backward pass over {PROFILE_STEPS} training steps (torch.profiler), "
            "on the training device with the project's weights and a batch of its data"
        )
        self.button.clicked.connect(self.profile)
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 2)
        layout.addWidget(QLabel("Badges"))
        layout.addWidget(self.combo)
        layout.addWidget(self.button)
        layout.addWidget(self.status, 1)

    def kind(self) -> str:
        return BADGES[self.combo.currentIndex()]

    def drop_times(self) -> None:
        if self.times is not None:
            self.times = None
            self.status.setText("graph changed: profile again")

    def profile(self) -> None:
        """Start the profiled run (the button); the result arrives on the editor's thread."""
        if self.job is not None and self.job.is_running():
            return
        try:
            project, weights, device, batch = self._request()
        except ValueError as exc:
            self.status.setText(str(exc))
            return
        self.button.setEnabled(False)
        self.status.setText(f"profiling on {device}…")
        self.job = Job(lambda _progress: _profile(project, weights, device, batch), self, full_torch=True)
        self.job.done.connect(self._done)
        self.job.failed.connect(self._failed)
        self.job.start()

    def _request(self) -> tuple[Any, Any, str, int]:
        from graphedit.model.project import project_from_json, project_to_json
        from graphedit.training.session import settings_for
        from graphedit.training.settings import resolve_device

        files = self.window.files
        project = files.project
        project.document = self.window.controller.document
        copy = project_from_json(project_to_json(project), "the project", project.document.registry)
        copy.path = project.path
        settings = settings_for(copy.training)
        return copy, files.weights_file(), str(resolve_device(settings.device)), settings.batch_size

    def _done(self, times: NodeTimes) -> None:
        self.button.setEnabled(True)
        self.times = times
        total = times.grand_total()
        self.status.setText(f"{total:.3g} ms per step on {times.device} (forward + backward, {times.steps} steps)")
        self.changed.emit()

    def _failed(self, message: str) -> None:
        self.button.setEnabled(True)
        self.status.setText(f"profiling failed: {message}")


def _profile(project: Project, weights: Any, device: str, batch: int) -> NodeTimes:
    from graphedit.training.inspection import open_inspection
    from graphedit.training.node_profile import profile_nodes

    seen = open_inspection(project, weights, examples=batch)
    return profile_nodes(seen.compiled, seen.feed(slice(0, batch)), steps=PROFILE_STEPS, device=device)
