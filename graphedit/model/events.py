"""Events the graph document emits after each successful operation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple


class Edge(NamedTuple):
    """A wire from an output port to an input port."""

    src: str
    src_port: str
    dst: str
    dst_port: str

    def to_json(self) -> dict[str, str]:
        return {"src": self.src, "src_port": self.src_port, "dst": self.dst, "dst_port": self.dst_port}


@dataclass(frozen=True)
class Event:
    pass


@dataclass(frozen=True)
class NodeAdded(Event):
    node_id: str


@dataclass(frozen=True)
class NodeRemoved(Event):
    node_id: str


@dataclass(frozen=True)
class EdgeAdded(Event):
    edge: Edge


@dataclass(frozen=True)
class EdgeRemoved(Event):
    edge: Edge


@dataclass(frozen=True)
class ParamChanged(Event):
    node_id: str
    name: str
    old: Any
    new: Any


@dataclass(frozen=True)
class NodeMoved(Event):
    node_id: str
    old: tuple[float, float]
    new: tuple[float, float]


@dataclass(frozen=True)
class NodeRenamed(Event):
    old_id: str
    new_id: str


@dataclass(frozen=True)
class NodeMuted(Event):
    node_id: str
    muted: bool


@dataclass(frozen=True)
class TypesChanged(Event):
    """Block definitions were edited: nodes of these types must be computed again (their ports may differ)."""

    type_ids: frozenset[str]


@dataclass(frozen=True)
class NodeTrainingChanged(Event):
    """A node was frozen or unfrozen, or its learning-rate multiplier changed."""

    node_id: str
    frozen: bool
    lr_scale: float
