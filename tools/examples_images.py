"""Example projects for the image and sequence lessons (6–14); see ``make_examples.py``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from example_builder import Example, Net, example, target

from graphedit.training.datasets import load_dataset

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
def densenet() -> Example:
    net = Net()
    net.add("image", "Input")
    features = conv(net, "stem", 16, 3)
    for i in range(1, 4):
        net.add(f"bn{i}", "BatchNorm", features, lane=1)
        net.add(f"relu{i}", "ReLU")
        conv(net, f"conv{i}", 12, 3)
        features = net.add(f"concat{i}", "Concat", [features, f"conv{i}"], lane=0)
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
            "grow 16 → 28 → 40 → 52. A 1×1 transition convolution and average pooling follow, then global "
            "average pooling and a Dense classifier.",
            "Hover the Concat wires: the channel count grows by 12 at each one while height and width stay. "
            "Concatenated skips let every layer reuse all earlier features and get gradients directly from the "
            "classifier; the feature maps show what each new layer adds.",
            target("val_accuracy", ">=", 0.9, 3),
        ),
        "net": net,
        "dataset": DIGITS16,
        "training": ADAM,
        "live_view": "feature_maps",
    }


def inception() -> Example:
    net = Net()
    net.add("image", "Input")
    conv(net, "stem", 16, 3)
    stem = net.add("stem_relu", "ReLU")
    b1 = conv(net, "b1_1x1", 8, 1, stem, lane=-1.5)
    conv(net, "b2_reduce", 8, 1, stem, lane=-0.5)
    b2 = conv(net, "b2_3x3", 12, 3, col=net.grid[b1][0] + 1)
    conv(net, "b3_reduce", 4, 1, stem, lane=0.5)
    b3 = conv(net, "b3_5x5", 6, 5)
    net.add("b4_pool", "MaxPool2d", stem, lane=1.5, kernel=3, stride=1, padding=1)
    b4 = conv(net, "b4_1x1", 6, 1)
    net.add("concat", "Concat", [b1, b2, b3, b4], lane=0, inputs=4)
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
            "followed by a 1×1 convolution — concatenated along the channels (8 + 12 + 6 + 6 = 32 maps).",
            "Compare the parameter counts in the model summary: the 1×1 bottlenecks make the 5×5 branch cheap. "
            "Every branch keeps the 16×16 size ('same' padding), which is what lets Concat stack them; open the "
            "feature maps to see the four kinds of detectors side by side.",
            target("val_accuracy", ">=", 0.9, 3),
        ),
        "net": net,
        "dataset": DIGITS16,
        "training": ADAM,
        "live_view": "feature_maps",
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
    net.add("l2", "L2WeightPenalty", None, lane=2, col=net.grid["ce"][0], beside="ce", lam=0.0005)
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


# ----------------------------------------------------------------- lesson 11
def autoencoder(denoising: bool) -> Example:
    net = Net(wrap=6 if denoising else 5)  # the encoder above, the decoder below
    net.add("pixels", "Input")
    if denoising:
        net.add("noise", "GaussianNoise", std=0.7)
    conv(net, "enc1", 16, 3, stride=2, padding=1)
    net.add("enc_relu1", "ReLU")
    conv(net, "enc2", 4, 3, stride=2, padding=1)
    net.add("code", "ReLU")
    net.add("dec1", "ConvTranspose2d", filters=16, kernel=2, stride=2, init="he")
    net.add("dec_relu1", "ReLU")
    net.add("dec2", "ConvTranspose2d", filters=1, kernel=2, stride=2, init="xavier")
    col = net.grid["dec2"][0] + 1
    net.add("reconstruction", "Output", "dec2", lane=-1, col=col, beside="dec2", name="reconstruction")
    net.add("mse", "MSE", {"pred": "dec2", "target": "pixels"}, lane=0, col=col, beside="dec2")
    if denoising:
        texts = (
            "11b_denoising_autoencoder",
            "A denoising autoencoder",
            "Lesson 11, part b: the autoencoder of 11a with a GaussianNoise node (σ = 0.7) on its input. The "
            "loss still compares the output with the clean digit, so the network must learn to remove noise, "
            "which forces the code to capture the shape of digits rather than copy pixels. Noise is added only "
            "while training.",
            "Open the reconstructions: the outputs are clean digits although every training input was noisy. "
            "Raise the noise σ and the reconstructions get smoother and more 'typical'.",
        )
    else:
        texts = (
            "11a_conv_autoencoder",
            "A convolutional autoencoder",
            "Lesson 11, part a: two strided convolutions squeeze a 16×16 digit (256 pixels) into a code of 4 "
            "maps of 4×4 (64 numbers), and two transposed convolutions expand it back to 16×16. There are no "
            "labels: the loss is the squared error between the output and the input itself (the Input is wired "
            "into the loss), so the code must keep what matters about a digit.",
            "Open the reconstructions: blurry blobs after the first steps, recognisable digits after a few "
            "epochs. The loss is in units of the pixels' variance, so 1.0 means 'no better than the mean image'.",
        )
    name, title, description, watch = texts
    return {
        **example(name, 11, title, description, watch, target("val_mse", "<=", 0.1, 5)),
        "net": net,
        "dataset": {"name": "digits", "options": {"as_images": True, "size": 16, "task": "reconstruct"}},
        "training": ADAM,
        "live_view": "reconstructions",
    }


# ----------------------------------------------------------------- lesson 12
def unet() -> Example:
    net = Net(wrap=None)  # drawn as a U: each resolution level is a lane, the skips run straight across
    net.add("image", "Input")
    conv(net, "down1", 16, 3)
    skip1 = net.add("down1_relu", "ReLU")
    net.add("pool1", "MaxPool2d", lane=1)
    conv(net, "down2", 32, 3)
    skip2 = net.add("down2_relu", "ReLU")
    net.add("pool2", "MaxPool2d", lane=2)
    conv(net, "bottom", 64, 3)
    net.add("bottom_relu", "ReLU")
    net.add("up2", "ConvTranspose2d", lane=1, filters=32, kernel=2, stride=2, init="he")
    net.add("cat2", "Concat", ["up2", skip2])
    conv(net, "up2_conv", 32, 3)
    net.add("up2_relu", "ReLU")
    net.add("up1", "ConvTranspose2d", lane=0, filters=16, kernel=2, stride=2, init="he")
    net.add("cat1", "Concat", ["up1", skip1])
    conv(net, "up1_conv", 16, 3)
    net.add("up1_relu", "ReLU")
    net.add("mask", "Conv2d", filters=4, kernel=1, init="xavier")
    net.classifier_head("mask", output="mask_scores")
    return {
        **example(
            "12_unet_segmentation",
            12,
            "A small U-Net segments shapes",
            "Lesson 12: a U-Net maps pixels to pixels — which pixels of a noisy 16×16 image belong to the "
            "circle, square or triangle. The contracting path (conv, max pool, twice) sees more and more "
            "context at lower resolution; the expanding path (transposed convolutions) restores the "
            "resolution, and Concat skips bring back the fine detail of the same level.",
            "Open the reconstructions: beside each input the predicted mask, one colour per class, sharpens from "
            "blobs into shapes with crisp edges. Hover the "
            "Concat nodes to see a skip's channels stacked onto the upsampled ones. Mute a skip (select its "
            "Concat's source and press M) to see the edges blur.",
            target("val_accuracy", ">=", 0.93, 8),
        ),
        "net": net,
        "dataset": {
            "name": "shapes",
            "options": {"n": 600, "size": 16, "noise": 0.2, "task": "segment", "mask": "classes"},
        },
        "training": ADAM,
        "live_view": "reconstructions",
    }


# ----------------------------------------------------------------- lesson 13
def vae() -> Example:
    net = Net(wrap=5)  # the encoder above, the decoder below
    net.add("pixels", "Input")
    net.add("enc1", "Dense", units=64, init="he")
    enc = net.add("enc_relu", "ReLU")
    net.add("mu", "Dense", enc, lane=-0.7, units=2, init="xavier")
    net.add("logvar", "Dense", enc, lane=0.7, units=2, init="xavier")
    net.add("z", "Reparameterize", {"mu": "mu", "logvar": "logvar"}, lane=0)
    net.add("kl", "KLDivergence", {"mu": "mu", "logvar": "logvar"}, lane=1.6, weight=1 / 64)
    net.add("dec1", "Dense", "z", units=64, init="he")
    net.add("dec_relu", "ReLU")
    net.add("recon", "Dense", units=64, init="xavier")
    col = net.grid["recon"][0] + 1
    net.add("reconstruction", "Output", "recon", lane=-1, col=col, beside="recon", name="reconstruction")
    net.add("mse", "MSE", {"pred": "recon", "target": "pixels"}, lane=0, col=col, beside="recon")
    return {
        **example(
            "13_vae",
            13,
            "Variational autoencoder on digits",
            "Lesson 13: an encoder maps each 8×8 digit (64 values) to the mean μ and log-variance log σ² of a "
            "2-D code; Reparameterize samples z = μ + σ·ε so gradients flow through the sampling; the decoder "
            "rebuilds the 64 pixels. Loss: reconstruction MSE plus the KL divergence of N(μ, σ²) from N(0, I), "
            "weighted 1/64 because the MSE averages over the 64 pixels while the KL sums over the code.",
            "Open the reconstructions: blurry averages at first, then recognisable digits as the loss falls. "
            "With a 2-D code the digits form clusters around the origin of the latent plane; raise the KL "
            "weight and they crowd together and blur, set it to 0 and samples from N(0, I) decode to nothing.",
            target("val_loss", "<=", 0.55, 8),
        ),
        "net": net,
        "dataset": {"name": "digits", "options": {"as_images": False, "task": "reconstruct"}},
        "training": {"optimizer": "adam", "lr": 0.003, "batch_size": 64, "epochs": 40},
        "live_view": "reconstructions",
    }


# ----------------------------------------------------------------- lesson 14
def char_model() -> Example:
    dataset = {"name": "text", "options": {"window": 8}, "split": {"val": 0.2, "test": 0.0}, "standardize": False}
    data = load_dataset(dataset)
    vocab = data.info.num_classes
    counts = np.bincount(data.train.y.numpy(), minlength=vocab)
    freq = counts[counts > 0] / counts.sum()
    unigram = float(-(freq * np.log(freq)).sum())
    net = Net()
    net.add("chars", "Input")
    net.add("embed", "Embedding", vocab=vocab, dim=16, init="xavier")
    net.add("gru", "GRU", units=128, init="xavier")
    net.add("next_char", "Dense", units=vocab, init="xavier")
    net.classifier_head("next_char", output="logits")
    return {
        **example(
            "14_char_model",
            14,
            "Next-character prediction",
            "Lesson 14: every sample is 8 consecutive characters of a short story, as indices into its "
            f"{vocab}-character vocabulary, and the target is the character that follows. An Embedding turns "
            "each index into 16 numbers, a GRU reads the 8 vectors in order, and a Dense layer scores every "
            "character of the vocabulary, trained with softmax cross-entropy.",
            "Open the text view: sampled text (greedy and random) goes from gibberish to words and spaces in the "
            f"right places. The loss starts at ln {vocab} ≈ {math.log(vocab):.1f} and must fall below the unigram "
            "entropy of the text "
            f"(≈ {unigram:.2f} nats, what letter frequencies alone give) to show that the context is used.",
            target("val_loss", "<=", 2.4, 6),
        ),
        "net": net,
        "dataset": dataset,
        "training": {
            "optimizer": "adam",
            "lr": 0.003,
            "batch_size": 64,
            "epochs": 20,
            "early_stopping": {"enabled": True, "patience": 3},
        },
        "live_view": "text",
    }


EXAMPLES = [
    keras_cnn,
    lenet,
    densenet,
    inception,
    lambda: batchnorm(False),
    lambda: batchnorm(True),
    regularised,
    lambda: autoencoder(False),
    lambda: autoencoder(True),
    unet,
    vae,
    char_model,
]
