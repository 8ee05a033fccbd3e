"""The graph as a picture: ``graphedit render`` with no display, and File ▸ Export ▸ Picture in the editor."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from _window_helpers import SCREENSHOTS as SHOTS
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
HEADS = {".svg": b"<?xml", ".png": b"\x89PNG", ".pdf": b"%PDF"}


def render(*args: str) -> subprocess.CompletedProcess:
    """``graphedit render`` in a fresh process with no display and no Qt platform chosen."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["OMP_NUM_THREADS"] = "1"
    code = "import sys; from graphedit.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, "render", *args], env=env, capture_output=True, text=True, timeout=120
    )


def _looks_drawn(path: Path) -> None:
    picture = Image.open(path).convert("RGB")
    assert 1.2 < picture.width / picture.height < 4  # the wrapped rows keep a screen's proportions
    assert len(picture.resize((200, 80)).getcolors(maxcolors=200 * 80)) > 20  # not a blank canvas


@pytest.mark.slow
def test_render_command_draws_a_png_without_a_display():
    SHOTS.mkdir(parents=True, exist_ok=True)
    out = SHOTS / "render_05b_deep_residual.png"  # also a screenshot to look at
    result = render(str(ROOT / "projects" / "05b_deep_residual.gproj"), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(HEADS[".png"])
    _looks_drawn(out)


@pytest.mark.gui
def test_render_writes_svg_and_pdf_and_pictures_of_examples(qapp, tmp_path):
    from graphedit.ui.picture import render_project

    for suffix in (".svg", ".pdf"):
        out = render_project(ROOT / "projects" / "13_vae.gproj", tmp_path / f"vae{suffix}")
        assert out.read_bytes().startswith(HEADS[suffix])
    svg = (tmp_path / "vae.svg").read_text(encoding="utf-8")
    assert ">logvar<" in svg and ">Encoder<" in svg  # node names and frame titles as vector text
    assert "<image" not in svg  # cards drawn as paths, not bitmaps
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name in ("08b_inception_module", "12_unet_segmentation"):  # screenshots to look at
        out = render_project(ROOT / "projects" / f"{name}.gproj", SHOTS / f"render_{name}.png")
        assert out.read_bytes().startswith(HEADS[".png"])
        _looks_drawn(out)


def test_render_refuses_other_endings_and_the_project_itself(tmp_path):
    project = tmp_path / "net.gproj"
    project.write_bytes((ROOT / "projects" / "01_single_neuron.gproj").read_bytes())
    before = project.read_bytes()
    result = render(str(project), "-o", str(tmp_path / "net.jpg"))
    assert result.returncode == 1 and ".svg, .png, .pdf" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "net.jpg").exists()
    result = render(str(project), "-o", str(project))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert project.read_bytes() == before


@pytest.mark.gui
def test_export_picture_from_the_file_menu_writes_the_canvas(qtbot, tmp_path):
    from _window_helpers import copy_example, make_window
    from test_ui_model_io import FakeIOPrompts

    window = make_window(qtbot, tmp_path)
    assert window.files.open(copy_example(tmp_path), ask=False)
    out = tmp_path / "slide.png"
    prompts = FakeIOPrompts()
    prompts.picture_path = lambda suggested: str(out)
    window.model_io.prompts = prompts
    menu = window.export_menu
    action = next(a for a in menu.actions() if a.text().startswith("&Picture"))
    action.trigger()
    assert out.read_bytes().startswith(HEADS[".png"]) and not prompts.errors
    project = window.files.project.path
    before = project.read_bytes()
    prompts.picture_path = lambda suggested: str(project)
    action.trigger()
    assert prompts.errors and ".svg, .png, .pdf" in prompts.errors[-1]
    assert project.read_bytes() == before
