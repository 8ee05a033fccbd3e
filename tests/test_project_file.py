"""Project files (.gproj): round trip, atomic save, clear errors for bad files, migrations, schema."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import jsonschema
import pytest
from graphedit.nodes.registry import Registry
from graphedit.nodes.spec import NodeType, Param, Port

from graphedit.errors import ProjectFileError
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

PROJECTS = sorted((Path(__file__).resolve().parent.parent / "projects").glob("*.gproj"))


@pytest.fixture
def registry() -> Registry:
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


# ------------------------------------------------------------- round trip
def test_round_trip_gives_equal_json(tmp_path, registry):
    project = project_from_json(good_data(), "memory", registry)
    path = save_project(project, tmp_path / "tiny.gproj")
    assert project.path == path
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n") and text.startswith('{\n  "format": "graphedit-project",\n  "version": 1,')
    loaded = load_project(path, registry=registry)
    assert project_to_json(loaded) == project_to_json(project)
    assert list(project_to_json(loaded)) == [
        "format",
        "version",
        "meta",
        "graph",
        "dataset",
        "training",
        "view",
        "weights",
    ]
    save_project(loaded)
    assert path.read_text(encoding="utf-8") == text


def test_settings_merge_over_defaults_and_keep_unknown_keys(registry):
    data = good_data()
    data["training"]["warmup_steps"] = 100
    project = project_from_json(data, "memory", registry)
    assert project.training["lr"] == 0.01
    assert project.training["batch_size"] == DEFAULT_TRAINING["batch_size"]
    assert project.training["early_stopping"] == {"enabled": True, "patience": 5}
    assert project.training["warmup_steps"] == 100
    assert project.dataset["split"] == {"val": 0.2, "test": 0.0}
    assert project.view["zoom"] == 1.5


def test_unicode_is_kept_readable(tmp_path, registry):
    project = new_project(registry)
    project.meta["title"] = "Réseau à σ"
    path = save_project(project, tmp_path / "u.gproj")
    assert "Réseau à σ" in path.read_text(encoding="utf-8")
    assert load_project(path, registry=registry).meta["title"] == "Réseau à σ"


def test_weights_reference_resolves_beside_the_project(tmp_path, registry):
    project = new_project(registry)
    project.weights = {"path": "weights/tiny.safetensors", "sha256": "ab" * 32}
    path = save_project(project, tmp_path / "w.gproj")
    loaded = load_project(path, registry=registry)
    assert loaded.weights_file() == tmp_path / "weights" / "tiny.safetensors"


def test_save_without_path_is_a_clear_error(registry):
    with pytest.raises(ProjectFileError, match="choose where to save"):
        save_project(new_project(registry))


# ------------------------------------------------------------ atomic save
@pytest.mark.parametrize("broken", ["replace", "fsync", "dumps"])
def test_failed_save_leaves_the_old_file_and_no_temp_file(tmp_path, registry, monkeypatch, broken):
    path = save_project(project_from_json(good_data(), "memory", registry), tmp_path / "p.gproj")
    before = path.read_bytes()
    project = load_project(path, registry=registry)
    project.document.move("dense1", (999, 999))

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    target = {"replace": (os, "replace"), "fsync": (os, "fsync"), "dumps": (json, "dumps")}[broken]
    monkeypatch.setattr(*target, boom)
    with pytest.raises((ProjectFileError, OSError)):
        save_project(project)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.gproj"]


def test_save_keeps_the_file_mode(tmp_path, registry):
    path = save_project(new_project(registry), tmp_path / "m.gproj")
    os.chmod(path, 0o640)
    save_project(load_project(path, registry=registry))
    assert path.stat().st_mode & 0o777 == 0o640


# -------------------------------------------------------------- bad files
def test_truncated_json(tmp_path, registry):
    text = json.dumps(good_data(), indent=2)
    assert_bad(write(tmp_path, text[: len(text) // 2]), registry, "truncated", "cut off")


def test_not_json(tmp_path, registry):
    assert_bad(
        write(tmp_path, '{"format": "graphedit-project",\n  version: 1}'), registry, "not valid JSON", "line 2 column 3"
    )


def test_plain_text_is_not_json(tmp_path, registry):
    assert_bad(write(tmp_path, "hello, I am a text file\n"), registry, "not valid JSON", "line 1 column 1")


def test_not_utf8(tmp_path, registry):
    assert_bad(write(tmp_path, '{"meta": "caf\xe9"}'.encode("latin-1")), registry, "not UTF-8")


def test_empty_file(tmp_path, registry):
    assert_bad(write(tmp_path, ""), registry, "empty")


def test_missing_file_is_a_clear_error(tmp_path, registry):
    with pytest.raises(ProjectFileError, match="cannot read"):
        load_project(tmp_path / "nope.gproj", registry=registry)


def test_wrong_format(tmp_path, registry):
    data = good_data()
    data["format"] = "some-other-tool"
    assert_bad(write(tmp_path, data), registry, "not a GraphEdit project", "some-other-tool")


def test_not_an_object(tmp_path, registry):
    assert_bad(write(tmp_path, "[1, 2, 3]"), registry, "not a GraphEdit project")


def test_unknown_future_version(tmp_path, registry):
    data = good_data()
    data["version"] = VERSION + 1
    assert_bad(write(tmp_path, data), registry, "newer GraphEdit", "upgrade", str(VERSION + 1))


def test_unknown_node_type(tmp_path, registry):
    path = bad_graph(tmp_path, lambda g: g["nodes"][2].update(type="Warp"))
    assert_bad(path, registry, "node 'dense1'", "'Warp'", "unknown type")


def test_parameter_of_the_wrong_type(tmp_path, registry):
    path = bad_graph(tmp_path, lambda g: g["nodes"][2]["params"].update(units="ten"))
    assert_bad(path, registry, "node 'dense1'", "'units'", "whole number")


def test_parameter_out_of_range(tmp_path, registry):
    path = bad_graph(tmp_path, lambda g: g["nodes"][3]["params"].update(units=0))
    assert_bad(path, registry, "node 'dense2'", "'units'", "minimum")


def test_unknown_parameter(tmp_path, registry):
    path = bad_graph(tmp_path, lambda g: g["nodes"][2]["params"].update(unit=3))
    assert_bad(path, registry, "node 'dense1'", "'unit'")


def test_duplicate_node_ids(tmp_path, registry):
    path = bad_graph(tmp_path, lambda g: g["nodes"][3].update(id="dense1"))
    assert_bad(path, registry, "'dense1'", "unique")


def test_invalid_node_id(tmp_path, registry):
    path = bad_graph(tmp_path, lambda g: g["nodes"][5].update(id="my loss"))
    assert_bad(path, registry, "'my loss'", "not a valid node name")


def test_edge_to_a_missing_port(tmp_path, registry):
    path = bad_graph(tmp_path, lambda g: g["edges"][0].update(dst_port="input"))
    assert_bad(path, registry, "x.y → dense1.input", "no input port 'input'")


def test_edge_from_a_missing_output_port(tmp_path, registry):
    path = bad_graph(tmp_path, lambda g: g["edges"][0].update(src_port="out"))
    assert_bad(path, registry, "x.out → dense1.x", "no output port 'out'")


def test_edge_to_a_missing_node(tmp_path, registry):
    path = bad_graph(tmp_path, lambda g: g["edges"][0].update(dst="dense9"))
    assert_bad(path, registry, "x.y → dense9.x", "no node 'dense9'")


def test_two_edges_into_one_input_port(tmp_path, registry):
    path = bad_graph(
        tmp_path, lambda g: g["edges"].append({"src": "dense2", "src_port": "y", "dst": "add1", "dst_port": "in1"})
    )
    assert_bad(path, registry, "dense2.y → add1.in1", "add1.in1 already has an edge (dense1.y → add1.in1)")


def test_a_cycle(tmp_path, registry):
    def close_cycle(g):
        g["edges"][0] = {"src": "add1", "src_port": "y", "dst": "dense1", "dst_port": "x"}

    assert_bad(bad_graph(tmp_path, close_cycle), registry, "→ add1.in1", "cycle", "dense1")


def test_malformed_edge(tmp_path, registry):
    path = bad_graph(tmp_path, lambda g: g["edges"].append(["x.y", "dense1.x"]))
    assert_bad(path, registry, "edge #7", '"src_port"')


def test_bad_training_setting(tmp_path, registry):
    data = good_data()
    data["training"]["batch_size"] = "big"
    assert_bad(write(tmp_path, data), registry, "training.batch_size", "whole number")


def test_bad_dataset_split(tmp_path, registry):
    data = good_data()
    data["dataset"]["split"] = {"val": 0.6, "test": 0.5}
    assert_bad(write(tmp_path, data), registry, "dataset.split", "sum < 1")


def test_bad_weights_reference(tmp_path, registry):
    data = good_data()
    data["weights"] = {"path": "/abs/w.safetensors", "sha256": "ab" * 32}
    assert_bad(write(tmp_path, data), registry, "weights.path", "relative")


def test_unknown_top_level_key(tmp_path, registry):
    data = good_data()
    data["grpah"] = {}
    assert_bad(write(tmp_path, data), registry, "'grpah'")


def test_duplicate_json_key(tmp_path, registry):
    text = json.dumps(good_data())[:-1] + ', "view": {}}'
    assert_bad(write(tmp_path, text), registry, "'view' appears twice")


def test_nan_is_refused(tmp_path, registry):
    text = json.dumps(good_data()).replace('"lr": 0.01', '"lr": NaN')
    assert_bad(write(tmp_path, text), registry, "NaN")


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
