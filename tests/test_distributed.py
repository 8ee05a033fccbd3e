"""`graphedit train --nproc-per-node 2` on the CPU (gloo) trains exactly what one process trains."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from graphedit.training.distributed import Distributed, launch_command

PROJECTS = Path(__file__).resolve().parent.parent / "projects"
TIMEOUT_S = 120


def _train(folder: Path, name: str, *extra: str) -> subprocess.CompletedProcess:
    project = folder / f"{name}.gproj"
    shutil.copy(PROJECTS / "residual_mlp.gproj", project)  # Dense, ReLU and Add: no BatchNorm, no Dropout
    # 400 training examples (500, a fifth for validation) in global batches of 40: every batch splits in two
    args = [str(project), "--epochs", "3", "--batch-size", "40", "--seed", "0", "--no-probes", "--json", *extra]
    command = [sys.executable, "-m", "graphedit.cli", "train", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # one thread per rank
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, env=env)


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    """The summary of the run one process trains: what the runs over two processes must equal."""
    one = _train(tmp_path_factory.mktemp("one"), "one")
    assert one.returncode == 0, one.stderr[-2000:]
    return json.loads(one.stdout)


@pytest.mark.slow
def test_two_processes_train_what_one_process_trains(tmp_path, one_process):
    two = _train(tmp_path, "two", "--nproc-per-node", "2")
    assert two.returncode == 0, two.stderr[-2000:]
    a, b = one_process, json.loads(two.stdout)
    assert b["train"]["loss"] == pytest.approx(a["train"]["loss"], abs=1e-4)
    assert b["val"]["loss"] == pytest.approx(a["val"]["loss"], abs=1e-4)
    assert a["train"]["loss"] < 0.5  # it learned, in both
    # every example once per epoch, split between the ranks (no sampler padding: batches must split evenly)
    assert a["samples"] == b["samples"] == 3 * 400
    runs = list((tmp_path / "two.runs").iterdir())
    assert len(runs) == 1, "rank 0 alone records the run"
    saved = json.loads((tmp_path / "two.gproj").read_text())
    assert saved["weights"]["path"].startswith("two.runs/")
    assert "epoch 3/3" in two.stderr and two.stderr.count("epoch 3/3") == 1  # one progress report, rank 0's


@pytest.mark.slow
def test_two_processes_resume_a_run_as_one_process_trains_it_through(tmp_path, one_process):
    first = _train(tmp_path, "two", "--nproc-per-node", "2", "--epochs", "2")  # one_process: 3 epochs in one go
    assert first.returncode == 0, first.stderr[-2000:]
    resumed = _train(tmp_path, "two", "--nproc-per-node", "2", "--resume")  # every rank reads the checkpoint
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    a, b = one_process, json.loads(resumed.stdout)
    assert b["epochs"] == 3 and "resuming " in resumed.stderr and resumed.stderr.count("resuming ") == 1
    assert b["train"]["loss"] == pytest.approx(a["train"]["loss"], abs=1e-4)
    assert b["val"]["loss"] == pytest.approx(a["val"]["loss"], abs=1e-4)
    runs = list((tmp_path / "two.runs").iterdir())
    assert len(runs) == 1 and b["run"] == str(runs[0]), "the resumed run continues in its own folder"


@pytest.mark.slow
def test_a_failing_rank_is_one_clear_line_and_the_project_is_intact(tmp_path):
    before = (PROJECTS / "residual_mlp.gproj").read_bytes()
    done = _train(tmp_path, "odd", "--nproc-per-node", "2", "--batch-size", "33")
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("graphedit train: distributed training failed:")
    assert "does not split evenly over 2 processes" in last and "Traceback" not in done.stderr
    assert (tmp_path / "odd.gproj").read_bytes() == before


def test_the_launch_command_names_torchrun_and_keeps_the_arguments():
    command = launch_command(["net.gproj", "--epochs", "2"], 2)
    assert command[1:3] == ["-m", "torch.distributed.run"] and "--nproc-per-node=2" in command
    endpoint = next(c for c in command if c.startswith("--rdzv-endpoint="))
    assert endpoint.startswith("--rdzv-endpoint=127.0.0.1:")
    assert command[-4:] == ["train", "net.gproj", "--epochs", "2"]
    several = launch_command(["net.gproj"], 4, nnodes=2, rdzv_endpoint="head:29500")
    assert "--nnodes=2" in several and "--rdzv-endpoint=head:29500" in several


def test_a_rank_takes_its_slice_of_each_global_batch():
    import torch

    X, y = torch.arange(8).view(8, 1), torch.arange(8)
    first, second = Distributed(0, 2, 0), Distributed(1, 2, 1)
    assert first.shard(X, y)[1].tolist() == [0, 1, 2, 3]
    assert second.shard(X, y)[1].tolist() == [4, 5, 6, 7]
    named, targets = second.shard({"left": X, "right": X + 10}, {"same": y})  # several inputs: each cut alike
    assert named["right"].view(-1).tolist() == [14, 15, 16, 17] and targets["same"].tolist() == [4, 5, 6, 7]


def _all_gpus_project(folder: Path) -> Path:
    data = json.loads((PROJECTS / "residual_mlp.gproj").read_text(encoding="utf-8"))
    data["training"]["device"] = "cuda:all"  # as the editor saves "all N GPUs"
    project = folder / "net.gproj"
    project.write_text(json.dumps(data), encoding="utf-8")
    return project


def test_a_project_saved_on_all_gpus_trains_one_process_per_gpu(tmp_path, monkeypatch, capsys):
    import torch

    from graphedit import cli
    from graphedit.training import distributed

    project = _all_gpus_project(tmp_path)
    if not torch.cuda.is_available():
        assert cli.main(["train", str(project), "--epochs", "1"]) == 1
        message = capsys.readouterr().err.strip()
        assert message == (
            "graphedit train: device 'cuda:all' was asked for but CUDA is not available. Fix: choose the device "
            "auto or cpu."
        )
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    commands = []
    monkeypatch.setattr(distributed, "launch", lambda command, timeout=None: commands.append(command) or 0)
    assert cli.main(["train", str(project), "--epochs", "1"]) == 0
    (command,) = commands
    assert "--nproc-per-node=4" in command and command[-3:] == [str(project), "--epochs", "1"]
