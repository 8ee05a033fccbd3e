"""`graphedit check`: the table, --json, exit codes, node-named errors, and one-line errors for bad files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from graphkit import build, chain

from graphedit.cli import main
from graphedit.model.project import new_project, save_project

PROJECTS = Path(__file__).resolve().parents[1] / "projects"


def test_check_prints_every_node_and_the_total(capsys):
    assert main(["check", str(PROJECTS / "keras_cnn.gproj")]) == 0
    out = capsys.readouterr().out
    for text in ("conv1", "Conv2d", "[N, 16, 16, 16]", "416", "total", "39,242", "valid"):
        assert text in out, text


def test_check_json_is_machine_readable(capsys):
    assert main(["check", str(PROJECTS / "keras_cnn.gproj"), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["valid"] and payload["total_params"] == 39242 and not payload["errors"]
    conv1 = next(n for n in payload["nodes"] if n["node"] == "conv1")
    assert conv1 == {
        "node": "conv1",
        "type": "Conv2d",
        "outputs": ["[N, 16, 16, 16]"],
        "params": 416,
        "param_bytes": 416 * 4,
        "activation_bytes_per_example": 16 * 16 * 16 * 4,
        "error": None,
        "fix": None,
    }


def broken_project(tmp_path: Path) -> Path:
    project = new_project()
    project.document = build(
        [("img", "Input", {"shape": [1, 8, 8]}), ("conv1", "Conv2d", {}), ("dense1", "Dense", {"units": 3})],
        chain("img", "conv1", "dense1"),
    )
    return save_project(project, tmp_path / "broken.gproj")


def test_check_exits_1_with_the_node_named_and_the_fix(tmp_path, capsys):
    path = broken_project(tmp_path)
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "error: node 'dense1'" in out and "Flatten" in out and "1 error(s)" in out
    assert "error: the graph has no loss node" in out and "cannot train: 1 error(s)" in out  # the analysis
    assert main(["check", str(path), "--json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert not payload["valid"]
    assert payload["errors"][0]["node"] == "dense1" and "Flatten" in payload["errors"][0]["fix"]
    assert not payload["trainable"] and "no loss" in payload["training_errors"][0]["message"]


def test_check_train_also_refuses_a_graph_that_computes_but_cannot_train(tmp_path, capsys):
    project = new_project()
    project.document = build([("x", "Input", {"shape": [2]}), ("d", "Dense", {"units": 2})], chain("x", "d"))
    path = save_project(project, tmp_path / "untrainable.gproj")
    assert main(["check", str(path)]) == 0  # it computes: it can be exported
    assert "valid; cannot train: 1 error(s)" in capsys.readouterr().out
    assert main(["check", str(path), "--train"]) == 1


def test_unreadable_file_is_one_line_without_traceback(tmp_path):
    bad = tmp_path / "cut.gproj"
    text = (PROJECTS / "keras_cnn.gproj").read_text(encoding="utf-8")
    bad.write_text(text[: len(text) // 2], encoding="utf-8")
    before = bad.read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "graphedit.cli", "check", str(bad)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and "truncated" in lines[0]
    assert bad.read_bytes() == before


def test_missing_file(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nowhere.gproj")]) == 1
    err = capsys.readouterr().err
    assert "nowhere.gproj" in err and "cannot read" in err


def test_check_does_not_modify_the_project(tmp_path):
    path = tmp_path / "copy.gproj"
    shutil.copy(PROJECTS / "vae.gproj", path)
    before = path.read_bytes()
    assert main(["check", str(path)]) == 0
    assert path.read_bytes() == before
