"""The torch modules a block node builds into, and what probes read inside them (issue 13).

A repeat of a block with one input and one output is an ``nn.Sequential`` of
copies; with several, a :class:`Chain`; with shared weights, a :class:`Loop`
of one copy. :func:`block_inner_values` runs a block's first copy node by node
so live probes can show what happens inside it.
"""

from __future__ import annotations

from typing import Any

from torch import fx, nn

from graphedit.model.blocks import BlockDefinition


class Chain(nn.Sequential):
    """Copies of a block with several inputs or outputs: each copy's outputs feed the next copy's inputs."""

    def forward(self, *xs: Any) -> Any:
        for module in self:
            out = module(*xs)
            xs = out if isinstance(out, tuple) else (out,)
        return xs if len(xs) > 1 else xs[0]


class Loop(nn.Module):
    """One copy of a block applied ``times`` times (shared weights); its keys are ``0.*``."""

    def __init__(self, block: nn.Module, times: int) -> None:
        super().__init__()
        self.add_module("0", block)
        self.times = times

    def forward(self, *xs: Any) -> Any:
        block = self.get_submodule("0")
        for _ in range(self.times):
            out = block(*xs)
            xs = out if isinstance(out, tuple) else (out,)
        return xs if len(xs) > 1 else xs[0]


def first_copy(module: nn.Module) -> fx.GraphModule | None:
    """The first copy of a built block node (a repeat holds copies as ``0``, ``1``, ...); ``None`` if not a block."""
    if isinstance(module, fx.GraphModule):
        return module
    copy = module._modules.get("0")
    if isinstance(module, (nn.Sequential, Loop)) and isinstance(copy, fx.GraphModule):
        return copy
    return None


def inner_names(module: nn.Module) -> list[str]:
    """Paths of the inner nodes of a block's first copy, nested blocks included (``conv1``, ``downsample/0``)."""
    copy = first_copy(module)
    out: list[str] = []
    if copy is None:
        return out
    for node in copy.graph.nodes:
        inner = node.meta.get("graphedit_id")
        if inner is None:
            continue
        out.append(inner)
        if node.op == "call_module" and first_copy(copy.get_submodule(_target(node))) is not None:
            out += [f"{inner}/{name}" for name in inner_names(copy.get_submodule(_target(node)))]
    return out


def _target(node: fx.Node) -> str:
    """The submodule path a ``call_module`` node calls."""
    assert isinstance(node.target, str)  # fx keeps a call_module's target as the module's path
    return node.target


def inner_training(
    definition: BlockDefinition, module: nn.Module, prefix: str, scale: float = 1.0
) -> tuple[list[str], dict[str, float]]:
    """What the training settings of a block's inner nodes are, by module path under ``prefix``, in every copy.

    Returns the frozen inner nodes' paths and the learning-rate multipliers other than 1 (an inner node's times
    ``scale``, the block node's: the optimiser takes the longest path that names a parameter). ``definition`` is
    the node's :class:`~graphedit.model.blocks.BlockDefinition`; nested blocks are followed (a frozen nested block
    node is frozen whole). Shared copies are one module, so one path.
    """
    copies: list[tuple[str, nn.Module]]
    if isinstance(module, fx.GraphModule):
        copies = [(prefix, module)]
    else:
        copies = [(f"{prefix}.{name}", m) for name, m in module._modules.items() if m is not None]
    doc = definition.document
    frozen: list[str] = []
    scales: dict[str, float] = {}
    for path, copy in copies:
        for node_id in doc.node_ids():
            inner = copy._modules.get(node_id)
            if inner is None:
                continue
            here, nested = f"{path}.{node_id}", doc.node_type(node_id).block
            own = scale * doc.lr_scale(node_id)
            if own != scale:
                scales[here] = own
            if doc.is_frozen(node_id):
                frozen.append(here)
            elif nested is not None:
                more_frozen, more_scales = inner_training(nested, inner, here, own)
                frozen += more_frozen
                scales.update(more_scales)
    return frozen, scales


def block_inner_values(module: nn.Module, *inputs: Any) -> dict[str, Any]:
    """Each inner node's output in the block's first copy fed ``inputs`` (live probes inside blocks).

    Keys are :func:`inner_names`; a node with several outputs gives its first.
    """
    copy = first_copy(module)
    values: dict[str, Any] = {}

    class Recorder(fx.Interpreter):
        def run_node(self, n: fx.Node) -> Any:
            result = super().run_node(n)
            inner = n.meta.get("graphedit_id")
            if inner is not None:
                values[inner] = result[0] if isinstance(result, tuple) else result
                if n.op == "call_module" and first_copy(self.module.get_submodule(_target(n))) is not None:
                    args, _ = self.fetch_args_kwargs_from_env(n)
                    nested = block_inner_values(self.module.get_submodule(_target(n)), *args)
                    values.update({f"{inner}/{k}": v for k, v in nested.items()})
            return result

    if copy is not None:
        Recorder(copy).run(*inputs)
    return values
