"""The thread policy of a run, and the run options that need a tool (--compile)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import graphs
import pytest
import torch
from safetensors.torch import load_file
from test_runs import assert_same_run, make_project, train_cli

from graphedit.cli import main
from graphedit.compiler import compile_graph
from graphedit.model.project import Project, load_project, save_project
from graphedit.training import threads
from graphedit.training.binding import bind, fit_inputs_to_dataset
from graphedit.training.datasets import load_dataset
from graphedit.training.runs import FINAL, read_metrics
from graphedit.training.threads import choose_threads, physical_cores


def test_the_setting_and_the_environment_replace_the_policy(monkeypatch):
    monkeypatch.delenv(threads.ENV, raising=False)
    assert choose_threads(3, 1e-5, cores=8, idle=8)[0] == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    assert choose_threads(0, 1.0, cores=8, idle=8) == (4, "set by the environment variable OMP_NUM_THREADS")
    monkeypatch.setenv(threads.ENV, "2")
    count, why = choose_threads(0, 1.0, cores=8, idle=8)
    assert count == 2 and threads.ENV in why
    assert choose_threads(5, 1.0, cores=8, idle=8)[0] == 5  # the setting still wins


def test_the_policy_uses_idle_physical_cores_and_one_thread_for_tiny_models(monkeypatch):
    monkeypatch.delenv(threads.ENV, raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert choose_threads(0, 0.05, cores=8, idle=8) == (8, "one per physical core (8)")
    assert choose_threads(0, 0.05, cores=8, idle=3)[0] == 3
    count, why = choose_threads(0, threads.TINY_FORWARD_S / 10, cores=8, idle=8)
    assert count == 1 and "tiny model" in why
    assert choose_threads(0, None, cores=4, idle=4)[0] == 4  # not measured (a GPU run, streamed data)
    assert physical_cores() >= 1


def test_busy_cores_are_other_processes_work_now_not_this_processs(monkeypatch):
    """Over the sample, the CPUs' busy ticks less this process's own CPU time: a run that just ended is not load."""
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)

    def sample(busy_ticks: int, own_seconds: float) -> float | None:
        ticks = iter([(1000, 5000), (1000 + busy_ticks, 5000 + 20)])  # 2 CPUs for 0.1 s: 20 ticks of 10 ms
        clock, cpu = iter([0.0, 0.1]), iter([3.0, 3.0 + own_seconds])
        fake_time = SimpleNamespace(
            sleep=lambda s: None, perf_counter=lambda: next(clock), process_time=lambda: next(cpu)
        )
        monkeypatch.setattr(threads, "cpu_times", lambda cpus: next(ticks))
        monkeypatch.setattr(threads, "time", fake_time)  # this module's clocks only, not the test run's
        return threads.busy_cpus()

    assert sample(busy_ticks=15, own_seconds=0.1) == pytest.approx(0.5)  # 1.5 CPUs busy, 1 of them ours
    assert sample(busy_ticks=15, own_seconds=0.0) == pytest.approx(1.5)
    assert sample(busy_ticks=2, own_seconds=0.05) == 0.0  # never below nothing
    monkeypatch.setattr(threads, "busy_cpus", lambda seconds=0.1: 0.5)
    assert threads.idle_cores(2) == 2  # the load average would have said 1 after our own run
    monkeypatch.setattr(threads, "busy_cpus", lambda seconds=0.1: 1.5)
    assert threads.idle_cores(2) == 1 and threads.idle_cores(8) == 7


def test_cpu_times_read_the_kernels_lines_and_give_no_figure_for_others(tmp_path):
    stat = tmp_path / "stat"
    lines = ["cpu  30 0 20 150 0 0 0 0 0 0", "cpu0 10 0 10 70 5 0 0 0 0 0", "cpu1 20 0 10 80 0 0 0 5 0 0", "intr 1 0"]
    stat.write_text("\n".join(lines) + "\n")
    assert threads.cpu_times({0, 1}, stat) == (20 + 35, 95 + 115)  # idle and iowait are not busy; steal is
    assert threads.cpu_times({1}, stat) == (35, 115)
    assert threads.cpu_times({7}, stat) is None
    stat.write_text("cpu0 10 x\n")
    assert threads.cpu_times({0}, stat) is None
    stat.write_text("cpu0 10 0 10\n")
    assert threads.cpu_times({0}, stat) is None


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="reads Linux's /proc/stat")
def test_another_process_spinning_is_seen_as_busy():
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        assert threads.busy_cpus(0.3) >= 0.5
    finally:
        spinner.kill()
        spinner.wait(timeout=10)


def test_the_run_record_shows_the_threads(tmp_path, capsys):
    path = make_project(tmp_path)
    assert main(["train", str(path), "--quiet", "--json", "--epochs", "1", "--threads", "1"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["threads"] == 1 and "setting" in summary["thread_policy"]
    settings = json.loads((tmp_path / "circle.runs").glob("*/settings.json").__next__().read_text())
    assert settings["threads"] == 1 and settings["training"]["threads"] == 1


@pytest.mark.parametrize("cxx", [None, "no-such-compiler"])
def test_compile_without_a_cpp_compiler_says_so_in_one_line(tmp_path, capsys, monkeypatch, cxx):
    path = make_project(tmp_path)
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no c++, g++ or clang++ to be found
    if cxx is None:
        monkeypatch.delenv("CXX", raising=False)
    else:
        monkeypatch.setenv("CXX", cxx)
    code = main(["train", str(path), "--quiet", "--epochs", "1", "--device", "cpu", "--compile"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1
    assert "needs a C++ compiler" in err and "Fix:" in err and "Traceback" not in err


class Compiled(torch.nn.Module):
    """Stands in for what torch.compile returns (tests never compile): it wraps the objective, has no truth value
    (``bool()`` raises, as dynamo's OptimizedModule's ``len()`` does) and records the batch shapes it is called with."""

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner = inner
        self.shapes: list[tuple] = []

    def __len__(self) -> int:
        raise TypeError(f"{type(self.inner).__name__} does not support len()")

    def forward(self, **kwargs: torch.Tensor) -> dict:
        self.shapes.append(next(iter(kwargs.values())).shape)
        return self.inner(**kwargs)


def test_a_compiled_run_trains_with_its_compiling_steps_apart(tmp_path, capsys, monkeypatch):
    made: list[Compiled] = []
    monkeypatch.setattr(torch, "compile", lambda module: made.append(Compiled(module)) or made[-1])
    monkeypatch.setattr(threads, "check_compile", lambda device: None)
    path = make_project(tmp_path, batch_size=50)  # 160 examples, 112 of them for training: two batch shapes
    code = main(["train", str(path), "--quiet", "--json", "--epochs", "6", "--device", "cpu", "--compile"])
    out = capsys.readouterr().out
    assert code == 0, out
    summary = json.loads(out)
    shapes = {tuple(s) for s in made[0].shapes}
    assert len(shapes) == 2 and len(made[0].shapes) == summary["steps"] == 18  # every step through the compiled one
    losses = [row["train_loss"] for row in read_metrics(Path(summary["run"]))]
    assert len(losses) == 6 and losses[-1] < losses[0]
    # the steps that compiled (the first of each batch shape) are reported apart and left out of the pace; the
    # summary's seconds are rounded to 1 ms, so the pace is checked within that rounding
    compiling, seconds, samples = summary["compile_seconds"], summary["seconds"], summary["samples"]
    assert 0 <= compiling < seconds
    fastest, slowest = seconds - compiling - 0.0011, seconds - compiling + 0.0011
    assert samples / slowest <= summary["samples_per_second"] <= samples / max(fastest, 1e-6) + 0.1


def test_channels_last_is_chosen_for_2d_convolutions_on_the_cpu_and_the_setting_wins():
    conv = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten())
    dense = torch.nn.Sequential(torch.nn.Linear(4, 2))
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert threads.channels_last_policy("auto", cpu, conv)[0] is True
    assert threads.channels_last_policy("auto", cpu, dense) == (False, "auto: the network has no 2-D convolution")
    assert threads.channels_last_policy("auto", cuda, conv)[0] is False
    assert threads.channels_last_policy("on", cuda, dense) == (True, "set by the training setting channels_last")
    assert threads.channels_last_policy("off", cpu, conv)[0] is False


def conv_project(folder: Path) -> Path:
    """Lesson 6's network on 240 generated shapes of 32×32: a convolution network small enough for a test."""
    project = Project(
        document=graphs.keras_cnn(32, classes=3),
        dataset={"name": "shapes", "options": {"n": 240, "size": 32}},
        training={"optimizer": "adam", "lr": 0.005, "batch_size": 32, "epochs": 4, "seed": 0, "device": "cpu"},
    )
    folder.mkdir(parents=True, exist_ok=True)
    return save_project(project, folder / "shapes.gproj")


