"""Example projects for the convolutional lessons and regularisation (6–10); see ``make_examples.py``."""

from __future__ import annotations

from typing import Any

from example_builder import Example, Net, example, target

DIGITS16 = {"name": "digits", "options": {"as_images": True, "size": 16}}
ADAM = {"optimizer": "adam", "lr": 0.003, "batch_size": 32, "epochs": 10}


def conv(net: Net, node_id: str, filters: int, kernel: int, into: Any = "", **params: Any) -> str:
    params.setdefault("padding", "same")
    return net.add(node_id, "Conv2d", into, filters=filters, kernel=kernel, init="he", **params)


# ------------------------------------------------------------------ lesson 6
def keras_cnn() -> Example:
    net = Net()
    net.add("image", "Input")
    net.add("conv1", "Conv2d", filters=16, kernel=5, stride=2, padding=2, init="he")
    net.add("relu1", "ReLU")
    net.add("conv2", "Conv2d", filters=32, kernel=5, stride=2, padding=2, init="he")
    net.add("relu2", "ReLU")
    net.add("conv3", "Conv2d", filters=32, kernel=3, stride=2, padding=1, init="he")
    net.add("relu3", "ReLU")
    net.chain(("flatten1", "Flatten"), ("dropout1", "Dropout", {"p": 0.5}))
    net.chain(("dense1", "Dense", {"units": 32, "init": "he"}), ("relu4", "ReLU"), ("dropout2", "Dropout", {"p": 0.5}))
    net.add("dense2", "Dense", units=10, init="xavier")
    net.classifier_head("dense2", output="logits")
    net.frame("Features: convolutions of stride 2", "conv1", "relu1", "conv2", "relu2")
    net.frame("Classifier", "dense1", "relu4", "dropout2", "dense2")
    return {
        **example(
            "06_keras_cnn",
            6,
            "The notes' Keras CNN",
            "Lesson 6: the convolutional network from the notes' Keras example — three strided convolutions (16 "
            "5×5, 32 5×5, 32 3×3, each stride 2) shrink 32×32 digits to 32 maps of 4×4, then Flatten, Dropout "
            "0.5, Dense 32 ReLU, Dropout 0.5 and Dense 10, trained with softmax cross-entropy and Adam. The 8×8 "
            "digits are upsampled to 32×32 so that three stride-2 convolutions fit.",
            "Hover the wires to see the shape halve at each convolution ([N, 16, 16, 16] → [N, 32, 8, 8] → "
            "[N, 32, 4, 4]). Open the feature maps: conv1's sixteen maps of a digit are edge and stroke "
            "detectors; conv3's are coarse blobs. Training and validation accuracy stay close thanks to dropout.",
            target("val_accuracy", ">=", 0.9, 6),
        ),
        "net": net,
        "dataset": {"name": "digits", "options": {"as_images": True, "size": 32}, "split": {"val": 0.2, "test": 0.1}},
        "training": {"optimizer": "adam", "lr": 0.002, "batch_size": 64, "epochs": 15},
        "live_view": "feature_maps",
    }


# ------------------------------------------------------------------ lesson 7
def lenet() -> Example:
    net = Net()
    net.add("image", "Input")
    conv(net, "conv1", 6, 5, padding=0)
    net.chain(("relu1", "ReLU"), ("pool1", "MaxPool2d"))
    conv(net, "conv2", 16, 5, padding=0)
    net.chain(("relu2", "ReLU"), ("pool2", "MaxPool2d"), ("flatten", "Flatten"))
    net.chain(("dense1", "Dense", {"units": 120, "init": "he"}), ("relu3", "ReLU"))
    net.chain(("dense2", "Dense", {"units": 84, "init": "he"}), ("relu4", "ReLU"))
    net.add("dense3", "Dense", units=10, init="xavier")
    net.classifier_head("dense3")
    return {
        **example(
            "07_lenet",
            7,
            "LeNet: convolution and max pooling",
            "Lesson 7: a LeNet-5-style network on 32×32 digits — Conv 6 5×5 → ReLU → max pool 2×2 → Conv 16 5×5 "
            "→ ReLU → max pool → Dense 120 → Dense 84 → Dense 10. Each max pool keeps the largest value of every "
            "2×2 block, halving the maps; the 5×5 'valid' convolutions shave two pixels off each border.",
            "Open the filters view: conv1's six 5×5 filters start as noise and turn into stroke and edge "
            "detectors within a couple of epochs. Switch to the feature maps to see where in a digit each filter "
            "responds, and how pooling coarsens the maps.",
            target("val_accuracy", ">=", 0.9, 3),
        ),
        "net": net,
        "dataset": {"name": "digits", "options": {"as_images": True, "size": 32}},
        "training": {**ADAM, "lr": 0.002},
        "live_view": "filters",
    }


