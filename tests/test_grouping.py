"""Group selected nodes into a block and ungroup a block node (graphedit.model.grouping), without Qt."""

from __future__ import annotations

import pytest
import torch
from block_nets import resnet_data

from graphedit.compiler import compile_graph
from graphedit.compiler.shapes import ShapeInference
from graphedit.errors import GraphError
from graphedit.model.grouping import Grouping, Ungrouping, free_block_name, group, ungroup
from graphedit.model.project import new_project, project_from_json


def project_doc(nodes, wires):
    """A project document (it has a block library) from (id, type, params) and "a -> b.port" wires."""
    doc = new_project().document
    for i, (node_id, type_id, params) in enumerate(nodes):
        doc.add_node(type_id, params, (220.0 * i, 40.0 * (i % 3)), node_id=node_id)
    for wire in wires:
        left, right = (s.strip() for s in wire.split("->"))
        src, _, sp = left.partition(".")
        dst, _, dp = right.partition(".")
        doc.connect(src, sp or "y", dst, dp or "x")
    return doc


def residual():
    """x → conv1 → bn → relu → add(in1), x → add(in2) → flatten → fc; relu also feeds an Output."""
    nodes = [
        ("x", "Input", {"shape": [3, 8, 8]}),
        ("conv1", "Conv2d", {"filters": 3, "kernel": 3, "padding": 1}),
        ("bn", "BatchNorm", {}),
        ("relu", "ReLU", {}),
        ("add", "Add", {}),
        ("flatten", "Flatten", {}),
        ("fc", "Dense", {"units": 4}),
        ("out", "Output", {}),
        ("side", "Output", {}),
    ]
    wires = ["x -> conv1", "conv1 -> bn", "bn -> relu", "relu -> add.in1", "x -> add.in2", "add -> flatten"]
    return project_doc(nodes, [*wires, "flatten -> fc", "fc -> out", "relu -> side"])


def snapshot(doc):
    data = doc.to_json()
    return {"nodes": sorted(data["nodes"], key=lambda n: n["id"]), "edges": data["edges"]}


def outputs(doc, seed=0, weights=None):
    compiled = compile_graph(doc, seed=seed)
    if weights is not None:
        compiled.model.load_state_dict(weights)
    torch.manual_seed(1)
    x = torch.randn(2, 3, 8, 8)
    compiled.model.eval()
    with torch.no_grad():
        return compiled.model(x), compiled.model.state_dict()


def strip(keys_of, prefix):
    return {k.removeprefix(prefix): v for k, v in keys_of.items()}


def test_group_makes_ports_where_wires_cross_and_computes_the_same():
    doc = residual()
    before, weights = outputs(doc)
    flat = doc.to_json()
    definition, instance = group(doc, ["conv1", "bn", "relu", "add"], "Residual")
    assert definition.inputs() == ["x"]  # one outside source port (x.y) feeds conv1 and add: one input port
    assert sorted(definition.outputs()) == ["y1", "y2"]  # relu feeds 'side' outside, add feeds flatten
    assert instance == "residual" and set(doc.node_ids()) == {"x", instance, "flatten", "fc", "out", "side"}
    assert doc.edge_into(instance, "x").src == "x"
    assert {doc.edge_into("flatten", "x").src, doc.edge_into("side", "x").src} == {instance}
    inner = definition.document
    assert {e.dst for e in inner.out_edges("x")} == {"conv1", "add"}
    renamed = {f"{instance}.{k}": v for k, v in weights.items() if k.split(".")[0] in ("conv1", "bn")}
    renamed.update({k: v for k, v in weights.items() if k.split(".")[0] not in ("conv1", "bn")})
    after, _ = outputs(doc, weights=renamed)
    assert set(flat["nodes"][0]) <= set(doc.to_json()["nodes"][0])
    torch.testing.assert_close(after, before)


def test_group_is_undone_exactly_and_redone_with_the_same_definition_document():
    doc = residual()
    flat = snapshot(doc)
    grouping = Grouping(doc, ["bn", "relu"], "Pair")
    grouping.apply()
    instance, inside = grouping.instance_id, grouping.definition_document
    inside.set_param("bn", "momentum", 0.2)  # an edit inside the block after grouping
    grouping.revert()
    assert snapshot(doc) == flat
    assert "Pair" not in doc.registry.definitions and "Pair" not in doc.registry
    grouping.apply()
    assert grouping.instance_id == instance and doc.registry.definitions["Pair"].document is inside
    assert inside.params("bn")["momentum"] == 0.2


