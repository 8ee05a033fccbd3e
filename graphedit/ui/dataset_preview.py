"""A look at the dataset in the training settings: a table, an image grid or the text, and class counts.

``DatasetPreview.set_spec(spec, base_dir)`` reads the dataset with
:func:`graphedit.training.userdata_preview.preview_dataset` (headless; it reads only what
it shows) and draws the result. The notes (fix-ups such as "3 rows with
missing values left out") sit above the data in amber; an error replaces them
in red, and whatever could still be read (the table of a CSV whose target
has one class) stays visible below it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QBoxLayout,
    QFrame,
    QGridLayout,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from graphedit.training.userdata_csv import MISSING
from graphedit.training.userdata_preview import preview_dataset
from graphedit.ui.point_scatter import PointScatter

NOTE_COLOR = "#b26a00"
ERROR_COLOR = "#d32f2f"
TARGET_COLOR = QColor("#2f65ca")
THUMB = 56
MAX_BARS = 40
MISSING_BACKGROUND = QColor(255, 179, 0, 70)
SIDE_WIDTH = 220
NARROW = 480  # below this width the class counts sit under the data


def to_pixmap(image: np.ndarray, side: int = THUMB) -> QPixmap:
    """A ``uint8`` ``[H, W]`` or ``[H, W, 3]`` array as a pixmap about ``side`` pixels tall (pixels kept sharp)."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    h, w = image.shape[:2]
    if image.ndim == 2:
        qimage = QImage(image.data, w, h, w, QImage.Format.Format_Grayscale8)
    else:
        qimage = QImage(image.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    scaled = qimage.scaled(
        max(1, round(side * w / h)),
        side,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.FastTransformation if h < side else Qt.TransformationMode.SmoothTransformation,
    )
    return QPixmap.fromImage(scaled.copy())  # copy: the pixmap must not point into the numpy buffer


class ClassBars(QWidget):
    """Horizontal bars, one per class, with the count at the end: imbalance shows at a glance."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.counts: dict[str, int] = {}
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def set_counts(self, counts: dict[str, int] | None) -> None:
        self.counts = dict(list((counts or {}).items())[:MAX_BARS])
        self.setFixedHeight(self._row() * len(self.counts) + 4)
        self.setToolTip("\n".join(f"{k}: {v}" for k, v in self.counts.items()))
        self.update()

    def _row(self) -> int:
        return self.fontMetrics().height() + 6

    def sizeHint(self) -> QSize:
        return QSize(240, self._row() * len(self.counts) + 4)

    def paintEvent(self, event: Any) -> None:
        if not self.counts:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = self.fontMetrics()
        row = self._row()
        label_w = min(max(fm.horizontalAdvance(k) for k in self.counts) + 8, int(self.width() * 0.45))
        count_w = fm.horizontalAdvance(str(max(self.counts.values()))) + 8
        bar_w = max(10, self.width() - label_w - count_w - 4)
        top = max(self.counts.values()) or 1
        bar_color = self.palette().highlight().color()
        text_color = self.palette().text().color()
        for i, (name, count) in enumerate(self.counts.items()):
            y = i * row + 2
            painter.setPen(text_color)
            painter.drawText(
                QRectF(0, y, label_w - 6, row),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                fm.elidedText(name, Qt.TextElideMode.ElideRight, label_w - 6),
            )
            width = bar_w * count / top
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(bar_color)
            painter.drawRoundedRect(QRectF(label_w, y + 3, max(width, 1.5), row - 6), 2, 2)
            painter.setPen(text_color)
            painter.drawText(QRectF(label_w + width + 4, y, count_w, row), Qt.AlignmentFlag.AlignVCenter, str(count))
        painter.end()


class ImageGrid(QScrollArea):
    """A few images of each class, one row per class, the class name in front."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.thumbs: list[QLabel] = []

    def set_images(self, images: list[dict[str, Any]]) -> None:
        inner = QWidget()
        grid = QGridLayout(inner)
        grid.setSpacing(4)
        rows: dict[str, int] = {}
        self.thumbs = []
        for item in images:
            label = str(item["label"])
            if label not in rows:
                rows[label] = len(rows)
                name = QLabel(label)
                name.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                grid.addWidget(name, rows[label], 0)
            column = 1 + sum(1 for t in self.thumbs if t.property("class_label") == label)
            thumb = QLabel()
            thumb.setPixmap(to_pixmap(item["image"]))
            thumb.setProperty("class_label", label)
            shape = item["image"].shape
            thumb.setToolTip(f"{label}: {shape[1]}×{shape[0]} pixels as the network sees them")
            grid.addWidget(thumb, rows[label], column)
            self.thumbs.append(thumb)
        grid.setColumnStretch(grid.columnCount(), 1)
        grid.setRowStretch(len(rows), 1)
        self.setWidget(inner)


class DatasetPreview(QWidget):
    """What a dataset spec gives: summary line, notes or error, the data, and class counts."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preview: dict[str, Any] = {}
        self.summary = QLabel()
        bold = QFont(self.summary.font())
        bold.setBold(True)
        self.summary.setFont(bold)
        self.summary.setWordWrap(True)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {ERROR_COLOR};")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notes_label = QLabel()
        self.notes_label.setWordWrap(True)
        self.notes_label.setStyleSheet(f"color: {NOTE_COLOR};")
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.grid = ImageGrid()
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFont("monospace"))
        self.scatter = PointScatter()
        self.stack = QStackedWidget()
        for page in (self.table, self.grid, self.text, self.scatter):
            self.stack.addWidget(page)
        self.counts_title = QLabel("Class counts")
        self.counts_title.setFont(bold)
        self.bars = ClassBars()
        side = QVBoxLayout()
        side.addWidget(self.counts_title)
        side.addWidget(self.bars)
        side.addStretch(1)
        self.side = QWidget()
        self.side.setLayout(side)
        self.side.setMinimumWidth(SIDE_WIDTH)
        body = self.body = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        body.addWidget(self.stack, 3)
        body.addWidget(self.side, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.error_label)
        layout.addWidget(self.notes_label)
        layout.addLayout(body, 1)
        self.show_preview({"name": None, "error": None, "notes": []})

    def resizeEvent(self, event: Any) -> None:
        """Narrow (a dock at the side), the class counts go below the data: the data keeps the width."""
        narrow = event.size().width() < NARROW
        self.body.setDirection(QBoxLayout.Direction.TopToBottom if narrow else QBoxLayout.Direction.LeftToRight)
        self.side.setMinimumWidth(0 if narrow else SIDE_WIDTH)
        super().resizeEvent(event)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), NARROW - 1), hint.height())  # it can always stack its parts

    # ---------------------------------------------------------------- public
    def set_spec(self, spec: dict[str, Any], base_dir: str | Path | None = None) -> dict[str, Any]:
        """Read the dataset a spec describes and show it; returns the preview shown."""
        preview = preview_dataset(spec, base_dir)
        self.show_preview(preview)
        return preview

    def show_preview(self, preview: dict[str, Any]) -> None:
        """Show a result of :func:`preview_dataset` (a worker thread may compute it)."""
        self.preview = preview
        self.summary.setText(self._summary_text(preview))
        error = preview.get("error")
        self.error_label.setText(error or "")
        self.error_label.setVisible(bool(error))
        notes = preview.get("notes") or []
        self.notes_label.setText("\n".join(f"• {n}" for n in notes))
        self.notes_label.setVisible(bool(notes))
        view = preview.get("view", "table")
        if view == "images":
            self.grid.set_images(preview.get("images") or [])
            self.stack.setCurrentWidget(self.grid)
        elif view == "text":
            self.text.setPlainText(preview.get("text") or "")
            self.stack.setCurrentWidget(self.text)
        elif view == "scatter":
            self.scatter.set_points(preview["points"], preview.get("point_values"), preview.get("class_names"))
            self.stack.setCurrentWidget(self.scatter)
        else:
            self._fill_table(preview.get("columns") or [], preview.get("rows") or [], preview.get("roles") or {})
            self.stack.setCurrentWidget(self.table)
        counts = preview.get("class_counts")
        self.counts_title.setText("Character counts" if view == "text" else "Class counts")
        self.bars.set_counts(counts)
        self.side.setVisible(bool(counts))

    # --------------------------------------------------------------- helpers
    @staticmethod
    def _summary_text(p: dict[str, Any]) -> str:
        if not p.get("name"):
            return "No dataset"
        parts = [str(p["name"])]
        if p.get("task"):
            parts.append(str(p["task"]))
        if p.get("size") is not None:
            parts.append(f"{p['size']:,} examples")
        if p.get("feature_shape") is not None:
            parts.append(f"features [{', '.join(map(str, p['feature_shape']))}]")
        if p.get("streamed"):
            parts.append("read from disk batch by batch")
        return " · ".join(parts)

    def _fill_table(self, columns: list[str], rows: list[list[str]], roles: dict[str, str]) -> None:
        self.table.clear()
        self.table.setColumnCount(len(columns))
        self.table.setRowCount(len(rows))
        for j, name in enumerate(columns):
            role = roles.get(name, "feature")
            item = QTableWidgetItem(f"{name} (target)" if role == "target" else name)
            item.setToolTip({"target": "what the network learns to predict", "unused": "not used"}.get(role, "feature"))
            if role == "target":
                item.setForeground(TARGET_COLOR)
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            elif role == "unused":
                item.setForeground(self.palette().placeholderText().color())
            self.table.setHorizontalHeaderItem(j, item)
        for i, row in enumerate(rows):
            for j, cell in enumerate(row[: len(columns)]):
                item = QTableWidgetItem(cell)
                if roles.get(columns[j]) == "unused":
                    item.setForeground(self.palette().placeholderText().color())
                elif cell.strip().lower() in MISSING:  # show where the missing-value fix-up applies
                    item.setBackground(MISSING_BACKGROUND)
                    item.setToolTip("missing: handled as option 'missing' says (see the notes above)")
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
