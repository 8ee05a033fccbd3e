"""The graph document and project files (no Qt, no torch)."""

from graphedit.model.document import GraphDocument
from graphedit.model.events import (
    Edge,
    EdgeAdded,
    EdgeRemoved,
    Event,
    NodeAdded,
    NodeMoved,
    NodeMuted,
    NodeRemoved,
    NodeRenamed,
    ParamChanged,
)

__all__ = [
    "Edge",
    "EdgeAdded",
    "EdgeRemoved",
    "Event",
    "GraphDocument",
    "NodeAdded",
    "NodeMoved",
    "NodeMuted",
    "NodeRemoved",
    "NodeRenamed",
    "ParamChanged",
]
