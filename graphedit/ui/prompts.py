"""The questions file actions ask the user. Tests pass an object with the same methods that answers at once."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from graphedit.model.project import SUFFIX
from graphedit.ui.recovery import Recovery

FILE_FILTER = f"GraphEdit projects (*{SUFFIX});;All files (*)"


def ask_yes(parent: QWidget | None, title: str, text: str, *, warning: bool = False, cancel: bool = False) -> bool:
    """A question answered Yes or No (or Cancel); the safe answer is the default. ``True`` for Yes."""
    buttons = QMessageBox.StandardButton
    other = buttons.Cancel if cancel else buttons.No
    ask = QMessageBox.warning if warning else QMessageBox.question
    return ask(parent, title, text, buttons.Yes | other, other) == buttons.Yes


class Prompts:
    """The dialogs file actions need. Tests pass an object with the same methods that answers at once."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.parent = parent

    def error(self, title: str, text: str) -> None:
        QMessageBox.critical(self.parent, title, text)

    def ask_save(self, name: str) -> str:
        """``save``, ``discard`` or ``cancel``."""
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.warning(
            self.parent,
            "Unsaved changes",
            f"“{name}” has changes that are not saved. Save them?",
            buttons.Save | buttons.Discard | buttons.Cancel,
            buttons.Save,
        )
        return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")

    def ask_stop_training(self, name: str) -> bool:
        """A run is training: ``True`` stops it and goes on, ``False`` cancels."""
        return ask_yes(
            self.parent,
            "Training in progress",
            f"“{name}” is training. Stop the run? What it recorded so far is kept in its Runs panel.",
            warning=True,
            cancel=True,
        )

    def ask_reload(self, name: str) -> bool:
        """The file changed on disk: ``True`` reloads it, ``False`` keeps the editor's version (unsaved)."""
        return ask_yes(
            self.parent,
            "File changed on disk",
            f"Another program changed “{name}”.\n\nReload it from disk? Keep mine leaves your version open, "
            "unsaved; saving it would then replace the other program's version.",
        )

    def ask_overwrite(self, name: str) -> bool:
        """Saving would replace a version another program wrote since: ``True`` replaces it."""
        return ask_yes(
            self.parent,
            "File changed on disk",
            f"“{name}” was changed by another program since you opened it. Replace it with your version?",
            warning=True,
            cancel=True,
        )

    def ask_recover(self, recovery: Recovery) -> bool:
        answer = QMessageBox.question(
            self.parent,
            "Recover unsaved work?",
            f"GraphEdit did not close cleanly last time. A recovery copy exists of {recovery.describe()}.\n\n"
            "Restore it? (No deletes the copy.)",
        )
        return answer == QMessageBox.StandardButton.Yes

    def open_path(self, folder: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Open project", folder, FILE_FILTER)
        return path or None

    def save_path(self, suggested: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, "Save project as", suggested, FILE_FILTER)
        return path or None
