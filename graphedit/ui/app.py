"""``graphedit [FILE.gproj]``: open the editor.

With a file, that project; alone, an example so a new user sees a working
network at once; after a crash, the recovery copy is offered first. With no
display the command says so in one line and points to the headless commands.
``GRAPHEDIT_SCREEN_MAP=FILE`` has the window write where its widgets, nodes and ports are on screen, for a script
that drives it with mouse events (``graphedit/ui/screen_map.py``, ``tools/real_window_check.sh``).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graphedit.ui.main_window import MainWindow

NO_DISPLAY = (
    "graphedit: no display to open the editor on (DISPLAY and WAYLAND_DISPLAY are unset); "
    "use the headless commands instead: graphedit check|train|export PROJECT.gproj"
)
HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb", "minimalegl", "vkkhrdisplay")
FIRST_EXAMPLE = "keras_cnn.gproj"


def has_display() -> bool:
    """Whether Qt can open a window: always on macOS and Windows; on Linux an X or Wayland display,
    or a QPA plugin that needs none (offscreen)."""
    if sys.platform in ("darwin", "win32"):
        return True
    platform = os.environ.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0]
    if platform in HEADLESS_PLATFORMS:
        return True
    if platform == "xcb":
        return bool(os.environ.get("DISPLAY"))
    if platform.startswith("wayland"):
        return bool(os.environ.get("WAYLAND_DISPLAY"))
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run_editor(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="graphedit", description="Open the GraphEdit editor.")
    parser.add_argument("project", nargs="?", help="a .gproj project to open (default: an example)")
    args = parser.parse_args(argv)
    if not has_display():
        print(NO_DISPLAY, file=sys.stderr)
        return 2

    # only Qt before the first paint: torch and the editor load behind a start window (graphedit/ui/startup.py)
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from graphedit.ui import APP_NAME
    from graphedit.ui.startup import EditorLoader, StartWindow
    from graphedit.ui.theme import apply_theme

    QApplication.setApplicationName(APP_NAME)
    QApplication.setOrganizationName(APP_NAME)
    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl+C in the terminal quits
    settings = QSettings(APP_NAME, APP_NAME)
    apply_theme(str(settings.value("theme", "system")))
    start = StartWindow(settings)
    start.show()
    name = os.path.basename(args.project) if args.project else "the first example"
    loader = EditorLoader(start, lambda window: open_initial(window, args.project), f"Opening {name}…")
    loader.begin()
    code = app.exec()
    del loader
    return code


def open_initial(window: MainWindow, project: str | None) -> None:
    """What a fresh window shows: recovered work, else the file asked for, else the first example."""
    from PySide6.QtCore import QTimer

    from graphedit.ui.files import PROJECTS_DIR
    from graphedit.ui.screen_map import install_from_env

    window.screen_map = install_from_env(window)
    if window.files.recovered:
        return
    if project:
        window.files.open(project, ask=False)
    elif (PROJECTS_DIR / FIRST_EXAMPLE).exists():
        window.files.open_example(PROJECTS_DIR / FIRST_EXAMPLE, ask=False)
        # from the event loop: the editor opens the project before it shows its window (EditorLoader), and a modal
        # page opened over a hidden window stayed its own window, which kept the keyboard once it closed
        QTimer.singleShot(0, window, lambda: show_start_page(window))


def show_start_page(window: MainWindow) -> bool:
    """On the very first start, the examples gallery opens over the example as a start page; later, only on request."""
    if window.settings.value("start_page_shown", False, type=bool):
        return False
    from graphedit.ui.gallery import show_gallery

    window.settings.setValue("start_page_shown", True)
    window.start_page = show_gallery(window)
    return True
