"""Block files (.gblock) for the user's library: save, read with a project's checks, merge without overwriting."""

from __future__ import annotations

import json

import pytest
from block_nets import resnet_data

from graphedit.compiler.shapes import ShapeInference
from graphedit.errors import ProjectFileError
from graphedit.model.block_files import (
    add_blocks,
    block_file_json,
    library_files,
    plan_merge,
    read_block_file,
    save_block_file,
)
from graphedit.model.project import new_project, project_from_json


def resnet():
    return project_from_json(resnet_data(18, width=8, size=32), "resnet").document.registry


def test_a_saved_block_carries_what_it_contains_and_opens_in_another_project(tmp_path):
    path = save_block_file(resnet(), "BasicBlock", tmp_path)
    assert path.name == "BasicBlock.gblock" and library_files(tmp_path) == [path]
    data = json.loads(path.read_text("utf-8"))
    assert data["format"] == "graphedit-block" and [b["name"] for b in data["blocks"]] == ["Downsample"]
    doc = new_project().document
    library = doc.registry
    added, names = plan_merge(library, read_block_file(path, library))
    assert [e["name"] for e in added] == ["Downsample", "BasicBlock"] and names["BasicBlock"] == "BasicBlock"
    add_blocks(library, added, str(path))
    doc.add_node("Input", {"shape": [8, 8, 8]}, node_id="image")
    doc.add_node("BasicBlock", {"filters": 8}, node_id="block")
    doc.connect("image", "y", "block", "x")
    shapes = ShapeInference(doc)
    shapes.run()
    assert shapes.errors() == [] and shapes.infos["block"].outputs["y"] == (2, 8, 8, 8)


def test_merging_reuses_what_is_the_same_and_renames_what_differs(tmp_path):
    path = save_block_file(resnet(), "BasicBlock", tmp_path)
    library = resnet()
    added, names = plan_merge(library, read_block_file(path, library))
    assert added == [] and names == {"Downsample": "Downsample", "BasicBlock": "BasicBlock"}
    library.definitions["BasicBlock"].document.set_param("conv1", "kernel", 5)  # now the project's one differs
    before = block_file_json(library, "BasicBlock")
    added, names = plan_merge(library, read_block_file(path, library))
    assert names == {"Downsample": "Downsample", "BasicBlock": "BasicBlock2"}
    add_blocks(library, added, str(path))
    assert block_file_json(library, "BasicBlock") == before  # the project's definition is untouched
    assert library.definitions["BasicBlock2"].document.params("conv1")["kernel"] == 3


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.update(blocks=[]), r"unknown type 'Downsample'"),
        (lambda d: d.update(format="graphedit"), "not a GraphEdit block file"),
        (lambda d: d.update(version=99), "version 99"),
        (lambda d: d.update(extra=1), "unknown key 'extra'"),
        (lambda d: d["params"][0].update(binds=["nothing.filters"]), "no inner node 'nothing'"),
        (lambda d: d["blocks"][0]["graph"]["nodes"].append(dict(d["graph"]["nodes"][0], type="BasicBlock")), "contain"),
    ],
)
def test_a_bad_block_file_is_one_clear_line_and_changes_nothing(tmp_path, change, message):
    data = json.loads(save_block_file(resnet(), "BasicBlock", tmp_path).read_text("utf-8"))
    change(data)
    bad = tmp_path / "bad.gblock"
    bad.write_text(json.dumps(data), "utf-8")
    library = new_project().document.registry
    with pytest.raises(ProjectFileError, match=message) as info:
        read_block_file(bad, library)
    assert str(info.value).startswith(str(bad)) and "\n" not in str(info.value)
    assert library.definitions == {}


def test_a_block_file_that_is_not_json_is_refused(tmp_path):
    bad = tmp_path / "x.gblock"
    bad.write_bytes(b"{not json")
    with pytest.raises(ProjectFileError, match="x.gblock"):
        read_block_file(bad, new_project().document.registry)
