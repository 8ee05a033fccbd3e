"""Data nodes: where examples enter the graph (Input, Target) and where a model output leaves it (Output)."""

from __future__ import annotations

from typing import Any, NoReturn

from graphedit.errors import GraphEditError
from graphedit.nodes.spec import NodeType, Param, Port, Shape


def _shape(default: tuple[int, ...], doc: str) -> Param:
    return Param("shape", "ints", default, min=1, doc=doc)


def feature_shape(node_type_id: str, params: dict[str, Any]) -> tuple[int, ...]:
    """The per-example shape (batch excluded) an Input or Target node produces.

    A Target with dtype int64 and shape ``[1]`` holds one class index per example, so its
    tensor is ``[N]`` (what softmax cross-entropy wants); every other setting gives
    ``[N, *shape]``.
    """
    shape = tuple(params["shape"])
    if node_type_id == "Target" and params["dtype"] == "int64" and shape == (1,):
        return ()
    return shape


_DTYPE = ("float32", "int64")


def _outside_block(params: dict[str, Any], shapes: list[Shape | None]) -> NoReturn:
    raise GraphEditError(
        "a block port only means something inside a block definition; delete it here, or group nodes into a "
        "block (Ctrl+G) and add ports there"
    )


NODE_TYPES = [
    NodeType(
        "Input",
        "Input",
        "data",
        "The dataset's features, one example per row: x ∈ ℝ^shape, with the batch dimension N in front.",
        build=None,
        inputs=(),
        outputs=(Port("y", doc="a batch of input examples"),),
        params=(
            _shape((2,), "Shape of one example without the batch dimension, e.g. [2] for 2-D points or [1, 28, 28]."),
            Param("dtype", "choice", "float32", choices=_DTYPE, doc="float32 for features; int64 for token ids."),
        ),
        formula="x ∈ ℝ^(N × shape)",
        role="input",
        key_params=("shape",),
        id_prefix="input",
    ),
    NodeType(
        "Target",
        "Target",
        "data",
        "The dataset's labels. int64 with shape [1] means one class index per example (tensor [N]); "
        "int64 [H, W] gives per-pixel classes [N, H, W]; float32 gives [N, *shape] regression targets.",
        build=None,
        inputs=(),
        outputs=(Port("y", doc="a batch of targets"),),
        params=(
            _shape(
                (1,),
                "Shape of one target without the batch dimension. With dtype int64, [1] means a single "
                "class index per example, so the tensor is [N], not [N, 1].",
            ),
            Param("dtype", "choice", "int64", choices=_DTYPE, doc="int64 for class indices; float32 for values."),
        ),
        formula="t ∈ {0…C−1}^N  or  t ∈ ℝ^(N × shape)",
        role="target",
        key_params=("dtype", "shape"),
        id_prefix="target",
    ),
    NodeType(
        "Output",
        "Output",
        "data",
        "Marks a model output: what the exported model returns and what predictions are read from.",
        build=None,
        inputs=(Port("x", doc="the tensor to return"),),
        outputs=(),
        params=(Param("name", "str", "", doc="Name of this output in exports; empty: the node id."),),
        formula="ŷ = x",
        role="output",
        key_params=("name",),
        id_prefix="output",
    ),
    NodeType(
        "BlockInput",
        "Block input",
        "blocks",
        "An input port of the block being edited: the block node gets a port of this name, and what is wired "
        "into that port arrives here.",
        build=_outside_block,
        inputs=(),
        outputs=(Port("y", doc="what the block node receives on this port"),),
        formula="x = the block's input",
        role="block_input",
        id_prefix="x",
    ),
    NodeType(
        "BlockOutput",
        "Block output",
        "blocks",
        "An output port of the block being edited: the block node gets a port of this name that returns "
        "what is wired here.",
        build=_outside_block,
        inputs=(Port("x", doc="the tensor the block returns on this port"),),
        outputs=(),
        formula="the block's output = x",
        role="block_output",
        id_prefix="out",
    ),
]
