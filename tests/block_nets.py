"""Block-built networks as project JSON, for the block tests and ``bench/blocks.py``.

``resnet_data`` writes torchvision's ResNet-18/34 (BasicBlock) or ResNet-50 (Bottleneck) the way torchvision
does: a stem, four stages of one block definition repeated, the first copy of a stage with stride 2 and its
downsample branch (a nested ``Downsample`` block whose nodes are named ``0`` and ``1``, as ``nn.Sequential`` names
them), so the state-dict keys are torchvision's (``layer2.0.downsample.0.weight``).
"""

from __future__ import annotations

import copy
from typing import Any

from graphedit.model.migrations import FORMAT, VERSION


def node(node_id: str, type_id: str, x: float = 0.0, **params: Any) -> dict[str, Any]:
    return {"id": node_id, "type": type_id, "params": params, "position": [x, 0.0]}


def chain(*ids: str, ports: dict[str, tuple[str, str]] | None = None) -> list[dict[str, str]]:
    """Wires ``a.y → b.x`` along ``ids``; ``ports`` overrides (src_port, dst_port) per destination."""
    ports = ports or {}
    out = []
    for src, dst in zip(ids, ids[1:]):
        sp, dp = ports.get(dst, ("y", "x"))
        out.append({"src": src, "src_port": sp, "dst": dst, "dst_port": dp})
    return out


def wire(src: str, dst: str, dst_port: str = "x", src_port: str = "y") -> dict[str, str]:
    return {"src": src, "src_port": src_port, "dst": dst, "dst_port": dst_port}


def conv(node_id: str, filters: int, kernel: int, stride: int = 1, padding: int = 0) -> dict[str, Any]:
    return node(node_id, "Conv2d", filters=filters, kernel=kernel, stride=stride, padding=padding, bias=False)


DOWNSAMPLE = {
    "name": "Downsample",
    "params": [{"name": "filters", "binds": ["0.filters"]}, {"name": "stride", "binds": ["0.stride"]}],
    "graph": {
        "nodes": [node("x", "BlockInput"), conv("0", 64, 1), node("1", "BatchNorm"), node("y", "BlockOutput")],
        "edges": chain("x", "0", "1", "y"),
    },
}

BASIC = {
    "name": "BasicBlock",
    "params": [
        {"name": "filters", "binds": ["conv1.filters", "conv2.filters", "downsample.filters"]},
        {"name": "stride", "binds": ["conv1.stride", "downsample.stride"]},
        {"name": "downsample", "binds": ["downsample.enabled"]},
    ],
    "graph": {
        "nodes": [
            node("x", "BlockInput"),
            conv("conv1", 64, 3, padding=1),
            node("bn1", "BatchNorm"),
            node("relu1", "ReLU"),
            conv("conv2", 64, 3, padding=1),
            node("bn2", "BatchNorm"),
            node("downsample", "Downsample"),
            node("add", "Add"),
            node("relu2", "ReLU"),
            node("y", "BlockOutput"),
        ],
        "edges": [
            *chain("x", "conv1", "bn1", "relu1", "conv2", "bn2"),
            wire("bn2", "add", "in1"),
            wire("x", "downsample"),
            wire("downsample", "add", "in2"),
            *chain("add", "relu2", "y"),
        ],
    },
}

BOTTLENECK = {
    "name": "Bottleneck",
    "params": [
        {"name": "width", "binds": ["conv1.filters", "conv2.filters"]},
        {"name": "filters", "binds": ["conv3.filters", "downsample.filters"]},
        {"name": "stride", "binds": ["conv2.stride", "downsample.stride"]},
        {"name": "downsample", "binds": ["downsample.enabled"]},
    ],
    "graph": {
        "nodes": [
            node("x", "BlockInput"),
            conv("conv1", 64, 1),
            node("bn1", "BatchNorm"),
            node("relu1", "ReLU"),
            conv("conv2", 64, 3, padding=1),
            node("bn2", "BatchNorm"),
            node("relu2", "ReLU"),
            conv("conv3", 256, 1),
            node("bn3", "BatchNorm"),
            node("downsample", "Downsample"),
            node("add", "Add"),
            node("relu3", "ReLU"),
            node("y", "BlockOutput"),
        ],
        "edges": [
            *chain("x", "conv1", "bn1", "relu1", "conv2", "bn2", "relu2", "conv3", "bn3"),
            wire("bn3", "add", "in1"),
            wire("x", "downsample"),
            wire("downsample", "add", "in2"),
            *chain("add", "relu3", "y"),
        ],
    },
}

DEPTHS = {18: ("BasicBlock", (2, 2, 2, 2)), 34: ("BasicBlock", (3, 4, 6, 3)), 50: ("Bottleneck", (3, 4, 6, 3))}


