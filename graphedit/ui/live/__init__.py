"""Live views of a training run: curves, activations, gradients, decision regions, images, confusion, text.

See docs/architecture.md, "The flow of a training run"; the window creates ``LiveViewsDock(controller, parent)`` and
calls ``dock.attach(session)``.
"""

from graphedit.ui.live.dock import LiveViewsDock

__all__ = ["LiveViewsDock"]