def test_group_refuses_data_nodes_and_a_selection_with_a_gap():
    doc = residual()
    with pytest.raises(GraphError, match="cannot group x, out into a block.*select only layers") as info:
        group(doc, ["x", "conv1", "fc", "out"], "Bad")
    assert "\n" not in str(info.value)
    with pytest.raises(GraphError, match="'bn' lies between selected nodes"):
        group(doc, ["conv1", "relu"], "Gap")
    with pytest.raises(GraphError, match="select the nodes"):
        group(doc, [], "Empty")
    assert "Bad" not in doc.registry and len(doc) == 9  # nothing changed


def test_ungroup_of_a_grouped_block_gives_back_the_graph():
    doc = residual()
    flat = doc.to_json()
    _, instance = group(doc, ["conv1", "bn", "relu"], "Stem")
    new_ids = ungroup(doc, instance)
    assert sorted(new_ids) == ["bn", "conv1", "relu"]
    assert doc.to_json()["edges"] == flat["edges"]
    assert {n["id"]: n["params"] for n in doc.to_json()["nodes"]} == {n["id"]: n["params"] for n in flat["nodes"]}


def test_ungroup_expands_a_repeat_with_overrides_and_an_optional_branch():
    project = project_from_json(resnet_data(18, width=8, size=32), "resnet")
    doc = project.document
    shapes = ShapeInference(doc)
    shapes.run()
    total, pooled = shapes.total_params(), shapes.infos["avgpool"].outputs
    ungrouping = Ungrouping(doc, "layer2")
    before = snapshot(doc)
    ungrouping.apply()
    assert "layer2" not in doc
    assert doc.params("layer2_0_conv1")["stride"] == 2 and doc.params("layer2_1_conv1")["stride"] == 1
    assert not doc.is_muted("layer2_0_downsample") and doc.is_muted("layer2_1_downsample")
    assert doc.edge_into("layer2_0_conv1", "x").src == "layer1"
    assert doc.edge_into("layer2_1_conv1", "x").src == "layer2_0_relu2"  # the copies are chained
    assert doc.edge_into("layer3", "x").src == "layer2_1_relu2"
    shapes.update()
    assert shapes.errors() == []
    assert shapes.total_params() == total and shapes.infos["avgpool"].outputs == pooled
    ungrouping.revert()
    assert snapshot(doc) == before


def test_a_block_made_inside_a_block_nests():
    project = project_from_json(resnet_data(18, width=8, size=32), "resnet")
    library = project.document.registry
    inside = library.definitions["BasicBlock"].document
    shapes = ShapeInference(project.document)
    total = (shapes.run(), shapes.total_params())[1]
    _, instance = group(inside, ["conv1", "bn1", "relu1"], free_block_name(library))
    assert library.contains("BasicBlock") >= {"Block1", "Downsample"}
    assert inside.node_type(instance).type_id == "Block1"
    shapes.update()
    assert shapes.errors() == [] and shapes.total_params() == total
    assert "layer2.0.block1.conv1.weight" in compile_graph(project.document).model.state_dict()
    exposed = {e.name: e.binds for e in library.definitions["BasicBlock"].exposed}
    assert exposed["filters"][0] == f"{instance}.conv1_filters" and exposed["stride"][0] == f"{instance}.conv1_stride"
    ungroup(inside, instance)  # and back: the binds follow the expanded nodes
    exposed = {e.name: e.binds for e in library.definitions["BasicBlock"].exposed}
    assert exposed["filters"] == ("conv1.filters", "conv2.filters", "downsample.filters")
    shapes.update()
    assert shapes.errors() == [] and shapes.total_params() == total
    ungroup(inside, "downsample")  # the optional branch: its 'enabled' bind moves to the expanded nodes
    exposed = {e.name: e.binds for e in library.definitions["BasicBlock"].exposed}
    assert exposed["downsample"] == ("downsample_0.enabled", "downsample_1.enabled")
    shapes.update()
    assert shapes.errors() == [] and shapes.total_params() == total


def test_ungroup_refuses_a_plain_node():
    doc = residual()
    with pytest.raises(GraphError, match="'relu' is a ReLU node, not a block"):
        ungroup(doc, "relu")
