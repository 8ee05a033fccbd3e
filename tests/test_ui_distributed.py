"""The editor trains over several local processes (DistributedDataParallel) as it trains in one.

On a machine without GPUs the same path runs over 2 CPU processes with gloo (the developer setting
``GRAPHEDIT_CPU_PROCESSES``); with ``torch.cuda`` pretending to see 2 GPUs, the device choice offers them all
and Run builds the NCCL launch.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
import torch
from _window_helpers import make_window, screenshot
from PySide6.QtTest import QTest
from test_ui_training import Seen, click

from graphedit.training.distributed import CPU_PROCESSES
from graphedit.training.runs import FINAL
from graphedit.training.session import run_project
from graphedit.ui.runner.ranks import launcher_main
from graphedit.ui.runner.widgets import available_devices

pytestmark = pytest.mark.gui
PROJECTS = Path(__file__).resolve().parent.parent / "projects"
TIMEOUT_MS = 100_000  # a launcher and two ranks each import torch; the machine may be busy
TRAINING = {"epochs": 3, "batch_size": 40, "seed": 0, "device": "cpu", "threads": 1}


def _project(folder: Path, **training) -> Path:
    """residual_mlp (Dense, ReLU and Add: no BatchNorm, no Dropout) on 400 training points: batches of 40 split in 2."""
    data = json.loads((PROJECTS / "residual_mlp.gproj").read_text(encoding="utf-8"))
    data["training"].update(TRAINING, **training)
    path = folder / "net.gproj"
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


@pytest.fixture
def two_cpu_processes(monkeypatch):
    monkeypatch.setenv(CPU_PROCESSES, "2")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # one thread per rank


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_an_editor_run_over_two_processes_trains_what_one_process_trains(qtbot, tmp_path, two_cpu_processes):
    path = _project(tmp_path)
    window = make_window(qtbot, tmp_path)
    assert window.files.open(path, ask=False)
    session, bar = window.session, window.training.toolbar
    seen = Seen(session)
    click(bar, bar.run)
    assert session.launch == {"processes": 2, "backend": "gloo"}
    qtbot.waitUntil(lambda: session.state == "idle", timeout=TIMEOUT_MS)
    assert not seen.failed, seen.failed
    summary = seen.finished[0]["summary"]
    assert summary["status"] == "finished" and summary["processes"] == 2 and summary["samples"] == 3 * 400
    assert seen.started and seen.started[0]["steps_per_epoch"] == 10
    assert [e["epoch"] for e in seen.epochs] == [1, 2, 3] and seen.steps and seen.probes  # rank 0's events
    assert seen.progress[-1][0] == 1.0
    # the editor's live views drew them, the Runs panel lists the run once, the project took its weights
    window.live.show_view("curves")
    window.live.flush()
    curves = window.live.view("curves")
    assert any(item.xData is not None and len(item.xData) for item in curves.loss_plot.listDataItems())
    runs = list((tmp_path / "net.runs").iterdir())
    assert len(runs) == 1, "rank 0 alone records the run"
    tree = window.training.runs_dock.tree
    assert tree.topLevelItemCount() == 1 and tree.topLevelItem(0).text(1) == "finished"
    assert [r.device for r in window.training.runs_dock.records.values()] == ["cpu × 2"]  # in the Runs panel
    assert window.files.project.weights["path"].startswith("net.runs/")

    # one process, the same global batch: the same losses and weights
    one = run_project(json.loads(path.read_text()), None, {}, run_dir=tmp_path / "one", probes=False)
    assert summary["train"]["loss"] == pytest.approx(one["train"]["loss"], abs=1e-4)
    assert summary["val"]["loss"] == pytest.approx(one["val"]["loss"], abs=1e-4)
    from safetensors.torch import load_file

    a, b = load_file(str(tmp_path / "one" / FINAL)), load_file(str(runs[0] / FINAL))
    assert a.keys() == b.keys() and all((a[k] - b[k]).abs().max() < 1e-4 for k in a)


def _ranks(launcher: int) -> list[int]:
    """The launcher's rank processes, oldest first (its multiprocessing resource tracker left out)."""
    found = []
    for task in Path(f"/proc/{launcher}/task").iterdir():
        for pid in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            if b"spawn_main" in cmdline:
                start = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
                found.append((start, int(pid)))
    return [pid for _, pid in sorted(found)]


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds the ranks through /proc")
def test_a_rank_that_dies_ends_the_run_with_one_line_and_the_project_intact(qtbot, tmp_path, two_cpu_processes):
    path = _project(tmp_path, epochs=400)
    before = path.read_bytes()
    window = make_window(qtbot, tmp_path)
    assert window.files.open(path, ask=False)
    session, controller = window.session, window.controller
    graph = controller.document.to_json()
    seen = Seen(session)
    window.training.run()
    qtbot.waitUntil(lambda: bool(seen.epochs), timeout=TIMEOUT_MS)
    ranks = _ranks(session.process.pid)
    assert len(ranks) == 2
    os.kill(ranks[1], signal.SIGKILL)
    qtbot.waitUntil(lambda: session.state == "idle", timeout=30_000)
    assert len(seen.failed) == 1 and not seen.finished
    message, node = seen.failed[0]
    assert message.startswith("distributed training failed: rank 1 of 2 stopped unexpectedly (exit code -9, killed")
    assert "\n" not in message and node == ""
    assert "Training failed" in window.training.banner.text()
    assert controller.document.to_json() == graph and path.read_bytes() == before
    assert window.training.toolbar.run.isEnabled()
    (run,) = (tmp_path / "net.runs").iterdir()
    assert json.loads((run / "summary.json").read_text())["message"] == message  # the record says it too
    qtbot.waitUntil(lambda: not Path(f"/proc/{ranks[0]}").exists() or _zombie(ranks[0]), timeout=10_000)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_pause_resume_and_stop_reach_every_rank(qtbot, tmp_path, two_cpu_processes):
    window = make_window(qtbot, tmp_path)
    assert window.files.open(_project(tmp_path, epochs=400), ask=False)
    session, bar = window.session, window.training.toolbar
    seen = Seen(session)
    click(bar, bar.run)
    click(bar, bar.pause)  # before the first step: every rank waits after it
    qtbot.waitUntil(lambda: bool(seen.started), timeout=TIMEOUT_MS)
    QTest.qWait(500)
    assert not seen.epochs and session.state == "paused"
    click(bar, bar.resume)
    qtbot.waitUntil(lambda: len(seen.epochs) >= 2, timeout=30_000)
    click(bar, bar.stop)
    qtbot.waitUntil(lambda: session.state == "idle", timeout=30_000)
    summary = seen.finished[0]["summary"]
    assert summary["status"] == "stopped" and summary["processes"] == 2 and 2 <= summary["epochs"] < 400
    assert not seen.failed and seen.states == ["running", "paused", "running", "stopping", "idle"]
    tree = window.training.runs_dock.tree
    assert tree.topLevelItemCount() == 1 and tree.topLevelItem(0).text(1) == "stopped"
    assert window.files.project.weights["path"].startswith("net.runs/")  # the stopped run's weights


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds the ranks through /proc")
def test_a_second_stop_ends_the_launcher_and_its_ranks(qtbot, tmp_path, two_cpu_processes):
    window = make_window(qtbot, tmp_path)
    assert window.files.open(_project(tmp_path, epochs=400), ask=False)
    session = window.session
    seen = Seen(session)
    window.training.run()
    qtbot.waitUntil(lambda: bool(seen.epochs), timeout=TIMEOUT_MS)
    ranks = _ranks(session.process.pid)
    session.stop()
    session.stop()  # the second one kills the launcher at once
    qtbot.waitUntil(lambda: session.state == "idle", timeout=30_000)
    assert seen.finished[0]["summary"]["killed"] and not seen.failed
    qtbot.waitUntil(lambda: all(_zombie(pid) for pid in ranks), timeout=10_000)  # no rank outlives its launcher


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.fixture
def two_gpus(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: "NVIDIA H200")
    available_devices.cache_clear()
    yield
    available_devices.cache_clear()


