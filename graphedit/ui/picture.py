"""The graph as a picture (SVG, PNG or PDF): File ▸ Export ▸ Picture and ``graphedit render``.

The picture is the canvas's own scene drawn by Qt, so it looks as the editor does (cards, wires and shape
labels, frames and notes), on the canvas colour without the dot grid, nothing selected. ``graphedit render``
runs without a display: it asks Qt for its offscreen platform before Qt starts.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from graphedit.errors import GraphEditError, PictureError

FORMATS = (".svg", ".png", ".pdf")
PNG_SCALE = 2.0  # pixels per scene unit: sharp on a slide
MARGIN = 40.0


def check_target(out: Path, project: Path | None = None) -> None:
    """Refuse a file name that is not a picture, and the project file itself."""
    if out.suffix.lower() not in FORMATS:
        raise PictureError(f"cannot write '{out.name}': a picture is {', '.join(FORMATS)}; give one of these endings")
    if project is not None and out.resolve() == project.resolve():
        raise PictureError(f"'{out.name}' is the project itself; give the picture another name")


def write_picture(scene, out: Path, project: Path | None = None) -> Path:
    """Draw ``scene`` (a :class:`~graphedit.ui.canvas.scene.CanvasScene`) into ``out``, by its ending; never
    over ``project``."""
    from PySide6.QtCore import QMarginsF, QRectF, QSize, QSizeF, Qt
    from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter, QPdfWriter
    from PySide6.QtSvg import QSvgGenerator
    from PySide6.QtWidgets import QGraphicsItem

    from graphedit.ui.canvas import style

    check_target(out, project)
    source = scene.items_rect()
    if source.isNull():
        source = QRectF(0, 0, 400, 200)
    source = source.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)
    width, height = source.width(), source.height()
    suffix = out.suffix.lower()
    if suffix == ".png":
        device = QImage(int(width * PNG_SCALE), int(height * PNG_SCALE), QImage.Format.Format_ARGB32)
        device.fill(style.BACKGROUND)
    elif suffix == ".svg":
        device = QSvgGenerator()
        device.setFileName(str(out))
        device.setSize(QSize(int(width), int(height)))
        device.setViewBox(QRectF(0, 0, width, height))
        device.setTitle(out.stem)
        device.setDescription("A GraphEdit graph")
    else:
        device = QPdfWriter(str(out))
        device.setPageLayout(
            QPageLayout(
                QPageSize(QSizeF(width, height), QPageSize.Unit.Point),
                QPageLayout.Orientation.Portrait,
                QMarginsF(0, 0, 0, 0),
            )
        )
        device.setResolution(72)
        device.setTitle(out.stem)
    selected = scene.selectedItems()
    for item in selected:
        item.setSelected(False)
    cached = {item: item.cacheMode() for item in scene.items()}  # a cached card would land in an SVG as a bitmap
    for item in cached:
        item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
    scene.plain_background = True
    painter = QPainter(device)
    try:
        painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        target = QRectF(0, 0, device.width(), device.height()) if suffix == ".png" else QRectF(0, 0, width, height)
        if suffix != ".png":
            painter.fillRect(target, style.BACKGROUND)
        scene.render(painter, target, source, Qt.AspectRatioMode.KeepAspectRatio)
    finally:
        painter.end()
        scene.plain_background = False
        for item, mode in cached.items():
            item.setCacheMode(mode)
        for item in selected:
            item.setSelected(True)
    if suffix == ".png" and not device.save(str(out)):
        raise PictureError(f"cannot write '{out}': check that its folder exists and can be written")
    if not out.exists():
        raise PictureError(f"cannot write '{out}': check that its folder exists and can be written")
    return out


def render_project(project: Path, out: Path) -> Path:
    """Load ``project`` and write its graph as the picture ``out``."""
    from graphedit.model.project import load_project
    from graphedit.ui.canvas.scene import CanvasScene
    from graphedit.ui.controller import EditorController

    check_target(out, project)
    loaded = load_project(project)
    controller = EditorController(loaded.document)
    scene = CanvasScene(controller)
    try:
        return write_picture(scene, out, project)
    finally:
        scene.clear()


def main(argv: list[str]) -> int:
    """``graphedit render PROJECT -o FILE``: the headless picture command."""
    parser = argparse.ArgumentParser(
        prog="graphedit render", description="Draw a project's graph as a picture (SVG, PNG or PDF), no display needed."
    )
    parser.add_argument("project", type=Path, help="the .gproj project")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the picture: FILE.svg, FILE.png or FILE.pdf")
    args = parser.parse_args(argv)
    try:
        check_target(args.output, args.project)
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance() or QApplication([sys.argv[0]])  # noqa: F841  (Qt needs one to draw text)
        out = render_project(args.project, args.output)
    except GraphEditError as exc:
        print(f"graphedit render: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0
