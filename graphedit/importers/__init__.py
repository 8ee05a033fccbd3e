"""Import existing models as graph projects: File ▸ Import and ``graphedit import``.

:func:`import_model` takes an ONNX file (``model.onnx``) or an fx-traceable
PyTorch module: ``package.module:Name`` or ``path/to/file.py:Name``, where
``Name`` is an ``nn.Module`` class with a no-argument constructor or a
no-argument function returning a module (such as the ``load_model`` of a
Python export, which brings its trained weights). The result is a laid-out
project whose weights are saved beside it as ``<project>.safetensors``, checked
to give the source model's outputs.

Submodules become blocks (:mod:`graphedit.importers.hierarchy`): repeated ones one
definition, an ``nn.Sequential`` of them one block node with ``repeat``, keys as
torch names them (an ONNX file: the module paths its exporter kept). ``flat``
imports one node per layer; a hierarchy that does not fold is imported flat, with
a note in :attr:`ImportResult.notes`.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from graphedit.compiler.compile import Compiled
from graphedit.errors import GraphEditError
from graphedit.export.common import max_abs_diff, scaled_diff
from graphedit.importers.common import (
    GraphBuilder,
    ImportModelError,
    ImportResult,
    UnsupportedOpError,
    model_params,
)

__all__ = [
    "ImportModelError",
    "ImportResult",
    "UnsupportedOpError",
    "import_model",
    "import_module",
    "import_source",
    "load_module",
]

TOLERANCE = 1e-4


def load_module(source: str) -> nn.Module:
    """Instantiate ``package.module:Name`` or ``file.py:Name`` (a class or function taking no arguments)."""
    target, sep, name = source.rpartition(":")
    if not sep or not name.isidentifier() or not target:
        raise ImportModelError(
            f"{source!r} does not name a model: use package.module:Class, path/to/file.py:Class or model.onnx"
        )
    if target.endswith(".py"):
        path = Path(target)
        if not path.is_file():
            raise ImportModelError(f"{path}: no such Python file")
        spec = importlib.util.spec_from_file_location(f"graphedit_import_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses and pickling-free tracing look the module up
        try:
            spec.loader.exec_module(module)  # type: ignore[union-attr]
        except Exception as exc:
            raise ImportModelError(f"{path}: running the file failed: {exc}") from None
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise ImportModelError(f"cannot import {target!r}: {exc}") from None
    obj = getattr(module, name, None)
    if obj is None:
        raise ImportModelError(f"{target} has no {name!r}")
    try:
        model = obj()
    except TypeError as exc:
        raise ImportModelError(f"{source}: calling {name}() without arguments failed ({exc})") from None
    if not isinstance(model, nn.Module):
        raise ImportModelError(f"{source}: {name}() gave a {type(model).__name__}, not a torch nn.Module")
    return model


def _input_shapes(model: nn.Module, given: list[tuple[int, ...]] | None) -> list[tuple[int, ...]]:
    """Per-example input shapes: given, the module's ``input_shape(s)`` attribute, or a first Linear layer."""
    if given:
        return [tuple(s) for s in given]
    for attr in ("input_shapes", "input_shape"):
        value = getattr(model, attr, None)
        if value is not None:
            return [tuple(s) for s in value] if attr == "input_shapes" else [tuple(value)]
    first = next((m for m in model.modules() if not list(m.children())), None)
    if isinstance(first, nn.Linear):
        return [(first.in_features,)]
    raise ImportModelError(
        f"the input shape of {type(model).__name__} is unknown: give it without the batch dimension, "
        "e.g. --input-shape 1,28,28 (or set an input_shape attribute on the module)"
    )


def _examples(model: nn.Module, shapes: list[tuple[int, ...]]) -> tuple[torch.Tensor, ...]:
    """A batch of 2 per input: token ids for int64 inputs (``input_dtypes`` or a first Embedding), else normal."""
    gen = torch.Generator().manual_seed(0)
    dtypes = list(getattr(model, "input_dtypes", None) or [])
    embeddings = [m for m in model.modules() if isinstance(m, nn.Embedding)]
    first = next((m for m in model.modules() if not list(m.children())), None)
    if not dtypes and isinstance(first, nn.Embedding):
        dtypes = ["int64"]
    vocab = min((m.num_embeddings for m in embeddings), default=2)
    out = []
    for i, shape in enumerate(shapes):
        if i < len(dtypes) and dtypes[i] == "int64":
            out.append(torch.randint(0, vocab, (2, *shape), generator=gen))
        else:
            out.append(torch.randn((2, *shape), generator=gen))
    return tuple(out)


