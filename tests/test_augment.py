"""Augmentation: flips, shifts, rotations and noise on whole training batches, never on validation data."""

from __future__ import annotations

import graphs
import pytest
import torch

from graphedit.compiler import compile_graph
from graphedit.training import augment as augment_module
from graphedit.training.augment import Augmenter
from graphedit.training.datasets import DatasetError, load_dataset
from graphedit.training.trainer import Trainer


def test_flips_mirror_each_image_exactly_or_leave_it():
    X = torch.randn(64, 2, 5, 7)
    out = Augmenter({"flip": "horizontal"}, seed=0)(X)
    same = (out == X).flatten(1).all(1)
    mirrored = (out == X.flip(-1)).flatten(1).all(1)
    assert bool((same | mirrored).all()) and 10 < int(mirrored.sum()) < 54
    both = Augmenter({"flip": "both"}, seed=0)(X)
    assert any(torch.equal(both[i], X[i].flip(-2)) or torch.equal(both[i], X[i].flip(-1, -2)) for i in range(64))


def test_shifts_move_a_dot_by_at_most_the_limit():
    X = torch.zeros(200, 1, 15, 15)
    X[:, 0, 7, 7] = 1.0
    out = Augmenter({"shift": 2.0}, seed=1)(X)
    grid = torch.arange(15.0)
    mass = out.sum((1, 2, 3))
    cy = (out.sum(3)[:, 0] * grid).sum(1) / mass
    cx = (out.sum(2)[:, 0] * grid).sum(1) / mass
    assert torch.allclose(mass, torch.ones(200), atol=1e-4)  # moved, not lost (bilinear spreads it)
    assert float((cx - 7).abs().max()) <= 2.0 + 1e-4 and float((cy - 7).abs().max()) <= 2.0 + 1e-4
    assert float((cx - 7).abs().max()) > 1.0 and float((cx - 7).std()) > 0.5  # each image its own shift


def test_rotation_turns_a_bar_and_noise_has_its_deviation():
    X = torch.zeros(100, 1, 21, 21)
    X[:, 0, 10, 3:18] = 1.0  # a horizontal bar through the centre
    out = Augmenter({"rotate": 30.0}, seed=2)(X)
    vertical_spread = (out.sum(3)[:, 0] > 0.05).sum(1).float()
    assert float(vertical_spread.max()) >= 6  # tilted bars cover several rows
    assert float(out[:, 0, 10, 10].min()) > 0.9  # the centre stays put
    noisy = Augmenter({"noise": 0.5}, seed=3)(torch.zeros(50, 3, 8, 8))
    assert abs(float(noisy.std()) - 0.5) < 0.03
    again = Augmenter({"rotate": 30.0}, seed=2)(X)
    assert torch.equal(out, again)  # seeded: a run is repeatable


def test_the_whole_batch_is_one_resampling_call(monkeypatch):
    calls = []
    real = augment_module.F.grid_sample

    def counting(*args, **kwargs):
        calls.append(args[0].shape[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(augment_module.F, "grid_sample", counting)
    Augmenter({"flip": True, "shift": 1.0, "rotate": 10.0, "noise": 0.1}, seed=0)(torch.randn(128, 1, 8, 8))
    assert calls == [128]  # no loop over images


def test_augment_touches_training_batches_only():
    spec = {
        "name": "digits",
        "options": {"as_images": True},
        "split": {"val": 0.2, "test": 0.0},
        "augment": {"flip": True, "shift": 1, "rotate": 10, "noise": 0.05},
    }
    data = load_dataset(spec)
    assert isinstance(data.augment, Augmenter)
    seen = []
    real = data.augment

    def spy(X):
        seen.append(X.shape[0])
        return real(X)

    data.augment = spy
    trainer = Trainer(compile_graph(graphs.cnn((1, 8, 8)), seed=0), data, {"device": "cpu", "epochs": 1}, probes=True)
    summary = trainer.fit()
    assert sum(seen) == data.info.sizes["train"] and len(seen) == summary["steps"]
    assert summary["val"]["accuracy1"] > 0.2  # learning despite flipped digits (chance is 0.1)


def test_augment_options_are_checked():
    with pytest.raises(DatasetError, match="unknown key\\(s\\) mirror"):
        load_dataset({"name": "shapes", "augment": {"mirror": True}})
    with pytest.raises(DatasetError, match="rotate must be a number from 0 to 180"):
        load_dataset({"name": "shapes", "augment": {"rotate": 400}})
    with pytest.raises(DatasetError, match="needs images .* gives \\[2\\]. Fix: use only noise"):
        load_dataset({"name": "circle", "augment": {"flip": True}})
    with pytest.raises(DatasetError, match="cannot change int64 inputs"):
        load_dataset({"name": "text", "augment": {"noise": 0.1}})
    with pytest.raises(DatasetError, match="not their masks"):
        load_dataset({"name": "shapes", "options": {"task": "segment"}, "augment": {"shift": 1}})
    assert load_dataset({"name": "circle", "augment": {"noise": 0.1}}).augment is not None
    assert load_dataset({"name": "circle", "augment": {"noise": 0}}).augment is None
