"""Import an fx-traceable ``nn.Module`` as a graph project.

The module is traced with ``torch.fx.symbolic_trace`` (torch layers, the catalog's own classes and
torchvision's StochasticDepth stay leaves), run once on example inputs to learn every value's shape,
and each fx node becomes a catalog node: layers through :mod:`graphedit.importers.fx_layers`
(``nn.MultiheadAttention`` and its masks through :mod:`graphedit.importers.fx_attention`),
element-wise and pooling functions through :mod:`graphedit.importers.fx_functions`, and the ops
that rearrange or combine tensors (``torch.cat``, ``+``, ``x.view(n, -1)``, ``permute``, ``chunk``,
``x[:, 0]``…) through :mod:`graphedit.importers.fx_tensor_ops`. Shape bookkeeping (``x.size(0)``,
``x.shape[1]``) disappears into the Flatten/Reshape nodes it feeds, which keep the batch dimension.
"""

from __future__ import annotations

import math
import operator
import re
from typing import Any

import torch
from torch import fx, nn

from graphedit.importers.common import GraphBuilder, ImportModelError, Ref, UnsupportedOpError
from graphedit.importers.fx_attention import attention_node, claim_masks, masked_examples
from graphedit.importers.fx_functions import arg, function_key, function_spec, op_name
from graphedit.importers.fx_layers import ALIAS, FLATTEN, RNN, Spec, is_catalog_module, module_spec, rnn_spec
from graphedit.importers.fx_tensor_ops import (
    MERGE,
    Multi,
    cat_node,
    expand_node,
    merge_node,
    permute_node,
    reshape_node,
    slice_node,
    split_node,
)
from graphedit.importers.hierarchy_names import CALL

LAST_STEP = ((slice(None), -1), (slice(None), -1, slice(None)))


class _Tracer(fx.Tracer):
    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return is_catalog_module(m) or super().is_leaf_module(m, qualname)


def _own(weights: dict[str, torch.Tensor] | None) -> dict[str, torch.Tensor] | None:
    """Copies of a layer's tensors: the project's layers take them over, and must not share the module's."""
    return None if weights is None else {k: v.detach().clone() for k, v in weights.items()}


