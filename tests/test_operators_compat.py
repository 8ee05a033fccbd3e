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
from graphedit.model.project import load_project

PROJECTS = Path(__file__).resolve().parents[1] / "projects"


def test_projects_saved_before_the_new_parameters_build_the_same_layers():
    # 07_lenet and 14_char_model were written before groups, ceil_mode, bidirectional … existed
    for name in ("07_lenet", "14_char_model", "08a_densenet_block"):
        saved = json.loads((PROJECTS / f"{name}.gproj").read_text(encoding="utf-8"))
        assert not any(
            {"groups", "ceil_mode", "bidirectional"} & set(n.get("params", {})) for n in saved["graph"]["nodes"]
        )
        compiled = compile_graph(load_project(PROJECTS / f"{name}.gproj").document, seed=0)
        for module in compiled.root.modules():
            if isinstance(module, nn.modules.conv._ConvNd):
                assert module.groups == 1
            if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
                assert not module.ceil_mode
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
