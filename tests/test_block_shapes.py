"""Shapes inside one copy of a block node (graphedit.compiler.block_shapes), without Qt."""

from __future__ import annotations

from block_nets import resnet_data

from graphedit.compiler.block_shapes import InstanceShapes, copy_input_shapes
from graphedit.compiler.shapes import ShapeInference
from graphedit.model.blocks import instance_values
from graphedit.model.project import project_from_json


def opened(copy: int):
    project = project_from_json(resnet_data(18, width=8, size=32), "resnet")
    doc = project.document
    outer = ShapeInference(doc)
    outer.run()
    node_type, params = doc.node_type("layer2"), doc.params("layer2")
    fed = [outer.infos["layer2"].inputs["x"]]
    inside = InstanceShapes(node_type.block)
    inside.set_instance(instance_values(node_type, params, copy), copy_input_shapes(node_type, params, fed, copy))
    inside.update()
    return project, inside


def test_the_first_copy_shows_its_stride_and_its_downsample_branch():
    _, inside = opened(0)
    assert inside.infos["x"].outputs["y"] == (2, 8, 8, 8)
    assert inside.infos["conv1"].outputs["y"] == (2, 16, 4, 4)
    assert inside.infos["downsample"].outputs["y"] == (2, 16, 4, 4) and inside.infos["downsample"].params > 0
    assert inside.infos["y"].inputs["x"] == (2, 16, 4, 4)
    assert inside.errors() == [] and inside.describe() == "[N, 8, 8, 8] → [N, 16, 4, 4]"


def test_a_later_copy_is_fed_by_the_one_before_and_its_switched_off_branch_passes_through():
    _, inside = opened(1)
    assert inside.infos["x"].outputs["y"] == (2, 16, 4, 4)
    assert inside.infos["conv1"].outputs["y"] == (2, 16, 4, 4)
    assert inside.infos["downsample"].params == 0  # off in this copy: no weights, x passes through


def test_an_edit_inside_is_inferred_again_and_a_bad_one_is_an_error_on_the_inner_node():
    project, inside = opened(0)
    definition = inside.definition
    definition.document.set_param("conv2", "kernel", 9)  # no padding for it: 4×4 cannot take a 9×9 kernel
    inside.update()
    assert [e.node_id for e in inside.errors()] == ["conv2"]
    assert inside.infos["add"].blocked
    definition.document.set_param("conv2", "kernel", 3)
    inside.update()
    assert inside.errors() == []
