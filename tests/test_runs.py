"""Run records, checkpoints, resume, and the `graphedit train` command."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import graphs
import pytest
import torch
from safetensors.torch import load_file

from graphedit.cli import main
from graphedit.compiler import compile_graph
from graphedit.model.project import Project, load_project, save_project
from graphedit.training.checkpoint import flatten_optimizer, load_checkpoint, unflatten_optimizer
from graphedit.training.datasets import load_dataset
from graphedit.training.events import EpochEvent
from graphedit.training.runs import FINAL, RunRecorder, load_weights, runs_folder, sha256_file
from graphedit.training.trainer import Trainer

SETTINGS = {"optimizer": "adam", "lr": 0.02, "batch_size": 16, "epochs": 3, "seed": 1, "device": "cpu"}


def make_project(tmp_path, **training):
    # the Input's shape [5] is wrong on purpose: `graphedit train` fits Input and Target to the dataset
    tmp_path.mkdir(parents=True, exist_ok=True)
    doc = graphs.mlp(in_shape=(5,), hidden=(8,), classes=2)
    project = Project(
        document=doc, dataset={"name": "circle", "options": {"n": 160}}, training={**SETTINGS, **training}
    )
    return save_project(project, tmp_path / "circle.gproj")


def train_cli(path, *extra, capsys):
    code = main(["train", str(path), "--quiet", "--json", *extra])
    out = capsys.readouterr().out
    return code, json.loads(out) if code == 0 else out


def test_train_command_records_the_run_and_points_the_project_to_weights(tmp_path, capsys):
    path = make_project(tmp_path)
    code, summary = train_cli(path, "--epochs", "2", capsys=capsys)
    assert code == 0 and summary["status"] == "finished" and summary["epochs"] == 2
    run = summary["run"]
    files = {p.name for p in runs_folder(path).glob("*/*")}
    assert {"settings.json", "metrics.csv", "metrics.json", "best.safetensors", FINAL, "summary.json"} <= files
    assert {"checkpoint.safetensors", "checkpoint.json"} <= files
    rows = list(csv.DictReader(io.StringIO(Path(run, "metrics.csv").read_text(encoding="utf-8"))))
    assert [r["epoch"] for r in rows] == ["1", "2"] and "val_accuracy1" in rows[0]
    project = load_project(path)
    assert project.weights["path"].startswith("circle.runs/") and project.weights["path"].endswith(FINAL)
    assert project.weights["sha256"] == sha256_file(project.weights_file())
    assert project.document.params("input1")["shape"] == (2,)  # fitted to the dataset and saved
    compiled = compile_graph(project.document, seed=99)
    load_weights(compiled.root, project.weights_file(), project.weights["sha256"])
    saved = load_file(str(project.weights_file()))
    assert torch.equal(compiled.root.state_dict()["out.weight"], saved["out.weight"])


def test_train_command_text_output_and_overrides(tmp_path, capsys):
    path = make_project(tmp_path)
    code = main(["train", str(path), "--epochs", "1", "--lr", "0.01", "--batch-size", "32", "--seed", "3"])
    captured = capsys.readouterr()
    assert code == 0
    assert "finished: 1 epochs, 4 steps" in captured.out and "val accuracy1" in captured.out
    assert "epoch 1/1" in captured.err  # progress on stderr
    settings = json.loads(next(runs_folder(path).glob("*/settings.json")).read_text())
    assert settings["training"]["lr"] == 0.01 and settings["training"]["batch_size"] == 32
    assert settings["dataset_info"]["feature_shape"] == [2]


def test_resume_continues_from_the_saved_epoch(tmp_path, capsys):
    straight = make_project(tmp_path / "a")
    _, full = train_cli(straight, "--epochs", "4", capsys=capsys)
    resumed = make_project(tmp_path / "b")
    _, first = train_cli(resumed, "--epochs", "2", capsys=capsys)
    code, second = train_cli(resumed, "--epochs", "4", "--resume", capsys=capsys)
    assert code == 0 and second["run"] == first["run"] and second["epochs"] == 4
    rows = json.loads((runs_folder(resumed) / first["run"].rsplit("/", 1)[-1] / "metrics.json").read_text())
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4]
    full_rows = json.loads(next(runs_folder(straight).glob("*/metrics.json")).read_text())
    # weights, optimizer moments and RNG state are restored: the resumed run matches the straight one
    assert [r["train_loss"] for r in rows] == pytest.approx([r["train_loss"] for r in full_rows], rel=1e-6)
    assert second["val"]["loss"] == pytest.approx(full["val"]["loss"], rel=1e-6)


def test_resume_without_a_run_says_how_to_fix(tmp_path, capsys):
    path = make_project(tmp_path)
    code = main(["train", str(path), "--resume", "--quiet"])
    assert code == 1 and "no earlier run with a checkpoint. Fix" in capsys.readouterr().err


def test_interrupt_keeps_the_last_checkpoint(tmp_path):
    data = load_dataset({"name": "circle", "options": {"n": 100}})
    compiled = compile_graph(graphs.mlp(), seed=0)
    recorder = RunRecorder(tmp_path / "run")

    def interrupt(event):
        if isinstance(event, EpochEvent) and event.epoch == 2:
            raise KeyboardInterrupt

    trainer = Trainer(compiled, data, {**SETTINGS, "epochs": 5}, [recorder, interrupt], probes=False)
    summary = trainer.fit()
    assert summary["status"] == "interrupted"
    tensors, meta = load_checkpoint(tmp_path / "run")
    assert meta["epoch"] == 2 and (tmp_path / "run" / FINAL).exists()
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["status"] == "interrupted"
    assert torch.equal(tensors["model/out.weight"], compiled.root.out.weight.detach())


def test_optimizer_state_round_trips_through_safetensors_and_json():
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    tensors, meta = flatten_optimizer(opt.state_dict())
    meta = json.loads(json.dumps(meta))
    other = torch.optim.Adam(model.parameters(), lr=0.5)
    other.load_state_dict(unflatten_optimizer(tensors, meta))
    assert other.param_groups[0]["lr"] == 0.1
    for key in ("exp_avg", "exp_avg_sq", "step"):
        assert torch.equal(other.state_dict()["state"][0][key], opt.state_dict()["state"][0][key])


def test_training_failure_is_reported_by_the_command(tmp_path, capsys):
    path = make_project(tmp_path, lr=1e30, optimizer="sgd", momentum=0.0)
    code = main(["train", str(path), "--quiet", "--epochs", "3"])
    err = capsys.readouterr().err
    assert code == 1 and "NaN or infinite at node" in err and "Fix" in err
    summary = json.loads(next(runs_folder(path).glob("*/summary.json")).read_text())
    assert summary["status"] == "failed" and summary["node_id"]
