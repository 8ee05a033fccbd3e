"""Import an fx-traceable ``nn.Module`` as a graph project.

The module is traced with ``torch.fx.symbolic_trace`` (torch layers and the
catalog's own classes stay leaves), run once on example inputs to learn every
value's shape, and each fx node becomes a catalog node: layers through
:mod:`graphedit.importers.fx_layers`, functions and methods (``torch.cat``,
``+``, ``F.relu``, ``x.view(n, -1)``…) through :data:`FUNCTIONS`. Shape
bookkeeping (``x.size(0)``, ``x.shape``) disappears into Flatten/Reshape.
"""

from __future__ import annotations

import operator
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from graphedit.importers.common import GraphBuilder, ImportModelError, Ref, UnsupportedOpError
from graphedit.importers.fx_layers import ALIAS, CATALOG_CLASSES, FLATTEN, RNN, Spec, module_spec, rnn_spec, square

FUNCTIONS: dict[str, tuple[Any, ...]] = {
    "relu": (torch.relu, F.relu),
    "sigmoid": (torch.sigmoid, F.sigmoid),
    "tanh": (torch.tanh, F.tanh),
    "selu": (torch.selu, F.selu),
    "gelu": (F.gelu,),
    "leaky_relu": (F.leaky_relu,),
    "elu": (F.elu,),
    "softmax": (torch.softmax, F.softmax),
    "cat": (torch.cat, torch.concat, torch.concatenate),
    "add": (operator.add, torch.add, operator.iadd),
    "mul": (operator.mul, torch.mul, operator.imul),
    "flatten": (torch.flatten,),
    "reshape": (torch.reshape,),
    "mean": (torch.mean,),
    "adaptive_avg_pool": (F.adaptive_avg_pool2d, F.adaptive_avg_pool1d),
    "max_pool2d": (F.max_pool2d,),
    "avg_pool2d": (F.avg_pool2d,),
    "dropout": (F.dropout,),
    "getitem": (operator.getitem,),
}
METHODS = {"view": "reshape", "contiguous": "alias", "clone": "alias", "detach": "alias", "__getitem__": "getitem"}
SIMPLE = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "selu": "SELU"}
LAST_STEP = ((slice(None), -1), (slice(None), -1, slice(None)))


class _Tracer(fx.Tracer):
    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return type(m).__name__ in CATALOG_CLASSES or super().is_leaf_module(m, qualname)


def _op_name(node: fx.Node) -> str:
    if node.op == "call_method":
        return f"Tensor.{node.target}"
    fn = node.target
    module = getattr(fn, "__module__", None) or "torch"
    return f"{module.replace('_operator', 'operator')}.{getattr(fn, '__name__', fn)}"


def _key(node: fx.Node) -> str | None:
    if node.op == "call_method":
        name = METHODS.get(node.target, node.target)
        known = {*FUNCTIONS, "reshape", "alias", "getitem"}
        return name if name in known else None
    for key, fns in FUNCTIONS.items():
        if any(node.target is f for f in fns):
            return key
    return None


def _own(weights: dict[str, torch.Tensor] | None) -> dict[str, torch.Tensor] | None:
    """Copies of a layer's tensors: the project's layers take them over, and must not share the module's."""
    return None if weights is None else {k: v.detach().clone() for k, v in weights.items()}


