"""The trainer: learning on small problems, determinism, early stopping, failures that name the node."""

from __future__ import annotations

import math

import graphs
import pytest
import torch
from graphkit import build, chain

from graphedit.compiler import compile_graph
from graphedit.errors import TrainingError
from graphedit.training.binding import fit_inputs_to_dataset
from graphedit.training.datasets import StreamedSplit, load_dataset
from graphedit.training.events import EpochEvent, FailedEvent, FinishedEvent, ProbeEvent, StepEvent
from graphedit.training.payloads import ActivationStats, ConfusionPayload, GradientStats, ProbePayload, RegionGrid
from graphedit.training.trainer import Trainer


def train(doc, spec, settings, observers=(), probes=False, seed=0):
    data = load_dataset(spec)
    fit_inputs_to_dataset(doc, data.info)
    compiled = compile_graph(doc, seed=seed)
    trainer = Trainer(compiled, data, {"device": "cpu", "seed": seed, **settings}, list(observers), probes=probes)
    return trainer, trainer.fit()


@pytest.mark.slow
def test_relu_mlp_learns_circle():
    _, summary = train(graphs.mlp(hidden=(16,)), {"name": "circle", "options": {"n": 400}}, {"epochs": 25, "lr": 0.02})
    assert summary["status"] == "finished"
    assert summary["val"]["accuracy1"] >= 0.95


@pytest.mark.slow
def test_cnn_learns_digits_in_three_epochs():
    spec = {"name": "digits", "options": {"as_images": True}}
    _, summary = train(graphs.cnn((1, 8, 8)), spec, {"epochs": 3, "lr": 0.01, "batch_size": 32})
    assert summary["epochs"] == 3
    assert summary["val"]["accuracy1"] >= 0.90


def test_linear_regression_mse_falls_below_noise_bound():
    # y = 2x + 1 + N(0, 0.5²): the best possible MSE is the noise variance 0.25
    spec = {"name": "regression1d", "options": {"n": 200, "noise": 0.5}}
    _, summary = train(graphs.regression_mlp(1), spec, {"epochs": 40, "lr": 0.05, "optimizer": "sgd"})
    assert summary["val"]["loss"] < 0.4


def test_seeded_runs_are_identical():
    def losses():
        seen = []
        doc = graphs.mlp(hidden=(8,))
        doc.add_node("Dropout", {"p": 0.2}, node_id="drop")  # randomness in the forward pass too
        doc.connect("act1", "y", "drop", "x")
        doc.connect("drop", "y", "out", "x")
        train(doc, {"name": "xor", "options": {"n": 200}}, {"epochs": 3, "log_every": 1}, [seen.append], seed=7)
        return [e.loss for e in seen if isinstance(e, StepEvent)]

    first, second = losses(), losses()
    assert len(first) > 10 and first == second


def test_early_stopping_restores_best_weights():
    events = []
    spec = {"name": "xor", "options": {"n": 60, "noise": 0.5}, "split": {"val": 0.5}}
    settings = {"epochs": 60, "lr": 0.05, "batch_size": 8, "early_stopping": {"enabled": True, "patience": 3}}
    trainer, summary = train(graphs.mlp(hidden=(64, 64)), spec, settings, [events.append])
    epochs = [e for e in events if isinstance(e, EpochEvent)]
    best = min(epochs, key=lambda e: e.val["loss"])
    assert summary["status"] == "early_stopped" and summary["epochs"] < 60
    assert summary["best_epoch"] == best.epoch and summary["restored_best"]
    assert epochs[-1].epoch == best.epoch + 3
    assert trainer.evaluate(trainer.val_split)["loss"] == pytest.approx(best.val["loss"], rel=1e-5)


