"""Hostile or broken project files: each is one clear ProjectFileError at load (or a node error), never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graphedit.cli import main
from graphedit.compiler.report import summarize
from graphedit.errors import ProjectFileError
from graphedit.model.project import dumps, load_project

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "projects" / "01_single_neuron.gproj"


def small() -> dict:
    return json.loads(SMALL.read_text(encoding="utf-8"))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.gproj"
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path, *words: str) -> str:
    with pytest.raises(ProjectFileError) as info:
        load_project(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    for word in words:
        assert word in message
    return message


def test_json_nested_beyond_a_sane_depth(tmp_path):
    for depth in (70, 100_000):
        data = small()
        data["meta"]["notes"] = "PLACEHOLDER"
        text = json.dumps(data).replace('"PLACEHOLDER"', "[" * depth + "]" * depth)
        refused(write(tmp_path, text), "nested too deeply")


def test_integers_beyond_the_digit_limit_and_beyond_int64(tmp_path):
    for number in ("1" + "0" * 5000, str(2**63), str(-(2**64))):
        text = json.dumps(small()).replace('"seed": 0', f'"seed": {number}', 1)
        refused(write(tmp_path, text), "too large")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999", "-1e400"])
def test_nan_and_infinity_anywhere_even_in_unchecked_keys(tmp_path, literal):
    data = small()
    data["meta"]["unchecked"] = "PLACEHOLDER"
    text = json.dumps(data).replace('"PLACEHOLDER"', literal)
    refused(write(tmp_path, text), literal.lstrip("-"))


def test_lone_surrogates_that_could_not_be_saved(tmp_path):
    for where in ('"title": "', '"watch": "'):
        text = json.dumps(small()).replace(where, where + "\\ud800", 1)
        refused(write(tmp_path, text), "surrogate")
    text = json.dumps(small()).replace('"meta": {', '"meta": {"\\udc00": 1, ', 1)
    refused(write(tmp_path, text), "surrogate")


def test_every_loadable_file_saves_again(tmp_path):
    data = small()
    data["meta"]["notes"] = {"deep": [[1.5e308, -0.0, "✓ 日本"]], "big": 2**63 - 1}
    project = load_project(write(tmp_path, json.dumps(data, ensure_ascii=False)))
    assert json.loads(dumps(project))["meta"]["notes"] == data["meta"]["notes"]


def test_shapes_that_overflow_are_node_errors(tmp_path):
    data = small()
    first_input = next(n for n in data["graph"]["nodes"] if n["type"] == "Input")
    first_input["params"]["shape"] = [2**31, 2**31, 2**31]
    project = load_project(write(tmp_path, json.dumps(data)))
    rows = summarize(project.document)
    assert any(r.node_id == first_input["id"] and "2**48" in (r.error or "") for r in rows)


@pytest.mark.parametrize(
    ("section", "value", "words"),
    [
        ("training", [1, 2], ("version-0 'training'", "object")),
        ("meta", 3, ("version-0 'meta'",)),
        ("nodes", "all", ("version-0 'nodes'",)),
        ("edges", {"a": 1}, ("version-0 'edges'",)),
        ("edges", [["a", "b"]], ("version-0 edge",)),
    ],
)
def test_version_0_files_with_malformed_sections(tmp_path, section, value, words):
    data = {"nodes": [], "edges": [], "training": {"learning_rate": 0.1}, section: value}
    refused(write(tmp_path, json.dumps(data)), *words)


def test_the_command_line_shows_one_line_not_a_traceback(tmp_path, capsys):
    path = write(tmp_path, json.dumps(small()).replace('"seed": 0', '"seed": ' + "9" * 5000, 1))
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err and "too large" in err
