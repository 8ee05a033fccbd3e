"""The latent view of lesson 13's VAE: the probe's ``latent`` payload, the fx decoder cut from the model, the view."""

from __future__ import annotations

from pathlib import Path

import graphs
import numpy as np
import pytest
import torch
from _live_helpers import FakeSession, replay, train_events
from _window_helpers import SCREENSHOTS as SHOTS
from _window_helpers import settle

from graphedit.compiler import compile_graph
from graphedit.model.project import load_project
from graphedit.training import probe_extras
from graphedit.training.binding import fit_inputs_to_dataset
from graphedit.training.datasets import load_dataset
from graphedit.ui.controller import EditorController
from graphedit.ui.live import LiveViewsDock

pytestmark = pytest.mark.gui

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def vae():
    return load_project(ROOT / "projects" / "13_vae.gproj")


@pytest.fixture(scope="module")
def vae_run(vae):
    settings = {**vae.training, "epochs": 40, "probe_every": 80}
    return train_events(vae.document, vae.dataset, settings)


def latest_latent(events):
    payloads = [e["payload"] for e in events if e["type"] == "probe" and "latent" in e["payload"]]
    assert payloads, "no probe carried a latent payload"
    return payloads[-1]["latent"]


def test_the_probe_sends_mu_labels_a_grid_and_decoded_samples(vae_run):
    latent = latest_latent(vae_run)
    n = len(latent["mu"])
    assert latent["node"] == "z"
    assert latent["mu"].shape == (n, 2) and 300 <= n <= 500  # the validation split: 20% of 1797 digits
    assert latent["labels"].shape == (n,) and set(latent["labels"].tolist()) == set(range(10))
    assert latent["grid"].shape == (8, 8, 2)
    assert latent["samples"].shape == (8, 8, 8, 8)  # the decoder's 64 values as 8×8 digits
    xs, ys = latent["grid"][0, :, 0], latent["grid"][:, 0, 1]
    assert np.all(np.diff(xs) > 0) and np.all(np.diff(ys) > 0)
    assert np.allclose(latent["grid"][:, :, 0], xs) and np.allclose(latent["grid"][:, :, 1], ys[:, None])
    lo, hi = latent["pixel_range"]
    assert lo < hi
    # the classes separate: digits of one class sit closer to each other than to the rest
    mu, labels = latent["mu"], latent["labels"]
    centres = np.stack([mu[labels == c].mean(0) for c in range(10)])
    within = np.mean([np.linalg.norm(mu[labels == c] - centres[c], axis=1).mean() for c in range(10)])
    assert within < np.linalg.norm(mu - mu.mean(0), axis=1).mean()


def test_the_decoder_cut_at_reparameterize_equals_the_model(vae):
    """In evaluation Reparameterize returns μ, so decoder(encoder(x)) must be model(x) exactly."""
    doc = vae.document.copy() if hasattr(vae.document, "copy") else vae.document
    data = load_dataset(vae.dataset)
    fit_inputs_to_dataset(doc, data.info)
    compiled = compile_graph(doc, seed=3)
    encoder, decoder, node_id = probe_extras.latent_modules(compiled)
    assert node_id == "z" and decoder is not None
    assert [n.op for n in decoder.graph.nodes].count("placeholder") == 1  # z alone: no encoder value leaks in
    compiled.root.eval()
    X = data.val.X[:50]
    with torch.no_grad():
        mu = encoder(pixels=X)
        assert torch.equal(mu, compiled.taps(pixels=X)["mu"])
        assert torch.allclose(decoder(mu), compiled.model(X), atol=1e-6)
        # any z, not only a μ: the decoder is the graph after the sampling
        z = torch.randn(7, 2)
        taps_dec = torch.relu(compiled.root.dec1(z))
        assert torch.allclose(decoder(z), compiled.root.recon(taps_dec), atol=1e-6)


def test_graphs_without_a_2d_reparameterize_send_no_latent():
    doc = graphs.mlp((2,), (4,), 2)
    events = train_events(doc, {"name": "circle", "options": {"n": 200}}, {"epochs": 1, "probe_every": 5})
    assert all("latent" not in e["payload"] for e in events if e["type"] == "probe")
    compiled = compile_graph(doc, seed=0)
    assert probe_extras.latent_modules(compiled) is None


def test_the_latent_view_draws_the_scatter_and_the_mosaic(qtbot, vae, vae_run):
    dock = LiveViewsDock(EditorController(vae.document))
    qtbot.addWidget(dock)
    dock.resize(1000, 520)
    with qtbot.waitExposed(dock):
        dock.show()
    session = FakeSession()
    dock.attach(session)
    model = dock.combo.model()
    replay(session, vae_run[:1])
    assert model.item(dock.views().index("latent")).isEnabled()
    assert not model.item(dock.views().index("regions")).isEnabled()
    replay(session, vae_run[1:])
    dock.show_view("latent")
    dock.flush()
    view = dock.view("latent")
    latent = latest_latent(vae_run)
    assert view.showing_body() and dock.current_view() == "latent"
    x, y = view.scatter.getData()
    assert len(x) == len(latent["mu"]) and np.allclose(x, latent["mu"][:, 0])
    assert view.image.image is not None and view.image.image.shape == (8 * 9 - 1, 8 * 9 - 1, 3)
    assert view.image.image.std() > 10  # digits, not a flat picture
    assert "Classes:" in view.key.text() and "validation examples" in view.header.text()
    settle()  # the page's layout settles
    SHOTS.mkdir(parents=True, exist_ok=True)
    dock.grab().toImage().save(str(SHOTS / "live_latent.png"))


def test_the_latent_view_is_greyed_out_without_a_reparameterize_node(qtbot):
    doc = graphs.mlp((2,), (4,), 2)
    dock = LiveViewsDock(EditorController(doc))
    qtbot.addWidget(dock)
    session = FakeSession()
    dock.attach(session)
    dock.show_view("latent")
    events = train_events(doc, {"name": "circle", "options": {"n": 200}}, {"epochs": 1, "probe_every": 5})
    replay(session, events)
    assert not dock.combo.model().item(dock.views().index("latent")).isEnabled()
    assert dock.current_view() == "curves"
