"""The user's own pretrained weights for a PyTorch module about to be imported (``graphedit import --weights``).

A weights file is untrusted. What is read, by its first bytes rather than its name:

* safetensors — read by safetensors, never unpickled;
* an ONNX file — its initialisers (the tensors ``torch.onnx.export`` names after the module's parameters),
  read by onnx's protobuf parser, no external data files;
* a PyTorch ``.pt``/``.pth`` file — a pickle. It is refused unless the user confirmed it (``--allow-pt``,
  or yes in the editor's question), and then read only with ``torch.load(weights_only=True)``, which
  restores tensors and plain containers and refuses any other object. The refusal says how to convert it.

The tensors are loaded into the module by name before it is imported, so the imported project's weights
are the user's. Names the module lacks, and parameters the file lacks (a new head), are stated in notes.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from graphedit.errors import WeightsError
from graphedit.training.weights_file import check_regular_file, read_weights

CONVERT = (
    "convert it once to safetensors, in Python: import torch, safetensors.torch as st; "
    "st.save_file(torch.load('model.pt', weights_only=True), 'model.safetensors')"
)


def _kind(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(9)
    if head.startswith(b"PK\x03\x04") or (head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")):
        return "pickle"
    if len(head) > 8 and head[8:9] == b"{":
        return "safetensors"
    if path.suffix.lower() == ".onnx":
        return "onnx"
    return "unknown"


def is_pickle(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a pickle (a PyTorch .pt file), which is read only after the user confirms."""
    try:
        return _kind(Path(path)) == "pickle"
    except OSError:
        return False


def read_pretrained(path: str | os.PathLike[str], allow_pt: bool = False) -> dict[str, torch.Tensor]:
    """The named tensors of a safetensors, ONNX or (confirmed) PyTorch file; raises :class:`WeightsError`."""
    path = Path(path)
    check_regular_file(path)
    kind = _kind(path)
    if kind == "safetensors":
        return dict(read_weights(path))
    if kind == "onnx":
        return _onnx_initialisers(path)
    if kind == "pickle":
        if not allow_pt:
            raise WeightsError(
                f"{path}: a PyTorch .pt file is a Python pickle, which GraphEdit opens only when you confirm it "
                f"(--allow-pt, or Yes in the editor), and then reads only tensors. Fix: confirm it, or {CONVERT}"
            )
        return _torch_file(path)
    raise WeightsError(
        f"{path}: not a weights file GraphEdit reads (safetensors, an ONNX model, or a confirmed PyTorch .pt). "
        "Fix: save the weights with safetensors.torch.save_file(model.state_dict(), 'model.safetensors')"
    )


def _onnx_initialisers(path: Path) -> dict[str, torch.Tensor]:
    import onnx
    from onnx import numpy_helper

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf's DecodeError, or OSError
        raise WeightsError(f"{path}: not a readable ONNX model ({_first_line(exc)}). Fix: export it again") from None
    out = {}
    for tensor in model.graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            raise WeightsError(
                f"{path}: initialiser '{tensor.name}' lies in an external data file, which GraphEdit does not "
                "follow. Fix: export the model with its weights inside (the default below 2 GB)"
            )
        out[tensor.name] = torch.from_numpy(numpy_helper.to_array(tensor).copy())
    return out


def _torch_file(path: Path) -> dict[str, torch.Tensor]:
    import pickle

    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as exc:
        raise WeightsError(
            f"{path}: torch.load(weights_only=True) refused it ({_first_line(exc)}): it holds more than tensors. "
            f"Fix: {CONVERT.replace('weights_only=True', 'weights_only=False')} where you trust the file"
        ) from None
    for key in ("state_dict", "model_state_dict", "model"):  # a training checkpoint around the weights
        if isinstance(loaded, dict) and isinstance(loaded.get(key), dict):
            loaded = loaded[key]
            break
    if not isinstance(loaded, dict):
        raise WeightsError(
            f"{path}: holds a {type(loaded).__name__}, not a state dict of named tensors. "
            "Fix: save model.state_dict() instead of the model"
        )
    return {str(k): v for k, v in loaded.items() if isinstance(v, torch.Tensor)}


def load_pretrained(model: nn.Module, path: str | os.PathLike[str], allow_pt: bool = False) -> list[str]:
    """Copy the file's tensors into ``model`` by name; the notes say what did not match. Raises when nothing does."""
    state = read_pretrained(path, allow_pt)
    own = model.state_dict()
    wrong = [k for k, v in state.items() if k in own and tuple(v.shape) != tuple(own[k].shape)]
    if wrong:
        key = wrong[0]
        raise WeightsError(
            f"{path}: tensor '{key}' has shape {list(state[key].shape)} but the model's has {list(own[key].shape)} "
            f"({len(wrong)} such tensor(s)). Fix: give the weights of this very architecture"
        )
    matched = {k: v.to(own[k].dtype) for k, v in state.items() if k in own}
    if not matched:
        sample = ", ".join(list(state)[:3]) or "none"
        raise WeightsError(
            f"{path}: none of its {len(state)} tensor names ({sample}, …) is a parameter of "
            f"{type(model).__name__} ({', '.join(list(own)[:3])}, …). Fix: give the weights saved from this model's "
            "state_dict()"
        )
    model.load_state_dict(matched, strict=False)
    notes = [f"{len(matched)} of {len(own)} tensors loaded from {Path(path).name}"]
    unused = [k for k in state if k not in own]
    kept = [k for k in own if k not in matched]
    if unused:
        notes.append(f"not in the model, left out: {_short(unused)}")
    if kept:
        notes.append(f"not in the file, left as initialised: {_short(kept)}")
    return notes


def _short(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return f"{shown}, … ({len(names)} in all)" if len(names) > limit else shown


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:160]


__all__ = ["CONVERT", "is_pickle", "load_pretrained", "read_pretrained"]
