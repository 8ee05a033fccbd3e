"""Training throughput: GraphEdit's trainer against the same network and loop written by hand in PyTorch.

Networks: the notes' Keras CNN (lesson 6: Conv2D 16 5×5 s2 ReLU → Conv2D 32 5×5
s2 → Conv2D 32 3×3 s2 → Flatten → Dropout .5 → Dense 32 ReLU → Dropout .5 →
Dense 10) on digits upsampled to 32×32, and an MLP (64 → 128 ReLU → 64 ReLU →
10) on the digit vectors. Both loops use Adam, batch 32, a seeded randperm per
epoch, per-step accuracy and a validation pass per epoch; GraphEdit runs
without probes. Runs alternate (GraphEdit, hand, hand, GraphEdit, …) and the
medians of samples/s are compared. Then the probe overhead at the default
(automatic) probe frequency: the same trainer with and without probes, over
``--probe-epochs`` (10) epochs; the 2-D figure is also printed for the short runs.

    .venv/bin/python bench/train_throughput.py [--reps 5] [--epochs 2] [--threads 1] [--device cpu|cuda]

Keras 3 on the torch backend, where it is installed (`pip install keras`; it
is not a GraphEdit dependency), trains the same Keras CNN with ``model.fit``
as the reference a user might pick instead; its samples/s is printed beside
GraphEdit's as ``keras_cnn_vs_keras``.

Prints ``name: value`` lines, the ratios last.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import graphs  # noqa: E402

from graphedit.compiler import compile_graph  # noqa: E402
from graphedit.training.binding import fit_inputs_to_dataset  # noqa: E402
from graphedit.training.datasets import load_dataset  # noqa: E402
from graphedit.training.trainer import Trainer  # noqa: E402

BATCH = 32
LR = 1e-3
CNN_SPEED = [0.0]  # GraphEdit's samples/s on the Keras CNN, compared with Keras' own loop


def keras_cnn_torch() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, stride=2),
        nn.ReLU(),
        nn.Conv2d(16, 32, 5, stride=2),
        nn.Conv2d(32, 32, 3, stride=2),
        nn.Flatten(),
        nn.Dropout(0.5),
        nn.Linear(128, 32),  # 32×32 → 14 → 5 → 2 (valid padding, as Keras): 32·2·2 features
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(32, 10),
    )


def mlp_torch() -> nn.Module:
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))


DEVICE = "cpu"


def sync() -> None:
    if DEVICE.startswith("cuda"):
        torch.cuda.synchronize()


def hand_loop(make: callable, data, epochs: int, seed: int = 0) -> float:
    """The loop a PyTorch user writes; returns training samples per second."""
    torch.manual_seed(seed)
    model = make().to(DEVICE)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    X, y = data.train.X.to(DEVICE), data.train.y.to(DEVICE)
    Xv, yv = data.val.X.to(DEVICE), data.val.y.to(DEVICE)
    gen = torch.Generator().manual_seed(seed)
    sync()
    n = len(X)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        total = torch.zeros(2, device=DEVICE)
        for idx in torch.randperm(n, generator=gen).to(DEVICE).split(BATCH):
            xb, yb = X[idx], y[idx]
            opt.zero_grad(set_to_none=True)
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            acc = (out.argmax(1) == yb).float().mean()
            if not torch.isfinite(loss):
                raise RuntimeError("nan")
            loss.backward()
            opt.step()
            total += torch.stack([loss.detach(), acc]) * len(idx)
        model.eval()
        with torch.no_grad():
            out = model(Xv)
            _ = (F.cross_entropy(out, yv).item(), (out.argmax(1) == yv).float().mean().item(), (total / n).tolist())
    sync()
    return epochs * n / (time.perf_counter() - start)


def graphedit_run(doc, data, epochs: int, probes: bool = False, seed: int = 0) -> tuple[float, float]:
    """Returns (training samples per second, wall seconds of fit)."""
    compiled = compile_graph(doc, seed=seed)
    settings = {"optimizer": "adam", "lr": LR, "batch_size": BATCH, "epochs": epochs, "device": DEVICE, "seed": seed}
    trainer = Trainer(compiled, data, settings, observers=[lambda e: None], probes=probes)
    sync()
    start = time.perf_counter()
    trainer.fit()
    sync()
    seconds = time.perf_counter() - start
    return epochs * len(data.train) / seconds, seconds


def compare(name: str, doc, make, data, reps: int, epochs: int) -> float:
    graphedit_run(doc, data, 1)  # warm up both
    hand_loop(make, data, 1)
    ge, hand = [], []
    for rep in range(reps):
        order = ("ge", "hand") if rep % 2 == 0 else ("hand", "ge")
        for which in order:
            if which == "ge":
                ge.append(graphedit_run(doc, data, epochs)[0])
            else:
                hand.append(hand_loop(make, data, epochs))
    g, h = statistics.median(ge), statistics.median(hand)
    if name == "keras_cnn":
        CNN_SPEED[0] = g
    print(f"{name}_graphedit_samples_per_s: {g:.0f}")
    print(f"{name}_pytorch_samples_per_s: {h:.0f}")
    return g / h


def probe_overhead(doc, data, reps: int, epochs: int) -> float:
    with_p, without = [], []
    for rep in range(reps):
        for probes in (True, False) if rep % 2 == 0 else (False, True):
            seconds = graphedit_run(doc, data, epochs, probes=probes)[1]
            (with_p if probes else without).append(seconds)
    return statistics.median(with_p) / statistics.median(without) - 1.0


def keras_cnn_keras(keras):
    """The notes' network as the notes write it, in Keras 3."""
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((32, 32, 1)),
            layers.Conv2D(16, 5, strides=2, activation="relu"),
            layers.Conv2D(32, 5, strides=2),
            layers.Conv2D(32, 3, strides=2),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(32, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(10),
        ]
    )


