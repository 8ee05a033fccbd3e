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
from graphedit.ui.live.base import BAD, GOOD, LiveView, as_image, grey_lut, named_lut, normalized
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
    name = "feature_maps"
    title = "Feature maps"

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
    name = "filters"
    title = "Filters"

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
    name = "predictions"
    title = "Predictions"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.show_note("Predictions appear for image classification, with the first probe.")

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
    name = "reconstructions"
    title = "Reconstructions"

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
        if outputs.ndim == 4 and outputs.shape[1] > 1 and outputs.shape[1] != inputs.shape[1]:
            outputs = outputs.argmax(1).astype(np.float32)  # class scores per pixel → the class map
        rows: list[tuple[str, Any]] = [("input", inputs), ("output", outputs)]
        if targets is not None:
            rows.append(("target", np.asarray(targets)))
        n = len(inputs)
        images, titles = [], []
        errors = []
        for name, batch in rows:
            for i in range(n):
                picture = as_image(batch[i])
                if picture is None:
                    picture = np.zeros((2, 2), np.float32)
                if name == "input" or targets is not None:
                    images.append(normalized(picture))
                else:  # the output on the input's scale: a faint reconstruction looks faint
                    source = as_image(inputs[i])
                    lo, hi = (float(source.min()), float(source.max())) if source is not None else (None, None)
                    images.append(normalized(picture, lo, hi))
                if name == "output" and targets is None and batch[i].size == inputs[i].size:
                    errors.append(float(np.mean((batch[i].reshape(-1) - inputs[i].reshape(-1)) ** 2)))
                    titles.append(f"{'output · ' if i == 0 else ''}mse {errors[-1]:.3f}")
                else:
                    titles.append(name if i == 0 else " ")
        mean = f", mean squared error {np.mean(errors):.3f}" if errors else ""
        self.header.setText(
            f"Step {probe.get('step', '?')}: probe samples (top) and what the network makes of them{mean}. "
            "Outputs use their input's grey scale."
        )
        self.grid.show_images(images, titles, columns=n)