# ------------------------------------------------------------------ lesson 8
def dense_layer(inner: Net) -> None:
    """BatchNorm → ReLU → Conv 3×3, its maps concatenated to the layer's input: the inside of ``DenseLayer``."""
    inner.add("bn", "BatchNorm", "x")
    inner.add("relu", "ReLU")
    conv(inner, "conv", 12, 3)
    inner.add("concat", "Concat", ["x", "conv"])
    inner.add("y", "BlockOutput")


def densenet() -> Example:
    net = Net()
    net.define(
        "DenseLayer",
        ["x"],
        dense_layer,
        {"growth": ["conv.filters"]},
        "BatchNorm → ReLU → Conv 3×3 adding 'growth' feature maps, concatenated to everything before them.",
    )
    net.add("image", "Input")
    conv(net, "stem", 16, 3)
    net.add("dense_block", "DenseLayer", growth=12, repeat=3)
    net.chain(("bn_t", "BatchNorm"), ("relu_t", "ReLU"))
    conv(net, "transition", 32, 1)
    net.chain(("pool", "AvgPool2d"), ("flatten", "Flatten"))
    net.add("dense", "Dense", units=10, init="xavier")
    net.classifier_head("dense")
    return {
        **example(
            "08a_densenet_block",
            8,
            "A DenseNet block: every layer sees all before it",
            "Lesson 8, part a: a dense block of three BatchNorm → ReLU → Conv 3×3 layers, each adding 12 "
            "feature maps (the growth rate) that are concatenated to everything before them, so the channels "
            "grow 16 → 28 → 40 → 52. The block is one definition, DenseLayer, repeated three times. A 1×1 "
            "transition convolution and average pooling follow, then a Dense classifier.",
            "Hover the wires around the dense_block node: 16 channels go in and 52 come out while height and "
            "width stay. Double-click it to see one DenseLayer, whose Concat stacks the 12 new maps onto its "
            "input, so every layer reuses all earlier features and gets gradients directly from the classifier.",
            target("val_accuracy", ">=", 0.9, 3),
        ),
        "net": net,
        "dataset": DIGITS16,
        "training": ADAM,
        "live_view": "feature_maps",
    }


def inception_module(inner: Net) -> None:
    """Four branches side by side, concatenated: the inside of ``Inception`` (torchvision's parameter names)."""
    b1 = conv(inner, "b1_1x1", 8, 1, "x")
    conv(inner, "b2_reduce", 8, 1, "x")
    b2 = conv(inner, "b2_3x3", 12, 3)
    conv(inner, "b3_reduce", 4, 1, "x")
    b3 = conv(inner, "b3_5x5", 6, 5)
    inner.add("b4_pool", "MaxPool2d", "x", kernel=3, stride=1, padding=1)
    b4 = conv(inner, "b4_1x1", 6, 1)
    inner.add("concat", "Concat", [b1, b2, b3, b4], inputs=4)
    inner.add("y", "BlockOutput")


INCEPTION_PARAMS = {
    "ch1x1": ["b1_1x1.filters"],
    "ch3x3red": ["b2_reduce.filters"],
    "ch3x3": ["b2_3x3.filters"],
    "ch5x5red": ["b3_reduce.filters"],
    "ch5x5": ["b3_5x5.filters"],
    "pool_proj": ["b4_1x1.filters"],
}


