"""Project files (.gproj): round trip, atomic save, and a clear error for every kind of bad file."""

from __future__ import annotations

import json
import os

import pytest
from _project_helpers import assert_bad, bad_graph, good_data, tiny_registry, write

from graphedit.errors import ProjectFileError
from graphedit.model.project import (
    DEFAULT_TRAINING,
    VERSION,
    load_project,
    new_project,
    project_from_json,
    project_to_json,
    save_project,
)


@pytest.fixture
def registry():
    return tiny_registry()


# ------------------------------------------------------------- round trip
def test_round_trip_gives_equal_json(tmp_path, registry):
    project = project_from_json(good_data(), "memory", registry)
    path = save_project(project, tmp_path / "tiny.gproj")
    assert project.path == path
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n") and text.startswith(f'{{\n  "format": "graphedit-project",\n  "version": {VERSION},')
    loaded = load_project(path, registry=registry)
    assert project_to_json(loaded) == project_to_json(project)
    assert list(project_to_json(loaded)) == [
        "format",
        "version",
        "meta",
        "blocks",
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