class Launched:
    """Stands in for the started process: records what Run would start."""

    pid, exitcode = 0, 0

    def __init__(self, target, args, daemon):
        self.target, self.args, self.daemon = target, args, daemon

    def is_alive(self):
        return False

    def kill(self):
        pass

    def join(self, timeout=None):
        pass


def test_with_several_gpus_the_device_choice_offers_all_of_them_and_run_launches_one_rank_each(
    qtbot, tmp_path, two_gpus, monkeypatch
):
    window = make_window(qtbot, tmp_path)
    assert window.files.open(_project(tmp_path, device="auto"), ask=False)
    dock = window.training.settings_dock
    dock.show()
    dock.raise_()
    device = dock.editors["device"]
    values = [device.itemData(i) for i in range(device.count())]
    assert values == ["auto", "cpu", "cuda", "cuda:1", "cuda:all"]
    index = values.index("cuda:all")
    assert device.itemText(index) == "all 2 GPUs — one process each"
    device.setCurrentIndex(index)
    device.activated.emit(index)
    assert window.files.project.training["device"] == "cuda:all"  # a value of the one device setting
    assert dock.run_form.isRowVisible(dock.fields.row(dock.editors["amp"]))  # mixed precision applies on GPUs
    window.resize(1280, 720)
    QTest.qWait(50)
    dock.widget().ensureWidgetVisible(device)
    assert (window.width(), window.height()) == (1280, 720)
    screenshot(window, "training_all_gpus.png")
    window.controller.undo_stack.undo()
    assert window.files.project.training["device"] == "auto" and device.currentData() == "auto"
    window.controller.undo_stack.redo()
    assert device.currentData() == "cuda:all"

    launched = []

    def spawn(ctx, target, args, daemon):
        launched.append(Launched(target, args, daemon))
        return launched[-1]

    monkeypatch.setattr(window.session, "_spawn", spawn)
    click(window.training.toolbar, window.training.toolbar.run)
    (process,) = launched
    assert process.target is launcher_main and not process.daemon  # the launcher starts the ranks
    assert process.args[-2:] == (2, "nccl") and window.session.launch == {"processes": 2, "backend": "nccl"}
    assert process.args[2]["training"]["device"] == "cuda:all"  # each rank trains on its own GPU
    window.session.shutdown()
    QTest.qWait(10)


