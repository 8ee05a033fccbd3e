"""The theoretical receptive field of every node: which input pixels can influence one of its units.

Computed from the graph alone, in topological order, with the notes' recurrence for a layer of
kernel ``k``, stride ``s``, padding ``p`` and dilation ``d`` (Araujo et al., 2019):

    k' = d·(k − 1) + 1        r_out = r_in + (k' − 1)·j_in        j_out = j_in·s
    start_out = start_in + ((k' − 1)/2 − p)·j_in

where ``r`` is the field's size in input pixels, ``j`` the distance in input pixels between two
neighbouring units (the jump), and ``start`` the centre of the first unit's field. Layers that keep
positions (activations, normalisation, dropout) pass the field on; a merge takes the widest of its
inputs; global pooling, adaptive pooling, Flatten and Dense see the whole input (``r = None``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphedit.model.document import GraphDocument

WINDOWED = ("Conv1d", "Conv2d", "Conv3d", "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d")
UPSAMPLING = ("ConvTranspose2d", "ConvTranspose3d", "Upsample", "Upsample3d")
GLOBAL = ("GlobalAvgPool", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Flatten", "Dense", "Reshape")


@dataclass(frozen=True)
class Field:
    """A unit's receptive field along each spatial axis (square kernels: one number serves all axes)."""

    size: float | None  # input pixels; None: the whole input
    jump: float = 1.0
    start: float = 0.5  # centre of the first unit's field, in input pixels

    @property
    def whole(self) -> bool:
        return self.size is None

    def text(self) -> str:
        if self.size is None:
            return "whole input"
        size = int(self.size) if float(self.size).is_integer() else self.size
        return f"{size}×{size} (jump {self.jump:g})"

    def region(self, index: int) -> tuple[float, float]:
        """The input interval [from, to) that unit ``index`` along an axis can see (unclipped)."""
        if self.size is None:
            raise ValueError("the field is the whole input")
        centre = self.start + index * self.jump
        return centre - self.size / 2, centre + self.size / 2


def _windowed(field: Field, params: dict[str, Any]) -> Field:
    k = int(params.get("kernel", 1))
    s = int(params.get("stride", 1))
    d = int(params.get("dilation", 1))
    p = params.get("padding", 0)
    span = d * (k - 1) + 1
    if p == "same":
        p = (span - 1) / 2
    elif p == "valid":
        p = 0
    assert field.size is not None
    return Field(field.size + (span - 1) * field.jump, field.jump * s, field.start + ((span - 1) / 2 - p) * field.jump)


def _upsampled(field: Field, type_id: str, params: dict[str, Any]) -> Field:
    factor = params.get("stride", 1) if type_id.startswith("ConvTranspose") else params.get("scale", 2)
    jump = field.jump / float(factor or 1)
    assert field.size is not None
    grow = (int(params.get("kernel", 1)) - 1) * jump if type_id.startswith("ConvTranspose") else 0.0
    return Field(field.size + grow, jump, field.start)


def receptive_fields(document: GraphDocument) -> dict[str, Field]:
    """Each node's receptive field (nodes before any Input-connected path get none)."""
    fields: dict[str, Field] = {}
    for node_id in document.topological_order():
        field = field_of(document, node_id, fields)
        if field is not None:
            fields[node_id] = field
    return fields


def field_of(document: GraphDocument, node_id: str, fields: dict[str, Field]) -> Field | None:
    """One node's field from the fields of the nodes feeding it (``fields``: those computed so far)."""
    node_type = document.node_type(node_id)
    if node_type.role == "input":
        return Field(1.0)
    incoming = [fields[e.src] for e in document.in_edges(node_id) if e.src in fields]
    if not incoming or node_type.role == "target":
        return None
    if any(f.whole for f in incoming):
        return Field(None)
    field = max(incoming, key=lambda f: (f.size or 0.0, f.jump))
    type_id, params = node_type.type_id, document.params(node_id)
    if type_id in WINDOWED:
        field = _windowed(field, params)
    elif type_id in UPSAMPLING:
        field = _upsampled(field, type_id, params)
    elif type_id in GLOBAL:
        field = Field(None)
    return field


def conv_fields(document: GraphDocument) -> dict[str, Field]:
    """The receptive field of each convolution and pooling node, for the Summary."""
    fields = receptive_fields(document)
    return {n: f for n, f in fields.items() if document.node_type(n).type_id in WINDOWED + UPSAMPLING}
