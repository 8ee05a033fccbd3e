"""Reading a trained-weights file named by a project, which is untrusted (DESIGN.md decision 13).

A project names its weights by a path relative to its folder. That path must
stay inside the folder (no absolute path, no ``..``, no symlink out of it), and
must be a regular file: :func:`os.stat` is asked before anything is opened, so a
FIFO (which would block the reader forever) or a device is never opened. The
bytes are read by safetensors only, never unpickled; a pickle renamed to
``.safetensors`` is recognised by its first bytes and named as such.

Every failure is a :class:`~graphedit.errors.WeightsError` of one line that
names the file, what is wrong and the fix.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path, PurePosixPath
from typing import Any

from graphedit.errors import WeightsError

RETRAIN = "train the project again (Run), or put the right file back"
SAFETENSORS_HEADER_LIMIT = 100_000_000  # what safetensors itself accepts

Signature = dict[str, tuple[str, tuple[int, ...]]]  # tensor name -> (dtype, shape)


def weights_location(project_dir: str | os.PathLike[str], rel: str) -> Path:
    """The file ``rel`` names inside ``project_dir``; raises when it would lead out of that folder."""
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or ":" in rel or "\\" in rel:
        raise WeightsError(
            f"weights path {rel!r} leads outside the project's folder; a project names its weights relative to its "
            "own folder. Fix: move the weights file beside the project and point to it, or train again"
        )
    folder = Path(project_dir)
    path = folder / pure
    try:
        inside = path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        inside = False
    if not inside:
        raise WeightsError(
            f"{path}: this weights file is a link to a place outside the project's folder. "
            "Fix: copy the real file beside the project instead of linking to it"
        )
    return path


def check_regular_file(path: str | os.PathLike[str]) -> int:
    """The size of ``path``, a regular file; raises for a missing file, a folder, a FIFO or a device."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise WeightsError(f"{path}: the weights file does not exist. Fix: {RETRAIN}") from None
    except OSError as exc:
        raise WeightsError(
            f"{path}: cannot read the weights file ({exc.strerror or exc}). Fix: check its permissions"
        ) from None
    if not stat.S_ISREG(info.st_mode):
        kind = (
            "a folder"
            if stat.S_ISDIR(info.st_mode)
            else "a named pipe (FIFO)"
            if stat.S_ISFIFO(info.st_mode)
            else "a device or socket"
        )
        raise WeightsError(f"{path}: the weights path is {kind}, not a file. Fix: {RETRAIN}")
    return info.st_size


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _not_safetensors(path: str | os.PathLike[str], size: int) -> str | None:
    """What the file is instead of safetensors, read from its first bytes; ``None`` when it may be safetensors."""
    try:
        with open(path, "rb") as f:
            head = f.read(9)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if head.startswith(b"PK\x03\x04"):
        return "a PyTorch pickle archive (torch.save), not safetensors; GraphEdit never unpickles files"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05") and head[8:9] != b"{":
        return "a Python pickle, not safetensors; GraphEdit never unpickles files"
    if size < 8:
        return "truncated: shorter than a safetensors header"
    length = int.from_bytes(head[:8], "little")
    if length > SAFETENSORS_HEADER_LIMIT or (len(head) > 8 and head[8:9] != b"{"):
        return "not a safetensors file (its header is not one)"
    if 8 + length > size:
        return "truncated: the file ends inside its header"
    return None


def _failure(path: str | os.PathLike[str], what: str) -> WeightsError:
    return WeightsError(f"{path}: the weights file is {what}. Fix: {RETRAIN}")


def _plain(exc: BaseException) -> str:
    text = (str(exc).splitlines() or [type(exc).__name__])[0]
    return text.replace("Error while deserializing header: ", "").split(", expected one of")[0][:160]


def check_weights_file(path: str | os.PathLike[str], sha256: str | None = None) -> None:
    """Raise unless ``path`` is a regular safetensors file (with this SHA-256 when given); reads no tensor."""
    size = check_regular_file(path)
    problem = _not_safetensors(path, size)
    if problem:
        raise _failure(path, problem)
    if sha256 is not None and sha256_file(path) != sha256:
        raise WeightsError(
            f"{path}: the weights file changed since it was recorded (its SHA-256 differs from the project's). "
            f"Fix: {RETRAIN}"
        )


def read_signature(path: str | os.PathLike[str], sha256: str | None = None) -> Signature:
    """Names, dtypes and shapes of the tensors in ``path``, from its header alone."""
    from safetensors import safe_open

    check_weights_file(path, sha256)
    try:
        with safe_open(str(path), framework="pt") as f:
            out = {}
            for key in f.keys():  # noqa: SIM118 (safe_open is not iterable)
                piece = f.get_slice(key)
                out[key] = (str(piece.get_dtype()), tuple(piece.get_shape()))
            return out
    except Exception as exc:  # safetensors raises its own SafetensorError, or OSError
        raise _failure(path, f"damaged ({_plain(exc)})") from None


def read_weights(path: str | os.PathLike[str], sha256: str | None = None) -> dict[str, Any]:
    """The tensors of ``path`` (on the CPU), after the checks of :func:`check_weights_file`."""
    from safetensors.torch import load_file

    check_weights_file(path, sha256)
    try:
        return load_file(str(path))
    except Exception as exc:  # safetensors raises its own SafetensorError, or OSError
        raise _failure(path, f"damaged ({_plain(exc)})") from None


def signature_of(state: dict[str, Any]) -> Signature:
    """The signature of a state dict (tensors or meta tensors), in safetensors' dtype names."""
    return {k: (SAFETENSORS_DTYPES.get(str(v.dtype), str(v.dtype)), tuple(v.shape)) for k, v in state.items()}


SAFETENSORS_DTYPES = {
    "torch.float64": "F64",
    "torch.float32": "F32",
    "torch.float16": "F16",
    "torch.bfloat16": "BF16",
    "torch.int64": "I64",
    "torch.int32": "I32",
    "torch.int16": "I16",
    "torch.int8": "I8",
    "torch.uint8": "U8",
    "torch.bool": "BOOL",
}


def fit_problem(have: Signature, want: Signature) -> str | None:
    """Why tensors ``have`` cannot be loaded where ``want`` is expected (names, dtypes, shapes), or ``None``."""
    have = {k: (SAFETENSORS_DTYPES.get(d, d), s) for k, (d, s) in have.items()}
    missing, extra = sorted(set(want) - set(have)), sorted(set(have) - set(want))
    if missing:
        return f"the graph's layers differ from the weights (missing: {', '.join(missing[:3])})"
    if extra:
        return f"the graph's layers differ from the weights (unexpected: {', '.join(extra[:3])})"
    for key, (dtype, shape) in want.items():
        if have[key][1] != shape:
            return f"{key} is {list(have[key][1])} in the weights but {list(shape)} in the graph"
        if have[key][0] != dtype:
            return f"{key} is {have[key][0]} in the weights but {dtype} in the graph"
    return None


def nonfinite_tensors(state: dict[str, Any]) -> list[str]:
    """Names of the floating-point tensors holding NaN or infinity."""
    import torch

    return [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]


def weights_problem(
    document: Any, path: str | os.PathLike[str], sha256: str | None = None, shapes: Any = None
) -> str | None:
    """Why the weights in ``path`` cannot be used with ``document`` as it is now, or ``None`` when they fit.

    Reads the file's header only (names, dtypes, shapes) and builds the graph on meta tensors (``shapes``: the
    document's ShapeInference, already run, when the caller has one).
    """
    from graphedit.compiler import compile_graph
    from graphedit.errors import GraphEditError

    try:
        compiled = compile_graph(document, device="meta", shapes=shapes)
    except GraphEditError as exc:
        return f"the graph does not compile now ({exc})"
    try:
        have = read_signature(path, sha256)
    except GraphEditError as exc:
        return str(exc)
    return fit_problem(have, signature_of(compiled.root.state_dict()))


def project_weights_problem(project: Any, shapes: Any = None) -> str | None:
    """What is wrong with the weights a saved project points to (one line naming the file), or ``None``;
    ``shapes``: the project graph's ShapeInference, already run, when the caller has one."""
    if project.weights is None or project.path is None:
        return None
    try:
        path = weights_location(Path(project.path).parent, project.weights["path"])
    except WeightsError as exc:
        return f"{project.path}: {exc}"
    problem = weights_problem(project.document, path, project.weights["sha256"], shapes)
    if problem and starts_from_weights(project) and not problem.startswith(str(path)):
        return None  # fine-tuning: the layers the file lacks (a new head) start from their init
    if problem and not problem.startswith(str(path)):
        problem = f"{path}: these weights do not fit the graph ({problem}). Fix: train the project again"
    return problem


def starts_from_weights(project: Any) -> bool:
    """Whether the project's runs start from its weights file (fine-tuning) rather than each layer's init."""
    return (project.training or {}).get("start_from", "init") == "weights"


def load_start_weights(project: Any, root: Any) -> list[str]:
    """Copy the tensors of the project's weights file that fit ``root`` (by name and shape) into it.

    For fine-tuning (training setting ``start_from: weights``): the rest, e.g. a new head, keeps its
    init. Returns notes; raises :class:`WeightsError` when the project has no weights or none fit.
    """
    if project.weights is None or project.path is None:
        raise WeightsError(
            "training setting start_from is 'weights' but the project has no weights file. Fix: import a "
            "pretrained model (graphedit import --weights), or train once and start from those weights"
        )
    path = weights_location(Path(project.path).parent, project.weights["path"])
    state = read_weights(path, project.weights["sha256"])
    own = root.state_dict()
    fit = {k: v.to(own[k].dtype) for k, v in state.items() if k in own and tuple(v.shape) == tuple(own[k].shape)}
    if not fit:
        raise WeightsError(
            f"{path}: none of its tensors fits the graph, so there is nothing to start from. Fix: keep the "
            "imported layers' node names, or set start_from to init"
        )
    root.load_state_dict(fit, strict=False)
    fresh = sorted({k.split(".")[0] for k in own if k not in fit})
    notes = [f"started from {len(fit)} of {len(own)} tensors of {path.name}"]
    if fresh:
        notes.append(f"start from their init (not in {path.name}): {', '.join(fresh)}")
    return notes