def test_a_project_saved_with_all_gpus_round_trips_and_refuses_clearly_without_cuda(tmp_path):
    import torch

    from graphedit.errors import TrainingError
    from graphedit.model.project import load_project, save_project
    from graphedit.training.distributed import Distributed, local_processes
    from graphedit.training.settings import TrainSettings

    project = load_project(_project(tmp_path, device="cuda:all"))
    again = load_project(save_project(project, tmp_path / "again.gproj"))
    assert again.training["device"] == "cuda:all" and TrainSettings.from_dict(again.training).device == "cuda:all"
    assert Distributed(1, 2, 1).device("cpu") == "cpu"
    assert local_processes("auto") == (1, "")
    if torch.cuda.is_available():
        return
    with pytest.raises(TrainingError, match="cuda:all.*CUDA is not available"):
        local_processes("cuda:all")


def test_the_developer_setting_trains_a_cpu_run_over_several_processes(monkeypatch):
    from graphedit.training.distributed import local_processes

    monkeypatch.setenv(CPU_PROCESSES, "3")
    assert local_processes("cpu") == (3, "gloo") and local_processes("auto") == (1, "")
    monkeypatch.delenv(CPU_PROCESSES)
    assert local_processes("cpu") == (1, "gloo")


@pytest.mark.skipif(torch.cuda.is_available(), reason="refuses only where CUDA is missing")
def test_a_project_on_all_gpus_opened_without_cuda_says_so_in_one_line(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    assert window.files.open(_project(tmp_path, device="cuda:all"), ask=False)
    device = window.training.settings_dock.editors["device"]
    assert device.currentData() == "cuda:all" and device.currentText() == "cuda:all (not available here)"
    window.training.run()
    assert window.session.state == "idle" and window.session.process is None
    assert "device 'cuda:all' was asked for but CUDA is not available" in window.training.banner.text()
    assert window.files.project.training["device"] == "cuda:all"  # kept for the machine that has the GPUs