def import_source(
    source: str | Path,
    out_path: str | Path,
    input_shapes: list[tuple[int, ...]] | None = None,
    weights: str | Path | None = None,
    allow_pt: bool = False,
    flat: bool = False,
) -> ImportResult:
    """Import ``source`` into a project saved at ``out_path``; checks outputs against the source.

    ``weights`` is the user's pretrained weights for a PyTorch module (safetensors, an ONNX file's
    initialisers, or a ``.pt`` read with ``torch.load(weights_only=True)`` only when ``allow_pt``):
    they are loaded into the module before it is imported (:mod:`graphedit.importers.pretrained`).
    The module hierarchy (an ONNX file's name scopes) becomes blocks unless ``flat``.
    """
    text = str(source)
    if text.endswith(".onnx"):
        if weights is not None:
            raise ImportModelError(
                f"{text}: an ONNX file carries its own weights (its initialisers). Fix: import it without --weights"
            )
        from graphedit.importers.onnx_import import import_onnx

        return import_onnx(Path(text), out_path, input_shapes, flat)
    name = text.rpartition(":")[2]
    model = load_module(text)
    notes: list[str] = []
    if weights is not None:
        from graphedit.importers.pretrained import load_pretrained

        notes = load_pretrained(model, weights, allow_pt)
    result = import_module(model, out_path, input_shapes, name, f"the PyTorch module {text}", flat)
    result.notes[:0] = notes
    return result


def import_module(
    model: nn.Module,
    out_path: str | Path,
    input_shapes: list[tuple[int, ...]] | None = None,
    name: str = "",
    origin: str = "",
    flat: bool = False,
) -> ImportResult:
    """Import the module instance ``model`` into a project saved at ``out_path``; checks outputs against it.

    Submodules become blocks (``flat``: one node per layer, as before blocks).
    """
    from graphedit.importers.fx_import import FxImporter

    model = model.eval()
    name = name or type(model).__name__
    shapes = _input_shapes(model, input_shapes)
    examples = _examples(model, shapes)
    importer = FxImporter(model, examples)
    examples = importer.examples
    flat_builder = importer.run()
    with torch.no_grad():
        want = model(*examples)
    want = list(want) if isinstance(want, (tuple, list)) else [want]

    placeholders = [n for n in importer.gm.graph.nodes if n.op == "placeholder"]
    by_input = {importer.refs[p].node: x for p, x in zip(placeholders, examples, strict=True)}

    def check(builder: GraphBuilder) -> tuple[Compiled, float]:
        builder.layout()
        compiled = builder.compile()
        with torch.no_grad():  # the compiled model takes its inputs in the order of their node ids
            got = compiled.model(*[by_input[builder.origin.get(n, n)] for n in compiled.input_ids])
        got = list(got) if isinstance(got, (tuple, list)) else [got]
        diff = max_abs_diff(want, got)
        if scaled_diff(want, got) > TOLERANCE:
            raise ImportModelError(f"the imported graph of {name} differs from the module by {diff:.3g}; not saved")
        return compiled, diff

    builder, compiled, diff, notes = _hierarchical(flat_builder, importer.kind_of, check, flat, False)
    origin = origin or f"the PyTorch module {type(model).__module__}.{type(model).__name__}"
    project = builder.save(compiled, out_path, f"Imported {name}", f"Imported from {origin}.")
    source_params = sum(p.numel() for p in model.parameters())
    imported = model_params(compiled)
    if imported > source_params:  # a layer called twice, not folded into shared block nodes: its weights copied
        notes.append(
            f"{', '.join(importer.called_again())} called more than once: imported with a copy of the weights per "
            f"call ({imported - source_params:,} parameters more), which train apart"
        )
    return ImportResult(project, compiled, source_params, imported, diff, notes)


def _hierarchical(
    flat_builder: GraphBuilder,
    kind_of: Callable[[tuple[str, ...]], str],
    check: Callable[[GraphBuilder], tuple[Compiled, float]],
    flat: bool,
    collapse_single: bool,
) -> tuple[GraphBuilder, Compiled, float, list[str]]:
    """The graph folded into blocks along the source's hierarchy, checked by ``check``; else the flat graph.

    Folding is a reading of the source's structure, not a requirement: where the folded graph does not
    build or differs from the source, the flat graph is imported, with a note saying why.
    """
    from graphedit.importers.hierarchy import fold

    notes: list[str] = []
    if not flat:
        try:
            builder = fold(flat_builder, kind_of, collapse_single)
            if builder.doc.registry.definitions:
                return (builder, *check(builder), notes)
        except GraphEditError as exc:
            notes.append(f"imported flat: the module hierarchy did not fold into blocks ({exc})")
    return (flat_builder, *check(flat_builder), notes)


def import_model(source: str | Path, out_path: str | Path, input_shapes: Any = None, flat: bool = False) -> Any:
    """Import ``source`` (ONNX file or PyTorch module) as a project saved at ``out_path``; returns the Project."""
    return import_source(source, out_path, input_shapes, flat=flat).project
