"""The registry of node types: the built-in families plus third-party packs.

A node pack is a module (or a callable returning a list of node types)
registered under the entry-point group ``graphedit.nodes``; a module exposes
``NODE_TYPES``. Types can also be registered in-process with :meth:`register`.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable
from importlib.metadata import entry_points

from graphedit.errors import GraphEditError
from graphedit.nodes.spec import NodeType

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "graphedit.nodes"

# Built-in families in palette order.
BUILTIN_MODULES = (
    "data",
    "dense",
    "convolution",
    "pooling",
    "activation",
    "normalization",
    "merge",
    "tensor",
    "parameter",
    "sequence",
    "attention",
    "generative",
    "loss",
    "penalty",
    "metric",
)


class UnknownNodeType(GraphEditError):
    pass


class Registry:
    """Node types by id; legacy ids resolve to the renamed type."""

    def __init__(self) -> None:
        self._types: dict[str, NodeType] = {}
        self._legacy: dict[str, str] = {}
        self.pack_errors: list[str] = []

    def register(self, node_type: NodeType, replace: bool = False) -> None:
        if node_type.type_id in self._types and not replace:
            raise ValueError(f"node type {node_type.type_id!r} is already registered")
        self._types[node_type.type_id] = node_type
        for old in node_type.legacy_ids:
            self._legacy[old] = node_type.type_id

    def register_all(self, node_types: Iterable[NodeType], replace: bool = False) -> None:
        for t in node_types:
            self.register(t, replace=replace)

    def unregister(self, type_id: str) -> None:
        node_type = self._types.pop(type_id)
        for old in node_type.legacy_ids:
            self._legacy.pop(old, None)

    def __contains__(self, type_id: str) -> bool:
        return type_id in self._types or type_id in self._legacy

    def get(self, type_id: str) -> NodeType:
        try:
            return self._types[self._legacy.get(type_id, type_id)]
        except KeyError:
            raise UnknownNodeType(
                f"unknown node type {type_id!r}; install the node pack that provides it, "
                "or replace the node with a built-in type"
            ) from None

    def canonical_id(self, type_id: str) -> str:
        return self.get(type_id).type_id

    def types(self) -> list[NodeType]:
        return list(self._types.values())

    def families(self) -> dict[str, list[NodeType]]:
        out: dict[str, list[NodeType]] = {}
        for t in self._types.values():
            out.setdefault(t.category, []).append(t)
        return out

    def load_builtins(self) -> None:
        for name in BUILTIN_MODULES:
            module = importlib.import_module(f"graphedit.nodes.{name}")
            self.register_all(module.NODE_TYPES)

    def load_entry_points(self) -> None:
        """Load third-party packs; a broken pack is logged and skipped, never fatal."""
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                obj = ep.load()
                types = obj() if callable(obj) else getattr(obj, "NODE_TYPES", obj)
                self.register_all(types)
            except Exception as exc:  # a bad pack must not stop the app
                msg = f"node pack {ep.name!r} ({ep.value}) failed to load: {exc}"
                log.warning(msg)
                self.pack_errors.append(msg)


_default: Registry | None = None


def default_registry() -> Registry:
    """The process-wide registry with built-ins and installed packs."""
    global _default
    if _default is None:
        reg = Registry()
        reg.load_builtins()
        reg.load_entry_points()
        _default = reg
    return _default
