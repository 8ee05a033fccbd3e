"""Example projects for the lessons on initialisation and depth (4 and 5); see ``make_examples.py``.

Lesson 4 stacks ten wide Dense layers to show how the initialisation decides whether activations vanish (tanh with
small weights, with Xavier, ReLU with He); lesson 5 trains a deep plain network, the same depth with skip connections
(a ``ResidualBlock`` definition repeated, built with ``Net.define``), and a deep SELU network.
"""

from __future__ import annotations

from example_builder import Example, Net, example, target

# ------------------------------------------------------------------ lesson 4
DEPTH4, WIDTH4 = 10, 500


def deep_init(name: str, activation: str, init: str) -> Example:
    net = Net()
    net.add("pixels", "Input")
    for i in range(1, DEPTH4 + 1):
        net.add(f"dense{i}", "Dense", units=WIDTH4, init=init)
        net.add(f"{activation.lower()}{i}", activation)
    net.add("out", "Dense", units=10, init="xavier")
    net.classifier_head("out")
    texts = {
        "uniform": (
            "Deep tanh network, weights ±0.01: activations vanish",
            "Lesson 4, part a: the notes' figure — ten tanh layers of 500 units with weights drawn uniformly "
            "from [−0.01, 0.01] (standard deviation 0.0058). Each layer multiplies the spread of its input by "
            "about √500 · 0.0058 ≈ 0.13, so by the tenth layer the activations are a billionth of the input's.",
            "Open the activation histograms: layer by layer they collapse onto zero, and the gradients that "
            "flow back shrink the same way, so the loss stays at ln 10 ≈ 2.30 (guessing). Compare with 4b "
            "(Xavier) and 4c (ReLU with He).",
            target("val_loss", ">=", 2.2, 3),
        ),
        "xavier": (
            "Deep tanh network, Xavier init: activations keep their spread",
            "Lesson 4, part b: the same ten tanh layers, with Xavier initialisation — weights drawn with "
            "standard deviation √(1/fan_in) as the notes state — so every layer passes on roughly the spread "
            "it receives.",
            "Open the activation histograms: every layer stays spread over (−1, 1) instead of collapsing to "
            "zero. The gradients reach the first layer too, and the network learns the digits within a few epochs.",
            target("val_accuracy", ">=", 0.9, 4),
        ),
        "he": (
            "Deep ReLU network, He init",
            "Lesson 4, part c: ten ReLU layers with He initialisation, standard deviation √(2/fan_in). ReLU "
            "zeroes half of its inputs, halving the variance; the factor 2 makes up for it, so the "
            "activations neither vanish nor explode with depth.",
            "Open the activation histograms: about half of every layer's values are exactly zero (ReLU), and "
            "the other half keep the same spread in every layer. Set init to xavier on all layers and train "
            "again: the spread halves from layer to layer.",
            target("val_accuracy", ">=", 0.9, 4),
        ),
    }
    title, description, watch, goal = texts[init]
    return {
        **example(name, 4, title, description, watch, goal),
        "net": net,
        "dataset": {"name": "digits", "options": {"as_images": False}},
        "training": {"optimizer": "sgd", "lr": 0.01, "momentum": 0.9, "batch_size": 32, "epochs": 10},
        "live_view": "activations",
    }


# ------------------------------------------------------------------ lesson 5
DEPTH5, WIDTH5 = 16, 64


def deep_plain(activation: str = "ReLU", init: str = "xavier") -> Net:
    net = Net()
    net.add("pixels", "Input")
    for i in range(1, DEPTH5 + 1):
        net.add(f"dense{i}", "Dense", units=WIDTH5, init=init)
        net.add(f"{activation.lower()}{i}", activation)
    net.add("out", "Dense", units=10, init="xavier")
    net.classifier_head("out")
    return net


