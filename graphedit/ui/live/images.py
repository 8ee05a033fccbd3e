"""Image views: feature maps of a convolution, first-layer filters, a grid of predictions, reconstructions.

Lesson 7 shows what a CNN learns: its first-layer filters (edge and blob
detectors after training, noise before) and the feature maps they produce
for one image. Lessons 11–13 show an autoencoder's reconstructions beside
its inputs. All images come from the probe batch (the first samples of the
validation split), so the same digits are shown all through training.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from graphedit.ui.live import grid
from graphedit.ui.live.base import grey_lut, named_lut
from graphedit.ui.live.page import BAD, CATEGORICAL, GOOD, LiveView, as_image, normalized
from graphedit.ui.live.state import LiveState

MAX_MAPS = 16


class ImageGrid(grid.ImageGrid):
    """The hand-painted grid, fed [H, W] images in [0, 1] through colour tables, or RGB [H, W, 3] in [0, 1]."""

    def show_images(
        self,
        images: list[np.ndarray],
        titles: list[str],
        columns: int,
        lut: np.ndarray | list[np.ndarray] | None = None,
        colors: list[str] | None = None,
    ) -> None:
        luts = lut if isinstance(lut, list) else [lut] * len(images)
        rgb = [grid.to_rgb(image, luts[i]) for i, image in enumerate(images)]
        self.set_cells(rgb, titles, columns, colors)


class _GridView(LiveView):
    """A header line over an image grid."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header = QLabel()
        self.header.setWordWrap(True)
        self.header.setContentsMargins(6, 4, 6, 0)
        self.grid = ImageGrid(self)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(self.grid, 1)

    def applies(self, state: LiveState) -> bool:
        return state.info is None or len(state.feature_shape()) == 3


def probe_input(probe: dict[str, Any]) -> np.ndarray | None:
    """The first probe sample (the one the feature maps are of), when the probe carries images."""
    for key, field in (("predictions", "images"), ("reconstructions", "inputs")):
        block = probe.get(key)
        if block is not None and len(block.get(field, ())):
            return as_image(block[field][0])
    return None


