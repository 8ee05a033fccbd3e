"""Shape inference and the graph → torch.fx compiler."""

from graphedit.compiler.compile import Compiled, CompileError, compile_graph, readable_code
from graphedit.compiler.locate import locate_failure, locate_nonfinite
from graphedit.compiler.shapes import NodeInfo, ShapeInference

__all__ = [
    "CompileError",
    "Compiled",
    "NodeInfo",
    "ShapeInference",
    "compile_graph",
    "locate_failure",
    "locate_nonfinite",
    "readable_code",
]
