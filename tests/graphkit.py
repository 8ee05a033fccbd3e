"""Build graph documents in tests from a compact description.

``build([("input1", "Input", {"shape": [2]}), ("dense1", "Dense", {"units": 3})], ["input1 -> dense1"])``;
a wire is ``"a -> b"`` (ports y → x), ``"a -> b.in2"`` or ``"a.z -> b.mu"``.
"""

from __future__ import annotations

from typing import Any

from graphedit.model import GraphDocument


def _end(text: str, default: str | None) -> tuple[str, str | None]:
    node, _, port = text.strip().partition(".")
    return node, port or default


def build(nodes: list[tuple[str, str, dict[str, Any]]], wires: list[str], registry=None) -> GraphDocument:
    doc = GraphDocument(registry)
    for i, (node_id, type_id, params) in enumerate(nodes):
        doc.add_node(type_id, params, position=(220.0 * i, 0.0), node_id=node_id)
    for wire in wires:
        left, right = wire.split("->")
        src, src_port = _end(left, None)
        dst, dst_port = _end(right, "x")
        if src_port is None:
            src_port = doc.node_type(src).output_ports()[0].name
        doc.connect(src, src_port, dst, dst_port)
    return doc


def chain(*ids: str) -> list[str]:
    """Wires along a chain: chain("a", "b", "c") == ["a -> b", "b -> c"]."""
    return [f"{a} -> {b}" for a, b in zip(ids, ids[1:])]
