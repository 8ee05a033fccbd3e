"""Shape inference: shapes on every edge, node-named errors with fixes, incremental re-runs."""

import pytest
import torch
from graphkit import build, chain

from graphedit.compiler import CompileError, ShapeInference, compile_graph
from graphedit.compiler.report import format_table, summarize
from graphedit.errors import GraphError, ParamError


def infer(doc):
    si = ShapeInference(doc)
    si.run()
    return si


def test_oracle_conv_760_parameters_and_same_size():
    doc = build(
        [("img", "Input", {"shape": [3, 32, 32]}), ("conv1", "Conv2d", {"filters": 10, "kernel": 5, "padding": 2})],
        ["img -> conv1"],
    )
    info = infer(doc).infos["conv1"]
    assert info.outputs["y"] == (2, 10, 32, 32)
    assert info.params == 760


@pytest.mark.parametrize(("stride", "size"), [(1, 5), (2, 3)])
def test_oracle_output_size_formula(stride, size):
    doc = build(
        [("img", "Input", {"shape": [1, 7, 7]}), ("conv1", "Conv2d", {"filters": 1, "kernel": 3, "stride": stride})],
        ["img -> conv1"],
    )
    assert infer(doc).infos["conv1"].outputs["y"][2:] == (size, size)


def test_dense_after_conv_without_flatten_says_insert_flatten():
    doc = build(
        [("img", "Input", {"shape": [1, 8, 8]}), ("conv1", "Conv2d", {}), ("dense1", "Dense", {"units": 10})],
        chain("img", "conv1", "dense1"),
    )
    error = infer(doc).infos["dense1"].error
    assert error.node_id == "dense1"
    assert "[N, 16, 6, 6]" in str(error)
    assert "Flatten" in error.fix


def test_add_of_different_channels_suggests_1x1_conv():
    doc = build(
        [
            ("img", "Input", {"shape": [3, 8, 8]}),
            ("a", "Conv2d", {"filters": 16, "padding": 1}),
            ("b", "Conv2d", {"filters": 32, "padding": 1}),
            ("add1", "Add", {}),
        ],
        ["img -> a", "img -> b", "a -> add1.in1", "b -> add1.in2"],
    )
    error = infer(doc).infos["add1"].error
    assert "[N, 16, 8, 8]" in str(error) and "[N, 32, 8, 8]" in str(error)
    assert "16 vs 32" in error.fix and "1×1 Conv2d" in error.fix


def test_concat_of_different_spatial_size():
    doc = build(
        [
            ("img", "Input", {"shape": [3, 8, 8]}),
            ("pool1", "MaxPool2d", {}),
            ("cat1", "Concat", {}),
        ],
        ["img -> pool1", "img -> cat1.in1", "pool1 -> cat1.in2"],
    )
    error = infer(doc).infos["cat1"].error
    assert error.node_id == "cat1"
    assert "8×8 vs 4×4" in error.fix


def test_cycle_is_refused():
    doc = build([("img", "Input", {"shape": [4]}), ("d1", "Dense", {}), ("d2", "Dense", {})], chain("img", "d1", "d2"))
    with pytest.raises(GraphError, match="cycle"):
        doc.connect("d2", "y", "d1", "x")


def test_unconnected_required_input_names_the_port():
    doc = build(
        [("img", "Input", {"shape": [4]}), ("add1", "Add", {"inputs": 3}), ("relu1", "ReLU", {})],
        ["img -> add1.in1", "add1 -> relu1"],
    )  # in3 is the free port a variadic node keeps for the next wire; in2 is a hole
    si = infer(doc)
    error = si.infos["add1"].error
    assert "input 'in2' is not connected" in str(error)
    assert si.infos["relu1"].blocked  # downstream of an error: unknown, not an error of its own
    with pytest.raises(CompileError, match="add1"):
        compile_graph(doc)


def test_a_variadic_nodes_free_last_port_may_stay_unwired():
    doc = build(
        [("a", "Input", {"shape": [4]}), ("b", "Input", {"shape": [4]}), ("add1", "Add", {"inputs": 3})],
        ["a -> add1.in1", "b -> add1.in2"],
    )
    si = infer(doc)
    assert si.infos["add1"].error is None and si.infos["add1"].outputs["y"][1:] == (4,)
    compiled = compile_graph(doc)
    x, y = torch.randn(2, 4), torch.randn(2, 4)
    assert torch.equal(compiled.model(a=x, b=y), x + y)


def test_parameter_out_of_range_is_refused():
    doc = build([("img", "Input", {"shape": [4]}), ("drop1", "Dropout", {})], ["img -> drop1"])
    with pytest.raises(ParamError, match="'p'.*above its maximum"):
        doc.set_param("drop1", "p", 1.5)


def test_incremental_update_reruns_only_downstream(monkeypatch):
    ids = [f"d{i}" for i in range(6)]
    doc = build([("img", "Input", {"shape": [4]})] + [(i, "Dense", {"units": 4}) for i in ids], chain("img", *ids))
    si = infer(doc)
    ran = []
    original = si._infer
    monkeypatch.setattr(si, "_infer", lambda n: (ran.append(n), original(n)))
    doc.set_param("d4", "units", 9)
    si.update()
    assert ran == ["d4", "d5"]
    assert si.infos["d4"].outputs["y"] == (2, 9)
    assert si.infos["d5"].params == 9 * 4 + 4


def test_fixing_an_error_clears_it_downstream():
    doc = build(
        [("img", "Input", {"shape": [1, 8, 8]}), ("conv1", "Conv2d", {}), ("dense1", "Dense", {"units": 3})],
        chain("img", "conv1", "dense1"),
    )
    si = infer(doc)
    assert si.errors()
    doc.add_node("Flatten", node_id="flat")
    doc.connect("conv1", "y", "flat", "x")
    doc.connect("flat", "y", "dense1", "x")
    assert not si.errors()
    assert si.infos["dense1"].outputs["y"] == (2, 3)


def test_summary_table_lists_every_node_and_total():
    doc = build([("img", "Input", {"shape": [4]}), ("dense1", "Dense", {"units": 3})], ["img -> dense1"])
    text = format_table(summarize(doc))
    assert "dense1" in text and "[N, 3]" in text and "15" in text


def test_port_accepts_tells_which_inputs_a_shape_fits():
    from graphedit.compiler.shapes import port_accepts

    doc = build(
        [
            ("img", "Input", {"shape": [1, 8, 8]}),
            ("conv1", "Conv2d", {"filters": 4, "padding": 1}),
            ("dense1", "Dense", {"units": 3}),
            ("flat", "Flatten", {}),
            ("add1", "Add", {}),
            ("other", "Conv2d", {"filters": 8, "padding": 1}),
        ],
        ["img -> conv1", "img -> other", "other -> add1.in1"],
    )
    si = infer(doc)
    conv_out = si.infos["conv1"].outputs["y"]  # [N, 4, 8, 8]
    assert not port_accepts(si, "dense1", "x", conv_out)  # Dense needs [N, F]: insert Flatten
    assert port_accepts(si, "flat", "x", conv_out)
    assert not port_accepts(si, "add1", "in2", conv_out)  # 4 channels vs the 8 already on in1
    assert port_accepts(si, "add1", "in2", si.infos["other"].outputs["y"])
    assert port_accepts(si, "dense1", "x", (2, 5))
