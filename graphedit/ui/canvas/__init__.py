"""The node canvas: scene items that observe the document, a view with mouse modes, quick add and layout."""

from graphedit.ui.canvas.add_node import BLOCK_FILE_MIME, NODE_MIME
from graphedit.ui.canvas.scene import CanvasScene
from graphedit.ui.canvas.view import CanvasView

__all__ = ["BLOCK_FILE_MIME", "NODE_MIME", "CanvasScene", "CanvasView"]
