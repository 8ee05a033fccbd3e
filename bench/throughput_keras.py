"""The Keras 3 side of bench/train_throughput.py: lesson 6's network fitted by Keras on the torch backend.

Where Keras is installed (``pip install keras``; ``KERAS_BACKEND=torch``), :func:`keras_speeds` fits the same
network on the same tensors as GraphEdit's Keras CNN case; the bench prints GraphEdit / Keras (not a goal).
"""

from __future__ import annotations

import os
import time


def keras_speeds(tensors: dict, lr: float, batch: int, epochs: int, reps: int) -> tuple[list[float], str]:
    """Samples/s of ``reps`` fits after one warm-up, and Keras's version; ``([], why)`` where it cannot run."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras
    except ImportError:
        return [], "keras is not installed; `pip install keras` with KERAS_BACKEND=torch"
    if keras.backend.backend() != "torch":
        return [], f"keras uses the {keras.backend.backend()} backend, not torch"
    layers = keras.layers

    def run() -> float:
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [
                keras.Input((32, 32, 1)),
                layers.Conv2D(16, 5, strides=2, padding="same", activation="relu"),
                layers.Conv2D(32, 5, strides=2, padding="same", activation="relu"),
                layers.Conv2D(32, 3, strides=2, padding="same", activation="relu"),
                layers.Flatten(),
                layers.Dropout(0.5),
                layers.Dense(32, activation="relu"),
                layers.Dropout(0.5),
                layers.Dense(10),
            ]
        )
        model.compile(
            optimizer=keras.optimizers.Adam(lr),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        t = tensors
        X, Xv = t["X"].permute(0, 2, 3, 1).numpy(), t["Xv"].permute(0, 2, 3, 1).numpy()
        start = time.perf_counter()
        model.fit(
            X,
            t["y"].numpy(),
            batch_size=batch,
            epochs=epochs,
            validation_data=(Xv, t["yv"].numpy()),
            verbose=0,
        )
        return epochs * len(X) / (time.perf_counter() - start)

    run()
    return [run() for _ in range(reps)], keras.__version__