def residual_block(inner: Net) -> None:
    """Dense → ReLU → Dense, added to the block's input, then ReLU: the inside of ``ResidualBlock``."""
    inner.add("dense_a", "Dense", "x", units=WIDTH5, init="xavier")
    inner.add("relu_a", "ReLU")
    inner.add("dense_b", "Dense", units=WIDTH5, init="xavier")
    inner.add("add", "Add", ["x", "dense_b"])
    inner.add("relu", "ReLU")
    inner.add("y", "BlockOutput")


def deep_residual() -> Net:
    net = Net()
    net.define(
        "ResidualBlock",
        ["x"],
        residual_block,
        {"units": ["dense_a.units", "dense_b.units"]},
        "Dense → ReLU → Dense added to the block's input (a skip connection), then ReLU.",
    )
    net.add("pixels", "Input")
    net.chain(("stem", "Dense", {"units": WIDTH5, "init": "xavier"}), ("relu0", "ReLU"))
    net.add("blocks", "ResidualBlock", units=WIDTH5, repeat=DEPTH5 // 2 - 1)
    net.add("out", "Dense", units=10, init="xavier")
    net.classifier_head("out")
    return net


def depth_lesson(name: str) -> Example:
    common = {
        "dataset": {"name": "digits", "options": {"as_images": False}},
        "training": {"optimizer": "sgd", "lr": 0.01, "momentum": 0.9, "batch_size": 32, "epochs": 10},
    }
    if name == "05a_deep_plain":
        return {
            **example(
                name,
                5,
                "A deep plain network trains slowly",
                f"Lesson 5, part a: {DEPTH5} Dense + ReLU layers of {WIDTH5} units stacked with nothing else, "
                "Xavier-initialised and trained with SGD. Every layer the gradient passes through shrinks it a "
                "little, so the first layers barely learn.",
                "Open the gradient view: the gradient norms fall by orders of magnitude from the last layer to "
                "the first, and the loss curve stays flat for a long time. Lesson 5b has the same depth with "
                "skip connections; 5c uses SELU.",
                target("val_accuracy", "<=", 0.5, 3),
            ),
            "net": deep_plain(),
            "live_view": "gradients",
            **common,
        }
    if name == "05b_deep_residual":
        return {
            **example(
                name,
                5,
                "The same depth with skip connections",
                f"Lesson 5, part b: a Dense stem and {DEPTH5 // 2 - 1} residual blocks, {DEPTH5 - 1} Dense layers "
                "as in 5a. The 'blocks' node is one block definition, ResidualBlock (Dense → ReLU → Dense, added "
                f"to the block's input by an Add node), repeated {DEPTH5 // 2 - 1} times. The Add passes the "
                "gradient back unchanged, so every block gets a useful gradient from the start.",
                "Open the loss curves next to those of 5a: the loss falls from the first epoch, and validation "
                "accuracy passes 90 % within four. Double-click the 'blocks' node to see inside the block: an "
                "edit there changes all its copies.",
                target("val_accuracy", ">=", 0.9, 4),
            ),
            "net": deep_residual(),
            "live_view": "curves",
            **common,
        }
    return {
        **example(
            name,
            5,
            "A deep SELU network without skips",
            f"Lesson 5, part c: the {DEPTH5} layers of 5a with SELU activations and LeCun initialisation "
            "(N(0, 1/fan_in)). SELU is scaled so that activations are pulled back towards mean 0 and variance "
            "1 in every layer: a deep plain network that trains without skip connections or batch norm.",
            "Open the activation view: every layer's histogram keeps mean near 0 and spread near 1, however "
            "deep. The loss curve falls almost as fast as the residual network's of 5b.",
            target("val_accuracy", ">=", 0.85, 4),
        ),
        "net": deep_plain("SELU", "lecun"),
        "live_view": "activations",
        **common,
    }


EXAMPLES = [
    lambda: deep_init("04a_tanh_small_init", "Tanh", "uniform"),
    lambda: deep_init("04b_tanh_xavier", "Tanh", "xavier"),
    lambda: deep_init("04c_relu_he", "ReLU", "he"),
    lambda: depth_lesson("05a_deep_plain"),
    lambda: depth_lesson("05b_deep_residual"),
    lambda: depth_lesson("05c_deep_selu"),
]
