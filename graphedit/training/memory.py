"""Will the model fit? A check before training instead of a process killed by the system.

Training keeps, per parameter, the weight, its gradient and the optimizer's
state: Adam and AdamW two moments, SGD with momentum and RMSprop one buffer
each (RMSprop with momentum two). The figures come from shape inference on
meta tensors, so nothing is allocated to find out. Activations depend on the
batch and are not counted here: the check refuses only what cannot fit at any
batch size.
"""

from __future__ import annotations

from pathlib import Path

import torch

from graphedit.compiler.report import byte_text
from graphedit.compiler.shapes import ShapeInference
from graphedit.errors import TrainingError
from graphedit.model.document import GraphDocument
from graphedit.training.settings import TrainSettings, resolve_device

FLOAT_BYTES = 4  # parameters, gradients and optimizer state are float32


def state_copies(settings: TrainSettings) -> int:
    """Copies of the parameters the optimizer keeps besides the gradient."""
    kind = settings.optimizer
    if kind in ("adam", "adamw"):
        return 2
    if kind == "sgd":
        return 1 if settings.momentum > 0 else 0
    if kind == "rmsprop":
        return 2 if settings.momentum > 0 else 1
    return 0  # the perceptron rule keeps nothing


def available_bytes(device: torch.device) -> int | None:
    """Free memory on ``device`` (CUDA: the driver's figure; CPU: what the OS can give); ``None`` if unknown."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    if device.type != "cpu":
        return None
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        return int(psutil.virtual_memory().available)
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def training_bytes(inference: ShapeInference, settings: TrainSettings) -> dict[str, int]:
    """Bytes each node's weights take while training (weights, buffers, gradients, optimizer state)."""
    factor = 1 + state_copies(settings)  # gradients plus state, on top of the weights themselves
    infos = inference.update() if inference.infos else inference.run()
    return {n: i.param_bytes + i.params * FLOAT_BYTES * factor for n, i in infos.items() if i.param_bytes}


def check_fits(document: GraphDocument, settings: TrainSettings, device: torch.device | None = None) -> None:
    """Raise :class:`TrainingError` with the figures and a fix if the model cannot be trained on ``device``."""
    device = device or resolve_device(settings.device)
    available = available_bytes(device)
    if available is None:
        return
    per_node = training_bytes(ShapeInference(document, observe=False), settings)
    need = sum(per_node.values())
    if need <= available:
        return
    largest = max(per_node, key=per_node.__getitem__)
    node_type = document.node_type(largest)
    what = f"{node_type.key_params[0]} of {largest}" if node_type.key_params else f"the size of {largest}"
    copies = state_copies(settings)
    state = f"{settings.optimizer} state ({copies} × the weights)" if copies else "no optimizer state"
    raise TrainingError(
        f"the model needs {byte_text(need)} to train (weights, gradients and {state}) but the {device} has "
        f"{byte_text(available)} free. Fix: reduce {what} ({byte_text(per_node[largest])} of it), "
        "or train on a device with more memory."
    )
