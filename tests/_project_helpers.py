"""Shared pieces of the project-file tests: tiny node types, a good file, writing and checking bad ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graphedit.errors import ProjectFileError
from graphedit.model.project import FORMAT, VERSION, load_project
from graphedit.nodes.registry import Registry
from graphedit.nodes.spec import NodeType, Param, Port

PROJECTS = sorted((Path(__file__).resolve().parent.parent / "projects").glob("*.gproj"))


def tiny_registry() -> Registry:
    """Tiny types so these tests do not depend on the catalog's parameters."""
    reg = Registry()
    reg.register_all(
        [
            NodeType("In", "In", "data", "x", inputs=(), role="input", params=(Param("shape", "ints", (2,), min=1),)),
            NodeType(
                "Lin",
                "Lin",
                "dense",
                "y = Wx + b",
                params=(Param("units", "int", 4, min=1), Param("bias", "bool", True)),
            ),
            NodeType(
                "Sum", "Sum", "merge", "y = a + b", params=(Param("inputs", "int", 2, min=2, max=8),), variadic="inputs"
            ),
            NodeType(
                "Loss", "Loss", "loss", "l", inputs=(Port("pred"), Port("target")), outputs=(Port("loss"),), role="loss"
            ),
        ]
    )
    return reg


def good_data() -> dict:
    return {
        "format": FORMAT,
        "version": VERSION,
        "meta": {"title": "Tiny", "description": "A tiny net", "watch": "the loss"},
        "graph": {
            "nodes": [
                {"id": "x", "type": "In", "params": {"shape": [2]}, "position": [0, 0]},
                {"id": "t", "type": "In", "params": {"shape": [3]}, "position": [0, 200]},
                {"id": "dense1", "type": "Lin", "params": {"units": 3}, "position": [220, 0]},
                {"id": "dense2", "type": "Lin", "params": {"units": 3}, "position": [220, 100]},
                {"id": "add1", "type": "Sum", "params": {"inputs": 2}, "position": [440, 0]},
                {"id": "loss1", "type": "Loss", "position": [660, 0]},
            ],
            "edges": [
                {"src": "x", "src_port": "y", "dst": "dense1", "dst_port": "x"},
                {"src": "x", "src_port": "y", "dst": "dense2", "dst_port": "x"},
                {"src": "dense1", "src_port": "y", "dst": "add1", "dst_port": "in1"},
                {"src": "dense2", "src_port": "y", "dst": "add1", "dst_port": "in2"},
                {"src": "add1", "src_port": "y", "dst": "loss1", "dst_port": "pred"},
                {"src": "t", "src_port": "y", "dst": "loss1", "dst_port": "target"},
            ],
        },
        "dataset": {"name": "circle", "options": {"n": 100}},
        "training": {"lr": 0.01, "early_stopping": {"enabled": True}},
        "view": {"zoom": 1.5},
        "weights": None,
    }


def write(tmp_path: Path, content: str | bytes | dict, name: str = "bad.gproj") -> Path:
    path = tmp_path / name
    if isinstance(content, dict):
        content = json.dumps(content, indent=2)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def assert_bad(path: Path, registry: Registry | None, *needles: str) -> str:
    before = path.read_bytes()
    stat = path.stat()
    with pytest.raises(ProjectFileError) as info:
        load_project(path, registry=registry)
    message = str(info.value)
    assert str(path) in message
    for needle in needles:
        assert needle in message, message
    assert "\n" not in message
    assert path.read_bytes() == before and path.stat().st_mtime_ns == stat.st_mtime_ns
    return message


def bad_graph(tmp_path: Path, change) -> Path:
    data = good_data()
    change(data["graph"])
    return write(tmp_path, data)
