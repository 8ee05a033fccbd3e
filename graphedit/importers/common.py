"""What both importers share: building the graph, laying it out, copying weights, saving the project.

An importer walks the source model's ops in order and calls :meth:`GraphBuilder.add`
for each; a :class:`Ref` is a value on the canvas (node, output port) with the
shape it has there. A value whose GraphEdit shape differs from the source's
(GlobalAvgPool gives [N, C] where AdaptiveAvgPool2d gives [N, C, 1, 1]) is
reshaped only when something needs the source's shape (:meth:`GraphBuilder.ensure`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file

from graphedit.compiler.compile import Compiled, compile_graph
from graphedit.errors import GraphEditError, ParamError
from graphedit.export.weights import sha256_file
from graphedit.model.blocks import BlockLibrary
from graphedit.model.document import GraphDocument
from graphedit.model.layout import layered_layout
from graphedit.model.node_names import ID_PATTERN, RESERVED_IDS


class ImportModelError(GraphEditError):
    """A model that cannot become a project; the message names the op or layer and why."""


class UnsupportedOpError(ImportModelError):
    """An op of the source model with no GraphEdit node type, or a setting no node expresses.

    One line: the op, where it is, why it cannot be imported and what would import it.
    """

    def __init__(self, op: str, where: str = "", why: str = "", support: str = "") -> None:
        self.op = op
        at = f" at {where}" if where else ""
        if not why:
            why = "GraphEdit has no node type for it"
            support = support or (
                f"a node type for {op.split()[-1]} (a node pack under the graphedit.nodes entry point) would "
                "import it; else rewrite that part of the model with supported layers"
            )
        support = support or "rewrite that part of the model with supported layers, or build it in GraphEdit by hand"
        super().__init__(f"cannot import {op}{at}: {why}; {support}")


MASK_FIX = (
    "a key_padding_mask written x != 0 or x.bool() (nonzero = ignore) wires x to the mask port and a causal "
    "attn_mask (the positions after each step) sets causal; any other mask needs the attention built by hand"
)


def hidden_score(value: Any) -> Any:
    """Where a float attention mask hides a position: −inf, or the lowest float (softmax gives 0 either way)."""
    value = np.asarray(value)
    return np.isneginf(value) | (value <= np.finfo(value.dtype).min)


def causal_mask(value: Any, steps: tuple[int, int]) -> str:
    """Why the attn_mask ``value`` is not the causal mask [T, S] of a MultiheadAttention node; "" when it is.

    torch reads a boolean mask as True = hidden, a float one as added to the scores (−inf, or the lowest
    float as torch.export writes it, = hidden).
    """
    value = np.asarray(value)
    if value.shape != steps:
        return f"its attn_mask has shape {list(value.shape)}, not [T, S] = {list(steps)}"
    if np.issubdtype(value.dtype, np.floating) and np.all((value == 0) | hidden_score(value)):
        value = hidden_score(value)
    if value.dtype != np.bool_:
        return "its attn_mask is not a boolean or 0/−inf mask"
    if not np.array_equal(value, np.triu(np.ones(steps, dtype=bool), 1)):
        return "its attn_mask is not causal (the positions after each step)"
    return ""


@dataclass(frozen=True)
class Ref:
    """A value on the canvas: output ``port`` of node ``node`` with ``shape`` (batch first)."""

    node: str
    port: str
    shape: tuple[int, ...]


@dataclass
class ImportResult:
    """The imported project and how it compares with its source."""

    project: Any
    compiled: Compiled
    source_params: int
    imported_params: int
    max_abs_diff: float
    notes: list[str] = field(default_factory=list)


def model_params(compiled: Compiled) -> int:
    return sum(p.numel() for p in compiled.model.parameters())


class GraphBuilder:
    """Builds a :class:`GraphDocument` plus the weights each layer node gets."""

    def __init__(self) -> None:
        library = BlockLibrary()  # a project's document always has one (graphedit.model.project)
        self.doc = GraphDocument(library)
        library.attach(self.doc)
        self.weights: list[tuple[str, str, dict[str, torch.Tensor]]] = []
        # where the source had each node: its module path and a name there (graphedit.importers.hierarchy)
        self.context: tuple[tuple[str, ...], str | None] = ((), None)
        self.places: dict[str, tuple[tuple[str, ...], str]] = {}
        self.origin: dict[str, str] = {}  # a folded graph's node id → the flat graph's, where they differ

    def node_id(self, wanted: str | None, type_id: str) -> str:
        if wanted:
            name = re.sub(r"\W+", "_", wanted).strip("_")
            if name and name[0].isdigit():
                name = f"{self.doc.registry.get(type_id).prefix}_{name}"
            if ID_PATTERN.match(name) and name not in RESERVED_IDS and name not in self.doc:
                return name
        return self.doc.new_id(type_id)

    def add(
        self,
        type_id: str,
        params: dict[str, Any],
        inputs: list[Ref],
        shape: tuple[int, ...],
        name: str | None = None,
        weights: dict[str, torch.Tensor] | None = None,
        sub: str = "",
        ports: list[str] | None = None,
    ) -> Ref:
        """Add a node fed by ``inputs`` (ports ``x``, ``in1``… or ``ports``); returns its first output.

        Its layer takes over the tensors in ``weights`` (at ``sub`` inside it): they must be the builder's own.
        """
        if type_id not in self.doc.registry:
            raise ImportModelError(
                f"cannot import {name or type_id}: it needs a {type_id} node, which this GraphEdit's catalog lacks; "
                "install the node pack that provides it"
            )
        try:
            node_id = self.doc.add_node(type_id, params, node_id=self.node_id(name, type_id))
        except ParamError as exc:
            raise ImportModelError(f"cannot import {name or type_id} as a {type_id} node: {exc}") from None
        node_type = self.doc.node_type(node_id)
        scope, local = self.context
        self.places[node_id] = (scope, local or (name if not scope else None) or node_type.prefix)
        names = ports or [p.name for p in node_type.input_ports(self.doc.params(node_id))]
        for ref, port in zip(inputs, names):
            self.doc.connect(ref.node, ref.port, node_id, port)
        if weights:
            self.weights.append((node_id, sub, weights))
        outs = node_type.output_ports()
        return Ref(node_id, outs[0].name if outs else "", tuple(shape))

    def add_input(self, name: str, shape: tuple[int, ...], dtype: str) -> Ref:
        ref = self.add("Input", {"shape": list(shape[1:]), "dtype": dtype}, [], shape, name=name)
        return ref

    def add_output(self, ref: Ref, name: str = "") -> None:
        self.add("Output", {"name": name}, [ref], ref.shape, name=name or None)

    def ensure(self, ref: Ref, shape: tuple[int, ...]) -> Ref:
        """``ref`` with the source's ``shape``: a Reshape is inserted where the two differ."""
        if tuple(ref.shape) == tuple(shape):
            return ref
        if ref.shape[0] != shape[0] or math.prod(ref.shape) != math.prod(shape):
            raise ImportModelError(f"internal: cannot reshape {list(ref.shape)} to {list(shape)}")
        context, self.context = self.context, (self.context[0], None)  # not named after the node it feeds
        try:
            if len(shape) == 2:
                return self.add("Flatten", {}, [ref], shape)
            return self.add("Reshape", {"shape": list(shape[1:])}, [ref], shape)
        finally:
            self.context = context

    def layout(self) -> None:
        """Laid out as the editor's Layout command does it."""
        for node_id, position in layered_layout(self.doc).items():
            self.doc.move(node_id, position)

    def compile(self) -> Compiled:
        """Compile the graph and copy every node's weights into its layer.

        The layers are built on the meta device and take the source's tensors (no random init of
        weights that are replaced at once: vgg11's 132 M); where some layer got no weights from the
        source, the graph is compiled again on the CPU with its chosen init.
        """
        with torch.device("meta"):
            compiled = compile_graph(self.doc, device="meta", seed=0)
        self._load(compiled, assign=True)
        tensors = [*compiled.root.parameters(), *compiled.root.buffers()]
        if any(t.is_meta for t in tensors):
            compiled = compile_graph(self.doc, device="cpu", seed=0)
            self._load(compiled, assign=False)
        compiled.model.eval()
        return compiled

    def _load(self, compiled: Compiled, assign: bool) -> None:
        for node_id, sub, state in self.weights:
            target = compiled.root.get_submodule(f"{node_id}.{sub}" if sub else node_id)
            own = target.state_dict()
            try:
                state = {k: v.detach().to(own[k].dtype) for k, v in state.items()}
                target.load_state_dict(state, strict=True, assign=assign)
            except (RuntimeError, KeyError) as exc:
                raise ImportModelError(
                    f"node '{node_id}': the source weights do not fit the layer ({str(exc).splitlines()[0]})"
                ) from None

    def save(self, compiled: Compiled, out_path: str | Path, title: str, description: str) -> Any:
        """Save the project and its weights (``<stem>.safetensors`` beside it, referenced by path and SHA-256)."""
        from graphedit.model.project import new_project, save_project

        out_path = Path(out_path)
        if out_path.suffix != ".gproj":
            raise ImportModelError(f"{out_path}: a project file name must end in .gproj")
        if not out_path.parent.is_dir():
            raise ImportModelError(f"{out_path}: the folder {out_path.parent} does not exist")
        weights_path = out_path.with_suffix(".safetensors")
        state, seen = {}, set()
        for k, v in compiled.root.state_dict().items():  # safetensors refuses tensors that share memory
            v = v.detach().contiguous()
            state[k] = v.clone() if v.untyped_storage().data_ptr() in seen else v
            seen.add(v.untyped_storage().data_ptr())
        save_file(state, str(weights_path))
        project = new_project()
        project.document = self.doc
        project.meta = {**project.meta, "title": title, "description": description}
        project.weights = {"path": weights_path.name, "sha256": sha256_file(weights_path)}
        save_project(project, out_path)
        return project
