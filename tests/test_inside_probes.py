"""What the Inside dock asks of a run (a run override, not a project setting): embeddings, weight snapshots."""

from __future__ import annotations

import graphs
import numpy as np
import pytest
import torch

from graphedit.compiler import compile_graph
from graphedit.model.project import Project, project_from_json, project_to_json
from graphedit.training.datasets import load_dataset
from graphedit.training.events import EpochEvent, ProbeEvent
from graphedit.training.inside_probes import MAX_SNAPSHOTS, SNAPSHOTS, load_snapshots, snapshot_epochs
from graphedit.training.landscape import initial_state, loss_surface, project_path
from graphedit.training.runs import FINAL, load_weights
from graphedit.training.session import run_project

TRAINING = {"batch_size": 32, "device": "cpu", "seed": 5, "lr": 0.05}


def tiny(epochs: int) -> dict:
    doc = graphs.mlp(in_shape=(2,), hidden=(8,), classes=2)
    project = Project(document=doc, dataset={"name": "circle", "options": {"n": 160}}, training={**TRAINING})
    data = project_to_json(project)
    data["training"]["epochs"] = epochs
    return data


def fitted(project_json: dict):
    from graphedit.training.binding import fit_inputs_to_dataset

    project = project_from_json(project_json, "tiny")
    fit_inputs_to_dataset(project.document, load_dataset(project.dataset).info)
    return project.document


def test_snapshot_epochs_are_at_most_nineteen_evenly_spaced_ending_on_the_last():
    assert snapshot_epochs(5) == {1, 2, 3, 4, 5}
    kept = snapshot_epochs(100)
    assert len(kept) == MAX_SNAPSHOTS - 1 and max(kept) == 100 and min(kept) >= 1
    assert snapshot_epochs(30, first_epoch=10) <= set(range(11, 31))


def test_a_run_asked_for_embeddings_sends_one_per_epoch_and_no_project_setting_changes(tmp_path):
    project_json = tiny(3)
    before = project_to_json(project_from_json(project_json, "tiny"))
    events = []
    overrides = {"inside": {"embed": "dense1"}}
    run_project(project_json, None, overrides, [events.append], run_dir=tmp_path / "run", probes=False)
    embeddings = [e.payload for e in events if isinstance(e, ProbeEvent) and e.payload.get("kind") == "embedding"]
    assert [p["epoch"] for p in embeddings] == [0, 1, 2, 3]  # the initial weights, then each epoch's end
    assert all(p["node"] == "dense1" and p["coords"].shape == (32, 2) for p in embeddings)  # the val split: 32
    assert not np.allclose(embeddings[0]["coords"], embeddings[-1]["coords"])  # the points moved with training
    epochs = [i for i, e in enumerate(events) if isinstance(e, EpochEvent)]
    assert all(isinstance(events[i + 1], ProbeEvent) for i in epochs)  # sent right after the epoch
    assert project_json["training"] == before["training"] and "inside" not in project_json["training"]
    assert not (tmp_path / "run" / SNAPSHOTS).exists()  # snapshots only when asked


@pytest.mark.parametrize("epochs", [4, 30])
def test_snapshots_are_at_most_twenty_the_first_the_initial_weights_the_last_the_trained(tmp_path, epochs):
    project_json = tiny(epochs)
    run_project(project_json, None, {"inside": {"snapshots": True}}, [], run_dir=tmp_path / "run", probes=False)
    snapshots = load_snapshots(tmp_path / "run" / SNAPSHOTS)
    assert len(snapshots) == min(epochs + 1, MAX_SNAPSHOTS)
    assert snapshots[0][0] == "initial" and snapshots[-1][0] == "trained"
    document = fitted(project_json)
    rebuilt = initial_state(document, TRAINING["seed"])  # what the landscape uses without snapshots
    first = snapshots[0][1]
    assert first.keys() == {k for k, v in rebuilt.items() if v.is_floating_point()}
    assert all(torch.equal(first[k], rebuilt[k]) for k in first)  # rebuilt from the seed = the run's own
    compiled = compile_graph(document, seed=0)
    load_weights(compiled.root, tmp_path / "run" / FINAL)
    trained = {k: v.detach().clone() for k, v in compiled.root.state_dict().items()}
    assert all(torch.equal(snapshots[-1][1][k], trained[k]) for k in snapshots[-1][1])
    # projected onto a 5×5 slice around the trained weights, the path ends at the trained point (0, 0)
    data = load_dataset(project_from_json(project_json, "tiny").dataset)
    feed = {compiled.input_ids[0]: data.val.X, compiled.target_ids[0]: data.val.y}
    surface = loss_surface(compiled, trained, [feed], size=3)
    path = project_path([s for _, s in snapshots], {k: trained[k] for k in first}, surface)
    assert path[-1] == pytest.approx((0.0, 0.0), abs=1e-6)
    assert path[0] != pytest.approx((0.0, 0.0), abs=1e-4)
