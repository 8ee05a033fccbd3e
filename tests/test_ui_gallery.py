"""The examples gallery: cards for every lesson with thumbnails, filtering, and examples opened from it.

Screenshots (_window_helpers.SCREENSHOTS): gallery.png, and the editor with lessons 2b, 7 and 13 opened from the
gallery (example_02.png, example_07.png, example_13.png).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _window_helpers import PROJECTS, SCREENSHOTS, FakePrompts, make_window, screenshot
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from graphedit.ui import gallery as gallery_module
from graphedit.ui.canvas import style
from graphedit.ui.examples_catalog import ThumbnailCache, list_examples
from graphedit.ui.gallery import GalleryDialog, GalleryWidget

pytestmark = pytest.mark.gui
SPAWN_TIMEOUT_MS = 90_000  # the training process imports torch first; the machine may be busy


def _distinct_colours(image, step: int = 7) -> int:
    return len({image.pixel(x, y) for x in range(0, image.width(), step) for y in range(0, image.height(), step)})


def test_catalog_lists_each_example_once_in_lesson_order():
    examples = list_examples(PROJECTS)
    names = [e.path.name for e in examples]
    assert "keras_cnn.gproj" not in names and "06_keras_cnn.gproj" in names  # a byte copy is listed once
    lessons = [e.lesson for e in examples]
    assert lessons == sorted(lessons) and set(lessons) == set(range(1, 21))
    assert [e.number for e in examples[:3]] == ["1", "2a", "2b"]
    assert all(e.title and e.watch and e.live_view for e in examples)


def test_gallery_cards_thumbnails_filter_and_screenshot(qtbot, tmp_path):
    cache = ThumbnailCache(tmp_path / "thumbnails")
    opened: list[Path] = []
    dialog = GalleryDialog(None, opened.append, PROJECTS, cache)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    gallery = dialog.gallery
    assert len(gallery.cards) == len(list_examples(PROJECTS))
    qtbot.waitUntil(lambda: all(c.has_thumbnail() for c in gallery.cards), timeout=20000)  # drawn after showing
    assert cache.rendered == len(gallery.cards)
    for card in gallery.cards:  # each thumbnail shows a graph, not an empty canvas
        image = card.thumbnail.pixmap().toImage()
        assert image.pixelColor(2, 2) == QColor(style.BACKGROUND)
        assert _distinct_colours(image) > 8, card.example.path.name
    first = gallery.cards[0]
    assert first.badge.text() == "Lesson 1" and "decision regions" in first.view_label.text()
    assert gallery._columns == 3
    screenshot(dialog, "gallery.png")

    # the thumbnails are kept on disk: a new gallery draws none
    again = GalleryWidget(PROJECTS, ThumbnailCache(tmp_path / "thumbnails"))
    qtbot.addWidget(again)
    again.draw_all_thumbnails()
    assert again.cache.rendered == 0 and all(c.has_thumbnail() for c in again.cards)

    # filtering narrows the cards and reflows them
    QTest.keyClicks(gallery.filter_box, "u-net")
    assert [c.example.path.stem for c in gallery.visible_cards()] == ["12_unet_segmentation"]
    gallery.filter_box.clear()
    QTest.keyClicks(gallery.filter_box, "no such thing")
    assert not gallery.visible_cards() and gallery.empty.isVisible()
    gallery.filter_box.clear()
    assert len(gallery.visible_cards()) == len(gallery.cards)

    # a click on a card chooses it and closes the dialog
    card = next(c for c in gallery.cards if c.example.path.stem == "07_lenet")
    gallery.scroll.ensureWidgetVisible(card)
    QTest.mouseClick(card, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(30, 30))
    assert opened == [PROJECTS / "07_lenet.gproj"] and not dialog.isVisible()


def _open_from_gallery(qtbot, window, stem: str) -> None:
    menu = window.commands.examples_menu
    assert menu.actions()[0] is window.commands.gallery
    window.commands.gallery.trigger()
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, GalleryDialog) and w.isVisible())
    assert dialog.isModal() or dialog.windowModality() != Qt.WindowModality.NonModal
    card = next(c for c in dialog.gallery.cards if c.example.path.stem == stem)
    dialog.gallery.scroll.ensureWidgetVisible(card)
    qtbot.mouseClick(card.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=3000)


@pytest.mark.parametrize(
    ("stem", "shot", "view", "train"),
    [
        # trained: the regions show the circle
        pytest.param("02b_relu_hidden", "example_02.png", "regions", True, marks=pytest.mark.slow),
        ("07_lenet", "example_07.png", "filters", False),
        ("13_vae", "example_13.png", "latent", False),
    ],
)
def test_example_opened_from_the_gallery(qtbot, tmp_path, monkeypatch, stem, shot, view, train):
    monkeypatch.setattr(gallery_module, "_CACHE", ThumbnailCache(tmp_path / "thumbnails"))  # not the user's cache
    window = make_window(qtbot, tmp_path, FakePrompts())
    before = (PROJECTS / f"{stem}.gproj").read_bytes()
    _open_from_gallery(qtbot, window, stem)
    files = window.files
    assert files.path is None and files.project.meta["title"]  # an unsaved copy: Save asks where
    assert window.windowTitle().startswith(f"{stem}.gproj")
    assert not window.controller.problems()
    assert files.project.view["live_view"] == view
    assert window.live.current_view() == view and window.live.isVisible()
    qtbot.waitUntil(lambda: not window.canvas.fit_pending, timeout=2000)  # the zoom to fit queued by loading
    if train:  # as a user would: Run on the unsaved copy (its runs go to a scratch folder)
        finished = []
        window.session.finished.connect(finished.append)
        window.training.run()
        qtbot.waitUntil(lambda: bool(finished) and window.session.state == "idle", timeout=SPAWN_TIMEOUT_MS)
        summary = finished[0]["summary"]
        assert summary["status"] == "finished" and summary["val"]["accuracy"] >= 0.95
        window.live.flush()
        assert window.live.current_view() == view
    screenshot(window, shot)
    assert (SCREENSHOTS / shot).exists()
    assert (PROJECTS / f"{stem}.gproj").read_bytes() == before


def test_the_fine_tuning_example_opens_with_its_pretrained_weights(qtbot, tmp_path, monkeypatch):
    """Lesson 7d starts from 7c's weights: its unsaved copy carries them, so Run finds them."""
    monkeypatch.setattr(gallery_module, "_CACHE", ThumbnailCache(tmp_path / "thumbnails"))
    window = make_window(qtbot, tmp_path, FakePrompts())
    _open_from_gallery(qtbot, window, "07d_finetune_parity")
    files = window.files
    assert files.path is None and files.project.training["start_from"] == "weights"
    weights = files.weights_file()
    assert weights is not None and weights.is_file() and weights.parent == files.unsaved_home
    assert weights.read_bytes() == (PROJECTS / "07c_pretrain_digits.safetensors").read_bytes()
    assert not window.controller.problems()
    screenshot(window, "example_07d.png")