class FeatureMapsView(_GridView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.show_note("Feature maps appear for networks with Conv2d nodes, with the first probe.")

    def follows_selection(self) -> bool:
        return True

    def render(self, state: LiveState) -> None:
        probe = state.probe or {}
        maps = probe.get("feature_maps") or {}
        if not maps:
            self.show_note("Feature maps appear for networks with Conv2d nodes, with the first probe.")
            return
        self.show_body()
        node_id = self.focus_node(state.ordered(maps))
        channels = np.asarray(maps[node_id], dtype=np.float32)[:MAX_MAPS]
        lo, hi = float(channels.min()), float(channels.max())
        images, titles = [normalized(c, lo, hi) for c in channels], [f"channel {i}" for i in range(len(channels))]
        luts = [named_lut("viridis")] * len(images)
        first = probe_input(probe)
        if first is not None:
            images.insert(0, normalized(first))
            titles.insert(0, "input")
            luts.insert(0, grey_lut())
        self.header.setText(
            f"<b>{node_id}</b>: its {len(channels)} output channels for the first probe sample at step "
            f"{probe.get('step', '?')} (one colour scale for all, {lo:.2g} … {hi:.2g}). "
            "Select another convolution on the canvas to see its maps."
        )
        self.grid.show_images(images, titles, columns=min(6, len(images)), lut=luts)


class FiltersView(_GridView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.show_note("The first convolution's filters appear with the first probe.")

    def render(self, state: LiveState) -> None:
        probe = state.probe or {}
        filters = probe.get("filters") or {}
        if not filters:
            self.show_note("The first convolution's filters appear with the first probe.")
            return
        self.show_body()
        node_id, weights = next(iter(filters.items()))
        weights = np.asarray(weights, dtype=np.float32)  # [F, C, k, k]
        count, channels, k = weights.shape[0], weights.shape[1], weights.shape[-1]
        if channels == 3:
            images = [normalized(np.transpose(w, (1, 2, 0))) for w in weights]
            how = "RGB"
        else:
            images = [normalized(w[0] if channels == 1 else w.mean(0)) for w in weights]
            how = "grey" if channels == 1 else f"mean over {channels} input channels"
        self.header.setText(
            f"<b>{node_id}</b>: {count} filters of {k}×{k} at step {probe.get('step', '?')} ({how}; each filter "
            "scaled to its own range: dark = its lowest weights, light = its highest)."
        )
        self.grid.show_images(
            images, [f"filter {i}" for i in range(count)], columns=min(8, max(4, int(count**0.5) + 1))
        )


class PredictionsView(_GridView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.show_note("Predictions appear for image classification, with the first probe.")

    def applies(self, state: LiveState) -> bool:
        return state.info is None or (len(state.feature_shape()) == 3 and state.task() == "classification")

    def render(self, state: LiveState) -> None:
        probe = state.probe or {}
        block = probe.get("predictions")
        if not block:
            self.show_note("Predictions appear for image classification, with the first probe.")
            return
        self.show_body()
        names = block.get("class_names") or state.class_names()
        images, titles, colors = [], [], []
        right = 0
        for image, pred, true, conf in zip(block["images"], block["pred"], block["true"], block["confidence"]):
            picture = as_image(image)
            images.append(normalized(picture) if picture is not None else np.zeros((2, 2)))
            label = names[int(pred)] if names and int(pred) < len(names) else str(int(pred))
            truth = names[int(true)] if names and int(true) < len(names) else str(int(true))
            ok = int(pred) == int(true)
            right += ok
            titles.append(f"{label} ({conf:.0%})" if ok else f"{label} ({conf:.0%}), is {truth}")
            colors.append(GOOD if ok else BAD)
        self.header.setText(
            f"Step {probe.get('step', '?')}: {right} of {len(images)} probe images right — the network's class "
            "and its probability above each; red: wrong, with the true class."
        )
        self.grid.show_images(images, titles, columns=8, colors=colors)


class ReconstructionsView(_GridView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.show_note("Reconstructions appear for autoencoders (reconstruction and segmentation datasets).")

    def applies(self, state: LiveState) -> bool:
        return state.info is None or state.task() in ("reconstruction", "segmentation")

    def render(self, state: LiveState) -> None:
        probe = state.probe or {}
        block = probe.get("reconstructions")
        if not block:
            self.show_note("Reconstructions appear for autoencoders (reconstruction and segmentation datasets).")
            return
        self.show_body()
        inputs, outputs = np.asarray(block["inputs"]), np.asarray(block["outputs"])
        targets = block.get("targets")
        if targets is None:
            rows, note = _reconstructions(inputs, outputs)
        else:
            rows, note = _masks(inputs, outputs, np.asarray(targets))
        images = [picture for _, pictures in rows for picture in pictures]
        titles = [title for labels, _ in rows for title in labels]
        self.header.setText(f"Step {probe.get('step', '?')}: {note}")
        self.grid.show_images(images, titles, columns=len(inputs))


def _picture(array: np.ndarray) -> np.ndarray:
    picture = as_image(array)
    return np.zeros((2, 2), np.float32) if picture is None else picture


def _reconstructions(inputs: np.ndarray, outputs: np.ndarray) -> tuple[list, str]:
    """Inputs above outputs; each output on its input's grey scale, so a faint reconstruction looks faint."""
    shown_in, shown_out, errors = [], [], []
    for x, y in zip(inputs, outputs):
        source = _picture(x)
        shown_in.append(normalized(source))
        shown_out.append(normalized(_picture(y), float(source.min()), float(source.max())))
        if y.size == x.size:
            errors.append(float(np.mean((y.reshape(-1) - x.reshape(-1)) ** 2)))
    n = len(inputs)
    out_titles = [f"{'output · ' if i == 0 else ''}mse {e:.3f}" for i, e in enumerate(errors)] or ["output"]
    rows = [(["input"] + [" "] * (n - 1), shown_in), (out_titles + [" "] * (n - len(out_titles)), shown_out)]
    mean = f", mean squared error {np.mean(errors):.3f}" if errors else ""
    return rows, f"probe samples (top) and what the network makes of them{mean}. Outputs use their input's grey scale."


def _masks(inputs: np.ndarray, outputs: np.ndarray, targets: np.ndarray) -> tuple[list, str]:
    """Segmentation: inputs, predicted masks, true masks; classes in colours (background black)."""
    n = len(inputs)
    if outputs.ndim == 4 and outputs.shape[1] > 1:  # class scores per pixel → class maps
        predicted = outputs.argmax(1)
        true = targets.reshape(predicted.shape).astype(int)
        palette = np.array([(0, 0, 0), *CATEGORICAL], dtype=np.float32) / 255.0
        shown_pred = [palette[m % len(palette)] for m in predicted]
        shown_true = [palette[m % len(palette)] for m in true]
        right = [float(np.mean(a == b)) for a, b in zip(predicted, true)]
    else:  # one logit (or probability) per pixel
        prob = outputs if outputs.min() >= 0 and outputs.max() <= 1 else 1 / (1 + np.exp(-np.clip(outputs, -60, 60)))
        shown_pred = [normalized(_picture(m), 0.0, 1.0) for m in prob]
        shown_true = [normalized(_picture(m), 0.0, 1.0) for m in targets]
        right = [float(np.mean((a.reshape(-1) > 0.5) == (b.reshape(-1) > 0.5))) for a, b in zip(prob, targets)]
    rows = [
        (["input"] + [" "] * (n - 1), [normalized(_picture(x)) for x in inputs]),
        ([f"{'output · ' if i == 0 else ''}{r:.0%} right" for i, r in enumerate(right)], shown_pred),
        (["target"] + [" "] * (n - 1), shown_true),
    ]
    return rows, f"inputs, the network's masks and the true masks; {np.mean(right):.1%} of the pixels right."
