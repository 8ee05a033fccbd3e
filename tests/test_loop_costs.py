"""What the training loop does besides training, counted (never timed): the probes' budget covers all the live
views' work, no probe leaves a hook on the network, and the per-epoch bookkeeping gives the same floats with
fewer operations."""

from __future__ import annotations

import json
import types

import graphs
import pytest
import torch

from graphedit.compiler import compile_graph
from graphedit.training import probes as probes_module
from graphedit.training import trainer as trainer_module
from graphedit.training.binding import fit_inputs_to_dataset
from graphedit.training.checkpoint import _jsonable, snapshot_state
from graphedit.training.datasets import load_dataset
from graphedit.training.events import EpochEvent, ProbeEvent, StepEvent
from graphedit.training.trainer import Trainer

CIRCLE = {"name": "circle", "options": {"n": 100}}  # 80 training samples: 20 steps an epoch at batch size 4


def make_trainer(observers=(), probes=True, spec=CIRCLE, **settings):
    doc = graphs.mlp(hidden=(8,))
    data = load_dataset(spec)
    fit_inputs_to_dataset(doc, data.info)
    base = {"device": "cpu", "seed": 0, "batch_size": 4, "epochs": 5, "log_every": 1}
    return Trainer(compile_graph(doc, seed=0), data, {**base, **settings}, list(observers), probes=probes)


@pytest.fixture
def clock(monkeypatch):
    """A clock the test moves: each training step takes 1 s (the step events advance it), probes take none."""
    now = [0.0]
    fake = types.SimpleNamespace(perf_counter=lambda: now[0])
    monkeypatch.setattr(trainer_module, "time", fake)
    monkeypatch.setattr(probes_module, "time", fake)
    return now


def probe_steps(clock, probe_cost=0.0, count_cost=0.0, monkeypatch=None):
    """The steps of the periodic probes of a 100-step run where taking a probe's payload costs ``probe_cost`` and
    counting the confusion matrix ``count_cost`` seconds."""
    steps = []

    def observer(event):
        if isinstance(event, StepEvent):
            clock[0] += 1.0
        elif isinstance(event, ProbeEvent) and event.payload["kind"] == "probe":
            steps.append(event.step)
            clock[0] += probe_cost

    if count_cost:
        counts = probes_module._counts

        def slow_counts(*args):
            clock[0] += count_cost
            return counts(*args)

        monkeypatch.setattr(probes_module, "_counts", slow_counts)
    make_trainer([observer]).fit()
    return [step for step in steps if step < 100]  # the last step's probe is the final one, not a periodic one


def test_automatic_probes_pay_for_the_observers_that_take_their_payloads(clock):
    free = probe_steps(clock)
    assert free[:3] == [1, 11, 21]  # probes that cost nothing come every AUTO_MIN_INTERVAL steps
    clock[0] = 0.0
    dear = probe_steps(clock, probe_cost=3.0)
    # 3 s a payload against 1 s a step: the next probe waits until 3 % of the run covers what was spent
    assert dear[:2] == [1, 11] and len(dear) <= 3 < len(free)


def test_the_per_epoch_confusion_matrix_counts_in_the_probes_budget(clock, monkeypatch):
    free = probe_steps(clock)
    clock[0] = 0.0
    counted = probe_steps(clock, count_cost=3.0, monkeypatch=monkeypatch)  # 3 s an epoch of 20 one-second steps
    assert len(counted) < len(free) / 2


def all_modules(trainer):
    graphs_ = (trainer.root, trainer.compiled.objective, trainer.compiled.taps, trainer.compiled.model)
    return [m for g in graphs_ for m in g.modules()]


def hooks(trainer):
    """Every hook on the network and torch's global module hooks (names of the non-empty ones)."""
    found = []
    for m in all_modules(trainer):
        for name in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks"):
            if getattr(m, name):
                found.append(f"{type(m).__name__}.{name}")
    glob = torch.nn.modules.module
    for name in ("_global_forward_hooks", "_global_forward_pre_hooks", "_global_backward_hooks"):
        if getattr(glob, name, None):
            found.append(name)
    return found


def test_probes_leave_no_hook_on_the_network_between_samples():
    seen = []
    trainer = None

    def observer(event):
        if isinstance(event, (StepEvent, EpochEvent)):
            seen.append(hooks(trainer))

    trainer = make_trainer([observer], probe_every=3, epochs=2)  # probes and a confusion matrix every epoch
    kinds = []
    trainer.observers.append(lambda e: kinds.append(e.payload["kind"]) if isinstance(e, ProbeEvent) else None)
    trainer.fit()
    assert {"probe", "confusion"} <= set(kinds)
    assert len(seen) == 40 + 2 and not any(seen)


def test_switching_modes_writes_only_the_flags_that_change(monkeypatch):
    trainer = make_trainer(probes=False, epochs=3)
    writes = []
    setattr_ = torch.nn.Module.__setattr__

    def counting(self, name, value):
        if name == "training":
            writes.append(value)
        setattr_(self, name, value)

    monkeypatch.setattr(torch.nn.Module, "__setattr__", counting)
    trainer.fit()
    modules = len(trainer._modules)
    # per epoch: into evaluation mode for the validation pass and back; the start of an epoch writes nothing
    assert len(writes) == 2 * modules * 3
    assert all(m.training for m in trainer._modules)


def test_evaluation_and_epoch_means_are_the_per_key_weighted_means():
    spec = {"name": "circle", "options": {"n": 2000}, "split": {"val": 0.4}}  # 800 validation samples: 2 batches
    trainer = make_trainer(probes=False, spec=spec, epochs=1, batch_size=64)
    trainer.fit()
    split = trainer.val_split
    trainer.set_mode(False)
    sums, count = {}, 0
    with torch.no_grad():
        for X, y in split.batches(512):
            out = trainer.compiled.objective(**trainer.binding.kwargs(X, y))
            for key, value in out.items():
                v = value.detach().float() * len(X)
                sums[key] = sums[key] + v if key in sums else v
            count += len(X)
    trainer.set_mode(True)
    expected = dict(zip(sums, torch.stack(list(sums.values())).div(count).tolist()))
    assert trainer.evaluate(split) == expected  # the same floats, bit for bit
    gen = torch.Generator().manual_seed(0)
    values = [[torch.rand((), generator=gen) for _ in range(3)] for _ in range(7)]
    sizes = [64] * 6 + [17]
    table = torch.stack([torch.stack(row).float() for row in values])
    weights = torch.tensor(sizes, dtype=table.dtype)
    assert Trainer._epoch_means(values, sizes, 3) == ((weights @ table) / weights.sum()).tolist()


def test_a_checkpoints_json_converts_tensors_anywhere_in_it():
    meta = {
        "epoch": 3,
        "scheduler": {"last_epoch": torch.tensor(3), "base_lrs": [torch.tensor(0.5)], 7: (1, 2)},
        "history": [{"epoch": 1, "train": {"loss": 0.25}, "val": None, "lr": 0.1}],
        "moments": torch.tensor([1.0, 2.0]),
        "best_loss": float("inf"),
    }
    _, text = snapshot_state({}, meta)
    assert "\n" not in text and json.loads(text) == json.loads(json.dumps(_jsonable(meta)))
    with pytest.raises(TypeError, match="object is not JSON serialisable"):
        snapshot_state({}, {"bad": object()})
