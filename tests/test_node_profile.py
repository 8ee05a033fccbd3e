"""Per-node time from a profiled run, and the model the "seeing inside" views open."""

from pathlib import Path

import graphs
import pytest
import torch

from graphedit.compiler import compile_graph
from graphedit.model.project import load_project
from graphedit.training.inspection import open_inspection
from graphedit.training.node_profile import profile_nodes

PROJECTS = Path(__file__).resolve().parent.parent / "projects"


def _feed(compiled, doc, n=8):
    torch.manual_seed(0)
    feed = {i: torch.randn(n, *doc.params(i)["shape"]) for i in compiled.input_ids}
    feed.update({t: torch.randint(0, 3, (n,)) for t in compiled.target_ids})
    return feed


def test_every_computing_node_gets_forward_and_backward_time_and_the_shares_add_up():
    doc = graphs.cnn(in_shape=(1, 8, 8), classes=3, filters=4)
    compiled = compile_graph(doc, seed=0)
    times = profile_nodes(compiled, _feed(compiled, doc), steps=2)
    layers = [n for n, _ in compiled.root.named_children()]
    assert layers and all(times.forward[n] > 0 and times.backward[n] > 0 for n in layers)
    assert sum(times.share(n) for n in times.nodes()) == pytest.approx(1.0)
    assert set(times.nodes()) <= set(doc.node_ids())
    assert compiled.root.conv1.weight.grad is not None  # a real backward pass ran


def test_a_bigger_layer_takes_a_bigger_share():
    """A Dense layer of 2048×2048 does ~500× the work of the 2048×8 one after it: the profile must see that.

    Wide apart on purpose: it compares measured times, so a noisy machine must not turn the order round."""
    doc = graphs.mlp(in_shape=(2048,), hidden=(2048, 8), classes=3)
    compiled = compile_graph(doc, seed=0)
    times = profile_nodes(compiled, _feed(compiled, doc, n=64), steps=3)
    dense = [n for n in doc.topological_order() if doc.node_type(n).type_id == "Dense"]
    big, small = dense[0], dense[1]
    assert times.total(big) > times.total(small)


def test_without_a_loss_there_is_nothing_to_profile():
    doc = graphs.mlp(in_shape=(4,), hidden=(4,), classes=2)
    compiled = compile_graph(doc, seed=0)
    compiled.objective = None
    with pytest.raises(ValueError, match="no loss node"):
        profile_nodes(compiled, {})


def test_the_inspection_fits_the_graph_to_the_dataset_and_keeps_the_editors_graph():
    project = load_project(PROJECTS / "01_single_neuron.gproj")
    before = {n: dict(project.document.params(n)) for n in project.document.node_ids()}
    seen = open_inspection(project, examples=20)
    assert {n: project.document.params(n) for n in project.document.node_ids()} == before
    assert len(seen.x) == 20 and not seen.trained and "initial weights" in seen.weights_note
    out = seen.compiled.objective(**seen.feed(slice(0, 5)))
    assert torch.isfinite(out["loss"])
    # the initial weights are the ones a run with this seed starts from
    again = compile_graph(seen.document, seed=seen.seed)
    for (k, v), (_, w) in zip(seen.compiled.root.state_dict().items(), again.root.state_dict().items()):
        torch.testing.assert_close(v, w, msg=k)


def test_the_inspection_loads_trained_weights_and_says_when_they_do_not_fit(tmp_path):
    from graphedit.training.runs import save_weights

    project = load_project(PROJECTS / "01_single_neuron.gproj")
    seen = open_inspection(project, examples=4)
    with torch.no_grad():
        for p in seen.compiled.root.parameters():
            p.fill_(0.5)
    path = tmp_path / "final.safetensors"
    save_weights(seen.compiled.root, path)
    loaded = open_inspection(project, weights=path, examples=4)
    assert loaded.trained and all(bool((p == 0.5).all()) for p in loaded.compiled.root.parameters())
    other = open_inspection(load_project(PROJECTS / "02b_relu_hidden.gproj"), weights=path, examples=4)
    assert not other.trained and "do not fit" in other.weights_note


def test_a_network_with_several_inputs_is_refused_by_the_inspection_with_a_clear_line():
    from graphedit.errors import GraphEditError

    with pytest.raises(GraphEditError, match=r"one input; this dataset gives 2 \(left, right\)"):
        open_inspection(load_project(PROJECTS / "07b_siamese_digits.gproj"), examples=4)
