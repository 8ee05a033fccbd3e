"""Why this class: FGSM flips a trained digits CNN, ε = 0 flips nothing; saliency and Grad-CAM map the image."""

import graphkit
import pytest
import torch

from graphedit.compiler import compile_graph
from graphedit.training.datasets import load_dataset
from graphedit.training.explain import availability, fgsm, grad_cam, saliency, smoothgrad
from graphedit.training.trainer import Trainer

DIGITS = {"name": "digits", "options": {"as_images": True, "size": 8}, "split": {"val": 0.2}, "standardize": False}


@pytest.fixture(scope="module")
def trained():
    torch.manual_seed(0)
    nodes = [
        ("image", "Input", {"shape": [1, 8, 8]}),
        ("conv1", "Conv2d", {"filters": 16, "kernel": 3, "padding": 1}),
        ("relu1", "ReLU", {}),
        ("pool1", "MaxPool2d", {}),
        ("flatten1", "Flatten", {}),
        ("dense1", "Dense", {"units": 10}),
        ("scores", "Output", {}),
        ("label", "Target", {"shape": [1], "dtype": "int64"}),
        ("ce", "SoftmaxCrossEntropy", {}),
    ]
    wires = [*graphkit.chain("image", "conv1", "relu1", "pool1", "flatten1", "dense1", "scores")]
    wires += ["dense1 -> ce.pred", "label -> ce.target"]
    doc = graphkit.build(nodes, wires)
    data = load_dataset(DIGITS)
    compiled = compile_graph(doc, seed=0)
    settings = {"epochs": 15, "lr": 0.01, "batch_size": 32, "device": "cpu", "probe_every": -1}
    Trainer(compiled, data, settings, probes=False).fit()
    return doc, compiled, data.val.X[:64], data.val.y[:64]


def test_fgsm_flips_a_trained_classifier_and_epsilon_zero_flips_nothing(trained):
    doc, compiled, x, y = trained
    assert availability(doc, compiled) == (True, "")
    clean = fgsm(compiled, x, y, 0.0)
    correct = clean.clean_class == y
    assert correct.float().mean() >= 0.9  # the notes' setting: a classifier that works
    assert not clean.flipped().any() and torch.equal(clean.adversarial, x)
    attack = fgsm(compiled, x, y, 0.25)
    assert attack.adversarial.min() >= 0 and attack.adversarial.max() <= 1
    assert (attack.adversarial - x).abs().max() <= 0.25 + 1e-6
    assert attack.flipped()[correct].float().mean() >= 0.8


def test_saliency_smoothgrad_and_grad_cam_are_maps_of_the_image(trained):
    doc, compiled, x, y = trained
    for heat in (saliency(compiled, x[:4]), smoothgrad(compiled, x[:4], samples=4)):
        assert heat.shape == (4, 8, 8) and heat.min() >= 0 and heat.sum() > 0
    cam = grad_cam(compiled, x[:4], "conv1")
    assert cam.shape == (4, 8, 8) and cam.min() >= 0 and torch.allclose(cam.flatten(1).amax(1), torch.ones(4))


def test_views_say_why_they_do_not_apply():
    doc = graphkit.build(
        [("x", "Input", {"shape": [4]}), ("dense1", "Dense", {"units": 2})], graphkit.chain("x", "dense1")
    )
    ok, why = availability(doc, compile_graph(doc))
    assert not ok and "not an image" in why


def test_predict_gives_the_argmax_class_and_its_softmax_probability(trained):
    doc, compiled, x, y = trained
    from graphedit.training.explain import predict

    classes, confidence = predict(compiled, x[:8])
    with torch.no_grad():
        probabilities = torch.softmax(compiled.model.eval()(x[:8]), 1)
    assert torch.equal(classes, probabilities.argmax(1))
    torch.testing.assert_close(confidence, probabilities.max(1).values)
