"""The weights a project names: inside its folder, a regular file, safetensors that fit; else one line with the fix."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import struct

import pytest
import torch
from export_helpers import PROJECTS, trained_copy
from graphkit import build, chain
from safetensors.torch import load_file, save_file

from graphedit.cli import main
from graphedit.errors import GraphEditError
from graphedit.export import export_project
from graphedit.export.weights import sha256_file
from graphedit.model.project import save_project
from graphedit.training.runs import load_weights
from graphedit.ui.runner.run_records import weights_problem

SOURCE = PROJECTS[0]


@pytest.fixture
def project(tmp_path):
    return trained_copy(SOURCE, tmp_path)


@contextlib.contextmanager
def hang_guard(seconds: int):
    """Opening a FIFO blocks forever: fail instead of hanging the suite (armed only after torch is warm)."""

    def alarm(signum, frame):
        raise TimeoutError("hung: something opened the FIFO")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def point_to(project, path, record_sha=True):
    project.weights = {"path": os.path.relpath(path, project.path.parent), "sha256": "0" * 64}
    if record_sha and path.is_file():
        project.weights["sha256"] = sha256_file(path)
    save_project(project)
    return project


def one_line_everywhere(project, capsys, *words):
    """The same problem is one line from export, `graphedit export` and `graphedit check`."""
    with pytest.raises(GraphEditError) as info:
        export_project(project, "safetensors", project.path.with_name("out.safetensors"))
    message = str(info.value)
    assert "\n" not in message and "Fix" in message
    for word in words:
        assert word in message
    assert main(["export", str(project.path), "--format", "onnx", "-o", str(project.path.with_name("o.onnx"))]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err and all(w in err for w in words)
    assert main(["check", str(project.path)]) == 1
    out = capsys.readouterr().out
    assert any(line.startswith("error: ") and all(w in line for w in words) for line in out.splitlines())
    return message


def test_a_weights_path_through_dotdot_is_refused(project, tmp_path, capsys):
    outside = tmp_path.parent / f"{tmp_path.name}_outside.safetensors"
    outside.write_bytes(project.weights_file().read_bytes())
    point_to(project, outside)
    assert project.weights["path"].startswith("..")
    one_line_everywhere(project, capsys, "outside the project's folder")


def test_a_symlink_out_of_the_folder_is_refused(project, tmp_path, capsys):
    real = tmp_path.parent / f"{tmp_path.name}_real.safetensors"
    real.write_bytes(project.weights_file().read_bytes())
    link = tmp_path / "linked.safetensors"
    link.symlink_to(real)
    point_to(project, link)
    one_line_everywhere(project, capsys, "outside the project's folder", str(link))


def test_a_fifo_is_never_opened(project, tmp_path, capsys):
    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)
    point_to(project, fifo, record_sha=False)
    weights_problem(project.document, project.path)  # warm: the first meta operations import torch parts
    with hang_guard(60):
        one_line_everywhere(project, capsys, "FIFO", str(fifo))
        assert "FIFO" in weights_problem(project.document, fifo)


def test_a_folder_is_not_a_weights_file(project, tmp_path, capsys):
    folder = tmp_path / "dir.safetensors"
    folder.mkdir()
    point_to(project, folder, record_sha=False)
    one_line_everywhere(project, capsys, "folder", str(folder))


def damaged(kind: str, good: bytes, state: dict) -> bytes:
    if kind == "truncated":
        return good[: len(good) // 2]
    if kind == "bad header":
        return struct.pack("<Q", 20) + b"{not json at all...}" + good[28:]
    if kind == "empty":
        return b""
    if kind == "pickle":  # torch.save renamed: never unpickled
        buffer = io.BytesIO()
        torch.save(state, buffer)
        return buffer.getvalue()
    raise AssertionError(kind)


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("truncated", ("truncated",)),
        ("bad header", ("damaged", "header")),
        ("empty", ("truncated",)),
        ("pickle", ("pickle", "never unpickles")),
    ],
)
def test_damaged_files_are_one_line_naming_the_file(project, capsys, kind, words):
    path = project.weights_file()
    path.write_bytes(damaged(kind, path.read_bytes(), load_file(str(path))))
    point_to(project, path)
    one_line_everywhere(project, capsys, str(path), *words)
    problem = weights_problem(project.document, path)  # the Runs panel's check, on the same file
    assert str(path) in problem and all(w in problem for w in words)


@pytest.mark.parametrize("change", ["dtype", "shape", "missing"])
def test_weights_that_do_not_fit_the_graph(project, capsys, change):
    path = project.weights_file()
    state = load_file(str(path))
    key = next(k for k, v in state.items() if v.is_floating_point() and v.dim() >= 1)
    if change == "dtype":
        state[key] = state[key].double()
    elif change == "shape":
        state[key] = torch.zeros(*state[key].shape[:-1], state[key].shape[-1] + 1)
    else:
        del state[key]
    save_file(state, str(path))
    point_to(project, path)
    message = one_line_everywhere(project, capsys, key if change != "missing" else "missing")
    assert "train" in message
    assert key in weights_problem(project.document, path) or "missing" in weights_problem(project.document, path)


def test_load_weights_into_a_module_names_the_mismatch(tmp_path):
    doc = build([("x", "Input", {"shape": [3]}), ("dense1", "Dense", {"units": 2})], chain("x", "dense1"))
    from graphedit.compiler import compile_graph

    root = compile_graph(doc).root
    path = tmp_path / "w.safetensors"
    save_file({k: v.double() for k, v in root.state_dict().items()}, str(path))
    with pytest.raises(GraphEditError, match="F64 in the weights but F32"):
        load_weights(root, path)


@pytest.mark.gui
def test_the_runs_panel_names_a_damaged_weights_file_in_one_line(qtbot, tmp_path):
    from _window_helpers import make_window
    from test_ui_training import tiny_project

    from graphedit.model.project import project_to_json
    from graphedit.training.session import run_project

    path = tiny_project(tmp_path)
    window = make_window(qtbot, tmp_path)
    assert window.files.open(path, ask=False)
    summary = run_project(project_to_json(window.files.project), path, {"epochs": 1}, probes=False)
    final = next(p for p in (tmp_path / summary["run"]).iterdir() if p.name == "final.safetensors")
    final.write_bytes(final.read_bytes()[:40])
    runs = window.training.runs_dock
    runs.refresh()
    runs.tree.topLevelItem(0).setSelected(True)
    messages = []
    runs.message.connect(lambda text, error: messages.append((text, error)))
    assert not runs.use_weights()
    text, error = messages[-1]
    assert error and "\n" not in text and str(final) in text and "truncated" in text and "Fix" in text
    assert window.files.project.weights is None
