"""`graphedit nodes`: the node reference from the catalog, and docs/nodes.md kept current by this test."""

from __future__ import annotations

import json
from pathlib import Path

from graphedit.cli import main
from graphedit.commands.nodes import REGENERATE, markdown
from graphedit.nodes.registry import Registry, default_registry

DOC = Path(__file__).resolve().parents[1] / "docs" / "nodes.md"


def test_docs_nodes_md_is_generated_from_the_catalog():
    builtins = Registry()
    builtins.load_builtins()
    assert DOC.read_text(encoding="utf-8") == markdown(builtins.types()), f"docs/nodes.md is stale: run {REGENERATE}"


def test_nodes_lists_every_type(capsys):
    assert main(["nodes"]) == 0
    out = capsys.readouterr().out
    for t in default_registry().types():
        assert f"  {t.type_id} " in out, t.type_id
    assert f"{len(default_registry().types())} node types" in out


def test_nodes_type_shows_ports_params_ranges_and_doc(capsys):
    assert main(["nodes", "Conv2d"]) == 0
    out = capsys.readouterr().out
    assert "groups (int, default 1, 1 … 65536): Split channels into g groups" in out
    assert "padding (int, default 0, 0 … 64 or same / valid)" in out
    assert 'init (choice, default "xavier", xavier / he / lecun' in out
    assert "formula: y[f, p]" in out and "depthwise" in out
    assert main(["nodes", "MultiheadAttention"]) == 0
    assert "inputs: query, key (optional), value (optional), mask (optional)" in capsys.readouterr().out


def test_nodes_json_is_machine_readable(capsys):
    assert main(["nodes", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [d["type"] for d in payload] == [t.type_id for t in default_registry().types()]
    for d in payload:
        assert d["doc"] and d["formula"] and d["category"]
        for p in d["params"]:
            assert {"name", "type", "default", "doc"} <= set(p)
    assert main(["nodes", "Softplus", "--json"]) == 0
    softplus = json.loads(capsys.readouterr().out)
    assert softplus["params"][0] == {
        "name": "beta",
        "type": "float",
        "default": 1.0,
        "min": 0.001,
        "max": 1000.0,
        "doc": "Sharpness β of the bend.",
    }
    assert main(["nodes", "Chunk", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["outputs"][0]["name"] == "out1 … outN"


def test_unknown_type_is_one_line_with_a_suggestion(capsys):
    for typed in ("conv2d", "Convv2d"):
        assert main(["nodes", typed]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "did you mean Conv2d" in err and "graphedit nodes" in err
