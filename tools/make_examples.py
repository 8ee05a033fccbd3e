"""Write the example projects of the curriculum (../shared/CURRICULUM.md) into ``projects/``.

Run ``.venv/bin/python tools/make_examples.py`` after changing an example; the
files are written by ``save_project``, so they are canonical and a second run
changes nothing. Every example carries ``meta.lesson`` and ``meta.target``
(``{"metric": "val_accuracy", "op": ">=", "value": 0.95, "epochs": 10}``):
``tests/test_examples.py`` trains each one for ``epochs`` and checks the target.
A metric is ``<split>_<key>``: split ``train`` or ``val``, key ``loss`` (the total)
or the id of a loss or metric node.

The lessons on dense networks (1–3, 15) are here, those on initialisation and
depth (4, 5) in ``examples_depth.py``; the convolutional ones (6–10) are in
``examples_images.py``, those that make pictures and text (11–14) in
``examples_generative.py``. ``keras_cnn.gproj`` and
``vae.gproj`` are written as copies of lessons 6 and 13 (``make run`` and
older tests open them); ``residual_mlp.gproj`` is a shallow residual net.
Lessons 7c and 7d (``examples_transfer.py``) are transfer learning: 7d starts from the weights 7c learns,
``projects/07c_pretrain_digits.safetensors``, trained here once when that file is missing (delete it to
retrain). Lessons 5b, 8a–8c and 12 build their repeated parts as blocks
(``Net.define``: a definition, then instances with ``repeat`` where natural).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from example_builder import Example, Net, example, target, write_project

PROJECTS = Path(__file__).resolve().parents[1] / "projects"
PRETRAINED = PROJECTS  # where the weights of a first step live (tests point PROJECTS elsewhere, not this)


# ------------------------------------------------------------------ lesson 1
def single_neuron() -> Example:
    net = Net()
    net.add("point", "Input")
    net.add("neuron", "Dense", units=1, init="xavier")
    net.classifier_head("neuron", loss="BinaryCrossEntropy", output="score")
    return {
        **example(
            "01_single_neuron",
            1,
            "A single neuron as a linear classifier",
            "Lesson 1: one neuron computes w₁x₁ + w₂x₂ + b, and the sign of that sum says on which side of a "
            "straight line a point lies. It learns with binary cross-entropy (the sigmoid is part of the loss) "
            "to separate two Gaussian blobs of 2-D points, as in the TensorFlow Playground.",
            "Open the decision regions: the boundary is a straight line that turns and shifts until it runs "
            "between the two blobs. However long it trains it stays straight: a single neuron is a linear "
            "classifier. Hover the neuron to read its two weights and its bias.",
            target("val_accuracy", ">=", 0.95, 5),
        ),
        "net": net,
        "dataset": {"name": "gauss", "options": {"n": 300, "noise": 0.1, "labels": "binary"}},
        "training": {"optimizer": "adam", "lr": 0.05, "batch_size": 16, "epochs": 20},
        "live_view": "regions",
    }


# ------------------------------------------------------------------ lesson 2
def hidden_layer(activation: str) -> Example:
    net = Net()
    net.add("point", "Input")
    net.chain(("hidden", "Dense", {"units": 8, "init": "xavier" if activation == "Identity" else "he"}))
    net.add("act", activation)
    net.add("out", "Dense", units=2, init="xavier")
    net.classifier_head("out")
    if activation == "Identity":
        return {
            **example(
                "02a_linear_hidden",
                2,
                "Linear hidden neurons cannot bend the boundary",
                "Lesson 2, part a: eight hidden neurons with a linear activation (Identity) between the input and "
                "two output scores, on points inside a disc (one class) or on a ring around it (the other). A "
                "linear function of linear functions is linear: the whole network is still one straight cut.",
                "Open the decision regions: each hidden neuron splits the plane with a line, and so does the "
                "network; the accuracy stalls far below 100 % because no line separates a disc from a ring. Then "
                "open lesson 2b, where the only change is ReLU.",
                target("val_accuracy", "<=", 0.8, 10),
            ),
            "net": net,
            "dataset": {"name": "circle", "options": {"n": 400, "noise": 0.0}},
            "training": {"optimizer": "adam", "lr": 0.03, "batch_size": 16, "epochs": 20},
            "live_view": "regions",
        }
    return {
        **example(
            "02b_relu_hidden",
            2,
            "ReLU hidden neurons bend it into a circle",
            "Lesson 2, part b: the same network as 2a, with ReLU instead of the linear activation. Each ReLU "
            "neuron is zero on one side of its line and grows on the other; the output layer adds these "
            "folded planes into a region that closes around the disc.",
            "Open the decision regions and click the hidden neurons one by one: every neuron still cuts the "
            "plane along a straight line, but the network's boundary becomes a polygon around the disc. "
            "Validation accuracy passes 95 % within a few epochs.",
            target("val_accuracy", ">=", 0.95, 8),
        ),
        "net": net,
        "dataset": {"name": "circle", "options": {"n": 400, "noise": 0.0}},
        "training": {"optimizer": "adam", "lr": 0.03, "batch_size": 16, "epochs": 20},
        "live_view": "regions",
    }


# ------------------------------------------------------------------ lesson 3
def perceptron() -> Example:
    net = Net()
    net.add("inputs", "Input")
    net.add("weights", "Dense", units=1, init="zeros")
    net.add("step", "Step")
    net.classifier_head("step", loss="SSE", output="nand")
    return {
        **example(
            "03_perceptron_nand",
            3,
            "The perceptron learns NAND",
            "Lesson 3: Rosenblatt's perceptron — a weighted sum and a step function, 1 if w·x + b > 0 else 0 — "
            "trained by the perceptron rule w ← w + η(t − y)x, b ← b + η(t − y) on the four rows of the NAND "
            "truth table. The step has no gradient, so the optimizer is 'perceptron', not backpropagation. The "
            "notes' weights (−2, −2) with bias 3 are one solution.",
            "Watch the accuracy climb to 100 % (all four rows right) within a few epochs and then stay: once "
            "every row is right, t − y is zero and the weights stop moving. Select 'weights' to read the learned "
            "w₁, w₂ and b: both weights negative, the bias positive, as in the notes.",
            target("train_accuracy", ">=", 1.0, 20),
        ),
        "net": net,
        "dataset": {
            "name": "logic",
            "options": {"gate": "nand", "labels": "binary"},
            "split": {"val": 0.0, "test": 0.0},
            "standardize": False,
        },
        "training": {"optimizer": "perceptron", "lr": 0.5, "batch_size": 1, "epochs": 20},
        "live_view": "curves",
    }


# ----------------------------------------------------------------- lesson 15
def regression() -> Example:
    net = Net()
    net.add("x", "Input")
    net.add("line", "Dense", units=1, init="zeros")
    net.add("prediction", "Output", name="prediction")
    net.add("y", "Target", None)
    net.add("mse", "MSE", {"pred": "line", "target": "y"})
    return {
        **example(
            "15_regression",
            15,
            "Linear regression on noisy 1-D data",
            "Lesson 15: the notes' linear-regression figure — 200 points on the line y = 2x + 1 with Gaussian "
            "noise of standard deviation 0.5 — fitted by one Dense unit (ŷ = wx + b) with squared error and "
            "plain gradient descent.",
            "Open the loss curves: the mean squared error falls quickly and levels off near 0.25, the variance "
            "of the noise, which no line can explain. Select 'line' to see w near 2 and b near 1.",
            target("val_loss", "<=", 0.4, 20),
        ),
        "net": net,
        "dataset": {
            "name": "regression1d",
            "options": {"n": 200, "a": 2.0, "b": 1.0, "noise": 0.5, "range": 3.0},
            "standardize": False,
        },
        "training": {"optimizer": "sgd", "lr": 0.05, "momentum": 0.0, "batch_size": 16, "epochs": 30},
        "live_view": "curves",
    }


def residual_mlp() -> Example:
    """``residual_mlp.gproj``: a shallow residual net on the circle, kept from the first examples."""
    net = Net()
    net.add("point", "Input")
    net.chain(("dense1", "Dense", {"units": 32, "init": "he"}), ("relu1", "ReLU"))
    trunk = "relu1"
    for b, (first, second) in enumerate((("dense2", "dense3"), ("dense4", "dense5")), start=1):
        net.add(first, "Dense", trunk, units=32, init="he")
        net.add(f"relu{2 * b}", "ReLU")
        net.add(second, "Dense", units=32, init="he")
        trunk = net.add(f"add{b}", "Add", [trunk, second])
    net.add("relu_out", "ReLU")
    net.add("dense_out", "Dense", units=2, init="xavier")
    net.classifier_head("dense_out")
    return {
        **example(
            "residual_mlp",
            5,
            "Residual MLP on the circle",
            "Lesson 5: two residual blocks (Dense 32 → ReLU → Dense 32, added to the block's input by an Add "
            "node) between a Dense 32 stem and a 2-class head, classifying 2-D points inside or outside a circle.",
            "Open the decision-region view: the boundary bends into a circle within a few epochs. Each Add lets "
            "the gradient skip its block, so the gradient norms of dense1 stay close to those of dense_out.",
            target("val_accuracy", ">=", 0.95, 10),
        ),
        "net": net,
        "dataset": {"name": "circle", "options": {"n": 500, "noise": 0.1}},
        "training": {"optimizer": "adam", "lr": 0.01, "batch_size": 32, "epochs": 20},
        "live_view": "regions",
    }


def all_examples() -> list[Callable[[], Example]]:
    import examples_depth as depth
    import examples_generative as generative
    import examples_images as images
    import examples_inside as inside
    import examples_multi as multi
    import examples_transfer as transfer

    return [
        single_neuron,
        lambda: hidden_layer("Identity"),
        lambda: hidden_layer("ReLU"),
        perceptron,
        *depth.EXAMPLES,
        residual_mlp,
        *images.EXAMPLES,
        *multi.EXAMPLES,
        *transfer.EXAMPLES,
        *generative.EXAMPLES,
        regression,
        *inside.EXAMPLES,
    ]


COPIES = {"06_keras_cnn": "keras_cnn", "13_vae": "vae"}


def pretrained_weights(name: str) -> dict[str, str]:
    """The weights of example ``name`` trained for its target's epochs (trained once, when the file is missing)."""
    from graphedit.model.project import load_project, project_to_json
    from graphedit.training.runs import FINAL
    from graphedit.training.session import run_project
    from graphedit.training.weights_file import sha256_file

    weights = PRETRAINED / f"{name}.safetensors"
    if not weights.exists():
        source = PRETRAINED / f"{name}.gproj"
        project = load_project(source)
        overrides = {"epochs": project.meta["target"]["epochs"], "device": "cpu"}
        with tempfile.TemporaryDirectory() as run_dir:
            run_project(project_to_json(project), source, overrides, run_dir=Path(run_dir) / "run", probes=False)
            shutil.copy(Path(run_dir) / "run" / FINAL, weights)
        print(weights.relative_to(PRETRAINED.parent))
    return {"path": weights.name, "sha256": sha256_file(weights)}


def main(argv: list[str]) -> int:
    only = set(argv)
    for make in all_examples():
        ex = make()
        if only and ex["name"] not in only:
            continue
        path = write_project(
            PROJECTS,
            ex["name"],
            ex["net"],
            meta=ex["meta"],
            dataset=ex["dataset"],
            training=ex["training"],
            live_view=ex["live_view"],
            weights=pretrained_weights(ex["weights_from"]) if "weights_from" in ex else None,
        )
        print(path.relative_to(PROJECTS.parent))
        if ex["name"] in COPIES:
            copy = PROJECTS / f"{COPIES[ex['name']]}.gproj"
            copy.write_bytes(path.read_bytes())
            print(copy.relative_to(PROJECTS.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
