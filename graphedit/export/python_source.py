"""Python source export: a standalone ``.py`` defining an ``nn.Module`` that needs torch alone.

The source is generated from the compiled model's fx graph: ``__init__``
creates each layer under its node id with exact constructor arguments (see
:mod:`graphedit.export.python_recipes`), ``forward`` replays the fx nodes in
order. A block definition becomes a class of its own, written by
:mod:`graphedit.export.python_model`. Catalog functions and classes (``add``, ``global_avg_pool``, ``Maxout``,
…) are copied in with :func:`inspect.getsource`, so the file never imports
GraphEdit. Weights sit beside it as ``<name>.safetensors``, read by a small
torch-only reader in the file (safetensors is a JSON header plus raw bytes).

A project file is untrusted (DESIGN.md decision 13), so its text reaches the
source only as data: parameter values and output names through
:func:`~graphedit.export.python_recipes.literal` (``repr``), the title and
names in docstrings through :func:`doc_text` (no quote, backslash, control or
line-break character survives), node ids as names only after checking that
each is a plain identifier. :mod:`graphedit.export.python_check` verifies the
result without running the written file.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

from graphedit.export.common import ExportModel
from graphedit.export.python_check import twin_of, verify_source
from graphedit.export.python_model import ModelWriter, _identifier
from graphedit.export.python_recipes import literal
from graphedit.export.safetensors_export import export_safetensors
from graphedit.export.weights import ExportError

LOADER = '''
_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool,
}


def load_safetensors(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a .safetensors file with torch alone: 8-byte header length, JSON header, raw little-endian data."""
    data = Path(path).read_bytes()
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + size])
    header.pop("__metadata__", None)
    tensors = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        dtype = _DTYPES[info["dtype"]]
        raw = bytearray(data[8 + size + start : 8 + size + end])
        flat = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        if sys.byteorder == "big":
            flat = flat.view(torch.uint8).view(-1, flat.element_size()).flip(1).reshape(-1).view(dtype)
        tensors[name] = flat.reshape(info["shape"]).clone()
    return tensors


def load_model(weights: str | Path | None = None) -> {cls}:
    """A {cls} in evaluation mode with the weights from ``weights`` (default: the .safetensors beside this file)."""
    model = {cls}()
    path = Path(weights) if weights is not None else Path(__file__).with_suffix(".safetensors")
    model.load_state_dict(load_safetensors(path))
    return model.eval()
'''

MAIN = """

if __name__ == "__main__":
    net = load_model()
    batch = [
        torch.randint(0, 2, (2, *shape)) if dtype == torch.int64 else torch.randn(2, *shape)
        for shape, dtype in INPUTS.values()
    ]
    with torch.no_grad():
        result = net(*batch)
    for name, value in zip(OUTPUTS, result if isinstance(result, tuple) else (result,)):
        print(name, tuple(value.shape))
"""


def class_name(project: Any) -> str:
    path = getattr(project, "path", None)
    stem = Path(path).stem if path is not None else ""
    words = re.findall(r"[A-Za-z0-9]+", stem)
    name = "".join(w[:1].upper() + w[1:] for w in words)
    if not name or not name[0].isalpha():
        name = "GraphEditModel" + name
    return name


def doc_text(text: Any, limit: int = 200) -> str:
    """``text`` made safe inside a ``\"\"\"`` docstring or a ``#`` comment: one line of printable characters.

    Control, format, surrogate and line-break characters become spaces, ``"`` becomes ``'``
    and ``\\`` becomes ``/``, so the text can neither close the docstring nor start an escape.
    """
    out = []
    for ch in str(text)[: limit * 2]:
        if ch in '"\\':
            ch = "'" if ch == '"' else "/"
        elif not ch.isprintable() or unicodedata.category(ch)[0] in "CZ":
            ch = " "
        out.append(ch)
    cleaned = " ".join("".join(out).split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def generate_source(em: ExportModel, cls: str = "GraphEditModel", title: str = "") -> str:
    """The text of the standalone file for ``em``."""
    writer = ModelWriter(em.model, cls)
    layers = writer.model_init()
    args_out, body, _ = writer.forward(em.model)
    classes = writer.block_classes()
    n_out = len(em.output_names)
    ret = "torch.Tensor" if n_out == 1 else f"tuple[{', '.join(['torch.Tensor'] * n_out)}]"
    dtypes = {n: _dtype(em.input_specs[n][1]) for n in em.input_names}
    inputs = ", ".join(f"{literal(n)}: ({literal(tuple(em.input_specs[n][0]))}, {dtypes[n]})" for n in em.input_names)
    doc_inputs = "; ".join(
        f"{n} [N, {', '.join(map(str, em.input_specs[n][0]))}] {em.input_specs[n][1]}" for n in em.input_names
    )
    heading = doc_text(title) or cls
    lines = [
        f'"""{heading}: exported from GraphEdit. Needs torch alone.',
        "",
        f"Usage: ``from <this file> import load_model; net = load_model()`` then ``net({', '.join(em.input_names)})``.",
        doc_text(f"Inputs: {doc_inputs}. Outputs: {', '.join(em.output_names)}.", 400),
        "Training-only parts (targets, losses, penalties, noise, dropout) are left out; the model is for inference.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "import functools  # noqa: F401",
        "import json",
        "import math  # noqa: F401",
        "import operator  # noqa: F401",
        "import sys",
        "from pathlib import Path",
    ]
    if writer.inliner.typing_names:
        lines.append(f"from typing import {', '.join(sorted(writer.inliner.typing_names))}")
    lines += ["", "import torch", "import torch.nn.functional as F  # noqa: F401", "from torch import nn", ""]
    lines += [f"INPUTS = {{{inputs}}}", f"OUTPUTS = {literal(list(em.output_names))}", f"TITLE = {literal(title)}", ""]
    for block in [*writer.inliner.blocks, *classes]:
        lines += ["", block]
    lines += [
        "",
        f"class {cls}(nn.Module):",
        f'    """{heading} as a plain nn.Module; call .eval() (load_model does) before predicting."""',
        "",
        f"    input_shapes = {literal([tuple(em.input_specs[n][0]) for n in em.input_names])}",
        f"    input_dtypes = {literal([em.input_specs[n][1] for n in em.input_names])}",
        "",
        "    def __init__(self) -> None:",
        "        super().__init__()",
        *layers,
        "",
        f"    def forward(self, {', '.join(args_out)}) -> {ret}:",
        *body,
        "",
    ]
    return "\n".join(lines) + LOADER.replace("{cls}", _identifier(cls, "the class name")) + MAIN


def _dtype(name: str) -> str:
    if name not in ("float32", "int64"):
        raise ExportError(f"cannot write Python source for an input of dtype {name!r}; use float32 or int64")
    return f"torch.{name}"


def export_python(em: ExportModel, path: str | Path, cls: str = "GraphEditModel", title: str = "") -> dict[str, Any]:
    """Write ``path`` (``.py``) and its weights ``<stem>.safetensors``; check the outputs are identical.

    The check never runs the written file: see :func:`graphedit.export.python_check.verify_source`.
    """
    path = Path(path)
    if not path.stem.isidentifier():
        raise ExportError(f"{path}: a Python file name must be an identifier (letters, digits, _) to be importable")
    source = generate_source(em, cls, title)
    path.write_text(source, encoding="utf-8")
    weights = path.with_suffix(".safetensors")
    export_safetensors(em, weights)
    verify_source(source, generate_source(twin_of(em), cls, ""), em, weights, str(path))
    return {"max_abs_diff": 0.0, "weights": str(weights)}
