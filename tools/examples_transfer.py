"""Transfer learning: a small backbone trained in a first step, then fine-tuned; see ``make_examples.py``.

``07c_pretrain_digits`` trains a convolutional backbone on the ten digit classes. ``07d_finetune_parity`` has the
same backbone (same node ids, so the tensors line up by name), a new two-class head, and starts from the weights
of the first step (``start_from: weights``) with the backbone frozen. ``make_examples.py`` trains the first step
once, when its weights file is missing, and points the second at it.
"""

from __future__ import annotations

from example_builder import Example, Net, example, target

BACKBONE = ("conv1", "bn1", "fc1")


def backbone(net: Net) -> str:
    """Conv2d 8 3×3 → BatchNorm → ReLU → MaxPool → Flatten → Dense 32 → ReLU: the features both steps share."""
    net.add("digit", "Input", None)
    net.chain(
        ("conv1", "Conv2d", {"filters": 8, "kernel": 3, "padding": "same", "bias": False, "init": "he"}),
        ("bn1", "BatchNorm"),
        ("relu1", "ReLU"),
        ("pool1", "MaxPool2d"),
        ("flatten", "Flatten"),
        ("fc1", "Dense", {"units": 32, "init": "he"}),
    )
    return net.add("relu2", "ReLU")


def pretrain() -> Example:
    net = Net()
    backbone(net)
    net.add("digit_head", "Dense", units=10, init="xavier")
    net.classifier_head("digit_head")
    return {
        **example(
            "07c_pretrain_digits",
            7,
            "Transfer learning, step 1: train a backbone",
            "The first of two steps of transfer learning. A small convolutional backbone (Conv2d 8 3×3, batch "
            "normalisation, max pooling, Dense 32) learns features of 8×8 digits while a head of ten scores "
            "classifies them 0–9. Its trained weights are the 'pretrained model' of step 2, which keeps the "
            "backbone and replaces the head.",
            "Open the loss curves: the accuracy on the ten digits passes 90 % within a few epochs. The nodes in "
            "the backbone frame keep their names in step 2, which is how its weights find their layers there. "
            "Open lesson 7d next.",
            target("val_accuracy", ">=", 0.9, 5),
        ),
        "net": net,
        "dataset": {"name": "digits", "options": {"as_images": True}},
        "training": {"optimizer": "adam", "lr": 0.01, "batch_size": 32, "epochs": 5, "seed": 0},
        "live_view": "curves",
    }


def finetune() -> Example:
    net = Net()
    backbone(net)
    net.add("parity_head", "Dense", units=2, init="xavier")
    net.classifier_head("parity_head")
    for node_id in BACKBONE:
        net.doc.set_training(node_id, frozen=True)
    return {
        **example(
            "07d_finetune_parity",
            7,
            "Transfer learning, step 2: a new head on a frozen backbone",
            "Step 2 of transfer learning: the backbone of lesson 7c with the weights it learned there "
            "(training setting 'Start from: weights'), and a new head for a new task: is the digit even or "
            "odd? The backbone's layers are frozen: the optimiser does not see their weights and batch "
            "normalisation keeps its statistics, so only the new head (66 weights) learns. Fine-tuning "
            "goes on by unfreezing the backbone with a smaller learning rate (the Inspector's 'lr scale').",
            "Open the Summary: only parity_head's weights are trainable, and the accuracy passes 90 % within "
            "a few epochs because the backbone's features already tell the digits apart. After the run, untick "
            "Frozen on conv1, bn1 and fc1, set their lr scale to 0.1 and run again: it starts from this run's "
            "weights, and the backbone now moves ten times slower than the head.",
            target("val_accuracy", ">=", 0.9, 5),
        ),
        "net": net,
        "dataset": {"name": "digits", "options": {"as_images": True, "task": "parity"}},
        "training": {"optimizer": "adam", "lr": 0.01, "batch_size": 32, "epochs": 5, "start_from": "weights"},
        "live_view": "curves",
        "weights_from": "07c_pretrain_digits",
    }


EXAMPLES = [pretrain, finetune]
