"""Example projects for the lessons that make pictures and text (11–14); see ``make_examples.py``."""

from __future__ import annotations

import math

import numpy as np
from example_builder import Example, Net, example, target
from examples_images import ADAM, conv

from graphedit.training.datasets import load_dataset


# ----------------------------------------------------------------- lesson 11
def autoencoder(denoising: bool) -> Example:
    net = Net()
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
    net.add("reconstruction", "Output", "dec2", name="reconstruction")
    net.add("mse", "MSE", {"pred": "dec2", "target": "pixels"})
    net.frame("Encoder: 16×16 → 4 maps of 4×4", "enc1", "enc_relu1", "enc2")
    net.frame("Decoder", "dec1", "dec_relu1", "dec2")
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
def down(inner: Net) -> None:
    """Max pool, then Conv 3×3 → ReLU: a step down the U (the inside of ``Down``)."""
    inner.add("pool", "MaxPool2d", "x")
    conv(inner, "conv", 32, 3)
    inner.add("relu", "ReLU")
    inner.add("y", "BlockOutput")


def up(inner: Net) -> None:
    """Transposed convolution, the skip concatenated, then Conv 3×3 → ReLU: a step up (the inside of ``Up``)."""
    inner.add("up", "ConvTranspose2d", "x", filters=32, kernel=2, stride=2, init="he")
    inner.add("cat", "Concat", ["up", "skip"])
    conv(inner, "conv", 32, 3)
    inner.add("relu", "ReLU")
    inner.add("y", "BlockOutput")


def unet() -> Example:
    net = Net()
    net.define("Down", ["x"], down, {"filters": ["conv.filters"]}, "Halve the resolution, then Conv 3×3 → ReLU.")
    net.define(
        "Up",
        ["x", "skip"],
        up,
        {"filters": ["up.filters", "conv.filters"]},
        "Double the resolution (transposed convolution), stack the skip's maps onto it, then Conv 3×3 → ReLU.",
    )
    net.add("image", "Input")
    conv(net, "inc", 16, 3)
    skip1 = net.add("inc_relu", "ReLU")
    skip2 = net.add("down1", "Down", filters=32)
    net.add("down2", "Down", filters=64)
    net.add("up2", "Up", {"x": "down2", "skip": skip2}, filters=32)
    net.add("up1", "Up", {"x": "up2", "skip": skip1}, filters=16)
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
            "resolution, and Concat skips bring back the fine detail of the same level. Each step is a block: "
            "Down (max pool, conv) and Up (transposed convolution, Concat with the skip, conv), used twice each.",
            "Open the reconstructions: beside each input the predicted mask, one colour per class, sharpens from "
            "blobs into shapes with crisp edges. Double-click an Up node to see its Concat stack the skip's "
            "channels onto the upsampled ones; the skip wires run straight across the U at each level.",
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
    net = Net()
    net.add("pixels", "Input")
    net.add("enc1", "Dense", units=64, init="he")
    enc = net.add("enc_relu", "ReLU")
    net.add("mu", "Dense", enc, units=2, init="xavier")
    net.add("logvar", "Dense", enc, units=2, init="xavier")
    net.add("z", "Reparameterize", {"mu": "mu", "logvar": "logvar"})
    net.add("kl", "KLDivergence", {"mu": "mu", "logvar": "logvar"}, weight=1 / 64)
    net.add("dec1", "Dense", "z", units=64, init="he")
    net.add("dec_relu", "ReLU")
    net.add("recon", "Dense", units=64, init="xavier")
    net.add("reconstruction", "Output", "recon", name="reconstruction")
    net.add("mse", "MSE", {"pred": "recon", "target": "pixels"})
    net.frame("Encoder", "enc1", "enc_relu")
    net.frame("Latent code: sample z, pay the KL", "mu", "logvar", "z", "kl")
    net.frame("Decoder", "dec1", "dec_relu", "recon")
    return {
        **example(
            "13_vae",
            13,
            "Variational autoencoder on digits",
            "Lesson 13: an encoder maps each 8×8 digit (64 values) to the mean μ and log-variance log σ² of a "
            "2-D code; Reparameterize samples z = μ + σ·ε so gradients flow through the sampling; the decoder "
            "rebuilds the 64 pixels. Loss: reconstruction MSE plus the KL divergence of N(μ, σ²) from N(0, I), "
            "weighted 1/64 because the MSE averages over the 64 pixels while the KL sums over the code.",
            "Open the latent space view: on the left each validation digit's μ, coloured by class, spreads from "
            "one blob at the origin into clusters as the loss falls; on the right the decoder's output on a grid "
            "over the same plane morphs from one digit into the next. Raise the KL weight and the clusters crowd "
            "together and blur; set it to 0 and they drift apart, leaving gaps that decode to nothing. The "
            "reconstructions view shows blurry averages sharpening into digits.",
            target("val_loss", "<=", 0.55, 8),
        ),
        "net": net,
        "dataset": {"name": "digits", "options": {"as_images": False, "task": "reconstruct"}},
        "training": {"optimizer": "adam", "lr": 0.003, "batch_size": 64, "epochs": 40},
        "live_view": "latent",
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


EXAMPLES = [lambda: autoencoder(False), lambda: autoencoder(True), unet, vae, char_model]
