"""The examples gallery: a card per lesson with a thumbnail of its graph, its title and what to watch.

:class:`GalleryWidget` is the page (cards reflow with the width, a filter box
narrows them); :class:`GalleryDialog` wraps it for File ▸ Examples ▸ Gallery….
Thumbnails are drawn a few per event-loop turn after the cards appear, so the
gallery opens at once; :class:`~graphedit.ui.examples_catalog.ThumbnailCache`
keeps them. Clicking a card (or its Open button) calls ``on_open(path)``; for
the editor, :func:`open_in_window` opens the example as an unsaved copy and
shows the live view it names.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from graphedit.ui.canvas import style
from graphedit.ui.examples_catalog import (
    PROJECTS_DIR,
    THUMBNAIL,
    Example,
    ThumbnailCache,
    default_cache_dir,
    list_examples,
)
from graphedit.ui.inside.dock import PAGES
from graphedit.ui.live.dock import VIEWS

if TYPE_CHECKING:
    from graphedit.ui.main_window import MainWindow


CARD_WIDTH = THUMBNAIL.width() + 24
SPACING = 16
BADGE_STYLE = "QLabel { background: #3b6fb6; color: white; border-radius: 4px; padding: 1px 7px; font-weight: bold; }"
CARD_STYLE = """
QFrame#exampleCard { border: 1px solid palette(mid); border-radius: 8px; background: palette(base); }
QFrame#exampleCard:hover { border: 1px solid palette(highlight); }
"""
# how a sentence names each view (the docks' tables declare it): "opens with: loss curves"
VIEW_TITLES = {entry.name: entry.phrase for entry in (*VIEWS, *PAGES)}


class ExampleCard(QFrame):
    """One example: thumbnail, lesson badge, title, what to watch, and the live view it opens with."""

    activated = Signal(Path)

    def __init__(self, example: Example, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.example = example
        self.setObjectName("exampleCard")
        self.setFixedWidth(CARD_WIDTH)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(f"<p style='max-width: 420px'>{example.description}</p>" if example.description else "")
        self.thumbnail = QLabel()
        self.thumbnail.setFixedSize(THUMBNAIL)
        self.thumbnail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumbnail.setStyleSheet(f"background: {style.BACKGROUND.name()}; border-radius: 4px; color: #9aa3ad;")
        self.thumbnail.setText("drawing the graph…")
        self.badge = QLabel(example.label)
        self.badge.setStyleSheet(BADGE_STYLE)
        view = VIEW_TITLES.get(example.live_view or "", example.live_view or "")
        self.view_label = QLabel(f"opens with: {view}" if view else "")
        self.view_label.setEnabled(False)  # dim, in any theme
        self.title = QLabel(example.title)
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        self.watch = QLabel(example.watch)
        self.watch.setWordWrap(True)
        self.watch.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.watch.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip(f"Open a copy of {example.path.name}")
        self.open_button.clicked.connect(lambda: self.activated.emit(self.example.path))
        top = QHBoxLayout()
        top.addWidget(self.badge)
        top.addStretch(1)
        top.addWidget(self.view_label)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)
        layout.addWidget(self.thumbnail)
        layout.addLayout(top)
        layout.addWidget(self.title)
        layout.addWidget(self.watch, 1)
        layout.addLayout(bottom)

    def set_thumbnail(self, pixmap: QPixmap) -> None:
        self.thumbnail.setText("")
        self.thumbnail.setPixmap(pixmap)

    def has_thumbnail(self) -> bool:
        return not self.thumbnail.pixmap().isNull()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
            self.activated.emit(self.example.path)
            event.accept()
            return
        super().mouseReleaseEvent(event)


class GalleryWidget(QWidget):
    """All examples as cards in lesson order; ``exampleActivated(path)`` when one is chosen."""

    exampleActivated = Signal(Path)

    def __init__(
        self, folder: Path = PROJECTS_DIR, cache: ThumbnailCache | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setStyleSheet(CARD_STYLE)
        self.cache = cache or ThumbnailCache()
        self.examples = list_examples(folder)
        self._columns = 0
        self._build(folder)
        self.cards = [ExampleCard(e, self.grid_host) for e in self.examples]
        for card in self.cards:
            card.activated.connect(self.exampleActivated)
        self.shown = list(self.cards)  # the cards the filter lets through
        self._pending = list(self.cards)
        self._reflow(force=True)
        self._timer = QTimer(self, interval=0, timeout=self._draw_next)
        self._timer.start()

    def _build(self, folder: Path) -> None:
        heading = QLabel("Examples")
        font = heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        heading.setFont(font)
        lessons = len({e.lesson for e in self.examples if e.lesson is not None})
        intro = QLabel(
            f"{lessons} lessons from the course notes, each a network that trains in seconds. Open one, press "
            "Run, and watch what its card says: every example opens with the live view that shows its point."
            if self.examples
            else f"No example projects were found in {folder}."
        )
        intro.setWordWrap(True)
        self.filter_box = QLineEdit()
        self.filter_box.setPlaceholderText("Filter: a lesson, a layer, a word from the text…")
        self.filter_box.setClearButtonEnabled(True)
        self.filter_box.textChanged.connect(self._filter)
        self.empty = QLabel("No example matches.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.hide()
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setSpacing(SPACING)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(self.grid_host)
        self.scroll.viewport().installEventFilter(self)  # the cards reflow when the visible width changes
        header = QHBoxLayout()
        header.addWidget(heading)
        header.addStretch(1)
        header.addWidget(self.filter_box, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 8)
        layout.addLayout(header)
        layout.addWidget(intro)
        layout.addWidget(self.empty)
        layout.addWidget(self.scroll, 1)

    # -------------------------------------------------------------- layout
    def visible_cards(self) -> list[ExampleCard]:
        return list(self.shown)

    def _filter(self, text: str) -> None:
        self.shown = [c for c in self.cards if c.example.matches(text)]
        self.empty.setVisible(bool(self.cards) and not self.shown)
        self._reflow(force=True)

    def _reflow(self, force: bool = False) -> None:
        width = self.scroll.viewport().width() or self.width()
        columns = max(1, (width + SPACING) // (CARD_WIDTH + SPACING))
        if columns == self._columns and not force:
            return
        self._columns = columns
        for card in self.cards:
            self.grid.removeWidget(card)
            card.setVisible(card in self.shown)
        for i, card in enumerate(self.shown):
            self.grid.addWidget(card, i // columns, i % columns)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.scroll.viewport() and event.type() == QEvent.Type.Resize:
            self._reflow()
        return super().eventFilter(watched, event)

    # ----------------------------------------------------------- thumbnails
    def _draw_next(self) -> None:
        if not self._pending:
            self._timer.stop()
            return
        card = self._pending.pop(0)
        card.set_thumbnail(self.cache.get(card.example.path, self.devicePixelRatioF()))

    def draw_all_thumbnails(self) -> None:
        """Draw the thumbnails still missing now (the timer does it a card at a time)."""
        while self._pending:
            self._draw_next()
        self._timer.stop()


class GalleryDialog(QDialog):
    """The gallery in a dialog: choosing an example closes it and calls ``on_open(path)``."""

    def __init__(
        self,
        parent: QWidget | None,
        on_open: Callable[[Path], Any],
        folder: Path = PROJECTS_DIR,
        cache: ThumbnailCache | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Examples — GraphEdit")
        self.on_open = on_open
        self.gallery = GalleryWidget(folder, cache or _shared_cache(), self)
        self.gallery.exampleActivated.connect(self._chosen)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 12)
        layout.addWidget(self.gallery, 1)
        row = QHBoxLayout()
        row.setContentsMargins(20, 0, 20, 0)
        row.addWidget(buttons)
        layout.addLayout(row)
        self.resize(QSize(3 * CARD_WIDTH + 4 * SPACING + 60, 800))

    def _chosen(self, path: Path) -> None:
        self.accept()
        self.on_open(path)


_CACHE: ThumbnailCache | None = None


def _shared_cache() -> ThumbnailCache:
    """One cache for the editor's lifetime, kept on disk in the user's cache folder."""
    global _CACHE
    if _CACHE is None:
        _CACHE = ThumbnailCache(default_cache_dir())
    return _CACHE


def open_in_window(window: MainWindow, path: Path) -> bool:
    """Open an example in the editor as an unsaved copy and show the live view it names."""
    if not window.files.open_example(path):
        return False
    name = window.files.project.view.get("live_view")
    live = window.live
    if name in live.views():
        live.show_view(name)
        live.show()
        live.raise_()
    inside = getattr(window, "inside", None)
    if inside is not None and name in inside.views():
        inside.show_view(name)
        inside.show()
        inside.raise_()
    return True


def show_gallery(window: MainWindow) -> GalleryDialog:
    """File ▸ Examples ▸ Gallery…: the gallery as a window-modal dialog over the editor."""
    dialog = GalleryDialog(window, lambda path: open_in_window(window, path))
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
