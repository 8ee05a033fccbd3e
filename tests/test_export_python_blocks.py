"""The ``.py`` export of block-built models: one class per definition, torch's keys, the same outputs.

Each case exports a project built from blocks, imports the written file (our own output from test data) and
checks its model against the compiled one: equal state-dict keys, equal outputs; and the source's shape: one
class per definition, a shared block one attribute called at each site.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest
import torch
from block_nets import chain, node, resnet_data, wire

from graphedit.compiler import compile_graph
from graphedit.export.common import export_model
from graphedit.export.python_model import readable_classes
from graphedit.export.python_source import export_python
from graphedit.model.migrations import FORMAT, VERSION
from graphedit.model.project import project_from_json


def project(blocks: list, nodes: list, edges: list):
    data = {"format": FORMAT, "version": VERSION, "blocks": blocks, "graph": {"nodes": nodes, "edges": edges}}
    return project_from_json(data, "test")


def round_trip(proj, tmp_path: Path, stem: str):
    """Export ``proj`` to ``stem.py``; return the written source, the loaded model and the compiled one."""
    em = export_model(proj, compile_graph(proj.document, seed=0), trained=False)
    path = tmp_path / f"{stem}.py"
    assert export_python(em, path)["max_abs_diff"] == 0.0
    spec = importlib.util.spec_from_file_location(stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[stem] = module
    try:
        spec.loader.exec_module(module)
        net = module.load_model()
    finally:
        del sys.modules[stem]
    assert list(net.state_dict()) == list(em.model.state_dict())
    inputs = em.example_inputs(batch=3, seed=4)
    with torch.no_grad():
        got = net(*inputs)
    want = em.run(inputs)
    got = list(got) if isinstance(got, tuple) else [got]
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert torch.equal(a, b)
    return path.read_text(encoding="utf-8"), net, em


def classes(source: str) -> list[str]:
    return [n.name for n in ast.parse(source).body if isinstance(n, ast.ClassDef)]


def test_block_built_resnet18_exports_one_class_per_definition(tmp_path):
    source, net, _ = round_trip(project_from_json(resnet_data(18, width=8), "r18"), tmp_path, "resnet_model")
    assert classes(source) == ["Downsample", "BasicBlock", "GraphEditModel"]
    keys = set(net.state_dict())
    assert {"layer1.1.conv2.weight", "layer2.0.downsample.0.weight", "layer4.1.bn2.running_var"} <= keys
    assert not any(k.startswith("layer1.0.downsample") for k in keys)  # the optional branch is absent there
    assert type(net.layer1).__name__ == "Sequential" and type(net.layer1[0]).__name__ == "BasicBlock"
    assert "self.downsample is None" in source


TOWER = {
    "name": "Tower",
    "params": [{"name": "units", "binds": ["fc1.units"]}],
    "graph": {
        "nodes": [
            node("x", "BlockInput"),
            node("fc1", "Dense", units=8),
            node("act", "ReLU"),
            node("fc2", "Dense", units=4),
            node("y", "BlockOutput"),
        ],
        "edges": chain("x", "fc1", "act", "fc2", "y"),
    },
}


def siamese():
    nodes = [
        node("left", "Input", shape=[6]),
        node("right", "Input", shape=[6]),
        node("tower_a", "Tower", units=8, shared=True),
        node("tower_b", "Tower", units=8, shared=True),
        node("diff", "Subtract"),
        node("out", "Output"),
    ]
    edges = [wire("left", "tower_a"), wire("right", "tower_b"), wire("tower_a", "diff", "a")]
    edges += [wire("tower_b", "diff", "b"), wire("diff", "out")]
    return project([TOWER], nodes, edges)


def test_siamese_pair_exports_one_tower_called_twice(tmp_path):
    source, net, _ = round_trip(siamese(), tmp_path, "siamese_model")
    assert sorted(net.state_dict()) == [
        "tower_a.fc1.bias",
        "tower_a.fc1.weight",
        "tower_a.fc2.bias",
        "tower_a.fc2.weight",
    ]
    assert classes(source) == ["Tower", "GraphEditModel"]
    assert source.count("self.tower_a = ") == 1 and source.count("self.tower_a(") == 2
    x = torch.randn(2, 6)
    with torch.no_grad():
        assert torch.equal(net(x, x), torch.zeros(2, 4))  # the same weights on both sides


MIX = {
    "name": "Mix",
    "params": [],
    "graph": {
        "nodes": [
            node("a", "BlockInput"),
            node("b", "BlockInput"),
            node("fc", "Dense", units=5),
            node("add", "Add"),
            node("act", "Tanh"),
            node("p", "BlockOutput"),
            node("q", "BlockOutput"),
        ],
        "edges": [wire("a", "fc"), wire("fc", "add", "in1"), wire("b", "add", "in2"), wire("add", "p")]
        + [wire("b", "act"), wire("act", "q")],
    },
}


@pytest.mark.parametrize("shared", [False, True])
def test_repeated_block_with_two_inputs_exports_as_chain_or_loop(tmp_path, shared):
    nodes = [
        node("a", "Input", shape=[5]),
        node("b", "Input", shape=[5]),
        node("mix", "Mix", repeat=3, shared=shared),
        node("p", "Output"),
        node("q", "Output"),
    ]
    edges = [
        wire("a", "mix", "a"),
        wire("b", "mix", "b"),
        wire("mix", "p", src_port="p"),
        wire("mix", "q", src_port="q"),
    ]
    source, net, em = round_trip(project([MIX], nodes, edges), tmp_path, f"mix_{int(shared)}_model")
    assert ("class Loop(" in source) == shared and ("class Chain(" in source) != shared
    assert len(net.state_dict()) == (2 if shared else 6)


ACT = {
    "name": "Act",
    "params": [{"name": "alpha", "binds": ["act.alpha"]}],
    "graph": {
        "nodes": [
            node("x", "BlockInput"),
            node("fc", "Dense", units=4),
            node("act", "LeakyReLU"),
            node("y", "BlockOutput"),
        ],
        "edges": chain("x", "fc", "act", "y"),
    },
}


def test_copies_that_differ_beyond_their_layers_get_a_class_each(tmp_path):
    nodes = [
        node("x", "Input", shape=[4]),
        node("one", "Act", alpha=0.1),
        node("two", "Act", alpha=0.3),
        node("three", "Act", alpha=0.1),
        node("out", "Output"),
    ]
    proj = project([ACT], nodes, chain("x", "one", "two", "three", "out"))
    source, _, _ = round_trip(proj, tmp_path, "act_model")
    assert classes(source) == ["Act", "Act_2", "GraphEditModel"]


def test_code_panel_text_shows_the_block_classes():
    proj = project_from_json(resnet_data(18, width=8), "r18")
    text = readable_classes(compile_graph(proj.document, seed=0).model)
    assert classes(text) == ["Downsample", "BasicBlock", "Model"]
    assert "self.layer1 = nn.Sequential(" in text


def test_code_panel_shows_one_class_per_block_definition(qtbot, tmp_path):
    import json

    from _window_helpers import make_window, screenshot

    path = tmp_path / "resnet.gproj"
    path.write_text(json.dumps(resnet_data(18, width=8)), encoding="utf-8")
    window = make_window(qtbot, tmp_path)
    window.resize(1280, 720)
    assert window.files.open(path, ask=False)
    window.code_view.raise_()
    window.code_view.update_code()
    qtbot.waitUntil(lambda: "class BasicBlock(nn.Module)" in window.code_view.code(), timeout=5000)
    code = window.code_view.code()
    assert code.count("class BasicBlock(") == 1 and "class Downsample(" in code
    assert window.code_view.error is None
    screenshot(window, "code_panel_blocks.png")


def test_resnet_example_exports_one_basic_block_class(tmp_path):
    from graphedit.model.project import load_project

    example = load_project(Path(__file__).resolve().parents[1] / "projects" / "08c_resnet_small_images.gproj")
    source, net, _ = round_trip(example, tmp_path, "resnet_example_model")
    assert classes(source) == ["Downsample", "BasicBlock", "GraphEditModel"]
    assert "layer2.0.downsample.0.weight" in net.state_dict()
    assert "layer1.0.downsample.0.weight" not in net.state_dict()


SQUARE = {
    "name": "Square",
    "params": [],
    "graph": {
        "nodes": [node("x", "BlockInput"), node("fc", "Dense", units=4), node("y", "BlockOutput")],
        "edges": chain("x", "fc", "y"),
    },
}
NAMES = {  # an inner id that is the name of a class the file defines (Loop, for the shared repeat inside)
    "name": "Names",
    "params": [{"name": "units", "binds": ["Loop.units"]}],
    "graph": {
        "nodes": [
            node("x", "BlockInput"),
            node("inner", "Square", repeat=2, shared=True),
            node("Loop", "Dense", units=4),
            node("y", "BlockOutput"),
        ],
        "edges": chain("x", "inner", "Loop", "y"),
    },
}


def test_inner_ids_named_like_the_files_own_names_do_not_hide_them(tmp_path):
    nodes = [node("x", "Input", shape=[4]), node("a", "Names", units=4), node("b", "Names", units=5)]
    nodes.append(node("out", "Output"))
    source, _, _ = round_trip(project([SQUARE, NAMES], nodes, chain("x", "a", "b", "out")), tmp_path, "names_model")
    assert "def __init__(self, Loop_: nn.Module)" in source and "self.inner = Loop(Square(), 2)" in source


def test_generated_code_that_fails_to_run_is_one_clear_export_error(tmp_path, monkeypatch):
    # simulate a generator bug: the written forward calls a name that does not exist
    from graphedit.export import python_model
    from graphedit.export.weights import ExportError

    monkeypatch.setattr(python_model.ModelWriter, "forward", _broken_forward(python_model.ModelWriter.forward))
    em = export_model(siamese(), compile_graph(siamese().document, seed=0), trained=False)
    with pytest.raises(ExportError, match="fails to run .*NameError.*GraphEdit bug"):
        export_python(em, tmp_path / "broken_model.py")


def _broken_forward(forward):
    def broken(self, gm, optional=None):
        params, body, ret = forward(self, gm, optional)
        return params, ["        undefined_name()", *body], ret

    return broken