def inception() -> Example:
    net = Net()
    net.define(
        "Inception",
        ["x"],
        inception_module,
        INCEPTION_PARAMS,
        "GoogLeNet's module: 1×1, 3×3 and 5×5 convolutions (behind 1×1 bottlenecks) and a pooled 1×1 branch, "
        "concatenated along the channels.",
    )
    net.add("image", "Input")
    conv(net, "stem", 16, 3)
    net.add("stem_relu", "ReLU")
    net.add("inception", "Inception", ch1x1=8, ch3x3red=8, ch3x3=12, ch5x5red=4, ch5x5=6, pool_proj=6)
    net.chain(("relu", "ReLU"), ("pool", "MaxPool2d"), ("flatten", "Flatten"))
    net.add("dense", "Dense", units=10, init="xavier")
    net.classifier_head("dense")
    return {
        **example(
            "08b_inception_module",
            8,
            "An Inception module: four branches side by side",
            "Lesson 8, part b: one Inception module after a 3×3 stem — a 1×1 convolution, a 3×3 and a 5×5 "
            "convolution each behind a 1×1 bottleneck that first reduces the channels, and a 3×3 max pool "
            "followed by a 1×1 convolution — concatenated along the channels (8 + 12 + 6 + 6 = 32 maps). The "
            "module is a block definition, Inception, whose branch widths are its parameters (ch1x1, ch3x3red, "
            "… pool_proj, as torchvision names them).",
            "Double-click the inception node to see its four branches, and compare their parameter counts in "
            "the model summary: the 1×1 bottlenecks make the 5×5 branch cheap. Every branch keeps the 16×16 size "
            "('same' padding), which is what lets Concat stack them.",
            target("val_accuracy", ">=", 0.9, 3),
        ),
        "net": net,
        "dataset": DIGITS16,
        "training": ADAM,
        "live_view": "feature_maps",
    }


def downsample(inner: Net) -> None:
    """Conv 1×1 → BatchNorm, named ``0`` and ``1`` as torchvision's ``nn.Sequential`` names them."""
    inner.add("0", "Conv2d", "x", filters=32, kernel=1, stride=2, bias=False, init="he")
    inner.add("1", "BatchNorm")
    inner.add("y", "BlockOutput")


def basic_block(inner: Net) -> None:
    """torchvision's BasicBlock: two Conv 3×3 → BatchNorm, added to the input (through ``downsample`` if on)."""
    inner.add("conv1", "Conv2d", "x", filters=16, kernel=3, padding=1, bias=False, init="he")
    inner.chain(("bn1", "BatchNorm"), ("relu1", "ReLU"))
    inner.add("conv2", "Conv2d", filters=16, kernel=3, padding=1, bias=False, init="he")
    inner.add("bn2", "BatchNorm")
    inner.add("downsample", "Downsample", "x", filters=16, stride=1)
    inner.add("add", "Add", ["bn2", "downsample"])
    inner.add("relu2", "ReLU")
    inner.add("y", "BlockOutput")


def resnet() -> Example:
    net = Net()
    net.define(
        "Downsample",
        ["x"],
        downsample,
        {"filters": ["0.filters"], "stride": ["0.stride"]},
        "A 1×1 convolution and BatchNorm that fit the skip to the block's output when its shape changes.",
    )
    net.define(
        "BasicBlock",
        ["x"],
        basic_block,
        {
            "filters": ["conv1.filters", "conv2.filters", "downsample.filters"],
            "stride": ["conv1.stride", "downsample.stride"],
            "downsample": ["downsample.enabled"],
        },
        "ResNet's basic block: Conv 3×3 → BatchNorm → ReLU → Conv 3×3 → BatchNorm, added to its input, then ReLU.",
    )
    net.add("image", "Input")
    net.add("conv1", "Conv2d", filters=16, kernel=3, padding=1, bias=False, init="he")
    net.chain(("bn1", "BatchNorm"), ("relu", "ReLU"))
    net.add("layer1", "BasicBlock", filters=16, stride=1, downsample=False, repeat=2)
    first = {"0": {"stride": 2, "downsample": True}}
    net.add("layer2", "BasicBlock", filters=32, stride=1, downsample=False, repeat=2, overrides=first)
    net.chain(("avgpool", "AdaptiveAvgPool2d", {"size": [1, 1]}), ("flatten", "Flatten"))
    net.add("fc", "Dense", units=10, init="xavier")
    net.classifier_head("fc")
    return {
        **example(
            "08c_resnet_small_images",
            8,
            "ResNet for small images",
            "Lesson 8, part c: a small ResNet for the 8×8 digits, written the way torchvision writes ResNet-18 — "
            "a Conv 3×3 stem, "
            "then stages of one block definition, BasicBlock (two Conv 3×3 → BatchNorm with a skip around "
            "them), repeated twice each. The first copy of stage 2 halves the size (stride 2) and widens to 32 "
            "maps, so its skip goes through a 1×1 Downsample block, switched on for that copy only. Adam with a "
            "cosine schedule lowers the learning rate to zero by the last epoch.",
            "Select layer2 and read its overrides: copy 0 has stride 2 and its downsample on, copy 1 the defaults. "
            "Double-click a stage to see the BasicBlock inside; an edit there changes every copy. Export it to "
            "Python: the file has one BasicBlock class and torchvision's names (layer2.0.downsample.0.weight).",
            target("val_accuracy", ">=", 0.95, 3),
        ),
        "net": net,
        "dataset": {"name": "digits", "options": {"as_images": True}},
        "training": {**ADAM, "lr": 0.005, "epochs": 3, "schedule": "cosine"},
        "live_view": "curves",
    }


