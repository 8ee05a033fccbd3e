"""The examples gallery: every project in projects/ loads, checks, and trains to the target it states.

Each example's ``meta.target`` says what it reaches in how many epochs
(``{"metric": "val_accuracy", "op": ">=", "value": 0.95, "epochs": 10}``); these
tests train it headless for exactly those epochs, as ``graphedit train`` would,
and hold it to that. Lessons with a point beyond one number get a check of
their own (the perceptron's truth table, vanishing activations, the unigram
entropy). The files are written by tools/make_examples.py; a test keeps the two
in step. All of it runs in well under 5 minutes on 2 cores.
"""

from __future__ import annotations

import importlib
import operator
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from graphedit.compiler import compile_graph
from graphedit.compiler.report import summarize
from graphedit.model.project import Project, load_project, project_to_json
from graphedit.training.datasets import load_dataset
from graphedit.training.events import EpochEvent, ProbeEvent
from graphedit.training.session import run_project

REPO = Path(__file__).resolve().parents[1]
PROJECTS = REPO / "projects"
COPIES = {"keras_cnn.gproj": "06_keras_cnn.gproj", "vae.gproj": "13_vae.gproj"}  # kept for `make run` and old tests
EXAMPLES = [p for p in sorted(PROJECTS.glob("*.gproj")) if p.name not in COPIES]
LIVE_VIEWS = {
    "curves",
    "activations",
    "gradients",
    "regions",
    "feature_maps",
    "filters",
    "predictions",
    "reconstructions",
    "latent",
    "confusion",
    "text",
}  # the names LiveViewsDock.views() gives
INSIDE_VIEWS = {"backprop", "why", "adversarial", "receptive", "embeddings", "landscape"}  # InsideDock.views()
OPS = {">=": operator.ge, "<=": operator.le}


# what a probe must carry for each live view to have something to draw ("curves" draws the epochs)
VIEW_DATA = {
    "regions": "regions",
    "activations": "activations",
    "gradients": "gradients",
    "feature_maps": "feature_maps",
    "filters": "filters",
    "predictions": "predictions",
    "reconstructions": "reconstructions",
    "text": "samples",
}


class Run:
    """A training run, as an observer: the trainer (its model, data), every epoch's event, the probes, the summary."""

    def __init__(self) -> None:
        self.trainer: Any = None
        self.epochs: list[EpochEvent] = []
        self.probes: list[dict[str, Any]] = []
        self.summary: dict[str, Any] = {}

    def attach(self, trainer: Any) -> None:
        self.trainer = trainer

    def __call__(self, event: Any) -> None:
        if isinstance(event, EpochEvent):
            self.epochs.append(event)
        elif isinstance(event, ProbeEvent) and event.payload.get("kind") == "probe":
            self.probes.append(event.payload)

    def metric(self, name: str) -> float:
        split, _, key = name.partition("_")
        values = self.summary[split]
        assert values is not None and key in values, f"the run has no {name}; it has {split}: {values}"
        return values[key]


def train(project: Project, epochs: int, run_dir: Path) -> Run:
    """Train in-process through ``run_project``, the composition ``graphedit train`` and the editor use, on the CPU."""
    run = Run()
    overrides = {"epochs": epochs, "device": "cpu"}
    run.summary = run_project(project_to_json(project), project.path, overrides, [run], run_dir=run_dir)
    return run


@pytest.fixture(scope="module", autouse=True)
def one_thread_per_run():
    # Small networks gain nothing from two threads, and with `make test` (two workers on two cores)
    # two threads each would fight over the cores; one keeps the budget true however the tests run.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ----------------------------------------------------------- per-lesson checks
def nand_truth_table(run: Run) -> None:
    inputs = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    with torch.no_grad():
        out = run.trainer.compiled.model.eval()(inputs)
    assert out.reshape(-1).tolist() == [1.0, 1.0, 1.0, 0.0]
    weights = run.trainer.root.weights
    assert (
        bool((weights.weight.detach() < 0).all()) and float(weights.bias.detach()) > 0
    )  # the notes' (−2, −2), 3 up to scale


def below_unigram_entropy(run: Run) -> None:
    targets = run.trainer.data.train.y.numpy()
    freq = np.bincount(targets) / len(targets)
    freq = freq[freq > 0]
    entropy = float(-(freq * np.log(freq)).sum())
    assert run.metric("val_loss") < entropy - 0.3, (run.metric("val_loss"), entropy)


