"""The PySide6 editor, the only package that imports Qt; docs/architecture.md describes its parts."""

APP_NAME = "GraphEdit"
