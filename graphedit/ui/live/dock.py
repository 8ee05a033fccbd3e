"""The live views dock: one page per view, fed by a training session, drawn at most ~10 times a second.

A session is any QObject with the signals of ``TrainingSession``, carrying the messages of
:mod:`graphedit.training.events`: ``started(dict)``, ``step(dict)``,
``epoch(dict)``, ``probe(dict)``, ``finished(dict)`` and ``failed(str, str)``.
Events go into :class:`~graphedit.ui.live.state.LiveState`; only the visible
page is drawn, from a :class:`~graphedit.ui.live.throttle.Throttle`. The
per-node views follow the canvas selection and the node under the mouse.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from graphedit.ui.line_text import LineText
from graphedit.ui.live.badges import CanvasOverlay, level_prefix
from graphedit.ui.live.page import BAD, LiveView
from graphedit.ui.live.state import LiveState
from graphedit.ui.live.throttle import INTERVAL_MS, Throttle
from graphedit.ui.view_table import ViewEntry

# a frame's next part comes this long after the last: that part's repaint and a turn of input fit between, so a
# frame's parts do not add up in one busy stretch of the editor's thread
PART_GAP_MS = 15

# the views in the order of the dock's choice; their modules are imported when the dock first shows (_all_views)
VIEWS = (
    ViewEntry("curves", "Loss and metrics", "graphedit.ui.live.curves:CurvesView", "loss curves"),
    ViewEntry("activations", "Activations", "graphedit.ui.live.activations:ActivationsView", "activations"),
    ViewEntry("gradients", "Gradients", "graphedit.ui.live.gradients:GradientsView", "gradients"),
    ViewEntry("regions", "Decision regions", "graphedit.ui.live.regions:RegionsView", "decision regions"),
    ViewEntry("feature_maps", "Feature maps", "graphedit.ui.live.images:FeatureMapsView", "feature maps"),
    ViewEntry("filters", "Filters", "graphedit.ui.live.images:FiltersView", "filters"),
    ViewEntry("predictions", "Predictions", "graphedit.ui.live.images:PredictionsView", "predictions"),
    ViewEntry("reconstructions", "Reconstructions", "graphedit.ui.live.images:ReconstructionsView", "reconstructions"),
    ViewEntry("latent", "Latent space", "graphedit.ui.live.latent:LatentView", "latent space"),
    ViewEntry("confusion", "Confusion matrix", "graphedit.ui.live.confusion:ConfusionView", "confusion matrix"),
    ViewEntry("text", "Sampled text", "graphedit.ui.live.text:TextView", "sampled text"),
)

if TYPE_CHECKING:
    from graphedit.ui.canvas.view import CanvasView
    from graphedit.ui.controller import EditorController

SIGNALS = ("started", "step", "epoch", "probe", "finished", "failed")


class LiveViewsDock(QDockWidget):
    """Live plots of the run in progress; see the module doc."""

    viewChanged = Signal(str)  # the page shown changed (the window stores it as project.view["live_view"])

    def __init__(
        self, controller: EditorController, parent: QWidget | None = None, canvas: CanvasView | None = None
    ) -> None:
        super().__init__("Live", parent)
        self.setObjectName("LiveViewsDock")
        self.controller = controller
        self.state = LiveState()
        self.session: QObject | None = None
        self._connections: list[tuple[Any, Any]] = []
        self.overlay = CanvasOverlay(controller, self)
        self.overlay.hovered.connect(self._hovered)
        self.throttle = Throttle(self._render, parent=self)
        self._overlay_probe: dict[str, Any] | None = None
        # the canvas's badges follow a new probe half a frame after the view's frame: the canvas repaints between two
        # frames of the plots, not in the same turn of the editor's event loop (which then waited for both)
        self._overlay_timer = QTimer(self)
        self._overlay_timer.setSingleShot(True)
        self._overlay_timer.setInterval(INTERVAL_MS // 2)
        self._overlay_timer.timeout.connect(self._draw_overlay)
        self._parts: list[Callable[[], None]] = []  # the rest of the view's frame, a part every PART_GAP_MS
        self._parts_timer = QTimer(self)
        self._parts_timer.setSingleShot(True)
        self._parts_timer.setInterval(PART_GAP_MS)
        self._parts_timer.timeout.connect(self._next_part)
        self._selection: list[str] = []
        # in front: as visibilityChanged says (isVisible() stays true for a dock behind another tab)
        self.in_view = False
        self._build()
        controller.selectionChanged.connect(self._selection_changed)
        controller.documentReplaced.connect(self.clear)
        if hasattr(controller, "levelChanged"):  # a block opened or left: the badges of the nodes now shown
            controller.levelChanged.connect(self._overlay_toggled)
        self.visibilityChanged.connect(self._visibility)
        self.set_canvas(canvas if canvas is not None else getattr(parent, "canvas", None))

    def _build(self) -> None:
        body = QWidget(self)
        self.combo = QComboBox()
        self.combo.setToolTip("What to watch while the network trains")
        self.stack = QStackedWidget()
        self._made: dict[str, LiveView] | None = None  # the views, made when first needed (_all_views)
        for entry in VIEWS:
            self.combo.addItem(entry.title, entry.name)
        self.combo.currentIndexChanged.connect(self._combo_changed)
        self.status = LineText(align=Qt.AlignmentFlag.AlignRight)  # set with every frame of a run
        self.status.setContentsMargins(0, 0, 8, 0)
        self.badges_box = QCheckBox("Badges")
        self.badges_box.setToolTip("On the canvas: each node's activation mean/std, or its dead fraction")
        self.edges_box = QCheckBox("Wire colours")
        self.edges_box.setToolTip("On the canvas: wires coloured by gradient norm, dim = vanishing")
        for box in (self.badges_box, self.edges_box):
            box.setChecked(True)
            box.toggled.connect(self._overlay_toggled)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 2)
        bar.addWidget(QLabel("View"))
        bar.addWidget(self.combo)
        bar.addWidget(self.status, 1)
        bar.addWidget(self.badges_box)
        bar.addWidget(self.edges_box)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)
        self.setWidget(body)

    def _all_views(self) -> dict[str, LiveView]:
        """The views, made on first use: a start-up whose dock is behind another tab does not pay for their plots
        (nor for importing pyqtgraph)."""
        if self._made is None:
            self._made = {entry.name: entry.make(self.stack) for entry in VIEWS}
            for view in self._made.values():
                self.stack.addWidget(view)
            self.stack.setCurrentIndex(self.combo.currentIndex())
            self._focus_changed(self._selection, self.overlay.hover)  # inside a block: the open copy's nodes
            self._update_applicable()
        return self._made

    # ------------------------------------------------------------ public
    def views(self) -> list[str]:
        return [entry.name for entry in VIEWS]

    def view(self, name: str) -> LiveView:
        return self._all_views()[name]

    def current_view(self) -> str:
        return str(self.combo.currentData())

    def show_view(self, name: str) -> None:
        if name not in self.views():
            raise KeyError(f"no live view named '{name}'; the views are {', '.join(self.views())}")
        self.combo.setCurrentIndex(self.views().index(name))

    def set_canvas(self, canvas: CanvasView | None) -> None:
        self.overlay.set_canvas(canvas)

    def attach(self, session: QObject) -> None:
        """Follow a training session (anything with TrainingSession's signals); a previous one is let go."""
        self.detach()
        self.session = session
        for name in SIGNALS:
            signal = getattr(session, name, None)
            if signal is None:
                continue
            slot = self._on_failed if name == "failed" else (lambda data, kind=name: self._on_event(kind, data))
            signal.connect(slot)
            self._connections.append((signal, slot))
        for name, slot in (("launched", self._on_launched), ("stateChanged", self._on_state)):
            signal = getattr(session, name, None)
            if signal is not None:
                signal.connect(slot)
                self._connections.append((signal, slot))

    def detach(self) -> None:
        for signal, slot in self._connections:
            with contextlib.suppress(RuntimeError, TypeError):  # already gone with its session
                signal.disconnect(slot)
        self._connections = []
        self.session = None

    def ingest(self, event: dict[str, Any]) -> None:
        """Take one event dict of the contract (``{"type": "probe", "step": …, "payload": {…}}``, …)."""
        self.state.ingest(event)
        if not self.state.categories:
            self._read_graph()
        if event.get("type") == "started":
            self._overlay_probe = None
            self.overlay.clear()
            self._update_applicable()
        self.throttle.request()

    def _read_graph(self) -> None:
        """Node order and families from the editor's graph (the run's events carry ids only)."""
        document = getattr(self.controller, "root", self.controller.document)  # the project's graph, also inside
        if not self.state.node_ids:
            self.state.node_ids = list(document.topological_order())
        self.state.categories = {n: document.node_type(n).category for n in document.node_ids()}

    def flush(self) -> None:
        """Draw now what is pending (tests, screenshots, the end of a run)."""
        self.throttle.flush()
        self._finish_parts()
        if self._overlay_timer.isActive():
            self._overlay_timer.stop()
            self._draw_overlay()

    def render_now(self) -> None:
        self.throttle.flush()
        self._render(force=True)

    def clear(self) -> None:
        """Forget the run (a new project was opened); the canvas loses its badges."""
        self.state.reset()
        self._overlay_probe = None
        self.overlay.clear()
        self._update_applicable()
        self._render(force=True)

    def overlay_runs(self, run_dirs: list[str]) -> list[str]:
        """Overlay the loss curves of finished runs (their metrics.json) on the curves view, shown when any is drawn
        (clearing the overlays leaves the view the user is on)."""
        drawn = self._all_views()["curves"].overlay_runs(list(run_dirs))  # type: ignore[attr-defined]
        if drawn:
            self.show_view("curves")
        self._render(force=True)
        return drawn

    # ----------------------------------------------------------- events
    def _on_event(self, kind: str, data: dict[str, Any]) -> None:
        data = dict(data or {})
        if kind == "probe" and "payload" not in data:
            data = {"step": data.get("step", 0), "payload": data}  # a bare payload
        if kind == "finished" and "summary" not in data:
            data = {"summary": data}
        data["type"] = kind
        self.ingest(data)
        if kind == "finished":
            self.flush()

    def _on_launched(self) -> None:
        """Run clicked: the views lay out for the run while its worker starts (imports torch, loads the data), not
        in its first frames."""
        self.state.starting()
        self._render(force=True)

    def _on_state(self, state: str) -> None:
        if state == "idle" and self.state.status == "starting":  # stopped, or gone, before it started
            self.state.reset()
            self._render(force=True)

    def _on_failed(self, message: str, node_id: str = "") -> None:
        self.ingest({"type": "failed", "message": message, "node_id": node_id})
        self.flush()

    def _selection_changed(self, node_ids: list[str]) -> None:
        self._selection = list(node_ids)
        self._focus_changed(self._selection, self.overlay.hover)

    def _hovered(self, node_id: str | None) -> None:
        self._focus_changed(self._selection, node_id)

    def _focus_changed(self, selection: list[str], hover: str | None) -> None:
        prefix = level_prefix(self.controller)  # inside a block the views follow the open copy's inner nodes
        selection = [prefix + n for n in selection]
        hover = prefix + hover if hover is not None else None
        redraw = False
        for view in (self._made or {}).values():
            if view.set_focus_nodes(selection, hover):
                view.rendered = None
                redraw = redraw or view is self.stack.currentWidget()
        if redraw:
            self.throttle.request()

    def _visibility(self, visible: bool) -> None:
        self.in_view = visible
        if visible:
            self._all_views()  # made now, to be drawn
            self.throttle.request()

    def _combo_changed(self, index: int) -> None:
        if self._made is not None or self.in_view:  # a dock behind a tab makes its views when it shows (_visibility)
            self._all_views()
            self.stack.setCurrentIndex(index)
            self._render()
        self.viewChanged.emit(self.current_view())

    def _overlay_toggled(self) -> None:
        self.overlay.set_enabled(self.badges_box.isChecked(), self.edges_box.isChecked())
        if self.state.probe is not None:
            self.overlay.update(self.state.probe)

    def _update_applicable(self) -> None:
        model = self.combo.model()
        assert isinstance(model, QStandardItemModel)
        if self._made is None:
            if self.state.info is None and self.state.probe is None:
                return  # no run yet: checked when the views are made
            self._all_views()  # a run's data: which views apply shows in the choice even while the dock is hidden
            return
        for row, view in enumerate(self._made.values()):
            model.item(row).setEnabled(view.applies(self.state))
        current = self._made[self.current_view()]
        if not current.applies(self.state):
            self.show_view("curves")

    # ---------------------------------------------------------- drawing
    def _render(self, force: bool = False) -> None:
        state = self.state
        if state.probe is not None and state.probe is not self._overlay_probe and not self._overlay_timer.isActive():
            self._overlay_timer.start()
        self._render_status()
        view = self.stack.currentWidget()
        if not force and not self.isVisible():
            return  # a hidden dock (another tab in front) draws when it shows again
        if isinstance(view, LiveView) and (force or view.rendered != view.drawn_from(state)):
            self._finish_parts()  # the last frame's rest first: a view draws a frame whole, in order
            self._parts = list(view.render(state) or ())
            view.rendered = view.drawn_from(state)
            if self._parts:
                self._parts_timer.start()

    def _next_part(self) -> None:
        if self._parts:
            self._parts.pop(0)()
        if self._parts:
            self._parts_timer.start()

    def _finish_parts(self) -> None:
        self._parts_timer.stop()
        while self._parts:
            self._parts.pop(0)()

    def _draw_overlay(self) -> None:
        probe = self.state.probe
        if probe is not None and probe is not self._overlay_probe:
            self._overlay_probe = probe
            self.overlay.update(probe)

    def _render_status(self) -> None:
        state = self.state
        if state.status == "failed":
            where = f" (node {state.failed_node})" if state.failed_node else ""
            self.status.setText(f"failed{where}", BAD)
            self.status.setToolTip(state.message)
        elif state.steps or state.epochs:
            step = state.steps[-1] if state.steps else state.epochs[-1].get("step", 0)
            self.status.setText(f"{state.status.replace('_', ' ')} · step {step}")
            self.status.setToolTip("")
        else:
            self.status.setText("")
