"""A dock's views as a table: each view's name, the title its dock's choice shows, and where its class is.

A dock lists its views (its choice, ``views()``, a lesson's ``view.live_view``) from its table alone and imports a
view's module only when it makes the view: the editor opens without pyqtgraph, which the views plot with. The table
is the one declaration of a view's name, title and phrase; a made view carries the first two as ``name`` and ``title``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ViewEntry:
    name: str  # stable: a project's ``view.live_view`` and the tests name a view by it
    title: str
    where: str  # "package.module:Class"
    phrase: str  # the view inside a sentence: the gallery's "opens with: …", the lesson panel's "Show the …"

    def make(self, *args: Any) -> Any:
        """The view, its class imported now; ``args`` go to the class."""
        module, _, cls = self.where.partition(":")
        view = getattr(importlib.import_module(module), cls)(*args)
        view.name, view.title = self.name, self.title
        return view