def test_nan_names_the_node():
    events = []
    data = load_dataset({"name": "circle", "options": {"n": 100}})
    compiled = compile_graph(graphs.mlp(hidden=(8, 8)), seed=0)
    with torch.no_grad():
        compiled.root.dense2.weight.fill_(math.inf)
    trainer = Trainer(compiled, data, {"device": "cpu", "epochs": 2}, [events.append], probes=False)
    with pytest.raises(TrainingError, match="NaN or infinite at node 'dense2'.*Fix") as info:
        trainer.fit()
    assert info.value.node_id == "dense2"
    assert isinstance(events[-1], FailedEvent) and events[-1].node_id == "dense2"


def test_input_shape_mismatch_names_the_input():
    data = load_dataset({"name": "iris"})
    compiled = compile_graph(graphs.mlp(in_shape=(2,), classes=3), seed=0)
    with pytest.raises(TrainingError, match=r"node 'input1'.*\[2\].*\[4\].*Fix: set its shape to \[4\]"):
        Trainer(compiled, data, {"device": "cpu"})


def test_fit_inputs_to_dataset_sets_shapes():
    doc = graphs.mlp(in_shape=(2,), classes=1, loss="MSE", accuracy=False, target_dtype="float32")
    info = load_dataset({"name": "wine"}).info
    assert fit_inputs_to_dataset(doc, info) == ["input1", "target1"]
    assert doc.params("input1")["shape"] == (13,) and doc.params("target1") == {"shape": (1,), "dtype": "int64"}


def test_perceptron_rule_learns_nand():
    spec = {"name": "logic", "options": {"gate": "nand"}}
    settings = {"optimizer": "perceptron", "lr": 0.5, "batch_size": 1, "epochs": 20}
    trainer, summary = train(graphs.perceptron(), spec, settings)
    assert summary["train"]["accuracy1"] == 1.0
    X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    assert trainer.compiled.model(X).reshape(-1).tolist() == [1.0, 1.0, 1.0, 0.0]


@pytest.mark.parametrize(
    "settings",
    [
        {"optimizer": "sgd", "lr": 0.1, "nesterov": True, "schedule": "step", "clip_grad": 1.0},
        {"optimizer": "adamw", "lr": 0.01, "weight_decay": 0.01, "schedule": "cosine"},
        {"optimizer": "rmsprop", "lr": 0.003, "momentum": 0.0},
    ],
    ids=["sgd-nesterov-step-clip", "adamw-cosine", "rmsprop"],
)
def test_optimizers_and_schedules_reduce_the_loss(settings):
    events = []
    train(
        graphs.mlp(hidden=(16,)), {"name": "gauss", "options": {"n": 200}}, {"epochs": 6, **settings}, [events.append]
    )
    epochs = [e for e in events if isinstance(e, EpochEvent)]
    assert epochs[-1].train["loss"] < epochs[0].train["loss"]
    if settings.get("schedule") == "cosine":
        assert epochs[-1].lr < epochs[0].lr


@pytest.mark.slow
def test_streamed_split_trains_like_in_memory():
    data = load_dataset({"name": "circle", "options": {"n": 200}})
    streamed = torch.utils.data.TensorDataset(data.train.X, data.train.y)
    data.train = StreamedSplit(streamed)
    compiled = compile_graph(graphs.mlp(hidden=(16,)), seed=0)
    summary = Trainer(compiled, data, {"device": "cpu", "epochs": 10, "lr": 0.02}, probes=False).fit()
    assert summary["val"]["accuracy1"] > 0.8


@pytest.mark.slow
def test_autoencoder_on_reconstruction_data():
    doc = build(
        [
            ("input1", "Input", {"shape": [64]}),
            ("enc", "Dense", {"units": 8}),
            ("act", "Tanh", {}),
            ("dec", "Dense", {"units": 64}),
            ("loss1", "MSE", {}),
        ],
        [*chain("input1", "enc", "act", "dec"), "dec -> loss1.pred", "input1 -> loss1.target"],
    )
    events = []
    train(doc, {"name": "digits", "options": {"task": "reconstruct"}}, {"epochs": 4, "lr": 0.01}, [events.append])
    epochs = [e for e in events if isinstance(e, EpochEvent)]
    assert epochs[-1].val["loss"] < 0.8 * epochs[0].val["loss"]