def _arg(node: fx.Node, i: int, name: str, default: Any = None) -> Any:
    return node.args[i] if len(node.args) > i else node.kwargs.get(name, default)


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
        self._record(examples)
        self.b = GraphBuilder()
        self.refs: dict[fx.Node, Any] = {}

    def _record(self, examples: tuple[torch.Tensor, ...]) -> None:
        values = self.values

        class Recorder(fx.Interpreter):
            def run_node(self, n: fx.Node) -> Any:
                values[n] = super().run_node(n)
                return values[n]

        with torch.no_grad():
            Recorder(self.gm).run(*examples)

    def run(self) -> GraphBuilder:
        for node in self.gm.graph.nodes:
            if node in self.refs:
                continue
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
                raise UnsupportedOpError(f"parameter {node.target}", "forward", "a tensor used directly")
        return self.b

    # ---------------------------------------------------------------- helpers
    def _is_tensor(self, node: Any) -> bool:
        return isinstance(node, fx.Node) and isinstance(self.values.get(node), torch.Tensor)

    def _tensors(self, node: fx.Node) -> list[fx.Node]:
        found: list[fx.Node] = []
        fx.node.map_arg((node.args, node.kwargs), lambda a: found.append(a) if self._is_tensor(a) else None)
        return found

    def _input(self, node: fx.Node) -> Ref:
        ref = self.refs.get(node)
        if not isinstance(ref, Ref):
            raise UnsupportedOpError(_op_name(node), node.name, "its result is not a single tensor")
        return self.b.ensure(ref, tuple(self.values[node].shape))

    def _shape(self, node: fx.Node) -> tuple[int, ...]:
        return tuple(self.values[node].shape)

    def _add(self, node: fx.Node, spec: Spec, inputs: list[Ref], name: str | None = None) -> None:
        shape = self._shape(node) if spec.type_id != "GlobalAvgPool" else self._shape(node)[:2]
        self.refs[node] = self.b.add(
            spec.type_id, spec.params, inputs, shape, name or node.name, _own(spec.weights), spec.sub, spec.ports
        )

    def _reshape(self, node: fx.Node, src: fx.Node) -> None:
        ref, out = self.refs[src], self._shape(node)
        if not isinstance(ref, Ref):
            raise UnsupportedOpError(_op_name(node), node.name, "its input is not a single tensor")
        if ref.shape == out:
            self.refs[node] = ref
        elif out[0] != ref.shape[0]:
            raise UnsupportedOpError(_op_name(node), node.name, "it changes the batch dimension")
        elif len(out) == 2:
            self.refs[node] = self.b.add("Flatten", {}, [ref], out, node.name)
        else:
            self.refs[node] = self.b.add("Reshape", {"shape": list(out[1:])}, [ref], out, node.name)

    # ----------------------------------------------------------------- layers
    def _module(self, node: fx.Node) -> None:
        m = self.gm.get_submodule(node.target)
        tensors = self._tensors(node)
        in_shape = self._shape(tensors[0]) if tensors else None
        spec = module_spec(m, f"module '{node.target}'", in_shape)
        name = node.target.replace(".", "_")
        if spec == ALIAS:
            self.refs[node] = self.refs[tensors[0]]
        elif spec == FLATTEN:
            self._reshape(node, tensors[0])
        elif spec == RNN:
            self.refs[node] = ("rnn", m, self._input(tensors[0]), name)
        else:
            self._add(node, spec, [self._input(t) for t in tensors], name)

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
        spec = rnn_spec(m, last)
        shape = self._shape(users[0]) if last else self._shape(node)
        out = self.b.add(spec.type_id, spec.params, [ref], shape, name, _own(spec.weights), spec.sub)
        self.refs[node] = out
        for u in users if last else []:
            self.refs[u] = out

    # -------------------------------------------------------------- functions
    def _function(self, node: fx.Node) -> None:
        key = _key(node)
        tensors = self._tensors(node)
        if key == "getitem":
            pending = self.refs.get(node.args[0])
            if isinstance(pending, tuple):
                return self._rnn_item(node, pending, node.args[1])
            if self._is_tensor(node.args[0]):
                raise UnsupportedOpError("tensor indexing x[...]", node.name, "GraphEdit has no slicing node")
            return None
        if not self._is_tensor(node):
            return None  # shape bookkeeping such as x.size(0)
        if key is None:
            raise UnsupportedOpError(_op_name(node), node.name)
        if key == "alias":
            self.refs[node] = self.refs[tensors[0]]
        elif key in ("reshape", "flatten"):
            self._reshape(node, tensors[0])
        elif key in ("add", "mul"):
            self._merge(node, key, tensors)
        elif key == "cat":
            self._cat(node, tensors)
        else:
            self._add(node, self._spec(node, key, tensors), [self._input(t) for t in tensors[:1]])
        return None

    def _merge(self, node: fx.Node, key: str, tensors: list[fx.Node]) -> None:
        if len(tensors) != 2 or "alpha" in node.kwargs:
            raise UnsupportedOpError(_op_name(node), node.name, "only the sum/product of two tensors, no constants")
        if self._shape(tensors[0]) != self._shape(tensors[1]):
            raise UnsupportedOpError(_op_name(node), node.name, "broadcasting between different shapes")
        type_id = "Add" if key == "add" else "Multiply"
        self._add(node, Spec(type_id, {"inputs": 2}), [self._input(t) for t in tensors])

    def _cat(self, node: fx.Node, tensors: list[fx.Node]) -> None:
        rank = len(self._shape(node))
        dim = _arg(node, 1, "dim", 0)
        dim = dim + rank if dim < 0 else dim
        if dim < 1 or not 2 <= len(tensors) <= 8 or len(tensors) != len(node.args[0]):
            raise UnsupportedOpError(_op_name(node), node.name, "Concat joins 2–8 tensors along a non-batch axis")
        self._add(node, Spec("Concat", {"inputs": len(tensors), "axis": dim}), [self._input(t) for t in tensors])

    def _spec(self, node: fx.Node, key: str, tensors: list[fx.Node]) -> Spec:
        op, rank = _op_name(node), len(self._shape(tensors[0]))
        if key in SIMPLE:
            return Spec(SIMPLE[key], {})
        if key == "gelu":
            if _arg(node, 1, "approximate", "none") != "none":
                raise UnsupportedOpError(op, node.name, "the tanh approximation of GELU is not supported")
            return Spec("GELU", {})
        if key == "leaky_relu":
            return Spec("LeakyReLU", {"alpha": float(_arg(node, 1, "negative_slope", 0.01))})
        if key == "elu":
            return Spec("ELU", {"alpha": float(_arg(node, 1, "alpha", 1.0))})
        if key == "softmax":
            if _arg(node, 1, "dim") not in (1, 1 - rank):
                raise UnsupportedOpError(op, node.name, "GraphEdit's Softmax is over dim 1")
            return Spec("Softmax", {})
        if key == "dropout":
            return Spec("Dropout", {"p": float(_arg(node, 1, "p", 0.5))})
        if key == "mean":
            dims = _arg(node, 1, "dim")
            dims = sorted(d % rank for d in ((dims,) if isinstance(dims, int) else dims or ()))
            if rank < 3 or dims != list(range(2, rank)):
                raise UnsupportedOpError(op, node.name, "only the mean over all positions (global average pooling)")
            return Spec("GlobalAvgPool", {})
        if key == "adaptive_avg_pool":
            if _arg(node, 1, "output_size") not in (1, (1,), (1, 1)):
                raise UnsupportedOpError(op, node.name, "only output size 1 (global average pooling)")
            return Spec("GlobalAvgPool", {})
        kernel = square(_arg(node, 1, "kernel_size"), "kernel_size", op, node.name)
        stride = _arg(node, 2, "stride") or kernel
        spec = {"kernel": kernel, "stride": square(stride, "stride", op, node.name)}
        spec["padding"] = square(_arg(node, 3, "padding", 0), "padding", op, node.name)
        if _arg(node, 5 if key == "max_pool2d" else 4, "ceil_mode", False):
            raise UnsupportedOpError(op, node.name, "ceil_mode=True is not supported")
        return Spec("MaxPool2d" if key == "max_pool2d" else "AvgPool2d", spec)
