"""The loss landscape: the initial weights rebuilt from the seed, the line ends at the trained loss, a 5×5 slice."""

import graphs
import pytest
import torch

from graphedit.compiler import compile_graph
from graphedit.training.datasets import load_dataset
from graphedit.training.landscape import initial_state, loss_line, loss_surface, project_path
from graphedit.training.trainer import Trainer


@pytest.fixture(scope="module")
def trained():
    doc = graphs.mlp(in_shape=(2,), hidden=(16,), classes=2)
    data = load_dataset({"name": "circle", "options": {"n": 300}, "split": {"val": 0.2}})
    compiled = compile_graph(doc, seed=3)
    start = {k: v.detach().clone() for k, v in compiled.root.state_dict().items()}
    trainer = Trainer(compiled, data, {"epochs": 8, "lr": 0.05, "device": "cpu", "seed": 3}, probes=False)
    trainer.fit()
    feed = {compiled.input_ids[0]: data.val.X, compiled.target_ids[0]: data.val.y}
    return doc, compiled, trainer, start, [feed], data


def test_initial_weights_are_rebuilt_from_the_seed(trained):
    doc, _, _, start, _, _ = trained
    rebuilt = initial_state(doc, 3)
    assert rebuilt.keys() == start.keys() and all(torch.equal(rebuilt[k], start[k]) for k in start)
    assert not all(torch.equal(initial_state(doc, 4)[k], start[k]) for k in start)


def test_the_line_goes_from_the_initial_to_the_trained_loss(trained):
    doc, compiled, trainer, start, batches, data = trained
    end = {k: v.detach().clone() for k, v in compiled.root.state_dict().items()}
    line = loss_line(compiled, start, end, batches, points=6, beyond=0)
    trained_loss = trainer.evaluate(data.val)["loss"]
    assert line.t[0] == 0 and line.t[-1] == 1
    assert line.loss[-1] == pytest.approx(trained_loss, rel=1e-5)
    assert line.loss[0] > line.loss[-1]  # training went downhill
    assert all(torch.equal(v, end[k]) for k, v in compiled.root.state_dict().items())  # weights put back


def test_a_small_slice_centres_on_the_trained_loss_and_can_be_cancelled(trained):
    doc, compiled, trainer, start, batches, data = trained
    center = {k: v.detach().clone() for k, v in compiled.root.state_dict().items()}
    seen = []
    surface = loss_surface(compiled, center, batches, size=5, span=1.0, progress=lambda i, n: seen.append(i))
    assert len(surface.loss) == 5 and seen[-1] == 25
    assert surface.loss[2][2] == pytest.approx(trainer.evaluate(data.val)["loss"], rel=1e-5)
    delta, eta = surface.directions
    for key, d in delta.items():  # filter-normalised: each row as long as the weights' row
        torch.testing.assert_close(d.flatten(1).norm(dim=1), center[key].flatten(1).norm(dim=1))
    moved = {k: v + 0.5 * delta[k] if k in delta else v for k, v in center.items()}
    (a0, b0), (a1, b1) = project_path([center, moved], center, surface)
    assert (a0, b0) == pytest.approx((0, 0), abs=1e-5) and (a1, b1) == pytest.approx((0.5, 0), abs=1e-4)
    cancelled = loss_surface(compiled, center, batches, size=5, progress=lambda i, n: i < 3)
    assert sum(v == v for row in cancelled.loss for v in row) == 3  # NaN where not computed
