"""New operator parameters keep older projects' behaviour; counted output ports stay consistent in the document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from graphkit import build
from torch import nn

from graphedit.compiler.compile import compile_graph
from graphedit.errors import GraphError
from graphedit.model.project import project_from_json

PROJECTS = Path(__file__).resolve().parents[1] / "projects"


NEW_PARAMS = {"groups", "ceil_mode", "count_include_pad", "bidirectional", "over"}


def test_projects_saved_before_the_new_parameters_build_the_same_layers():
    for name in ("07_lenet", "14_char_model", "08a_densenet_block", "12_unet_segmentation"):
        data = json.loads((PROJECTS / f"{name}.gproj").read_text(encoding="utf-8"))
        for node in data["graph"]["nodes"]:  # as the file was written before these parameters existed
            node["params"] = {k: v for k, v in node.get("params", {}).items() if k not in NEW_PARAMS}
            if node["type"].startswith("MaxPool"):
                node["params"].pop("dilation", None)
        compiled = compile_graph(project_from_json(data, name).document, seed=0)
        for module in compiled.root.modules():
            if isinstance(module, nn.modules.conv._ConvNd):
                assert module.groups == 1
            if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
                assert not module.ceil_mode
            if isinstance(module, nn.MaxPool2d):
                assert module.dilation == 1
            if isinstance(module, nn.AvgPool2d):
                assert module.count_include_pad
            if isinstance(module, nn.RNNBase):
                assert not module.bidirectional


def _split_doc():
    return build(
        [("x", "Input", {"shape": [6]}), ("parts", "Chunk", {"chunks": 3}), ("a", "ReLU", {}), ("b", "Tanh", {})],
        ["x -> parts", "parts.out1 -> a", "parts.out3 -> b"],
    )


def test_counted_outputs_are_ports_of_the_document():
    doc = _split_doc()
    assert "no output port 'out4'" in doc.check_connect("parts", "out4", "a", "x")
    with pytest.raises(GraphError, match="output out3 is still connected"):
        doc.set_param("parts", "chunks", 2)
    doc.set_param("parts", "chunks", 6)  # more ports: nothing is lost
    doc.set_param("parts", "chunks", 3)
    compiled = compile_graph(doc, seed=0)
    x = torch.arange(12.0).reshape(2, 6)
    taps = compiled.taps(x=x)
    assert torch.equal(taps["a"], x[:, :2]) and torch.equal(taps["b"], torch.tanh(x[:, 4:]))