@pytest.mark.parametrize(("flag", "chosen"), [(None, True), ("off", False)])
def test_a_convolution_run_on_the_cpu_records_its_memory_order_and_learns(tmp_path, capsys, flag, chosen):
    path = conv_project(tmp_path)
    code, summary = train_cli(path, *(["--channels-last", flag] if flag else []), capsys=capsys)
    assert code == 0, summary
    why = summary["channels_last_policy"]
    assert summary["channels_last"] is chosen and why.startswith("auto" if chosen else "set")
    record = json.loads(Path(summary["run"], "settings.json").read_text())
    assert record["channels_last"] is chosen and record["training"]["channels_last"] == (flag or "auto")
    losses = [row["train_loss"] for row in read_metrics(Path(summary["run"]))]
    assert losses[-1] < losses[0]
    # the saved weights are the trained network's, whatever order it trained in: a fresh network in the default
    # order that loads them gives the run's last validation loss
    project = load_project(path)
    data = load_dataset(project.dataset, base_dir=path.parent)
    fit_inputs_to_dataset(project.document, data.info)
    compiled = compile_graph(project.document, seed=0)
    compiled.root.load_state_dict(load_file(Path(summary["run"], FINAL)))
    compiled.root.eval()
    with torch.no_grad():
        loss = compiled.objective(**bind(compiled, data.info).kwargs(data.val.X, data.val.y))["loss"]
    assert float(loss) == pytest.approx(summary["val"]["loss"], rel=1e-4)


def test_a_resumed_channels_last_run_is_the_straight_run_bit_for_bit(tmp_path, capsys):
    _, full = train_cli(conv_project(tmp_path / "a"), capsys=capsys)
    resumed = conv_project(tmp_path / "b")
    train_cli(resumed, "--epochs", "2", capsys=capsys)
    code, second = train_cli(resumed, "--resume", capsys=capsys)
    assert code == 0 and full["channels_last"] and second["channels_last"] and second["epochs"] == 4
    assert_same_run(second["run"], full["run"])  # weights, optimizer moments (stored in the plain order), RNG


def test_a_bad_channels_last_value_is_one_line_naming_the_choices(tmp_path, capsys):
    code = main(["train", str(make_project(tmp_path)), "--quiet", "--channels-last", "yes"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "Traceback" not in err
    assert "channels_last" in err and "auto, on, off" in err and "'yes'" in err
