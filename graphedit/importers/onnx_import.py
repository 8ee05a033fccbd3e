"""Import an ONNX file as a graph project.

Every value's shape (for a batch of 2) comes from ONNX's shape inference, and
the values of constant subgraphs (shape arithmetic, folded weights) from one
ONNX Runtime run (:mod:`graphedit.importers.onnx_shapes`); constants are
evaluated, not imported. Each remaining op becomes a catalog node through
:data:`PATTERNS` or :data:`HANDLERS`; any other op is an
:class:`UnsupportedOpError` naming it, found before anything is run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from graphedit.compiler.compile import Compiled
from graphedit.export.common import max_abs_diff, scaled_diff
from graphedit.importers.common import (
    GraphBuilder,
    ImportModelError,
    ImportResult,
    Ref,
    UnsupportedOpError,
)
from graphedit.importers.onnx_attention import attention_scopes, fold_attention, padding_masks, scope_of
from graphedit.importers.onnx_ops import HANDLERS as LAYER_HANDLERS
from graphedit.importers.onnx_ops import _fail, listed
from graphedit.importers.onnx_patterns import INNER_OPS, PATTERNS
from graphedit.importers.onnx_shapes import STATIC_OPS, Learner, static_values
from graphedit.importers.onnx_tensor import HANDLERS as TENSOR_HANDLERS

TOLERANCE = 1e-4
HANDLERS = {**LAYER_HANDLERS, **TENSOR_HANDLERS}
ONNX_DTYPES = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.INT64: "int64"}


class OnnxImporter:
    """Walks the ONNX graph; ``refs`` maps value names to canvas values, ``consts`` to evaluated constants."""

    def __init__(self, model: onnx.ModelProto, input_shapes: list[tuple[int, ...]] | None, source: str = "") -> None:
        self.model = model
        self.graph = model.graph
        self.consts: dict[str, np.ndarray] = {i.name: numpy_helper.to_array(i) for i in self.graph.initializer}
        self.inputs = [i for i in self.graph.input if i.name not in self.consts]
        self.attention = attention_scopes(self.graph, self.consts)  # scopes of torch's MultiheadAttention
        static = {*static_values(self.graph, set(self.consts)), *self.consts}
        self.masks = padding_masks(self.graph, self.attention, static)  # their key padding masks
        self.feeds = self._feeds(input_shapes)
        learner = Learner(model, self.feeds, source or "the ONNX model")
        learner.infer(self.consts)
        self._refuse_unsupported()  # before the model is run
        learned = learner.evaluate(self.consts)
        self.shapes = learned.shapes
        self.consts.update(learned.consts)
        self.reference = learned.outputs  # ONNX Runtime's outputs for the feeds
        self.b = GraphBuilder()
        self.refs: dict[str, Ref] = {}
        # first outputs of ops inside a recognised pattern; an attention's padding mask is known from the start
        self.fused: set[str] = {o for mask in self.masks.values() for o in mask.ops}
        self.outputs = {v.name for v in self.graph.output}
        self.users: dict[str, list[onnx.NodeProto]] = {}
        self.kinds: dict[tuple[str, ...], str] = {}  # a scope's module class, where the exporter kept it
        for node in self.graph.node:
            for name in node.input:
                self.users.setdefault(name, []).append(node)

    def _feeds(self, given: list[tuple[int, ...]] | None) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(0)
        feeds = {}
        masks = {m.source for m in self.masks.values()}
        for i, value in enumerate(self.inputs):
            t = value.type.tensor_type
            dtype = ONNX_DTYPES.get(t.elem_type)
            if dtype is None:
                raise ImportModelError(f"input '{value.name}' has an element type GraphEdit cannot feed")
            dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
            if given and i < len(given):
                dims = [None, *given[i]]
            if any(d is None for d in dims[1:]) or not dims:
                raise ImportModelError(
                    f"input '{value.name}' has an unknown size besides the batch dimension; "
                    "give its shape with --input-shape, e.g. --input-shape 1,28,28"
                )
            shape = (2, *dims[1:])
            if value.name in masks and len(shape) == 2:  # example i ignores its last i + 1 keys, never the first
                feeds[value.name] = np.arange(shape[1]) >= np.maximum(shape[1] - 1 - np.arange(2)[:, None], 1)
                feeds[value.name] = feeds[value.name].astype(dtype)
            elif dtype == "int64":
                feeds[value.name] = rng.integers(0, 2, shape).astype(np.int64)
            else:
                feeds[value.name] = rng.standard_normal(shape).astype(np.float32)
        return feeds

    def _refuse_unsupported(self) -> None:
        """The first op that no pattern or handler can import, before anything is run."""
        static = set(static_values(self.graph, set(self.consts)))
        static |= {o for mask in self.masks.values() for o in mask.ops}  # folded with their attention
        for node in self.graph.node:
            if node.output[0] in static or node.op_type in {*HANDLERS, *PATTERNS, *INNER_OPS}:
                continue
            if scope_of(self.attention, node) is not None:
                continue
            raise _fail(node, "")

    # ------------------------------------------------------------ helpers
    def shape(self, name: str) -> tuple[int, ...]:
        return self.shapes[name]

    def is_static(self, name: str) -> bool:
        return name == "" or name in self.consts

    def const(self, name: str, what: str, node: onnx.NodeProto) -> np.ndarray:
        if name not in self.consts:
            raise _fail(node, f"its {what} must be a constant")
        return self.consts[name]

    def ref(self, name: str) -> Ref:
        """The canvas value of ``name``, reshaped to its ONNX shape where the two differ."""
        return self.b.ensure(self.refs[name], self.shape(name))

    def weights(self, **arrays: np.ndarray | None) -> dict[str, torch.Tensor]:
        return {k: torch.from_numpy(np.array(v)) for k, v in arrays.items() if v is not None}

    def add(self, node: onnx.NodeProto, type_id: str, params: dict[str, Any], inputs: list[Ref], **kw: Any) -> Ref:
        out = node.output[0]
        shape = kw.pop("shape", None) or self.shape(out)
        name = kw.pop("name", None) or _name(node)
        ref = self.b.add(type_id, params, inputs, shape, name, **kw)
        self.refs[out] = ref
        return ref

    def name(self, node: onnx.NodeProto) -> str | None:
        return _name(node)

    def alias(self, node: onnx.NodeProto, ref: Ref) -> None:
        self.refs[node.output[0]] = ref

    def place(self, node: onnx.NodeProto) -> tuple[tuple[str, ...], str | None]:
        """The module path (and leaf module name) torch's exporter kept for ``node``; () when it kept none.

        The dynamo exporter writes the paths and classes as metadata (``pkg.torch.onnx.name_scopes``); the
        TorchScript one into the name (``/layer1/layer1.0/conv1/Conv``: the leaf module's scope holds its op).
        """
        meta = {p.key: p.value for p in node.metadata_props}
        if "pkg.torch.onnx.name_scopes" not in meta:
            return _relative([p for p in node.name.split("/") if p][:-1]), None
        paths = listed(meta["pkg.torch.onnx.name_scopes"])[1:-1]  # without the root and the op
        classes = listed(meta.get("pkg.torch.onnx.class_hierarchy", ""))[1:-1]
        scope = _relative(paths)
        if len(classes) != len(paths):
            return scope, None
        for i, cls in enumerate(classes):
            self.kinds.setdefault(scope[: i + 1], cls.rpartition(".")[2])
        if scope and classes[-1].startswith("torch.nn.modules.") and ".container." not in classes[-1]:
            return scope[:-1], scope[-1]  # a torch layer: one node named after it, in its parent
        return scope, None

    def kind_of(self, scope: tuple[str, ...]) -> str:
        return self.kinds.get(scope) or kind_from_name(scope)

    # ---------------------------------------------------------------- walk
    def run(self) -> GraphBuilder:
        for value in self.inputs:
            dtype = ONNX_DTYPES[value.type.tensor_type.elem_type]
            self.refs[value.name] = self.b.add_input(value.name, self.shape(value.name), dtype)
        for node in self.graph.node:
            if node.output[0] in self.refs or node.output[0] in self.fused:
                continue  # already produced by (or inside) a recognised pattern
            self.b.context = self.place(node)
            dynamic = [n for n in node.input if n and not self.is_static(n)]
            if not dynamic or node.op_type in STATIC_OPS:
                continue
            if fold_attention(self, node):
                continue
            matcher = PATTERNS.get(node.op_type)
            if matcher is not None and matcher(self, node, dynamic):
                continue
            handler = HANDLERS.get(node.op_type)
            if handler is None:
                raise _fail(node, "")
            handler(self, node, dynamic)
        self.b.context = ((), None)
        for value in self.graph.output:
            if value.name not in self.refs:
                raise UnsupportedOpError("a constant output", value.name, "an output must depend on an input")
            self.b.add_output(self.ref(value.name), value.name)
        return self.b


def _name(node: onnx.NodeProto) -> str | None:
    """``/conv1/Conv`` → ``conv1``: the layer name torch's exporter puts in the path."""
    parts = [p for p in node.name.split("/") if p]
    return "_".join(parts[:-1]) if len(parts) > 1 else None


def _relative(parts: list[str]) -> tuple[str, ...]:
    """``layer1``, ``layer1.0``, ``layer1.0.conv1`` → layer1, 0, conv1: each part without its parent's path."""
    scope, parent = [], ""
    for part in parts:
        scope.append(part[len(parent) + 1 :] if parent and part.startswith(parent + ".") else part)
        parent = part
    return tuple(scope)


def kind_from_name(scope: tuple[str, ...]) -> str:
    """What a scope is when the file keeps no classes, from its name: ``layer1`` → Layer, ``layer1/0`` → LayerBlock."""
    from graphedit.importers.hierarchy import _camel, _stem

    stem = _camel(_stem(scope[-1]))
    if stem:
        return stem
    return (_camel(_stem(scope[-2])) if len(scope) > 1 else "") + "Block"


def import_onnx(
    path: Path, out_path: str | Path, input_shapes: list[tuple[int, ...]] | None = None, flat: bool = False
) -> ImportResult:
    """Import the ONNX file ``path``; its name scopes (where the exporter kept them) become blocks unless ``flat``."""
    from graphedit.importers import _hierarchical
    from graphedit.importers.common import model_params

    if not path.is_file():
        raise ImportModelError(f"{path}: no such ONNX file")
    try:
        model = onnx.load(str(path))
    except Exception as exc:
        raise ImportModelError(f"{path}: not a valid ONNX model: {str(exc).splitlines()[0]}") from None
    importer = OnnxImporter(model, input_shapes, str(path))
    flat_builder = importer.run()
    feeds = {k: torch.from_numpy(v) for k, v in importer.feeds.items()}
    want = importer.reference
    by_input = {importer.refs[v.name].node: v.name for v in importer.inputs}

    def check(builder: GraphBuilder) -> tuple[Compiled, float]:
        builder.layout()
        compiled = builder.compile()
        by_node = {n: by_input[builder.origin.get(n, n)] for n in compiled.input_ids}
        with torch.no_grad():
            got = compiled.model(*[feeds[by_node[n]] for n in compiled.input_ids])
        got = list(got) if isinstance(got, (tuple, list)) else [got]
        diff = max_abs_diff(want, got)
        if scaled_diff(want, got) > TOLERANCE:
            raise ImportModelError(f"the imported graph of {path} differs from ONNX Runtime by {diff:.3g}; not saved")
        return compiled, diff

    builder, compiled, diff, notes = _hierarchical(flat_builder, importer.kind_of, check, flat, True)
    project = builder.save(compiled, out_path, f"Imported {path.stem}", f"Imported from the ONNX file {path.name}.")
    # BatchNorm's running mean and variance are initializers too, but statistics rather than parameters
    stats = {n.input[i] for n in model.graph.node if n.op_type == "BatchNormalization" for i in (3, 4)}
    learned = {i.name for i in model.graph.initializer} - stats
    # torch's exporter keeps one copy of equal initializers (zero biases of stacked RNN layers) and Identity's the rest
    learned |= {n.output[0] for n in model.graph.node if n.op_type == "Identity" and n.input[0] in learned}
    source = sum(int(np.prod(a.shape)) for n, a in importer.consts.items() if n in learned)
    return ImportResult(project, compiled, source, model_params(compiled), diff, notes)
