"""A project file is untrusted: its text reaches a .py export only as data; verifying the export runs none of it."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from export_helpers import PROJECTS, trained_copy
from safetensors.torch import load_file, save_file

from graphedit.cli import main
from graphedit.errors import ProjectFileError
from graphedit.export import ExportError, export_project
from graphedit.export import python_source as source_module
from graphedit.export.python_recipes import literal
from graphedit.export.weights import sha256_file
from graphedit.model.project import load_project, save_project


def payloads(marker: Path) -> list[str]:
    """Texts that run ``marker.touch()`` if they ever become code: in a docstring, a comment, a literal, a line."""
    act = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    return [
        f'"""\n{act}\n"""',
        f'x"""; {act}; """',
        f"\\\n{act}",
        "title\\",  # a trailing backslash would escape the closing quotes
        f"'''\n{act}\n'''",
        f"\r{act}",
        f"\u2028{act}\u2029",
        f"\x00\x0c\n import os; {act}",
        f"#\n{act}  #",
        f"{{cls}} {act}",
    ]


def evil_project(folder: Path, title: str, output_name: str) -> Path:
    data = {
        "format": "graphedit-project",
        "version": 1,
        "meta": {"title": title, "description": title},
        "graph": {
            "nodes": [
                {"id": "x", "type": "Input", "params": {"shape": [3]}},
                {"id": "dense1", "type": "Dense", "params": {"units": 2}},
                {"id": "out", "type": "Output", "params": {"name": output_name}},
            ],
            "edges": [
                {"src": "x", "src_port": "y", "dst": "dense1", "dst_port": "x"},
                {"src": "dense1", "src_port": "y", "dst": "out", "dst_port": "x"},
            ],
        },
    }
    path = folder / "evil.gproj"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def string_constants(tree: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


@pytest.mark.parametrize("index", range(10))
@pytest.mark.slow
def test_title_and_output_name_that_are_python_code_stay_data(tmp_path, index):
    marker = tmp_path / "ran"
    text = payloads(marker)[index]
    project = load_project(evil_project(tmp_path, text, text))
    out = tmp_path / "evil_model.py"
    export_project(project, "python", out, initial_weights=True)
    assert not marker.exists()
    source = out.read_text(encoding="utf-8")
    tree = ast.parse(source)
    constants = string_constants(tree)
    assert text in constants  # TITLE = ..., OUTPUTS = [...]: the project's text, literally, as data
    # nowhere as code: no call in the file names the payload's pieces
    called = {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert not any("__import__" in c or "touch" in c for c in called)
    # the user runs the exported file as a script: still nothing of the title runs
    run = subprocess.run([sys.executable, str(out)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert not marker.exists()


def test_verification_never_runs_the_written_file(tmp_path, monkeypatch):
    # simulate a bug in the escaping of docstrings: the title then breaks out of the docstring into code
    marker = tmp_path / "ran"
    monkeypatch.setattr(source_module, "doc_text", lambda text, limit=200: str(text))
    title = f'"""\n__import__("pathlib").Path({str(marker)!r}).touch()\n"""'
    project = load_project(evil_project(tmp_path, title, "y"))
    with pytest.raises(ExportError, match="would have become code|does not parse"):
        export_project(project, "python", tmp_path / "evil_model.py", initial_weights=True)
    assert not marker.exists()


def test_keyword_node_ids_are_refused_at_load(tmp_path):
    path = evil_project(tmp_path, "t", "y")
    data = json.loads(path.read_text())
    data["graph"]["nodes"][1]["id"] = "lambda"
    for edge in data["graph"]["edges"]:
        edge["src"] = "lambda" if edge["src"] == "dense1" else edge["src"]
        edge["dst"] = "lambda" if edge["dst"] == "dense1" else edge["dst"]
    path.write_text(json.dumps(data))
    with pytest.raises(ProjectFileError, match="lambda"):
        load_project(path)


def test_literal_spells_floats_without_a_literal():
    assert eval(literal(float("inf"))) == float("inf")  # noqa: S307 (our own output, no project text)
    assert eval(literal([1.5, -float("inf"), "a'\"\n"])) == [1.5, -float("inf"), "a'\"\n"]  # noqa: S307
    with pytest.raises(TypeError):
        literal(object())


def test_exporting_weights_with_nan_warns_in_one_line_and_still_exports(tmp_path, capsys):
    project = trained_copy(PROJECTS[0], tmp_path)
    path = project.weights_file()
    state = load_file(str(path))
    key = next(k for k, v in state.items() if v.is_floating_point())
    state[key] = state[key].clone()
    state[key].view(-1)[0] = float("nan")
    save_file(state, str(path))
    project.weights = {"path": path.name, "sha256": sha256_file(path)}
    save_project(project)
    out = tmp_path / "nan_model.py"
    assert main(["export", str(project.path), "--format", "python", "-o", str(out)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "warning" in err[0] and "NaN" in err[0] and key in err[0]
    assert out.exists() and torch.isnan(load_file(str(out.with_suffix(".safetensors")))[key]).any()
