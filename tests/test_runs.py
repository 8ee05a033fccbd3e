"""Run records, checkpoints, resume, and the `graphedit train` command."""

from __future__ import annotations

import csv
import io
import json
import threading
from pathlib import Path

import graphs
import pytest
import torch
from safetensors.torch import load_file

from graphedit.cli import main
from graphedit.compiler import compile_graph
from graphedit.errors import TrainingError
from graphedit.model.project import Project, load_project, project_to_json, save_project
from graphedit.training import runs
from graphedit.training.checkpoint import flatten_optimizer, load_checkpoint, unflatten_optimizer
from graphedit.training.datasets import load_dataset
from graphedit.training.events import EpochEvent, StepEvent
from graphedit.training.runs import FINAL, RunRecorder, load_weights, read_metrics, runs_folder, sha256_file
from graphedit.training.session import run_project
from graphedit.training.trainer import Trainer
from graphedit.ui.runner.run_records import read_run

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
    assert {"settings.json", "metrics.csv", "metrics.jsonl", "best.safetensors", FINAL, "summary.json"} <= files
    assert {"checkpoint.safetensors", "checkpoint.json", "graph.json"} <= files
    rows = list(csv.DictReader(io.StringIO(Path(run, "metrics.csv").read_text(encoding="utf-8"))))
    assert [r["epoch"] for r in rows] == ["1", "2"] and "val_accuracy1" in rows[0]
    lines = Path(run, "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2]
    assert [r["train_loss"] for r in read_metrics(run)] == [float(r["train_loss"]) for r in rows]
    project = load_project(path)
    graph = json.loads(Path(run, "graph.json").read_text(encoding="utf-8"))
    assert graph == json.loads(json.dumps(project_to_json(project)["graph"]))
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


def final_weights(run):
    return load_file(str(Path(run) / FINAL))


def assert_same_run(a, b):
    """Bit-identical: every weight tensor equal and every recorded loss the same float."""
    wa, wb = final_weights(a), final_weights(b)
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    rows_a, rows_b = read_metrics(a), read_metrics(b)
    assert [r["epoch"] for r in rows_a] == [r["epoch"] for r in rows_b]
    for key in ("train_loss", "val_loss", "val_accuracy1"):
        assert [r[key] for r in rows_a] == [r[key] for r in rows_b]


def test_resume_continues_from_the_saved_epoch(tmp_path, capsys):
    straight = make_project(tmp_path / "a")
    _, full = train_cli(straight, "--epochs", "4", capsys=capsys)
    resumed = make_project(tmp_path / "b")
    _, first = train_cli(resumed, "--epochs", "2", capsys=capsys)
    code, second = train_cli(resumed, "--epochs", "4", "--resume", capsys=capsys)
    assert code == 0 and second["run"] == first["run"] and second["epochs"] == 4
    assert [r["epoch"] for r in read_metrics(second["run"])] == [1, 2, 3, 4]
    # weights, optimizer moments and RNG state are restored: the resumed run is the straight one, bit for bit
    assert_same_run(second["run"], full["run"])
    assert second["val"]["loss"] == full["val"]["loss"]


class CrashInEpoch:
    """An observer that ends the process's run in the middle of an epoch, as a kill would."""

    def __init__(self, epoch):
        self.epoch = epoch

    def __call__(self, event):
        if isinstance(event, StepEvent) and event.epoch == self.epoch:
            raise RuntimeError("killed")


def test_resume_from_a_checkpoint_written_mid_run_is_exact(tmp_path):
    path = make_project(tmp_path, epochs=5, log_every=1)
    project_json = project_to_json(load_project(path))
    full = run_project(project_json, path, run_dir=tmp_path / "full", checkpoint_every=2)
    with pytest.raises(TrainingError, match="killed"):
        run_project(project_json, path, observers=[CrashInEpoch(4)], run_dir=tmp_path / "cut", checkpoint_every=2)
    _, meta = load_checkpoint(tmp_path / "cut")
    assert meta["epoch"] == 2  # the scheduled checkpoint, not the epoch that was cut short
    assert [r["epoch"] for r in read_metrics(tmp_path / "cut")] == [1, 2, 3]
    resumed = run_project(project_json, path, run_dir=tmp_path / "cut", resume=True, checkpoint_every=2)
    assert resumed["epochs"] == 5 and resumed["train"] == full["train"]
    assert_same_run(tmp_path / "cut", full["run"])


def test_checkpoints_follow_the_wall_time_budget(tmp_path, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(runs.time, "perf_counter", lambda: clock[0])
    recorder = RunRecorder(tmp_path / "run")
    data = load_dataset({"name": "circle", "options": {"n": 100}})
    Trainer(compile_graph(graphs.mlp(), seed=0), data, {**SETTINGS, "epochs": 9}, [recorder], probes=False)
    recorder.checkpoints = 1  # one written, which cost 1 s: the next is due 1 / CHECKPOINT_BUDGET = 50 s later
    recorder._last_cost, recorder._last_checkpoint = 1.0, 100.0
    event = EpochEvent(1, {"loss": 1.0}, None, 0.1, 1.0, 7, False)
    clock[0] = 149.0
    assert not recorder._checkpoint_due(event)
    clock[0] = 151.0
    assert recorder._checkpoint_due(event)
    recorder.trainer.epoch = 9  # the last epoch always gets one
    clock[0] = 100.5
    assert recorder._checkpoint_due(event)


def test_a_run_recorded_in_the_old_format_reads_and_resumes(tmp_path):
    path = make_project(tmp_path, epochs=3)
    project_json = project_to_json(load_project(path))
    run = tmp_path / "circle.runs" / "old"
    run_project(project_json, path, run_dir=run, checkpoint_every=1, overrides={"epochs": 2})
    old_rows = read_metrics(run)
    (run / "metrics.jsonl").unlink()  # as GraphEdit wrote it before: one JSON list, rewritten every epoch
    (run / "metrics.json").write_text(json.dumps(old_rows, indent=1), encoding="utf-8")
    assert read_metrics(run) == old_rows and read_run(run).epochs == 2
    run_project(project_json, path, run_dir=run, resume=True)
    rows = read_metrics(run)
    assert [r["epoch"] for r in rows] == [1, 2, 3] and rows[:2] == old_rows
    assert read_run(run).val == json.loads((run / "summary.json").read_text())["val"]


def test_run_folders_starting_in_the_same_second_do_not_collide(tmp_path, monkeypatch):
    monkeypatch.setattr(runs.time, "strftime", lambda fmt: "20260101-000000")
    start = threading.Barrier(8)
    made, errors = [], []

    def claim():
        start.wait()
        try:
            made.append(runs.new_run_dir(tmp_path / "p.gproj"))
        except Exception as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(made)) == 8 and all(p.is_dir() for p in made)
    assert sorted(p.name for p in made)[0] == "20260101-000000"


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


def test_a_checkpoint_that_cannot_be_written_does_not_end_the_run(tmp_path, monkeypatch):
    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runs, "write_checkpoint", full_disk)
    path = make_project(tmp_path)
    summary = run_project(project_to_json(load_project(path)), path, run_dir=tmp_path / "run")
    assert summary["status"] == "finished"
    recorded = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert "No space left" in recorded["checkpoint_error"] and (tmp_path / "run" / FINAL).exists()


@pytest.mark.parametrize("damage", ["garbage", "meta"])
def test_a_damaged_checkpoint_is_one_line_not_a_traceback(tmp_path, capsys, damage):
    from graphedit.training.checkpoint import CHECKPOINT, CHECKPOINT_META

    path = make_project(tmp_path)
    _, first = train_cli(path, "--epochs", "1", capsys=capsys)
    folder = Path(first["run"])
    if damage == "garbage":
        (folder / CHECKPOINT).write_bytes(b"\x00" * 64)  # not a safetensors file
    else:
        (folder / CHECKPOINT_META).write_text("[1, 2]", encoding="utf-8")
    code = main(["train", str(path), "--epochs", "2", "--resume", "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and "checkpoint" in err and "Fix: train without --resume" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
