"""Live-view tests: train headless in-process and replay the events, in the worker's wire format, as a TrainingSession
would emit them."""

from __future__ import annotations

import math
from typing import Any

from graphkit import build, chain
from graphs import classifier
from PySide6.QtCore import QObject, Signal

from graphedit.compiler import compile_graph
from graphedit.training.binding import fit_inputs_to_dataset
from graphedit.training.datasets import load_dataset
from graphedit.training.events import StartedEvent, to_message
from graphedit.training.trainer import Trainer


class FakeSession(QObject):
    """The signals of graphedit.ui.runner.process.TrainingSession, emitted by :func:`replay`."""

    started = Signal(dict)
    step = Signal(dict)
    epoch = Signal(dict)
    probe = Signal(dict)
    finished = Signal(dict)
    failed = Signal(str, str)


def train_events(doc, spec: dict, settings: dict, seed: int = 0) -> list[dict[str, Any]]:
    """Train ``doc`` on ``spec`` with probes on; return the session's events, "started" first."""
    data = load_dataset(spec)
    fit_inputs_to_dataset(doc, data.info)
    compiled = compile_graph(doc, seed=seed)
    events: list[dict[str, Any]] = []
    full = {"device": "cpu", "seed": seed, "log_every": 2, **settings}
    trainer = Trainer(compiled, data, full, [lambda e: events.append(to_message(e))], probes=True)
    steps = math.ceil(len(data.train) / trainer.settings.batch_size)
    started = to_message(StartedEvent(data.info.to_json(), steps, trainer.settings.epochs, "", list(compiled.order)))
    trainer.fit()
    return [started, *events]


def replay(session: FakeSession, events: list[dict[str, Any]]) -> None:
    for event in events:
        kind = event["type"]
        if kind == "failed":
            session.failed.emit(event["message"], event["node_id"] or "")
        else:
            getattr(session, kind).emit(event)


def conv_autoencoder(size: int = 8):
    """Digits → Conv 8 → ReLU → MaxPool → Conv 4 → ReLU → Upsample → Conv 8 → ReLU → Conv 1; MSE to the input."""
    nodes = [
        ("input1", "Input", {"shape": [1, size, size]}),
        ("enc1", "Conv2d", {"filters": 8, "padding": "same", "init": "he"}),
        ("relu1", "ReLU", {}),
        ("pool1", "MaxPool2d", {}),
        ("enc2", "Conv2d", {"filters": 4, "padding": "same", "init": "he"}),
        ("relu2", "ReLU", {}),
        ("up1", "Upsample", {}),
        ("dec1", "Conv2d", {"filters": 8, "padding": "same", "init": "he"}),
        ("relu3", "ReLU", {}),
        ("dec2", "Conv2d", {"filters": 1, "padding": "same", "init": "xavier"}),
        ("output1", "Output", {}),
        ("loss1", "MSE", {}),
    ]
    wires = [*chain("input1", "enc1", "relu1", "pool1", "enc2", "relu2", "up1", "dec1", "relu3", "dec2", "output1")]
    return build(nodes, [*wires, "dec2 -> loss1.pred", "input1 -> loss1.target"])


def lenet(size: int = 8, classes: int = 10):
    """Lesson 7: Conv 8 3×3 → ReLU → MaxPool → Conv 16 3×3 → ReLU → MaxPool → Flatten → Dense classes."""
    nodes = [
        ("input1", "Input", {"shape": [1, size, size]}),
        ("conv1", "Conv2d", {"filters": 8, "kernel": 3, "padding": "same", "init": "he"}),
        ("relu1", "ReLU", {}),
        ("pool1", "MaxPool2d", {}),
        ("conv2", "Conv2d", {"filters": 16, "kernel": 3, "padding": "same", "init": "he"}),
        ("relu2", "ReLU", {}),
        ("pool2", "MaxPool2d", {}),
        ("flatten1", "Flatten", {}),
        ("out", "Dense", {"units": classes}),
    ]
    return classifier(nodes)


def char_model(vocab: int, window: int = 8):
    """Lesson 14: Embedding → GRU → Dense vocab; softmax cross-entropy on the next character."""
    nodes = [
        ("input1", "Input", {"shape": [window], "dtype": "int64"}),
        ("embed", "Embedding", {"vocab": vocab, "dim": 16}),
        ("gru", "GRU", {"units": 48}),
        ("out", "Dense", {"units": vocab}),
        ("output1", "Output", {}),
        ("target1", "Target", {"shape": [1], "dtype": "int64"}),
        ("loss1", "SoftmaxCrossEntropy", {}),
    ]
    wires = [*chain("input1", "embed", "gru", "out", "output1"), "out -> loss1.pred", "target1 -> loss1.target"]
    return build(nodes, wires)
