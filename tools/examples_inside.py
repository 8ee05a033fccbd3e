"""Example projects for the "seeing inside" lessons (16–20), each opening a view of the Inside dock.

See ``make_examples.py``. Each trains to its target in a few seconds, so the example test stays short.
"""

from __future__ import annotations

from example_builder import Example, Net, example, target

DIGITS8 = {"name": "digits", "options": {"as_images": True}, "standardize": False}  # pixels in [0, 1]
DIGITS16 = {"name": "digits", "options": {"as_images": True, "size": 16}}
DIGITS_FLAT = {"name": "digits", "options": {"as_images": False}}
ADAM = {"optimizer": "adam", "lr": 0.01, "batch_size": 32}


# ----------------------------------------------------------------- lesson 16
def backprop_steps() -> Example:
    net = Net()
    net.add("point", "Input")
    net.add("hidden", "Dense", units=3, init="xavier")
    net.add("tanh", "Tanh")
    net.add("out", "Dense", units=2, init="xavier")
    net.classifier_head("out")
    return {
        **example(
            "16_backprop_steps",
            16,
            "Backpropagation, one node at a time",
            "Lesson 16: a two-layer network (2 inputs → 3 tanh units → 2 scores) drawn as the compute graph the "
            "notes draw. For one example, each node computes its value from its inputs (the forward pass); "
            "then the gradient of the loss flows back through the same nodes, each multiplying what it "
            "receives by its own local derivative (the chain rule).",
            "Open the Inside dock's backprop view and press ← to walk back from the loss one node at a time. "
            "The badge of each node shows its forward value and, once reached, the gradient arriving there. "
            "The Inspector writes out the chain rule at the selected node: what it passes to each input.",
            target("val_accuracy", ">=", 0.9, 10),
        ),
        "net": net,
        "dataset": {"name": "gauss", "options": {"n": 200, "noise": 0.1}},
        "training": {**ADAM, "lr": 0.05, "batch_size": 16, "epochs": 10},
        "live_view": "backprop",
    }


# ----------------------------------------------------------------- lesson 17
def adversarial_digits() -> Example:
    net = Net()
    net.add("image", "Input")
    net.add("conv1", "Conv2d", filters=16, kernel=3, padding=1, init="he")
    net.chain(("relu1", "ReLU"), ("pool1", "MaxPool2d"), ("flatten", "Flatten"))
    net.add("dense1", "Dense", units=10, init="xavier")
    net.classifier_head("dense1")
    return {
        **example(
            "17_adversarial_digits",
            17,
            "Adversarial examples flip a digits classifier",
            "Lesson 17: a small CNN on 8×8 digits with pixels in [0, 1] reaches over 90 % accuracy, yet moving "
            "every pixel a little along the sign of the loss's input gradient (the fast gradient sign method "
            "of Goodfellow et al., 2014) changes its answer for most images.",
            "Train it, then open the Inside dock's adversarial view and raise ε: the perturbation looks like "
            "noise, the digit is still plain to a person, but the prediction flips with high confidence. "
            "The line below counts how many probe images flip at this ε.",
            target("val_accuracy", ">=", 0.9, 8),
        ),
        "net": net,
        "dataset": DIGITS8,
        "training": {**ADAM, "epochs": 8},
        "live_view": "adversarial",
    }


# ----------------------------------------------------------------- lesson 18
def receptive(name: str) -> Example:
    net = Net()
    net.add("image", "Input")
    if name == "18a_receptive_shallow":
        net.add("conv1", "Conv2d", filters=16, kernel=3, padding=1, init="he")
        net.chain(("relu1", "ReLU"), ("pool1", "MaxPool2d", {"kernel": 4, "stride": 4}))
        text = ("a shallow CNN: one 3×3 convolution, then 4×4 pooling", "sees 3×3 pixels, and after the pooling 6×6")
    else:
        for i, pool in ((1, False), (2, True), (3, False), (4, True)):
            net.add(f"conv{i}", "Conv2d", filters=8, kernel=3, padding=1, init="he")
            net.add(f"relu{i}", "ReLU")
            if pool:
                net.add(f"pool{i // 2}", "MaxPool2d")
        text = ("a deeper CNN: four 3×3 convolutions with pooling after every two", "sees 16×16 pixels")
    net.chain(("flatten", "Flatten"))
    net.add("dense1", "Dense", units=10, init="xavier")
    net.classifier_head("dense1")
    part = "a" if name.endswith("shallow") else "b"
    return {
        **example(
            name,
            18,
            f"Receptive fields: {'shallow' if part == 'a' else 'deep'}",
            f"Lesson 18, part {part}: {text[0]}, on 16×16 digits. A unit of the last feature map {text[1]} of "
            "the input: each layer of kernel k widens the field by (k − 1) times the stride so far.",
            "Open the Inside dock's receptive-field view and click a unit of the last map: the outline is the "
            "field the kernels allow, the heat map the part that matters on this digit. The Summary lists "
            f"each node's field. Compare with lesson 18{'b' if part == 'a' else 'a'}.",
            target("val_accuracy", ">=", 0.85, 4),
        ),
        "net": net,
        "dataset": DIGITS16,
        "training": {**ADAM, "lr": 0.005, "epochs": 4},
        "live_view": "receptive",
    }


