"""Project files: migrations of older versions (file format and node types), the JSON Schema, the examples."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from _project_helpers import PROJECTS, assert_bad, good_data, tiny_registry, write

from graphedit.model.migrations import MIGRATIONS, MigrationError, migrate
from graphedit.model.project import (
    DEFAULT_TRAINING,
    FORMAT,
    SCHEMA_PATH,
    VERSION,
    Project,
    dumps,
    load_project,
    new_project,
    project_from_json,
    project_to_json,
    save_project,
)
from graphedit.nodes.registry import Registry
from graphedit.nodes.spec import NodeType, Param


@pytest.fixture
def registry():
    return tiny_registry()


# ------------------------------------------------------------- migrations
def version0_data() -> dict:
    return {
        "nodes": [
            {"id": "x", "type": "In", "params": {"shape": [2]}, "position": [0, 0]},
            {"id": "dense1", "type": "Lin", "params": {"units": 3}, "position": [220, 0]},
            {"id": "dense2", "type": "Lin", "params": {"units": 1}, "position": [440, 0]},
        ],
        "edges": [["x.y", "dense1.x"], ["dense1.y", "dense2.x"]],
        "dataset": {"name": "circle"},
        "training": {"learning_rate": 0.05, "epochs": 3},
    }


def test_migrations_cover_every_older_version():
    assert sorted(MIGRATIONS) == list(range(VERSION))


def test_version0_file_is_migrated_on_load_and_left_untouched(tmp_path, registry):
    path = write(tmp_path, version0_data(), "old.gproj")
    before = path.read_bytes()
    project = load_project(path, registry=registry)
    assert path.read_bytes() == before
    assert sorted(project.document.edges()) == sorted([("x", "y", "dense1", "x"), ("dense1", "y", "dense2", "x")])
    assert project.training["lr"] == 0.05 and "learning_rate" not in project.training
    assert project.training["epochs"] == 3
    out = project_to_json(project)
    assert out["format"] == FORMAT and out["version"] == VERSION
    jsonschema.validate(out, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def test_version1_file_loads_with_no_blocks_and_saves_as_the_current_version(tmp_path, registry):
    data = migrate(version0_data())
    data = {k: v for k, v in data.items() if k != "blocks"} | {"version": 1}  # a file as version 1 wrote it
    path = write(tmp_path, data, "v1.gproj")
    before = path.read_bytes()
    project = load_project(path, registry=registry)
    assert path.read_bytes() == before
    out = project_to_json(project)
    assert out["version"] == VERSION and out["blocks"] == []
    assert list(out)[:4] == ["format", "version", "meta", "blocks"]
    assert sorted(project.document.edges()) == sorted([("x", "y", "dense1", "x"), ("dense1", "y", "dense2", "x")])


@pytest.mark.parametrize(("stored", "loaded"), [(False, "auto"), (True, "on"), (None, "auto")])
def test_version2_channels_last_loads_as_a_choice_and_saves_as_the_current_version(tmp_path, registry, stored, loaded):
    data = good_data() | {"version": 2}  # version 2 stored channels_last as true or false
    if stored is not None:
        data["training"] = {**data["training"], "channels_last": stored}
    path = write(tmp_path, data, "v2.gproj")
    before = path.read_bytes()
    project = load_project(path, registry=registry)
    assert path.read_bytes() == before
    assert project.training["channels_last"] == loaded and project.training["lr"] == 0.01
    out = project_to_json(project)
    assert out["version"] == VERSION and out["training"]["channels_last"] == loaded
    jsonschema.validate(out, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def test_a_version3_file_with_a_boolean_channels_last_is_refused_with_the_choices(tmp_path, registry):
    data = good_data()
    data["training"] = {**data["training"], "channels_last": True}
    assert_bad(write(tmp_path, data), registry, "channels_last", "auto, on, off")


def test_migrate_does_not_change_its_argument():
    data = version0_data()
    original = copy.deepcopy(data)
    migrated = migrate(data)
    assert data == original
    assert migrated["graph"]["edges"][0] == {"src": "x", "src_port": "y", "dst": "dense1", "dst_port": "x"}


def test_bad_version0_edge_names_the_file(tmp_path, registry):
    data = version0_data()
    data["edges"].append(["dense1", "dense2.x"])
    assert_bad(write(tmp_path, data), registry, "version-0 edge", "'dense1'")


def test_migrate_refuses_a_newer_version():
    with pytest.raises(MigrationError, match="newer GraphEdit"):
        migrate({"format": FORMAT, "version": VERSION + 5})


def scale_type(migrate_fn=None, version: int = 2) -> NodeType:
    return NodeType(
        "Scale",
        "Scale",
        "activation",
        "y = factor·x",
        params=(Param("factor", "float", 1.0),),
        version=version,
        migrate=migrate_fn,
    )


def test_node_type_migration_runs_for_an_older_type_version(tmp_path):
    calls = []

    def upgrade(old_version, params):
        calls.append(old_version)
        return {"factor": params.pop("k")}

    reg = Registry()
    reg.register(scale_type(upgrade))
    data = {
        "format": FORMAT,
        "version": VERSION,
        "graph": {"nodes": [{"id": "s", "type": "Scale", "params": {"k": 3}}]},
    }
    project = load_project(write(tmp_path, data, "s.gproj"), registry=reg)
    assert calls == [1]
    assert project.document.params("s") == {"factor": 3.0}
    node = project_to_json(project)["graph"]["nodes"][0]
    assert node["type_version"] == 2 and node["params"] == {"factor": 3.0}
    # a node already at the current version is not migrated again
    load_project(save_project(project), registry=reg)
    assert calls == [1]


def test_node_saved_by_a_newer_type_version_is_refused(tmp_path):
    reg = Registry()
    reg.register(scale_type(version=1))
    data = {"format": FORMAT, "version": VERSION, "graph": {"nodes": [{"id": "s", "type": "Scale", "type_version": 4}]}}
    assert_bad(write(tmp_path, data), reg, "node 's'", "newer version (4)", "upgrade")


def test_failing_node_migration_names_the_node(tmp_path):
    def upgrade(old_version, params):
        raise KeyError("k")

    reg = Registry()
    reg.register(scale_type(upgrade))
    data = {"format": FORMAT, "version": VERSION, "graph": {"nodes": [{"id": "s", "type": "Scale", "params": {}}]}}
    assert_bad(write(tmp_path, data), reg, "node 's'", "from version 1 to 2")


def test_legacy_type_id_is_saved_as_the_new_id(registry):
    registry.register(NodeType("Linear2", "Linear", "dense", "y", legacy_ids=("OldLinear",)))
    data = {"format": FORMAT, "version": VERSION, "graph": {"nodes": [{"id": "d", "type": "OldLinear"}]}}
    assert project_to_json(project_from_json(data, "memory", registry))["graph"]["nodes"][0]["type"] == "Linear2"


# ---------------------------------------------------------------- schema
@pytest.fixture(scope="module")
def schema() -> dict:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def test_saved_files_match_the_schema(schema, registry):
    jsonschema.validate(project_to_json(project_from_json(good_data(), "memory", registry)), schema)
    jsonschema.validate(project_to_json(new_project(registry)), schema)


def test_there_are_example_projects():
    assert len(PROJECTS) >= 3


@pytest.mark.parametrize("path", PROJECTS, ids=[p.name for p in PROJECTS])
def test_example_project_matches_schema_and_loads(path, schema):
    data = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.validate(data, schema)
    before = path.read_bytes()
    project = load_project(path)
    assert isinstance(project, Project) and len(project.document) > 0
    assert project.meta["title"] and project.meta["description"] and project.meta["watch"]
    # the files are written by save_project: loading and saving again changes nothing
    assert dumps(project) == before.decode("utf-8")


def test_the_documented_example_loads(schema):
    doc = (Path(__file__).resolve().parent.parent / "docs" / "project-format.md").read_text(encoding="utf-8")
    data = json.loads(doc.split("```json\n", 1)[1].split("```", 1)[0])
    jsonschema.validate(data, schema)
    project = project_from_json(data, "docs/project-format.md")
    assert project.training["lr"] == 0.01 and project.training["momentum"] == DEFAULT_TRAINING["momentum"]
