"""The PySide6 editor. Read CONTRACT.md in this folder: the interface between the canvas and the window."""

from graphedit.ui.qt_compat import pin_none

pin_none()  # before any Qt call: PySide6 6.12 on Python 3.11 leaks None references (see qt_compat)
