"""Python source export: a standalone ``.py`` defining an ``nn.Module`` that needs torch alone.

The source is generated from the compiled model's fx graph: ``__init__``
creates each layer under its node id with exact constructor arguments (see
:mod:`graphedit.export.python_recipes`), ``forward`` replays the fx nodes in
order. Catalog functions and classes (``add``, ``global_avg_pool``, ``Maxout``,
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

import ast
import builtins
import functools
import inspect
import keyword
import math
import operator
import re
import textwrap
import typing
import unicodedata
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from graphedit.export.common import ExportModel
from graphedit.export.python_check import twin_of, verify_source
from graphedit.export.python_recipes import CONSTRUCTORS, literal
from graphedit.export.safetensors_export import export_safetensors
from graphedit.export.weights import ExportError

HEADER_NAMES = {"torch": torch, "nn": nn, "F": F, "functools": functools, "operator": operator, "math": math}
OWN_PACKAGES = ("graphedit.",)

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


class _Inliner:
    """Collects the source of catalog functions and classes the file needs, dependencies first."""

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.names: dict[int, str] = {}
        self.typing_names: set[str] = set()

    def name_of(self, obj: Any, why: str) -> str:
        if id(obj) in self.names:
            return self.names[id(obj)]
        try:
            source = textwrap.dedent(inspect.getsource(obj))
        except (OSError, TypeError):
            raise ExportError(f"cannot write Python source for {why}: the source of {obj!r} is not available") from None
        name = obj.__name__
        if name in self.names.values():
            raise ExportError(f"cannot write Python source for {why}: two catalog definitions are named {name}")
        self.names[id(obj)] = name
        module = inspect.getmodule(obj)
        scope = vars(module) if module is not None else {}
        for ref in sorted({n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}):
            self._resolve(ref, scope, name, why)
        self.blocks.append(source.rstrip() + "\n")
        return name

    def _resolve(self, ref: str, scope: dict[str, Any], owner: str, why: str) -> None:
        if ref not in scope or ref == owner:
            return
        value = scope[ref]
        if ref in HEADER_NAMES and HEADER_NAMES[ref] is value:
            return
        if getattr(value, "__module__", None) == "typing" or value is typing.Any:
            self.typing_names.add(ref)
        elif (inspect.isfunction(value) or inspect.isclass(value)) and _own(value):
            self.name_of(value, why)
        elif isinstance(value, (int, float, str, bool, tuple)) and ref.isupper():
            self.blocks.append(f"{ref} = {value!r}\n")
        elif not hasattr(builtins, ref):
            raise ExportError(f"cannot write Python source for {why}: {owner} uses {ref}, which needs GraphEdit")


def _own(obj: Any) -> bool:
    return (getattr(obj, "__module__", "") or "").startswith(OWN_PACKAGES)


@functools.lru_cache(maxsize=1)
def _torch_names() -> dict[int, str]:
    names: dict[int, str] = {}
    for prefix, module in (("operator", operator), ("F", F), ("torch", torch)):
        for attr in dir(module):
            if not attr.startswith("_"):
                names[id(getattr(module, attr))] = f"{prefix}.{attr}"
    return names


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


def _identifier(name: str, where: str) -> str:
    """A node id used as a Python name: the document allows only identifiers; check again, the source depends on it."""
    if not (isinstance(name, str) and name.isidentifier() and name.isascii() and not keyword.iskeyword(name)):
        raise ExportError(f"{where}: {name!r} is not a Python identifier; rename the node (letters, digits, _)")
    return name


def _fmt(value: Any, var: dict[str, str]) -> str:
    if isinstance(value, fx.Node):
        return var[value.name]
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v, var) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(_fmt(v, var) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, torch.dtype):
        return str(value)
    try:
        return literal(value)
    except TypeError:
        raise ExportError(f"cannot write Python source for the value {type(value).__name__}") from None


def generate_source(em: ExportModel, cls: str = "GraphEditModel", title: str = "", module_only: bool = False) -> str:
    """The text of the standalone file for ``em``; with ``module_only`` just its helper functions and the
    ``nn.Module`` class (layer definitions in ``__init__`` and ``forward``), as the editor's Code panel shows."""
    gm, inliner = em.model, _Inliner()
    layers, body, func_names = [], [], set()
    calls: list[tuple[fx.Node, str]] = []
    for node in gm.graph.nodes:
        if node.op == "call_module":
            module = gm.get_submodule(node.target)
            recipe = CONSTRUCTORS.get(type(module))
            if recipe is None:
                raise ExportError(
                    f"node '{node.target}': cannot write Python source for its layer class {type(module).__name__}; "
                    "register a constructor recipe with graphedit.export.python_recipes.register_constructor"
                )
            if recipe.inline:
                func_names.add(inliner.name_of(type(module), f"node '{node.target}'"))
            try:
                constructor = recipe.source(module)
            except TypeError as exc:
                raise ExportError(f"node '{node.target}': cannot write Python source for its layer: {exc}") from None
            layers.append(f"        self.{_identifier(node.target, 'a layer')} = {constructor}")
        elif node.op == "call_function":
            fn = node.target
            if _own(fn):
                expr = inliner.name_of(fn, f"node '{node.name}'")
            elif id(fn) in _torch_names():
                expr = _torch_names()[id(fn)]
            else:
                raise ExportError(f"node '{node.name}': cannot write Python source for the function {fn!r}")
            func_names.add(expr.split(".")[0])
            calls.append((node, expr))
        elif node.op not in ("placeholder", "output", "call_module"):
            raise ExportError(f"node '{node.name}': cannot write Python source for fx op {node.op}")
    reserved = set(HEADER_NAMES) | func_names | {"self", "json", "sys", "Path", "load_model", cls}
    var = {}
    for node in gm.graph.nodes:
        name = _identifier(node.name, "a node")
        while keyword.iskeyword(name) or name in reserved:
            name += "_"
        var[node.name] = name
    exprs = dict(calls)
    args_out = []
    for node in gm.graph.nodes:
        if node.op == "placeholder":
            args_out.append(f"{var[node.name]}: torch.Tensor")
            continue
        if node.op == "output":
            body.append(f"        return {_fmt(node.args[0], var)}")
            continue
        if node.op == "call_function" and node.target is operator.getitem:
            call = f"{_fmt(node.args[0], var)}[{_fmt(node.args[1], var)}]"
        else:
            head = f"self.{node.target}" if node.op == "call_module" else exprs[node]
            parts = [_fmt(a, var) for a in node.args] + [f"{k}={_fmt(v, var)}" for k, v in node.kwargs.items()]
            call = f"{head}({', '.join(parts)})"
        body.append(f"        {var[node.name]} = {call}")
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
    if inliner.typing_names:
        lines.append(f"from typing import {', '.join(sorted(inliner.typing_names))}")
    lines += ["", "import torch", "import torch.nn.functional as F  # noqa: F401", "from torch import nn", ""]
    lines += [f"INPUTS = {{{inputs}}}", f"OUTPUTS = {literal(list(em.output_names))}", f"TITLE = {literal(title)}", ""]
    module: list[str] = []
    for block in inliner.blocks:
        module += ["", block]
    module += [
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
    if module_only:
        return "\n".join(module).strip("\n") + "\n"
    lines += module
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
