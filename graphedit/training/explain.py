"""Why this class? Saliency, SmoothGrad, Grad-CAM and adversarial examples (FGSM) for image classifiers.

All four use the compiled model's own forward and autograd, in evaluation mode:

* saliency: ``|∂ score_c / ∂ x|``, the largest over channels (Simonyan et al., 2013);
* SmoothGrad: the saliency averaged over copies of ``x`` with Gaussian noise (Smilkov et al., 2017);
* Grad-CAM at a convolution node: ``ReLU(Σ_k α_k A_k)`` with ``α_k`` the mean of ``∂ score_c / ∂ A_k``
  over positions, scaled up to the input's size (Selvaraju et al., 2017);
* FGSM: ``x' = clip(x + ε · sign(∇_x L(x, y)), 0, 1)`` (Goodfellow et al., 2014), the notes' example of
  an imperceptible perturbation that flips a classifier.

:func:`availability` says, with the reason, whether a graph supports them (image input, a conv node).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

CONV_TYPES = ("Conv2d",)


def availability(document: Any, compiled: Any) -> tuple[bool, str]:
    """Whether the image views apply to this graph, and why not when they do not."""
    if len(compiled.input_ids) != 1:
        return False, "these views need a graph with one Input node"
    shape = document.params(compiled.input_ids[0]).get("shape") or []
    if len(shape) != 3:
        return False, f"the input is {list(shape)}, not an image [C, H, W]"
    if not conv_nodes(document):
        return False, "the graph has no Conv2d node (Grad-CAM needs one; saliency and FGSM still apply)"
    return True, ""


def conv_nodes(document: Any) -> list[str]:
    return [n for n in document.topological_order() if document.node_type(n).type_id in CONV_TYPES]


class _Eval:
    """Evaluation mode for the duration of a computation, then the mode it had."""

    def __init__(self, compiled: Any) -> None:
        self.modules = [compiled.root, compiled.model, compiled.taps]

    def __enter__(self) -> None:
        self.modes = [m.training for m in self.modules]
        for m in self.modules:
            m.eval()

    def __exit__(self, *exc: Any) -> None:
        for m, mode in zip(self.modules, self.modes):
            m.train(mode)


def _scores(compiled: Any, x: torch.Tensor) -> torch.Tensor:
    out = compiled.model(x)
    return out[0] if isinstance(out, tuple) else out


def predict(compiled: Any, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each image's predicted class and its probability (softmax of the scores), in evaluation mode."""
    with _Eval(compiled), torch.no_grad():
        best = F.softmax(_scores(compiled, x), 1).max(1)
    return best.indices, best.values


def saliency(compiled: Any, x: torch.Tensor, classes: torch.Tensor | None = None) -> torch.Tensor:
    """``[N, H, W]``: how much each pixel moves the score of ``classes`` (default: the predicted class)."""
    with _Eval(compiled), torch.enable_grad():
        x = x.detach().clone().requires_grad_()
        scores = _scores(compiled, x)
        picked = scores.argmax(1) if classes is None else classes
        (grad,) = torch.autograd.grad(scores.gather(1, picked.view(-1, 1)).sum(), x)
    return grad.abs().amax(1)


def smoothgrad(compiled: Any, x: torch.Tensor, samples: int = 16, noise: float = 0.15, seed: int = 0) -> torch.Tensor:
    """Saliency averaged over ``samples`` noisy copies (noise: a share of each image's value range)."""
    generator = torch.Generator().manual_seed(seed)
    with _Eval(compiled), torch.no_grad():
        classes = _scores(compiled, x).argmax(1)
    span = (x.amax(dim=(1, 2, 3), keepdim=True) - x.amin(dim=(1, 2, 3), keepdim=True)).clamp_min(1e-8)
    total = torch.zeros(x.shape[0], *x.shape[2:])
    for _ in range(samples):
        noisy = x + torch.randn(x.shape, generator=generator) * noise * span
        total += saliency(compiled, noisy, classes)
    return total / samples


def grad_cam(compiled: Any, x: torch.Tensor, node_id: str, classes: torch.Tensor | None = None) -> torch.Tensor:
    """``[N, H, W]`` in [0, 1]: where the conv node's feature maps support the class, at the input's size."""
    with _Eval(compiled), torch.enable_grad():
        x = x.detach().clone().requires_grad_()
        taps = compiled.taps(**{compiled.input_ids[0]: x, **_dummy_targets(compiled, x)})
        features = taps[node_id]
        scores = _model_output(compiled, taps)
        picked = scores.argmax(1) if classes is None else classes
        (grad,) = torch.autograd.grad(scores.gather(1, picked.view(-1, 1)).sum(), features)
    weights = grad.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * features.detach()).sum(1, keepdim=True))
    cam = F.interpolate(cam, size=x.shape[2:], mode="bilinear", align_corners=False)[:, 0]
    peak = cam.flatten(1).amax(1).clamp_min(1e-12).view(-1, 1, 1)
    return cam / peak


def _dummy_targets(compiled: Any, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Targets the taps module asks for; the losses they feed are not used here."""
    return {t: torch.zeros(x.shape[0], dtype=torch.long) for t in compiled.target_ids}


def _model_output(compiled: Any, taps: dict[str, torch.Tensor]) -> torch.Tensor:
    """The model's (first) output, read from the taps: the node the model's output comes from."""
    out = next(n for n in compiled.model.graph.nodes if n.op == "output").args[0]
    first = out[0] if isinstance(out, (tuple, list)) else out
    return taps[first.meta.get("graphedit_id", first.name)]


@dataclass
class Adversarial:
    """One FGSM batch: the perturbation, the adversarial images and both predictions with confidence."""

    original: torch.Tensor
    perturbation: torch.Tensor  # ε · sign(∇x L), before clipping
    adversarial: torch.Tensor
    clean_class: torch.Tensor
    clean_confidence: torch.Tensor
    adversarial_class: torch.Tensor
    adversarial_confidence: torch.Tensor

    def flipped(self) -> torch.Tensor:
        return self.clean_class != self.adversarial_class


def fgsm(
    compiled: Any, x: torch.Tensor, y: torch.Tensor, epsilon: float, bounds: tuple[float, float] = (0.0, 1.0)
) -> Adversarial:
    """The fast gradient sign method on a batch: one step of size ε along the sign of the loss's input gradient."""
    with _Eval(compiled):
        with torch.enable_grad():
            xg = x.detach().clone().requires_grad_()
            loss = F.cross_entropy(_scores(compiled, xg), y.view(-1).long())
            (grad,) = torch.autograd.grad(loss, xg)
        perturbation = epsilon * grad.sign()
        adversarial = (x + perturbation).clamp(*bounds)
        with torch.no_grad():
            clean = F.softmax(_scores(compiled, x), 1).max(1)
            adv = F.softmax(_scores(compiled, adversarial), 1).max(1)
    return Adversarial(x, perturbation, adversarial, clean.indices, clean.values, adv.indices, adv.values)