class FxImporter:
    """Walks the traced graph in order; ``refs`` maps each fx node to its value on the canvas."""

    def __init__(self, module: nn.Module, examples: tuple[torch.Tensor, ...]) -> None:
        self.module = module.eval()
        try:
            self.gm = fx.GraphModule(self.module, _Tracer().trace(self.module))
        except Exception as exc:
            raise ImportModelError(
                f"{type(module).__name__} cannot be traced by torch.fx ({str(exc).splitlines()[0]}); "
                "data-dependent control flow (if/for on tensor values) cannot become a graph"
            ) from None
        self.values: dict[fx.Node, Any] = {}
        self.examples = masked_examples(self.gm, examples)  # an attention's padding masks must leave keys visible
        self._record(self.examples)
        self.b = GraphBuilder()
        self.refs: dict[fx.Node, Any] = {}
        self._calls: dict[tuple[tuple[str, ...], str], list[str]] = {}  # (parent scope, module path) → its calls

    def _record(self, examples: tuple[torch.Tensor, ...]) -> None:
        values = self.values

        class Recorder(fx.Interpreter):
            def run_node(self, n: fx.Node) -> Any:
                values[n] = super().run_node(n)
                return values[n]

        with torch.no_grad():
            Recorder(self.gm).run(*examples)

    def run(self) -> GraphBuilder:
        claim_masks(self)  # the ops computing an attention's masks are read with it, not imported on their own
        for node in self.gm.graph.nodes:
            if node in self.refs:
                continue
            self.b.context = self._place(node)
            if node.op == "placeholder":
                v = self.values[node]
                dtype = "int64" if v.dtype == torch.int64 else "float32"
                self.refs[node] = self.b.add_input(node.name, tuple(v.shape), dtype)
            elif node.op == "output":
                outs = node.args[0] if isinstance(node.args[0], (tuple, list)) else (node.args[0],)
                for i, out in enumerate(outs):
                    if not isinstance(out, fx.Node) or not isinstance(self.refs.get(out), Ref):
                        raise UnsupportedOpError("output", "forward's return", "only tensors can be returned")
                    self.b.add_output(self._input(out), "" if len(outs) == 1 else f"output{i + 1}")
            elif node.op == "call_module":
                self._module(node)
            elif node.op in ("call_function", "call_method"):
                self._function(node)
            elif node.op == "get_attr" and isinstance(getattr(self.gm, node.target, None), torch.Tensor):
                self.refs[node] = ("tensor", node.target)  # becomes a node where it meets an input's value
        return self.b

    def _place(self, node: fx.Node) -> tuple[tuple[str, ...], str]:
        """The module path ``node`` runs in and its name there: ``layer1.0.conv1`` → (("layer1", "0"), "conv1").

        A module that its parent calls again (a Siamese ``self.encoder(a)``, ``self.encoder(b)``) runs in a scope
        of its own each time after the first: ``encoder``, ``encoder@1`` (:data:`CALL`), so each call can become a
        block node (sharing the first's weights, see :mod:`graphedit.importers.hierarchy`).
        """
        stack = node.meta.get("nn_module_stack") or {}
        if node.op == "call_module":
            *scope, local = node.target.split(".")
        else:
            path = next(reversed(stack.values()))[0] if stack else ""
            try:
                self.module.get_submodule(path)
            except (AttributeError, TypeError):
                path = ""
            scope, local = (path.split(".") if path else []), re.sub(r"_\d+$", "", node.name)
        keys = {qualname: key for key, (qualname, _) in stack.items()}
        marked: list[str] = []
        for i, part in enumerate(scope):
            prefix = ".".join(scope[: i + 1])
            calls = self._calls.setdefault((tuple(marked), prefix), [])  # this module's calls within its parent's
            key = keys.get(prefix, prefix)
            if key not in calls:
                calls.append(key)
            index = calls.index(key)
            marked.append(part if index == 0 else f"{part}{CALL}{index}")
        return tuple(marked), local

    def kind_of(self, scope: tuple[str, ...]) -> str:
        """The class name of the module at ``scope``: its instances are matched for one block definition."""
        return type(self.module.get_submodule(".".join(p.split(CALL)[0] for p in scope))).__name__

    def called_again(self) -> list[str]:
        """The layers with weights that ``forward`` calls more than once (``encoder.fc1``)."""
        targets = [n.target for n in self.gm.graph.nodes if n.op == "call_module"]
        again = [t for t in dict.fromkeys(targets) if targets.count(t) > 1]
        return [t for t in again if any(True for _ in self.gm.get_submodule(t).parameters())]

    # ---------------------------------------------------------------- helpers
    def _is_tensor(self, node: Any) -> bool:
        return isinstance(node, fx.Node) and isinstance(self.values.get(node), torch.Tensor)  # get_attr ones too

    def _tensors(self, node: fx.Node) -> list[fx.Node]:
        found: list[fx.Node] = []
        fx.node.map_arg((node.args, node.kwargs), lambda a: found.append(a) if self._is_tensor(a) else None)
        return found

    def _input(self, node: fx.Node) -> Ref:
        ref = self.refs.get(node)
        if isinstance(ref, tuple) and ref[0] == "tensor":
            return self._parameter(node, getattr(self.gm, ref[1]))  # over the batch: not the tensor's own shape
        if node.op == "get_attr" and isinstance(ref, Ref):
            return ref
        if not isinstance(ref, Ref):
            raise UnsupportedOpError(op_name(node), node.name, "its result is not a single tensor from the inputs")
        return self.b.ensure(ref, tuple(self.values[node].shape))

    def _parameter(self, node: fx.Node, value: torch.Tensor) -> Ref:
        """A learned tensor [1, …] (a ViT's class token or position embedding) as a Parameter node over the batch."""
        if value.dim() < 2 or value.shape[0] != 1:
            raise UnsupportedOpError(
                f"tensor {node.target}", "forward", f"its shape {list(value.shape)} has no batch axis of 1"
            )
        batch = next(r for n, r in self.refs.items() if n.op == "placeholder")
        params = {"shape": list(value.shape[1:]), "fill": "zeros"}
        weights = {"weight": value.detach()[0].clone()}
        ref = self.b.add("Parameter", params, [batch], (batch.shape[0], *value.shape[1:]), node.name, weights)
        self.refs[node] = ref
        return ref

    def _shape(self, node: fx.Node) -> tuple[int, ...]:
        return tuple(self.values[node].shape)

    def _add(
        self, node: fx.Node, spec: Spec, inputs: list[Ref], name: str | None = None, shape: tuple[int, ...] = ()
    ) -> Ref:
        shape = shape or (self._shape(node) if spec.type_id != "GlobalAvgPool" else self._shape(node)[:2])
        ref = self.b.add(
            spec.type_id, spec.params, inputs, shape, name or node.name, _own(spec.weights), spec.sub, spec.ports
        )
        self.refs[node] = ref
        return ref

    # ----------------------------------------------------------------- layers
    def _module(self, node: fx.Node) -> None:
        m = self.gm.get_submodule(node.target)
        tensors = self._tensors(node)
        in_shape = self._shape(tensors[0]) if tensors else None
        name = node.target.replace(".", "_")
        if isinstance(m, nn.MultiheadAttention):
            return self._attention(node, m, name)
        spec = module_spec(m, f"module '{node.target}'", in_shape)
        if spec == ALIAS:
            self.refs[node] = self.refs[tensors[0]]
        elif spec == FLATTEN:
            reshape_node(self, node, tensors[0])
        elif spec == RNN:
            self.refs[node] = ("rnn", m, self._input(tensors[0]), name)
        elif spec.type_id == "Dense":
            self._dense(node, spec, tensors[0], name)
        else:
            self._add(node, spec, [self._input(t) for t in tensors], name)

    def _dense(self, node: fx.Node, spec: Spec, x: fx.Node, name: str | None = None) -> None:
        """A Dense node on ``x``; it takes [N, F] or [N, T, F], so more middle axes become T and come back after."""
        shape = self._shape(x)
        if len(shape) <= 3:
            self._add(node, spec, [self._input(x)], name)
            return
        steps = (shape[0], math.prod(shape[1:-1]))
        self._add(
            node, spec, [self.b.ensure(self._input(x), (*steps, shape[-1]))], name, (*steps, spec.params["units"])
        )

    def _linear(self, node: fx.Node) -> None:
        """``F.linear(x, self.weight, self.bias)``: a Dense node when the weight and bias are the module's own."""
        weight, bias = arg(node, 1, "weight"), arg(node, 2, "bias")
        if any(t is not None and (not isinstance(t, fx.Node) or t.op != "get_attr") for t in (weight, bias)):
            raise UnsupportedOpError(op_name(node), node.name, "its weight and bias must be the module's parameters")
        w = self.values[weight]
        params = {"units": int(w.shape[0]), "bias": bias is not None, "init": "torch"}
        state = {"weight": w, **({"bias": self.values[bias]} if bias is not None else {})}
        self._dense(node, Spec("Dense", params, state), node.args[0])

    def _attention(self, node: fx.Node, m: nn.MultiheadAttention, name: str) -> None:
        params, inputs, ports = attention_node(self, node, m)
        shape = tuple(self.values[node][0].shape)
        out = self.b.add("MultiheadAttention", params, inputs, shape, name, _own(m.state_dict()), "attn", ports)
        self.refs[node] = Multi((out,))

    def _rnn_item(self, node: fx.Node, pending: tuple[Any, ...], index: Any) -> None:
        _, m, ref, name = pending
        if index != 0 and not node.users:
            return  # ``out, _ = self.lstm(x)``: the unused state
        if index != 0:
            raise UnsupportedOpError(f"{type(m).__name__} output [{index}]", node.name, "only the outputs, not h/c")
        users = list(node.users)
        last = bool(users) and all(
            u.op == "call_function" and u.target is operator.getitem and u.args[1] in LAST_STEP for u in users
        )
        if last and m.bidirectional:
            raise UnsupportedOpError(
                f"{type(m).__name__} output [:, -1]",
                node.name,
                "the backward direction's last step is its first one, unlike GraphEdit's 'last' (both final states)",
                "return the whole sequence, or use GraphEdit's bidirectional layer with return 'last'",
            )
        spec = rnn_spec(m, last)
        shape = self._shape(users[0]) if last else self._shape(node)
        out = self.b.add(spec.type_id, spec.params, [ref], shape, name, _own(spec.weights), spec.sub)
        self.refs[node] = out
        for u in users if last else []:
            self.refs[u] = out

    # -------------------------------------------------------------- functions
    def _function(self, node: fx.Node) -> None:
        key = function_key(node)
        tensors = self._tensors(node)
        if key == "getitem":
            return self._getitem(node)
        if not self._is_tensor(node):
            if key in ("chunk", "split") and self._is_tensor(node.args[0]):
                return split_node(self, node, key, node.args[0])
            result = self.values.get(node)
            if key is None and tensors and isinstance(result, tuple) and any(torch.is_tensor(v) for v in result):
                raise UnsupportedOpError(op_name(node), node.name)  # torch.topk, torch.sort, x.unbind…: named here
            return None  # shape bookkeeping such as x.size(0)
        if key is None:
            raise UnsupportedOpError(op_name(node), node.name)
        if key == "alias":
            self.refs[node] = self.refs[tensors[0]]
        elif key in ("reshape", "flatten"):
            reshape_node(self, node, tensors[0])
        elif key in MERGE:
            merge_node(self, node, key, tensors)
        elif key == "linear":
            self._linear(node)
        elif key == "matmul":
            self._add(node, Spec("MatMul", {}), [self._input(t) for t in tensors])
        elif key == "cat":
            cat_node(self, node, tensors)
        elif key in ("permute", "transpose"):
            permute_node(self, node, key, tensors[0])
        elif key == "expand":
            expand_node(self, node)
        else:
            rank = len(self._shape(tensors[0]))
            self._add(node, function_spec(node, key, rank, self._shape(node)), [self._input(tensors[0])])
        return None

    def _getitem(self, node: fx.Node) -> None:
        src, index = node.args
        pending = self.refs.get(src)
        if isinstance(pending, tuple) and pending[0] == "rnn":
            return self._rnn_item(node, pending, index)
        if isinstance(pending, Multi):
            if index >= len(pending.refs) and node.users:
                raise UnsupportedOpError(f"{op_name(src)} output [{index}]", node.name, "only its first output")
            self.refs[node] = pending.refs[index] if index < len(pending.refs) else None
            return None
        if self._is_tensor(src):
            return slice_node(self, node, src, index)
        return None