# ----------------------------------------------------------------- lesson 19
DEPTH19, WIDTH19 = 12, 32


def landscape(name: str) -> Example:
    net = Net()
    net.add("pixels", "Input")
    skips = name.endswith("skip")
    net.chain(("stem", "Dense", {"units": WIDTH19, "init": "xavier"}), ("relu0", "ReLU"))
    trunk = "relu0"
    for b in range(1, DEPTH19 // 2 + 1):
        net.add(f"dense{b}a", "Dense", trunk, units=WIDTH19, init="xavier")
        net.add(f"relu{b}a", "ReLU")
        net.add(f"dense{b}b", "Dense", units=WIDTH19, init="xavier")
        if skips:
            net.add(f"add{b}", "Add", [trunk, f"dense{b}b"])
        trunk = net.add(f"relu{b}", "ReLU")
    net.add("out", "Dense", trunk, units=10, init="xavier")
    net.classifier_head("out")
    part = "b" if skips else "a"
    what = "with a skip connection around every two layers" if skips else "without skip connections"
    return {
        **example(
            name,
            19,
            f"The loss landscape {what}",
            f"Lesson 19, part {part}: {DEPTH19} Dense + ReLU layers of {WIDTH19} units {what}, trained with SGD "
            "on the digits. The landscape view evaluates the loss along the straight line from the initial to "
            "the trained weights, and on a slice around the trained weights along two random directions scaled "
            "filter by filter (Li et al., 2018).",
            "Train it, open the Inside dock's loss-landscape view and press Compute. "
            + (
                "With skips the slice is a smooth bowl around the trained weights (Li et al.'s ResNet figure). "
                if skips
                else "Without skips the slice is rougher and the line falls late. "
            )
            + f"Compare with lesson 19{'a' if skips else 'b'}.",
            target("val_accuracy", ">=", 0.85 if skips else 0.0, 4),
        ),
        "net": net,
        "dataset": DIGITS_FLAT,
        "training": {"optimizer": "sgd", "lr": 0.02, "momentum": 0.9, "batch_size": 32, "epochs": 4},
        "live_view": "landscape",
    }


# ----------------------------------------------------------------- lesson 20
def embeddings() -> Example:
    net = Net()
    net.add("pixels", "Input")
    net.chain(("dense1", "Dense", {"units": 32, "init": "he"}), ("relu1", "ReLU"))
    net.chain(("dense2", "Dense", {"units": 16, "init": "he"}), ("relu2", "ReLU"))
    net.add("out", "Dense", units=10, init="xavier")
    net.classifier_head("out")
    return {
        **example(
            "20_embeddings",
            20,
            "What a hidden layer has learned",
            "Lesson 20: a two-hidden-layer network on the digits. Each example's 16 activations at the second "
            "hidden layer are a point in 16 dimensions; PCA and t-SNE draw them in two, coloured by digit.",
            "Open the Inside dock's embeddings view before training: the digits overlap in one cloud. Train, "
            "and the view reloads with the trained weights: each digit gathers in its own cluster. Press "
            "t-SNE for a sharper picture and hover a point to see its digit.",
            target("val_accuracy", ">=", 0.9, 8),
        ),
        "net": net,
        "dataset": DIGITS_FLAT,
        "training": {**ADAM, "lr": 0.005, "epochs": 8},
        "live_view": "embeddings",
    }


EXAMPLES = [
    backprop_steps,
    adversarial_digits,
    lambda: receptive("18a_receptive_shallow"),
    lambda: receptive("18b_receptive_deep"),
    lambda: landscape("19a_landscape_plain"),
    lambda: landscape("19b_landscape_skip"),
    embeddings,
]
