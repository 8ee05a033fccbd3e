"""What the ONNX importer learns before it adds a node: every value's shape and every computed constant.

Shapes come from ONNX's shape inference (``data_prop=True``, so ``Shape → Gather → Concat → Reshape``
targets are known) on a *light* copy of the graph: its inputs fixed at a batch of 2 and its large
initializers turned into inputs, so inferring vgg11's shapes does not copy its 500 MB of weights.
Constants the graph computes (shape arithmetic, folded weights) and any value whose shape inference
leaves open come from one ONNX Runtime run of that light graph, fed the weights, with those values
as extra outputs; the same run gives the outputs the import is checked against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper

from graphedit.importers.common import ImportModelError

# Ops whose result is known from constants and the (fixed) input shapes alone
STATIC_OPS = {"Shape", "Size", "Constant", "ConstantOfShape"}
LARGE = 64  # initializers with more elements go to ONNX Runtime as inputs, not inside the light graph


@dataclass
class Learned:
    shapes: dict[str, tuple[int, ...]]
    consts: dict[str, np.ndarray]  # values computed by the graph from constants only
    outputs: list[np.ndarray]  # ONNX Runtime's outputs for the feeds


def static_values(graph: onnx.GraphProto, consts: set[str]) -> list[str]:
    """Outputs of the ops computed from constants and input shapes only, in graph order."""
    known, found = set(consts) | {""}, []
    for node in graph.node:
        if node.op_type in STATIC_OPS or all(n in known for n in node.input):
            known.update(node.output)
            found.extend(n for n in node.output if n)
    return found


def _light(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> tuple[onnx.ModelProto, list[str]]:
    """``model`` with fixed input shapes, no declared intermediate shapes and its large initializers as inputs."""
    light = onnx.ModelProto()
    light.ir_version = max(model.ir_version, 4)  # 4: initializers need not be listed as inputs
    light.opset_import.extend(model.opset_import)
    light.functions.extend(model.functions)
    g, src = light.graph, model.graph
    g.name = src.name or "graph"
    g.node.extend(src.node)
    for name, value in feeds.items():
        g.input.append(helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(value.dtype), value.shape))
    moved = []
    for init in src.initializer:
        if int(np.prod(init.dims)) > LARGE:
            g.input.append(helper.make_tensor_value_info(init.name, init.data_type, list(init.dims)))
            moved.append(init.name)
        else:
            g.initializer.append(init)
    g.output.extend(src.output)
    return light, moved


def _dims(value: onnx.ValueInfoProto) -> tuple[int, ...] | None:
    t = value.type.tensor_type
    if not value.type.HasField("tensor_type") or not t.HasField("shape"):
        return None
    dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
    return None if None in dims else tuple(dims)


class Learner:
    """:meth:`infer` checks the graph and infers its shapes; :meth:`evaluate` runs it once (see the module doc)."""

    def __init__(self, model: onnx.ModelProto, feeds: dict[str, np.ndarray], source: str) -> None:
        self.model, self.feeds, self.source = model, feeds, source
        self.light, self.moved = _light(model, feeds)
        self.shapes: dict[str, tuple[int, ...]] = {}

    def infer(self, consts: dict[str, np.ndarray]) -> None:
        try:
            onnx.checker.check_model(self.light)
            inferred = onnx.shape_inference.infer_shapes(self.light, strict_mode=False, data_prop=True)
        except Exception as exc:
            raise ImportModelError(f"{self.source}: not a valid ONNX model: {str(exc).splitlines()[0]}") from None
        self.shapes = {name: tuple(np.shape(a)) for name, a in consts.items()}
        self.shapes.update({name: tuple(a.shape) for name, a in self.feeds.items()})
        for value in [*inferred.graph.value_info, *inferred.graph.output]:
            dims = _dims(value)
            if dims is not None:
                self.shapes[value.name] = dims

    def evaluate(self, consts: dict[str, np.ndarray]) -> Learned:
        graph = self.model.graph
        static = static_values(graph, set(consts))
        unknown = [n for node in graph.node for n in node.output if n and n not in self.shapes]
        outputs = [v.name for v in graph.output]
        extra = [n for n in dict.fromkeys([*static, *unknown]) if n not in outputs]
        light = onnx.ModelProto()
        light.CopyFrom(self.light)  # small: the weights are not in it
        light.graph.output.extend(helper.make_empty_tensor_value_info(n) for n in extra)
        try:
            options = ort.SessionOptions()
            options.log_severity_level = 3
            session = ort.InferenceSession(light.SerializeToString(), options, providers=["CPUExecutionProvider"])
            values = session.run(None, {**self.feeds, **{n: consts[n] for n in self.moved}})
        except Exception as exc:
            raise ImportModelError(
                f"{self.source}: ONNX Runtime cannot run the model: {str(exc).splitlines()[0]}"
            ) from None
        computed = dict(zip([*outputs, *extra], values))
        shapes = dict(self.shapes)
        for name, value in computed.items():
            shapes.setdefault(name, tuple(np.shape(value)))
        return Learned(shapes, {n: np.asarray(computed[n]) for n in static}, values[: len(outputs)])
