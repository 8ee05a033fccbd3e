"""The torch modules a block node builds into, and what probes read inside them (issue 13).

A repeat of a block with one input and one output is an ``nn.Sequential`` of
copies; with several, a :class:`Chain`; with shared weights, a :class:`Loop`
of one copy. :func:`block_inner_values` runs each copy of a block node by node
so live probes can show what happens inside every copy (``layer1/conv1``,
``layer1[1]/conv1``), and :func:`inner_parameters` says whose weights are whose.
"""

from __future__ import annotations

from typing import Any

from torch import fx, nn

from graphedit.model.blocks import BlockDefinition, copy_path


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
    found = copies(module)
    return found[0] if found else None


def copies(module: nn.Module) -> list[fx.GraphModule]:
    """The copies of a built block node in the order they run (a shared repeat runs its one copy each time)."""
    if isinstance(module, fx.GraphModule):
        return [module]
    if isinstance(module, Loop):
        block = module._modules["0"]
        return [block] * module.times if isinstance(block, fx.GraphModule) else []
    if isinstance(module, nn.Sequential):
        found = [m for m in module._modules.values() if isinstance(m, fx.GraphModule)]
        return found if found and len(found) == len(module) else []
    return []


def _inner_nodes(copy: fx.GraphModule) -> list[tuple[str, fx.Node]]:
    """The fx node of each inner node of one copy (a node with several outputs: the call, not its items)."""
    out: dict[str, fx.Node] = {}
    for node in copy.graph.nodes:
        inner = node.meta.get("graphedit_id")
        if inner is not None and inner not in out:
            out[inner] = node
    return list(out.items())


def inner_names(module: nn.Module, path: str) -> list[str]:
    """Probe keys of the inner nodes of every copy of the block node at ``path``, nested blocks included:
    ``layer1/conv1`` in the first copy, ``layer1[1]/conv1`` in the second, ``layer2/downsample/0`` nested."""
    out: list[str] = []
    for index, copy in enumerate(copies(module)):
        here = copy_path(path, index)
        for inner, node in _inner_nodes(copy):
            out.append(f"{here}/{inner}")
            if node.op == "call_module" and copies(copy.get_submodule(_target(node))):
                out += inner_names(copy.get_submodule(_target(node)), f"{here}/{inner}")
    return out


def inner_parameters(module: nn.Module, path: str) -> dict[str, list[nn.Parameter]]:
    """The weights of each inner node with weights in every copy of the block node at ``path``, by probe key
    (as :func:`inner_names`); shared copies name the same weights under each copy's key."""
    out: dict[str, list[nn.Parameter]] = {}
    for index, copy in enumerate(copies(module)):
        here = copy_path(path, index)
        for inner, node in _inner_nodes(copy):
            if node.op != "call_module":
                continue
            sub = copy.get_submodule(_target(node))
            weights = list(sub.parameters())
            if weights:
                out[f"{here}/{inner}"] = weights
            if copies(sub):
                out.update(inner_parameters(sub, f"{here}/{inner}"))
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


def block_inner_values(module: nn.Module, path: str, *inputs: Any) -> dict[str, Any]:
    """Each inner node's output in every copy of the block node at ``path`` fed ``inputs`` (live probes inside
    blocks), each copy fed the one before. Keys are :func:`inner_names`; a node with several outputs gives its first.
    """
    values: dict[str, Any] = {}

    class Recorder(fx.Interpreter):
        here = path

        def run_node(self, n: fx.Node) -> Any:
            result = super().run_node(n)
            inner = n.meta.get("graphedit_id")
            key = f"{self.here}/{inner}"
            if inner is not None and key not in values:
                values[key] = result[0] if isinstance(result, tuple) else result
                if n.op == "call_module" and copies(self.module.get_submodule(_target(n))):
                    args, _ = self.fetch_args_kwargs_from_env(n)
                    values.update(block_inner_values(self.module.get_submodule(_target(n)), key, *args))
            return result

    xs = inputs
    for index, copy in enumerate(copies(module)):
        recorder = Recorder(copy)
        recorder.here = copy_path(path, index)
        out = recorder.run(*xs)
        xs = out if isinstance(out, tuple) else (out,)
    return values
