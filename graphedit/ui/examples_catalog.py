"""The example projects behind File ▸ Examples and the gallery: what they are, in lesson order, and thumbnails.

The examples are the ``.gproj`` files in ``projects/`` (written by
``tools/make_examples.py``); their ``meta`` gives the title, the lesson, what to
watch and the live view that teaches it. A file that is a byte copy of one
listed before it (``keras_cnn.gproj`` is lesson 6) is listed once.

A thumbnail is a map of the project's graph legible at card size (a chip per
node with its type, laid out by the editor's layout). It is cached in memory and, given a
folder, on disk under a hash of the file's bytes, so an edited example gets a
new one.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, QSize, QStandardPaths, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPainter, QPen, QPixmap, QPolygonF

from graphedit.model.geometry import wire_points
from graphedit.model.layout import Spacing, layered_layout
from graphedit.model.project import SUFFIX, load_project
from graphedit.ui.canvas import style

PROJECTS_DIR = Path(__file__).resolve().parents[2] / "projects"
THUMBNAIL = QSize(320, 180)
CACHE_VERSION = b"thumbnail-2"  # bump when the drawing changes, so old cached pictures are not reused
_NUMBER = re.compile(r"^(\d+)([a-z]?)_")


@dataclass(frozen=True)
class Example:
    path: Path
    title: str
    description: str
    watch: str
    lesson: int | None
    variant: str  # "a", "b", … for a lesson in several files; "" otherwise
    live_view: str | None

    @property
    def number(self) -> str:
        """``2a``, ``6``; empty for an example outside the numbered lessons."""
        return f"{self.lesson}{self.variant}" if self.lesson is not None else ""

    @property
    def label(self) -> str:
        return f"Lesson {self.number}" if self.number else "Example"

    @property
    def menu_text(self) -> str:
        return f"{self.number} · {self.title}" if self.number else self.title

    def matches(self, text: str) -> bool:
        words = text.lower().split()
        haystack = " ".join((self.label, self.title, self.watch, self.description, self.path.stem)).lower()
        return all(w in haystack for w in words)


def read_example(path: Path) -> Example | None:
    """The example's gallery entry from its ``meta``, or ``None`` if the file is not a readable project."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        meta = data.get("meta") or {}
        view = data.get("view") or {}
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(meta, dict) or not isinstance(view, dict):
        return None
    lesson = meta.get("lesson")
    numbered = _NUMBER.match(path.stem)
    return Example(
        path=path,
        title=str(meta.get("title") or path.stem),
        description=str(meta.get("description") or ""),
        watch=str(meta.get("watch") or ""),
        lesson=lesson if isinstance(lesson, int) and not isinstance(lesson, bool) else None,
        variant=numbered.group(2) if numbered else "",
        live_view=view.get("live_view") if isinstance(view.get("live_view"), str) else None,
    )


def list_examples(folder: Path = PROJECTS_DIR) -> list[Example]:
    """The examples in ``folder`` by lesson (numbered files first); byte copies of an earlier one left out."""
    seen: set[bytes] = set()
    found = []
    for path in sorted(folder.glob(f"*{SUFFIX}")) if folder.is_dir() else []:
        try:
            digest = hashlib.sha256(path.read_bytes()).digest()
        except OSError:
            continue
        example = read_example(path)
        if example is None or digest in seen:
            continue
        seen.add(digest)
        found.append(example)
    last = 10**6
    return sorted(found, key=lambda e: (e.lesson or last, _NUMBER.match(e.path.stem) is None, e.path.name))


# ------------------------------------------------------------------ thumbnails
CHIP = (72.0, 24.0)  # a node on a thumbnail: a chip with its type, about a quarter of a card
CHIP_SPACING = Spacing(column=26.0, node=10.0, row=30.0, grid=0.0)
CHIP_SCALE = 0.25  # the chips' wires are routed as a card's, at this scale
MARGIN = 8.0


def render_thumbnail(path: Path, size: QSize = THUMBNAIL, ratio: float = 1.0) -> QPixmap:
    """The project's graph as a map legible at card size: each node a chip in its family's colour with its
    type, laid out by the editor's layered layout for chips (wrapped to the card's proportions), the wires
    routed as on the canvas; a plain tile if the file cannot be read."""
    pixmap = QPixmap(size * ratio)
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(style.BACKGROUND)
    try:
        document = load_project(path).document
    except Exception:  # a broken example still gets its card; opening it shows the error
        return pixmap
    if len(document) == 0:
        return pixmap
    w, h = CHIP
    positions = layered_layout(document, {n: CHIP for n in document.node_ids()}, spacing=CHIP_SPACING)
    right = max(x for x, _ in positions.values()) + w
    bottom = max(y for _, y in positions.values()) + h
    scale = min((size.width() - 2 * MARGIN) / right, (size.height() - 2 * MARGIN) / bottom)
    left, top = (size.width() - right * scale) / 2, (size.height() - bottom * scale) / 2

    def at(x: float, y: float) -> QPointF:
        return QPointF(left + x * scale, top + y * scale)

    rects = [(x, y, x + w, y + h) for x, y in positions.values()]
    painter = QPainter(pixmap)
    painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
    painter.setPen(QPen(style.WIRE, 1.2))
    for edge in document.edges():
        (sx, sy), (dx, dy) = positions[edge.src], positions[edge.dst]
        points = wire_points((sx + w, sy + h / 2), (dx, dy + h / 2), rects, CHIP_SCALE)
        painter.drawPolyline(QPolygonF([at(*p) for p in points]))
    font = QFont(style.font(8.0))
    font.setPixelSize(int(min(12, max(7, h * scale * 0.62))))
    painter.setFont(font)
    metrics = QFontMetricsF(font)
    for node_id, (x, y) in positions.items():
        chip = QRectF(at(x, y), at(x + w, y + h))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(style.family_color(document.node_type(node_id).category))
        painter.drawRoundedRect(chip, 3, 3)
        text = metrics.elidedText(document.node_type(node_id).title, Qt.TextElideMode.ElideRight, chip.width() - 4)
        painter.setPen(style.TEXT)
        painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return pixmap


def default_cache_dir() -> Path | None:
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation)
    return Path(location) / "thumbnails" if location else None


class ThumbnailCache:
    """Thumbnails by file content and size: in memory, and in ``folder`` (if given) across runs."""

    def __init__(self, folder: Path | None = None, size: QSize = THUMBNAIL) -> None:
        self.folder = folder
        self.size = size
        self.memory: dict[tuple[bytes, float], QPixmap] = {}
        self.rendered = 0  # how many were drawn rather than found (tests read it)

    def key(self, path: Path, ratio: float) -> bytes:
        digest = hashlib.sha256(CACHE_VERSION)
        digest.update(f"{self.size.width()}x{self.size.height()}@{ratio:g}".encode())
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(str(path).encode())
        return digest.digest()

    def get(self, path: Path, ratio: float = 1.0) -> QPixmap:
        key = self.key(path, ratio)
        if (key, ratio) in self.memory:
            return self.memory[(key, ratio)]
        file = self.folder / f"{key.hex()[:32]}.png" if self.folder is not None else None
        pixmap = QPixmap()
        if file is not None and file.exists() and pixmap.load(str(file)):
            pixmap.setDevicePixelRatio(ratio)
        else:
            pixmap = render_thumbnail(path, self.size, ratio)
            self.rendered += 1
            if file is not None:
                try:
                    file.parent.mkdir(parents=True, exist_ok=True)
                    pixmap.save(str(file))
                except OSError:
                    pass  # a cache that cannot be written only costs time
        self.memory[(key, ratio)] = pixmap
        return pixmap
