"""Light and dark themes: Fusion with a palette of our own, following the system unless the user picks one."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

THEMES = ("system", "light", "dark")

_DARK = {
    QPalette.ColorRole.Window: "#2b2d30",
    QPalette.ColorRole.WindowText: "#dfe1e5",
    QPalette.ColorRole.Base: "#1e1f22",
    QPalette.ColorRole.AlternateBase: "#26282b",
    QPalette.ColorRole.ToolTipBase: "#3c3f41",
    QPalette.ColorRole.ToolTipText: "#dfe1e5",
    QPalette.ColorRole.PlaceholderText: "#8c8f94",
    QPalette.ColorRole.Text: "#dfe1e5",
    QPalette.ColorRole.Button: "#35373b",
    QPalette.ColorRole.ButtonText: "#dfe1e5",
    QPalette.ColorRole.BrightText: "#ff6b68",
    QPalette.ColorRole.Link: "#589df6",
    QPalette.ColorRole.Highlight: "#2f65ca",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Light: "#45484c",
    QPalette.ColorRole.Midlight: "#3a3d41",
    QPalette.ColorRole.Mid: "#303236",
    QPalette.ColorRole.Dark: "#1b1c1f",
    QPalette.ColorRole.Shadow: "#111214",
}

_LIGHT_HIGHLIGHT = "#2f65ca"


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


def resolve(theme: str) -> str:
    """``system`` → ``light`` or ``dark``; anything unknown counts as ``system``."""
    if theme in ("light", "dark"):
        return theme
    return "dark" if system_is_dark() else "light"


def palette_for(theme: str) -> QPalette:
    style = QStyleFactory.create("Fusion")
    palette = style.standardPalette()
    if resolve(theme) == "dark":
        for role, color in _DARK.items():
            palette.setColor(role, QColor(color))
        for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
            palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6f7378"))
    else:
        palette.setColor(QPalette.ColorRole.Highlight, QColor(_LIGHT_HIGHLIGHT))
    return palette


def apply_theme(theme: str, app: QApplication | None = None) -> str:
    """Apply a theme to the application; returns the resolved one (``light`` or ``dark``)."""
    app = app or QApplication.instance()
    if app is None:
        return resolve(theme)
    # each call re-polishes or repaints every widget: the window, built under the start window's theme, skips both
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    palette = palette_for(theme)
    if app.palette() != palette:
        app.setPalette(palette)
    return resolve(theme)