def loss_falls(run: Run) -> None:
    first, last = run.epochs[0].val["loss"], run.epochs[-1].val["loss"]
    assert last < first * 0.9, (first, last)


def beats_background(run: Run) -> None:
    # predicting "background" everywhere already gets most pixels right: the U-Net must do far better
    y = run.trainer.data.val.y
    background = float((y == 0).float().mean())
    assert run.metric("val_accuracy") > background + 0.5 * (1 - background), background


def early_stopping_armed(run: Run) -> None:
    assert run.trainer.settings.early_stopping["enabled"]
    assert run.summary["best_epoch"] >= 1 and run.summary["restored_best"]


LESSON_CHECKS = {
    "03_perceptron_nand": nand_truth_table,
    "10_regularisation": early_stopping_armed,
    "12_unet_segmentation": beats_background,
    "13_vae": loss_falls,
    "14_char_model": below_unigram_entropy,
}


# ------------------------------------------------------------------- the tests
@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_trains_to_its_target(path, tmp_path):
    project = load_project(path)
    meta = project.meta
    assert meta["title"] and meta["description"] and meta["watch"]
    assert 2 <= len(re.findall(r"[.!?](\s|$)", meta["watch"])) <= 5, "watch: a few sentences on what to look at"
    assert isinstance(meta["lesson"], int) and 1 <= meta["lesson"] <= 20
    assert project.view["live_view"] in LIVE_VIEWS | INSIDE_VIEWS
    errors = [f"{r.node_id}: {r.error}" for r in summarize(project.document) if r.error]
    assert not errors  # what `graphedit check` reports
    target = meta["target"]
    run = train(project, target["epochs"], tmp_path / "run")
    assert run.summary["status"] in ("finished", "early_stopped")
    value = run.metric(target["metric"])
    assert OPS[target["op"]](value, target["value"]), (
        f"{path.name}: {target['metric']} = {value:.4f} after {run.summary['epochs']} epochs; "
        f"the example promises {target['op']} {target['value']}"
    )
    view = project.view["live_view"]
    if view in VIEW_DATA:  # the live view the example opens with has something to show
        assert any(p.get(VIEW_DATA[view]) for p in run.probes), f"no probe carried {VIEW_DATA[view]} for {view}"
    check = LESSON_CHECKS.get(path.stem)
    if check is not None:
        check(run)


def test_tiny_init_makes_tanh_activations_vanish():
    """Lesson 4: the last tanh layer's spread with ±0.01 weights is a vanishing fraction of Xavier's."""

    def last_layer_std(name: str) -> float:
        project = load_project(PROJECTS / f"{name}.gproj")
        data = load_dataset(project.dataset)
        compiled = compile_graph(project.document, seed=0)
        with torch.no_grad():
            taps = compiled.taps.eval()(pixels=data.train.X[:256], label=data.train.y[:256])
        layers = sorted((n for n in taps if n.startswith("tanh")), key=lambda n: int(n[4:]))
        assert len(layers) == 10
        return float(taps[layers[-1]].std())

    small, xavier = last_layer_std("04a_tanh_small_init"), last_layer_std("04b_tanh_xavier")
    assert xavier > 0.05 and small < xavier * 1e-4, (small, xavier)


def test_every_lesson_has_an_example_and_copies_match():
    lessons = {load_project(p).meta["lesson"] for p in EXAMPLES}
    assert lessons == set(range(1, 21))
    for copy, original in COPIES.items():
        assert (PROJECTS / copy).read_bytes() == (PROJECTS / original).read_bytes(), "rerun tools/make_examples.py"


@pytest.mark.slow
def test_generator_writes_the_files_as_they_are(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "tools"))
    tools = (
        "make_examples",
        "examples_depth",
        "examples_images",
        "examples_generative",
        "examples_multi",
        "examples_transfer",
    )
    for name in (*tools, "example_builder"):
        sys.modules.pop(name, None)
    make_examples = importlib.import_module("make_examples")
    monkeypatch.setattr(make_examples, "PROJECTS", tmp_path)
    assert make_examples.main([]) == 0
    written = sorted(p.name for p in tmp_path.glob("*.gproj"))
    assert written == sorted(p.name for p in PROJECTS.glob("*.gproj"))
    stale = [n for n in written if (tmp_path / n).read_bytes() != (PROJECTS / n).read_bytes()]
    assert not stale, f"projects/{stale[0]} differs from what tools/make_examples.py writes: rerun it"
