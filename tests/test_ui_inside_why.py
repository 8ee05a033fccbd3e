"""Why this class? and the FGSM panel, driven by keys and clicks on a briefly trained digits CNN."""

import shutil

import numpy as np
import pytest
import torch
from _insight_helpers import squeezed
from _window_helpers import PROJECTS, make_window, screenshot
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from graphedit.training.explain import fgsm, grad_cam
from graphedit.training.session import run_project

pytestmark = [pytest.mark.gui, pytest.mark.slow]


@pytest.fixture(scope="module")
def trained_cnn(tmp_path_factory):
    """keras_cnn trained for two epochs; the project file points to its weights."""
    import json

    folder = tmp_path_factory.mktemp("cnn")
    path = folder / "keras_cnn.gproj"
    shutil.copy(PROJECTS / "keras_cnn.gproj", path)
    data = json.loads(path.read_text())
    run_project(data, path, {"epochs": 2, "device": "cpu"}, probes=False, point_project=True)
    return path


def open_view(qtbot, tmp_path, project, view):
    window = make_window(qtbot, tmp_path)
    window.resize(1280, 720)
    assert window.files.open(project, ask=False)
    window.inside.show()
    window.inside.raise_()
    window.inside.show_view(view)
    qtbot.waitUntil(lambda: window.inside.seen is not None and not window.inside.is_loading(), timeout=30_000)
    return window, window.inside.page(view)


def test_grad_cam_at_the_chosen_conv_node_over_the_probe_images(qtbot, tmp_path, trained_cnn):
    window, page = open_view(qtbot, tmp_path, trained_cnn, "why")
    assert window.inside.seen.trained and page.showing_body()
    page.method.setFocus()
    QTest.keyClick(page.method, Qt.Key.Key_End)  # Grad-CAM, the last method
    assert page.method.currentText() == "Grad-CAM" and page.conv.currentText() == "conv3"
    seen = window.inside.seen
    expected = grad_cam(seen.compiled, seen.x[:8], "conv3")
    np.testing.assert_allclose(page.heats[0].image.image, expected[0].numpy(), rtol=1e-5, atol=1e-6)
    QTest.keyClick(page.conv, Qt.Key.Key_Home)  # the first conv node: a finer map
    assert page.conv.currentText() == "conv1"
    np.testing.assert_allclose(page.maps, grad_cam(seen.compiled, seen.x[:8], "conv1"), rtol=1e-5, atol=1e-6)
    assert "→" in page.images[0].title.text and "%" in page.images[0].title.text
    QTest.keyClick(page.method, Qt.Key.Key_Home)  # saliency
    assert page.maps.shape == (8, 32, 32) and page.maps.min() >= 0
    assert not squeezed(window.inside)
    screenshot(window, "inside_why.png")


def test_fgsm_panel_flips_classes_as_epsilon_grows_and_not_at_zero(qtbot, tmp_path, trained_cnn):
    window, page = open_view(qtbot, tmp_path, trained_cnn, "adversarial")
    page.slider.setFocus()
    QTest.keyClick(page.slider, Qt.Key.Key_Home)
    assert page.epsilon() == 0
    a = page.attack
    assert torch.equal(a.adversarial, a.original) and not a.flipped().any()
    assert "0 of the" in page.flips.text()
    QTest.keyClick(page.slider, Qt.Key.Key_End)
    assert page.epsilon() == pytest.approx(0.3)
    seen = window.inside.seen
    lo, hi = float(seen.x.min()), float(seen.x.max())
    x, y = seen.x[:64], seen.classes()[:64]
    reference = fgsm(seen.compiled, x, y, 0.3 * (hi - lo), (lo, hi))
    correct = reference.clean_class == y
    flipped = int((reference.flipped() & correct).sum())
    assert flipped > 0 and f"{flipped} of the {int(correct.sum())}" in page.flips.text()
    for _ in range(3):
        QTest.keyClick(page.slider, Qt.Key.Key_PageDown)
    QTest.keyClick(page.example, Qt.Key.Key_Up)
    np.testing.assert_allclose(page.adversarial.image.image, page.attack.adversarial[1, 0].numpy(), rtol=1e-6)
    assert page.original.title.text.startswith("original:") and "%" in page.adversarial.title.text
    assert not squeezed(window.inside)
    screenshot(window, "inside_fgsm.png")


def test_image_views_say_why_they_do_not_apply_to_a_flat_input(qtbot, tmp_path):
    window, page = open_view(qtbot, tmp_path, PROJECTS / "04c_relu_he.gproj", "why")
    qtbot.waitUntil(lambda: not page.showing_body())
    assert "not an image" in page.note.text()
    combo = window.inside.combo
    row = window.inside.views().index("adversarial")
    assert not combo.model().item(row).isEnabled() and "not an image" in combo.model().item(row).toolTip()