def test_probes_report_activations_gradients_and_regions():
    events = []
    settings = {"epochs": 2, "probe_every": 5}
    train(graphs.mlp(hidden=(4,)), {"name": "circle", "options": {"n": 100}}, settings, [events.append], probes=True)
    probes = [e.payload for e in events if isinstance(e, ProbeEvent) and e.payload["kind"] == "probe"]
    assert [p["step"] for p in probes] == [1, 6]
    first = probes[0]
    act = first["activations"]["act1"]
    assert set(act) >= {"mean", "std", "zeros", "hist", "edges"} and 0.0 <= act["zeros"] <= 1.0
    assert first["gradients"]["dense1"]["grad_norm"] > 0
    maps = first["regions"]["maps"]
    assert maps["dense1"].shape == (4, 48, 48) and maps["out"].shape == (2, 48, 48)
    confusion = [e.payload for e in events if isinstance(e, ProbeEvent) and e.payload["kind"] == "confusion"]
    assert len(confusion) == 2 and confusion[-1]["matrix"].sum() == 20
    # the payloads are what graphedit/training/payloads.py declares, which the live views read
    assert (
        fits(first, ProbePayload)
        and fits(first["regions"]["grid"], RegionGrid)
        and fits(confusion[0], ConfusionPayload)
    )
    assert fits(act, ActivationStats) and fits(first["gradients"]["dense1"], GradientStats)


def fits(value: dict, typed: type) -> bool:
    """``value`` has every key the TypedDict requires and none it does not declare."""
    return typed.__required_keys__ <= set(value) <= typed.__required_keys__ | typed.__optional_keys__


def test_a_last_probe_shows_the_trained_network():
    events = []
    settings = {"epochs": 2, "probe_every": 4}  # 6 steps: periodic probes at 1 and 5, then one at the end
    _, summary = train(
        graphs.mlp(hidden=(4,)), {"name": "circle", "options": {"n": 100}}, settings, [events.append], probes=True
    )
    probes = [e.payload for e in events if isinstance(e, ProbeEvent) and e.payload["kind"] == "probe"]
    assert [p["step"] for p in probes] == [1, 5, 6]
    assert isinstance(events[-1], FinishedEvent)
    # the two periodic probes' time (and the confusion matrices'), inside the run's seconds; the last came after them
    assert sum(p["seconds"] for p in probes[:2]) - 1e-3 <= summary["probe_seconds"] < summary["seconds"]
    assert "probe_seconds" not in train(graphs.mlp(hidden=(4,)), {"name": "circle", "options": {"n": 100}}, {})[1]


@pytest.mark.slow
def test_probes_show_feature_maps_and_filters_of_convolutions():
    events = []
    spec = {"name": "digits", "options": {"as_images": True}, "split": {"val": 0.1}}
    train(graphs.cnn((1, 8, 8), filters=4), spec, {"epochs": 1, "probe_every": 1000}, [events.append], probes=True)
    probe = next(e.payload for e in events if isinstance(e, ProbeEvent) and e.payload["kind"] == "probe")
    assert probe["feature_maps"]["conv1"].shape == (4, 8, 8)
    assert probe["filters"]["conv1"].shape == (4, 1, 3, 3)
    assert "regions" not in probe


def test_interrupt_stops_cleanly():
    events = []

    def interrupt(event):
        events.append(event)
        if isinstance(event, EpochEvent) and event.epoch == 2:
            raise KeyboardInterrupt

    _, summary = train(graphs.mlp(), {"name": "circle", "options": {"n": 100}}, {"epochs": 5}, [interrupt])
    assert summary["status"] == "interrupted" and summary["epochs"] == 2
    assert isinstance(events[-1], FinishedEvent)