def keras_run(keras, data, epochs: int) -> float:
    """Keras' own fit loop (Adam, batch 32, accuracy, a validation pass per epoch); training samples per second."""
    keras.utils.set_random_seed(0)
    model = keras_cnn_keras(keras)
    model.compile(
        optimizer=keras.optimizers.Adam(LR),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    X = data.train.X.permute(0, 2, 3, 1).numpy()
    Xv = data.val.X.permute(0, 2, 3, 1).numpy()
    y, yv = data.train.y.numpy(), data.val.y.numpy()
    start = time.perf_counter()
    model.fit(X, y, batch_size=BATCH, epochs=epochs, validation_data=(Xv, yv), verbose=0, shuffle=True)
    return epochs * len(X) / (time.perf_counter() - start)


def keras_reference(data, epochs: int, reps: int) -> float | None:
    """Keras 3 on the torch backend, where it installs; ``None`` (with a note) where it does not."""
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras
    except ImportError:
        print("keras_reference: skipped (keras is not installed; `pip install keras` with KERAS_BACKEND=torch)")
        return None
    if keras.backend.backend() != "torch":
        print(f"keras_reference: skipped (keras uses the {keras.backend.backend()} backend, not torch)")
        return None
    keras_run(keras, data, 1)  # warm up
    speed = statistics.median(keras_run(keras, data, epochs) for _ in range(reps))
    print(f"keras_cnn_keras_samples_per_s: {speed:.0f}  (keras {keras.__version__}, torch backend)")
    return speed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument(
        "--probe-epochs",
        type=int,
        default=10,
        help="epochs of the probe-overhead runs: a run probes at its first step and its end whatever its length, "
        "so a 2-epoch run of a 2-D toy (50 ms) measures those two probes more than the default frequency",
    )
    args = parser.parse_args()
    global DEVICE
    DEVICE = args.device
    torch.set_num_threads(args.threads)
    print(f"torch: {torch.__version__}  threads: {torch.get_num_threads()}  reps: {args.reps}  epochs: {args.epochs}")

    images = load_dataset({"name": "digits", "options": {"as_images": True, "size": 32}})
    vectors = load_dataset({"name": "digits"})
    cnn_doc, mlp_doc = graphs.keras_cnn(32), graphs.mlp((64,), (128, 64), 10)
    fit_inputs_to_dataset(cnn_doc, images.info)
    fit_inputs_to_dataset(mlp_doc, vectors.info)
    cnn_ratio = compare("keras_cnn", cnn_doc, keras_cnn_torch, images, args.reps, args.epochs)
    mlp_ratio = compare("mlp", mlp_doc, mlp_torch, vectors, args.reps, args.epochs)
    circle = load_dataset({"name": "circle", "options": {"n": 2000}})
    circle_doc = graphs.mlp((2,), (16, 16), 2)
    overhead_cnn = probe_overhead(cnn_doc, images, args.reps, args.probe_epochs)
    overhead_2d = probe_overhead(circle_doc, circle, args.reps, args.probe_epochs)
    short_2d = probe_overhead(circle_doc, circle, args.reps, args.epochs)
    print(f"probe_overhead_2d_regions_{args.epochs}_epochs: {short_2d:.3f}  (mostly the first-step and final probes)")
    keras_speed = keras_reference(images, args.epochs, args.reps) if DEVICE == "cpu" else None
    print(f"probe_overhead_2d_regions: {overhead_2d:.3f}")
    print(f"probe_overhead: {overhead_cnn:.3f}")
    print(f"mlp_ratio: {mlp_ratio:.3f}")
    print(f"keras_cnn_ratio: {cnn_ratio:.3f}")
    if keras_speed:
        print(f"keras_cnn_vs_keras: {CNN_SPEED[0] / keras_speed:.3f}")


if __name__ == "__main__":
    main()
