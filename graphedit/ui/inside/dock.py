"""The Inside dock: views that look into the model the learner drew, with its weights and its data.

Backprop step by step, why this class (saliency, SmoothGrad, Grad-CAM), adversarial examples (FGSM),
receptive fields, embeddings of a hidden layer, and the loss landscape. Unlike the live views, these
need the model itself: the dock opens it (:func:`graphedit.training.inspection.open_inspection`: the
graph fitted to its dataset, compiled with the project's weights, a few hundred examples) off the
editor's thread when a page first shows, and again when the graph or the weights change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from graphedit.errors import GraphEditError
from graphedit.ui.background import Job
from graphedit.ui.inside.page import InsidePage
from graphedit.ui.view_table import ViewEntry

if TYPE_CHECKING:
    from graphedit.ui.main_window import MainWindow


EXAMPLES = 256
RELOAD_MS = 400
# the pages in the order of the dock's choice; each module is imported when the dock first shows (see _pages)
PAGES = (
    ViewEntry(
        "backprop", "Backprop step by step", "graphedit.ui.inside.backprop_view:BackpropPage", "backprop step by step"
    ),
    ViewEntry("why", "Why this class?", "graphedit.ui.inside.why_view:WhyPage", "why this class?"),
    ViewEntry(
        "adversarial",
        "Adversarial example (FGSM)",
        "graphedit.ui.inside.adversarial_view:AdversarialPage",
        "adversarial examples",
    ),
    ViewEntry("receptive", "Receptive fields", "graphedit.ui.inside.receptive_view:ReceptivePage", "receptive fields"),
    ViewEntry(
        "embeddings", "Embeddings of a layer", "graphedit.ui.inside.embeddings_view:EmbeddingsPage", "embeddings"
    ),
    ViewEntry("landscape", "Loss landscape", "graphedit.ui.inside.landscape_view:LandscapePage", "loss landscape"),
)


class InsideDock(QDockWidget):
    viewChanged = Signal(str)
    loaded = Signal()

    def __init__(self, window: MainWindow, pages: tuple[ViewEntry, ...] = PAGES) -> None:
        super().__init__("Inside", window)
        self.setObjectName("InsideDock")
        self.window = window
        self.controller = window.controller
        self.seen: Any = None
        self.error = ""
        self.stale = True
        self.job: Job | None = None
        self._timer = QTimer(self, singleShot=True, interval=RELOAD_MS)
        self._timer.timeout.connect(self.reload)
        self._build(pages)
        self.controller.documentReplaced.connect(self.mark_stale)
        self.controller.shapesUpdated.connect(self.mark_stale)
        window.files.changed.connect(self._weights_maybe_changed)
        window.files.loaded.connect(self._project_loaded)
        self._weights = None
        # in front: as visibilityChanged says (isVisible() stays true for a dock behind another tab)
        self.in_view = False
        self.visibilityChanged.connect(self._visibility)
        self.requested: dict[str, Any] = {}  # what the current run was asked for (run_request)
        training = getattr(window, "training", None)
        if training is not None:
            training.run_requests.append(self.run_request)
            training.session.probe.connect(self._probe)
            training.session.started.connect(self._run_started)

    def _build(self, entries: tuple[ViewEntry, ...]) -> None:
        body = QWidget(self)
        self.combo = QComboBox()
        self.combo.setToolTip("What to look at inside the model")
        self.stack = QStackedWidget()
        self._entries = entries
        self._made: dict[str, InsidePage] | None = None  # the pages, made when first needed (_pages)
        for entry in entries:
            self.combo.addItem(entry.title, entry.name)
        self.combo.currentIndexChanged.connect(self._combo_changed)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.reload_button = QPushButton("Reload model")
        self.reload_button.setToolTip("Open the model again: the graph as it is now, the project's weights, its data")
        self.reload_button.clicked.connect(self.reload)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 2)
        bar.addWidget(QLabel("View"))
        bar.addWidget(self.combo)
        bar.addWidget(self.status, 1)
        bar.addWidget(self.reload_button)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)
        self.setWidget(body)

    def _pages(self) -> dict[str, InsidePage]:
        """The pages, made on first use: a start-up whose dock is behind another tab does not pay for them (nor for
        importing pyqtgraph and the pages' modules)."""
        if self._made is None:
            self._made = {entry.name: entry.make(self, self.stack) for entry in self._entries}
            for page in self._made.values():
                self.stack.addWidget(page)
            self.stack.setCurrentIndex(self.combo.currentIndex())
            self._update_applicable()
        return self._made

    # ------------------------------------------------------------ public
    def views(self) -> list[str]:
        return [entry.name for entry in self._entries]

    def page(self, name: str) -> InsidePage:
        return self._pages()[name]

    def current_view(self) -> str:
        return str(self.combo.currentData())

    def show_view(self, name: str) -> None:
        if name not in self.views():
            raise KeyError(f"no Inside view named '{name}'; the views are {', '.join(self.views())}")
        self.combo.setCurrentIndex(self.views().index(name))

    def mark_stale(self, *_: Any) -> None:
        self.stale = True
        if self.in_view:  # behind a tab: the model opens when the dock shows (not while the editor starts)
            self._timer.start()

    def reload(self) -> None:
        """Open the model again, off the editor's thread; the pages redraw when it arrives."""
        if self.job is not None and self.job.is_running():
            self._timer.start()  # the graph changed while loading: load again after
            return
        from graphedit.model.project import node_types_of, project_from_json, project_to_json

        files = self.window.files
        project = files.project
        project.document = self.controller.root  # the project's graph, also while a block is open
        try:
            copy = project_from_json(project_to_json(project), "the project", node_types_of(project.document))
        except GraphEditError as exc:  # a graph mid-edit: say so, never crash
            self._failed(str(exc).splitlines()[0])
            return
        copy.path = project.path
        weights = files.weights_file()
        self.stale = False
        self.status.setText("opening the model…")
        from graphedit.training.inspection import open_inspection

        self.job = Job(lambda _p: open_inspection(copy, weights, examples=EXAMPLES), self)
        self.job.done.connect(self._loaded)
        self.job.failed.connect(self._failed)
        self.job.start()

    def run_request(self) -> dict[str, Any]:
        """A run override for the next run: the embeddings of the chosen node each epoch, weight snapshots for the
        landscape's path. Asked when that view is in front in this dock, or the lesson opens on it; never a
        project setting."""
        lesson = self.window.files.project.view.get("live_view")
        front = self.current_view() if self.in_view else None
        inside: dict[str, Any] = {}
        if "embeddings" in (front, lesson):
            node = self.page("embeddings").chosen_node(self.controller.root)
            if node:
                inside["embed"] = node
        if "landscape" in (front, lesson):
            inside["snapshots"] = True
        self.requested = inside
        return {"inside": inside} if inside else {}

    def _run_started(self, _message: dict[str, Any]) -> None:
        if self.requested and self.current_view() in ("embeddings", "landscape"):
            # the view that asked stays in front: after the workspace switch that brings the Live dock forward
            QTimer.singleShot(0, self, self._bring_forward)

    def _bring_forward(self) -> None:
        self.show()
        self.raise_()

    def _probe(self, message: dict[str, Any]) -> None:
        payload = message.get("payload") or {}
        if payload.get("kind") == "embedding" and "embeddings" in (self._made or {}):  # a page never shown asked none
            self.page("embeddings").show_probe(payload)

    def is_loading(self) -> bool:
        return self.job is not None and self.job.is_running()

    # ----------------------------------------------------------- events
    def _weights_maybe_changed(self) -> None:
        weights = self.window.files.project.weights
        if weights != self._weights:
            self._weights = None if weights is None else dict(weights)
            self.mark_stale()

    def _project_loaded(self) -> None:
        """A lesson names the view that teaches it (``view.live_view``): an Inside view shows in front."""
        name = self.window.files.project.view.get("live_view")
        if name in self.views():
            self.show_view(name)
            self.show()
            self.raise_()

    def _loaded(self, seen: Any) -> None:
        self.seen, self.error = seen, ""
        self.status.setText(f"{len(seen.x)} examples of {seen.info.name} · {seen.weights_note}")
        self.status.setToolTip(self.status.text())
        self._update_applicable()
        page = self.stack.currentWidget()
        if isinstance(page, InsidePage):
            page.show_model(seen)
        self.loaded.emit()

    def _failed(self, message: str) -> None:
        self.seen, self.error = None, message
        self.status.setText(f"<span style='color:#f85149'>cannot open the model: {message}</span>")
        page = self.stack.currentWidget()
        if isinstance(page, InsidePage):
            page.show_note(f"The model cannot be opened: {message}")

    def _update_applicable(self) -> None:
        if self._made is None:
            return  # checked when the pages are made
        model = self.combo.model()
        assert isinstance(model, QStandardItemModel)
        for row, page in enumerate(self._made.values()):
            ok, reason = page.applies(self.seen)
            model.item(row).setEnabled(ok)
            model.item(row).setToolTip("" if ok else reason)

    def _combo_changed(self, index: int) -> None:
        for page in self._pages().values():
            if page is not self.stack.widget(index):
                page.left()
        self.stack.setCurrentIndex(index)
        page = self.stack.currentWidget()
        if isinstance(page, InsidePage):
            if self.seen is not None:
                page.show_model(self.seen)
            else:
                page.show_note("Opening the model…" if not self.error else self.error)
                if self.in_view and not self.is_loading():
                    self._timer.start()
        self.viewChanged.emit(self.current_view())

    def _visibility(self, visible: bool) -> None:
        self.in_view = visible
        if visible:
            self._pages()  # made now, to be shown
        page = self.stack.currentWidget()
        if not visible and isinstance(page, InsidePage):
            page.left()  # another tab in front: the canvas loses this view's badges
        elif visible and self.stale:
            self._timer.start()
        elif visible and isinstance(page, InsidePage) and self.seen is not None:
            page.show_model(self.seen)
