"""The PySide6 editor. Read CONTRACT.md in this folder: the interface between the canvas and the window."""