def resnet_data(
    depth: int = 18, classes: int = 10, size: int = 32, width: int = 64, channels: int = 3
) -> dict[str, Any]:
    """A project holding torchvision's ResNet-``depth`` built from blocks (``width`` scales every stage)."""
    block, counts = DEPTHS[depth]
    expansion = 4 if block == "Bottleneck" else 1
    nodes = [
        node("image", "Input", shape=[channels, size, size]),
        conv("conv1", width, 7, stride=2, padding=3),
        node("bn1", "BatchNorm"),
        node("relu", "ReLU"),
        node("maxpool", "MaxPool2d", kernel=3, stride=2, padding=1),
    ]
    previous = "maxpool"
    edges = chain("image", "conv1", "bn1", "relu", "maxpool")
    channels = width
    for i, count in enumerate(counts):
        planes = width * 2**i
        stride = 1 if i == 0 else 2
        first: dict[str, Any] = {"stride": stride, "downsample": stride != 1 or channels != planes * expansion}
        params: dict[str, Any] = {"filters": planes * expansion, "stride": 1, "downsample": False, "repeat": count}
        if block == "Bottleneck":
            params["width"] = planes
        params["overrides"] = {"0": first}
        stage = f"layer{i + 1}"
        nodes.append(node(stage, block, 200.0 * (i + 1), **params))
        edges.append(wire(previous, stage))
        previous, channels = stage, planes * expansion
    nodes += [
        node("avgpool", "AdaptiveAvgPool2d", size=[1, 1]),
        node("flatten", "Flatten"),
        node("fc", "Dense", units=classes),
        node("label", "Target"),
        node("ce", "SoftmaxCrossEntropy"),
    ]
    edges += [wire(previous, "avgpool"), *chain("avgpool", "flatten", "fc"), wire("fc", "ce", "pred")]
    edges.append(wire("label", "ce", "target"))
    blocks = copy.deepcopy([DOWNSAMPLE, BASIC if block == "BasicBlock" else BOTTLENECK])
    return {"format": FORMAT, "version": VERSION, "blocks": blocks, "graph": {"nodes": nodes, "edges": edges}}


TOWER = {
    "name": "Tower",
    "params": [{"name": "units", "binds": ["dense1.units"]}],
    "graph": {
        "nodes": [
            node("x", "BlockInput"),
            node("dense1", "Dense", units=16),
            node("relu1", "ReLU"),
            node("dense2", "Dense", units=4),
            node("y", "BlockOutput"),
        ],
        "edges": chain("x", "dense1", "relu1", "dense2", "y"),
    },
}


def siamese_data(shared: bool = True, features: int = 6) -> dict[str, Any]:
    """Two inputs through one ``Tower`` definition (shared weights or not), their difference regressed."""
    nodes = [
        node("a", "Input", shape=[features]),
        node("b", "Input", shape=[features]),
        node("tower_a", "Tower", shared=shared),
        node("tower_b", "Tower", shared=shared),
        node("diff", "Subtract"),
        node("out", "Output"),
    ]
    edges = [wire("a", "tower_a"), wire("b", "tower_b"), wire("tower_a", "diff", "a"), wire("tower_b", "diff", "b")]
    edges.append(wire("diff", "out"))
    graph = {"nodes": nodes, "edges": edges}
    return {"format": FORMAT, "version": VERSION, "blocks": [copy.deepcopy(TOWER)], "graph": graph}


def layer_project() -> dict:
    """points → hidden (Layer ×2) → head → out, with a loss; Layer is x → dense → relu → y."""
    layer = {
        "name": "Layer",
        "params": [{"name": "units", "binds": ["dense.units"]}],
        "graph": {
            "nodes": [
                node("x", "BlockInput"),
                node("dense", "Dense", 250.0, units=8),
                node("relu", "ReLU", 500.0),
                node("y", "BlockOutput", 750.0),
            ],
            "edges": chain("x", "dense", "relu", "y"),
        },
    }
    nodes = [
        node("points", "Input", 0.0, shape=[2]),
        node("hidden", "Layer", 250.0, repeat=2, units=6),
        node("head", "Dense", 500.0, units=2),
        node("out", "Output", 750.0),
        {**node("target1", "Target", 500.0, shape=[1], dtype="int64"), "position": [500.0, 200.0]},
        {**node("loss1", "SoftmaxCrossEntropy", 750.0), "position": [750.0, 200.0]},
    ]
    edges = chain("points", "hidden", "head", "out")
    edges += [wire("head", "loss1", "pred"), wire("target1", "loss1", "target")]
    return {"format": FORMAT, "version": VERSION, "blocks": [layer], "graph": {"nodes": nodes, "edges": edges}}
