"""Comparing runs: the columns that differ between runs and the diff of two runs' projects."""

import copy
import json
from pathlib import Path

from graphedit.training.run_compare import diff_runs, graph_params, varying_columns

PROJECT = json.loads((Path(__file__).resolve().parent.parent / "projects" / "residual_mlp.gproj").read_text())


def _changed(**training):
    out = copy.deepcopy(PROJECT)
    out["training"].update(training)
    return out


def test_columns_are_the_common_settings_and_what_differs():
    other = _changed(lr=0.5)
    next(n for n in other["graph"]["nodes"] if n["id"] == "dense1")["params"]["units"] = 8
    other["dataset"]["options"]["noise"] = 0.3
    settings, params = varying_columns([PROJECT, other, None])
    assert settings[:4] == ["lr", "batch_size", "optimizer", "epochs"] and "dataset.noise" in settings
    assert params == ["dense1.units"]
    assert varying_columns([PROJECT, copy.deepcopy(PROJECT)])[1] == []


def test_the_diff_names_settings_nodes_parameters_and_wires():
    other = _changed(batch_size=64)
    nodes = other["graph"]["nodes"]
    nodes[:] = [n for n in nodes if n["id"] != "dense5"]
    next(n for n in nodes if n["id"] == "dense4")["params"]["units"] = 16
    nodes.append({"id": "drop1", "type": "Dropout", "params": {"rate": 0.5}, "position": [0, 0]})
    other["graph"]["edges"] = [e for e in other["graph"]["edges"] if "dense5" not in (e["src"], e["dst"])]
    diff = diff_runs(PROJECT, other)
    assert diff.settings == {"batch_size": (32, 64)}
    assert diff.added == ["drop1"] and diff.removed == ["dense5"]
    assert diff.params == {"dense4.units": (32, 16)}
    assert diff.wires_removed and all("dense5" in w for w in diff.wires_removed) and not diff.wires_added
    assert "batch_size: 32 → 64" in diff.lines() and "+ node drop1" in diff.lines()
    assert diff_runs(PROJECT, copy.deepcopy(PROJECT)).empty


def test_list_parameters_compare_as_text():
    assert graph_params(PROJECT)["point.shape"] == "[2]"
