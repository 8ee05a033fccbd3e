"""Example projects with several inputs (a Siamese network on digit pairs); see ``make_examples.py``."""

from __future__ import annotations

from example_builder import Example, Net, example, target


def _branch(net: Net, side: str) -> str:
    """One branch: Conv2d 8 3×3 → ReLU → MaxPool → Flatten → Dense 32, an embedding of one digit."""
    net.add(side, "Input", None)
    net.add(f"conv_{side}", "Conv2d", filters=8, kernel=3, padding="same", init="he")
    net.add(f"relu_{side}", "ReLU")
    net.add(f"pool_{side}", "MaxPool2d")
    net.add(f"flatten_{side}", "Flatten")
    return net.add(f"embed_{side}", "Dense", units=32, init="xavier")


def siamese() -> Example:
    net = Net()
    left, right = _branch(net, "left"), _branch(net, "right")
    net.add("difference", "Subtract", {"a": left, "b": right})
    net.add("squared", "Multiply", ["difference", "difference"])
    net.add("score", "Dense", units=1, init="xavier")
    net.add("output", "Output", name="same")
    net.add("same", "Target", None)
    net.add("bce", "BinaryCrossEntropy", {"pred": "score", "target": "same"})
    net.add("accuracy", "Accuracy", {"pred": "score", "target": "same"})
    return {
        **example(
            "07b_siamese_digits",
            7,
            "A Siamese network: same digit or not?",
            "Two inputs, left and right, each an 8×8 digit. Each goes through a small convolutional branch "
            "(Conv2d 8 3×3, ReLU, max pooling, Dense 32) to an embedding; the squared difference of the two "
            "embeddings feeds one logit that says whether both show the same digit, trained with binary "
            "cross-entropy. The built-in dataset digit_pairs names its arrays left, right and same, and they "
            "feed the Input and Target nodes of those names. (The two branches have weights of their own here; "
            "a Siamese network proper shares them.)",
            "Open the loss curves: accuracy climbs from one half (guessing) to well above it within a few "
            "epochs. Rename the Input 'right' and run graphedit check: it says that 'right' has no node. "
            "Compare the activations of embed_left and embed_right: they learn similar features.",
            target("val_accuracy", ">=", 0.8, 8),
        ),
        "net": net,
        "dataset": {"name": "digit_pairs", "options": {"n": 3000}},
        "training": {"optimizer": "adam", "lr": 0.003, "batch_size": 32, "epochs": 15},
        "live_view": "curves",
    }


EXAMPLES = [siamese]