# ------------------------------------------------------------------ lesson 9
def batchnorm(with_bn: bool) -> Example:
    net = Net()
    net.add("pixels", "Input")
    for i in range(1, 7):
        net.add(f"dense{i}", "Dense", units=128, init="xavier", bias=not with_bn)
        if with_bn:
            net.add(f"bn{i}", "BatchNorm")
        net.add(f"sigmoid{i}", "Sigmoid")
    net.add("out", "Dense", units=10, init="xavier")
    net.classifier_head("out")
    name = "09b_batchnorm" if with_bn else "09a_no_batchnorm"
    if with_bn:
        texts = (
            "The same network with batch normalisation",
            "Lesson 9, part b: the six sigmoid layers of 9a with a BatchNorm between each Dense and its "
            "activation. BatchNorm standardises every unit over the minibatch to mean 0 and variance 1, then "
            "scales and shifts it by learned γ and β, so each sigmoid works in its steep middle.",
            "Open the loss curves next to 9a's: the same learning rate now trains in a few epochs. The "
            "activation view shows every layer spread over the sigmoid's range instead of bunched together.",
            target("val_accuracy", ">=", 0.9, 3),
        )
    else:
        texts = (
            "A deep sigmoid network without batch normalisation",
            "Lesson 9, part a: six Dense 128 → Sigmoid layers trained with plain SGD. The sigmoid's slope is "
            "at most 1/4, so every layer scales the gradient down, and the inputs of later layers drift as the "
            "earlier ones change.",
            "Open the loss curves: the loss hardly moves from ln 10 ≈ 2.30 for the first epochs. Then open 9b, "
            "which differs only by BatchNorm nodes, and compare.",
            target("val_accuracy", "<=", 0.5, 3),
        )
    title, description, watch, goal = texts
    return {
        **example(name, 9, title, description, watch, goal),
        "net": net,
        "dataset": {"name": "digits", "options": {"as_images": False}},
        "training": {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "batch_size": 32, "epochs": 10},
        "live_view": "curves",
    }


# ----------------------------------------------------------------- lesson 10
def regularised() -> Example:
    net = Net()
    net.add("pixels", "Input")
    net.chain(("dense1", "Dense", {"units": 256, "init": "he"}), ("relu1", "ReLU"), ("dropout1", "Dropout"))
    net.chain(("dense2", "Dense", {"units": 256, "init": "he"}), ("relu2", "ReLU"), ("dropout2", "Dropout"))
    net.add("out", "Dense", units=10, init="xavier")
    net.classifier_head("out")
    net.add("l2", "L2WeightPenalty", None, lam=0.0005)
    return {
        **example(
            "10_regularisation",
            10,
            "Dropout, L2 weight decay and early stopping",
            "Lesson 10: an MLP with 256 + 256 hidden units, far more than 1,437 training digits need. Three "
            "remedies against overfitting: Dropout 0.5 after each hidden layer (inverted dropout: off when "
            "evaluating), an L2 penalty λ Σ w² on all weights (the l2 node) and early stopping, which ends "
            "training when the validation loss has not improved for 5 epochs and restores the best weights.",
            "Open the loss curves: the training loss keeps falling while the validation loss levels off; "
            "training stops on its own and the run notes the best epoch. Mute the dropout nodes (M) and the l2 "
            "node and train again: the gap between training and validation loss opens wider.",
            target("val_accuracy", ">=", 0.95, 8),
        ),
        "net": net,
        "dataset": {"name": "digits", "options": {"as_images": False}},
        "training": {
            "optimizer": "adam",
            "lr": 0.001,
            "batch_size": 32,
            "epochs": 60,
            "early_stopping": {"enabled": True, "patience": 5},
        },
        "live_view": "curves",
    }


EXAMPLES = [
    keras_cnn,
    lenet,
    densenet,
    inception,
    resnet,
    lambda: batchnorm(False),
    lambda: batchnorm(True),
    regularised,
]
