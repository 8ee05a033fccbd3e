"""Backpropagation, step by step, on one example: each node's forward value and the gradient arriving at it.

The values come from the compiled graph itself (its ``taps`` module: every node's output by id, the
same layers the model trains), in evaluation mode (BatchNorm uses its running statistics, Dropout
passes everything), so what the learner sees is what the network computes. The total loss is the
objective's (each loss node times its weight, plus penalties). :func:`trace` then asks autograd for
the gradient of the loss with respect to every node's output and every parameter, and
:meth:`BackpropTrace.contributions` gives the chain rule for one node: what it passes back to each
of its inputs, ``∂L/∂x = ∂L/∂y · ∂y/∂x``; a node feeding several others receives the sum of their
contributions. :attr:`BackpropTrace.order` is the order of the steps: from the loss back to the inputs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch

from graphedit.compiler.compile import LOSS_ROLES

ROLES_WITHOUT_VALUE = ("target",)


@dataclass
class BackpropTrace:
    document: Any
    values: dict[str, torch.Tensor]  # node id -> forward value (detached), one example
    grads: dict[str, torch.Tensor]  # node id -> ∂L/∂(its output); nodes the loss does not reach are absent
    param_grads: dict[str, torch.Tensor]  # "node.weight" -> ∂L/∂weight
    loss: float
    order: list[str] = field(default_factory=list)  # backward steps: loss nodes first, inputs last
    compiled: Any = None
    inner_values: dict[str, torch.Tensor] = field(default_factory=dict)  # "block/inner" -> value, inside blocks
    inner_grads: dict[str, torch.Tensor] = field(default_factory=dict)  # "block/inner" -> ∂L/∂(its output)
    _graph: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)  # live values, for the chain rule

    def contributions(self, node_id: str) -> dict[str, torch.Tensor]:
        """What ``node_id`` passes back to each node feeding it: ∂L/∂y · ∂y/∂x for input x (the chain rule).

        The derivative is the node's own (local) one: its operation is run again from its input values
        with the other inputs held fixed, so a path around it (a skip connection) is not counted twice.
        """
        grad = self.grads.get(node_id)
        if grad is None or self.compiled is None:
            return {}
        outputs = _tap_nodes(self.compiled.taps)
        leaves: dict[Any, torch.Tensor] = {}
        sources: dict[Any, str] = {}
        for edge in self.document.in_edges(node_id):
            key = _tap_key(self.document, edge.src, edge.src_port)
            if key in outputs and key in self._graph:
                value = self._graph[key].detach().clone()
                leaves[outputs[key]] = value.requires_grad_() if value.is_floating_point() else value
                sources[outputs[key]] = key
        wanted = {n: v for n, v in leaves.items() if v.requires_grad}
        if not wanted or node_id not in outputs:
            return {}
        with torch.enable_grad():
            local = _evaluate(self.compiled.taps, outputs[node_id], leaves)
            parts = torch.autograd.grad(local, list(wanted.values()), grad_outputs=grad, allow_unused=True)
        out: dict[str, torch.Tensor] = {}
        for fx_node, part in zip(wanted, parts):
            if part is not None:
                key = sources[fx_node]
                out[key] = out[key] + part if key in out else part.detach()
        return out

    def step_text(self, node_id: str) -> str:
        """One line for the Inspector: the chain rule at this node, with norms."""
        grad = self.grads.get(node_id)
        if grad is None:
            return f"{node_id}: the loss does not depend on this node."
        parts = [f"∂L/∂{node_id} has norm {grad.norm():.4g}"]
        for src, contribution in self.contributions(node_id).items():
            parts.append(f"passes ∂L/∂{src} = ∂L/∂{node_id} · ∂{node_id}/∂{src} (norm {contribution.norm():.4g})")
        return "; ".join(parts) + ". Computed in evaluation mode (BatchNorm running statistics, no dropout)."


def trace(compiled: Any, document: Any, inputs: dict[str, torch.Tensor]) -> BackpropTrace:
    """Forward one example through the compiled graph and back from its loss.

    ``inputs`` maps each Input and Target node id to a batch of one example.
    """
    modules = (compiled.root, compiled.taps)
    modes = [m.training for m in modules]
    for module in modules:
        module.eval()
    try:
        feed = {
            k: (v.detach().clone().requires_grad_(v.is_floating_point()) if k in compiled.input_ids else v)
            for k, v in inputs.items()
        }
        live = {n: feed[n] for n in compiled.input_ids if n in feed}
        with _recording_blocks(compiled, document) as inner:  # "block/inner", "block[1]/inner": on the loss's path
            taps = compiled.taps(**feed)
        tensors = {n: v for n, v in taps.items() if isinstance(v, torch.Tensor) and "." not in n}
        live.update({n: v for n, v in tensors.items() if n in document})
        total = _total_loss(document, live)
        reached = [
            n for n, v in live.items() if v.requires_grad and document.node_type(n).role not in ROLES_WITHOUT_VALUE
        ]
        inner_reached = [n for n, v in inner.items() if v.requires_grad]
        everything = [*reached, *inner_reached]
        found = torch.autograd.grad(
            total, [live[n] if n in live else inner[n] for n in everything], retain_graph=True, allow_unused=True
        )
        grads, inner_grads = found[: len(reached)], found[len(reached) :]
        named = [(n, p) for n, p in compiled.root.named_parameters() if p.requires_grad]
        pgrads = torch.autograd.grad(total, [p for _, p in named], retain_graph=True, allow_unused=True)
    finally:
        for module, mode in zip(modules, modes):
            module.train(mode)
    result = BackpropTrace(
        document,
        values={n: v.detach() for n, v in live.items()},
        grads={n: g.detach() for n, g in zip(reached, grads) if g is not None},
        param_grads={n: g.detach() for (n, _), g in zip(named, pgrads) if g is not None},
        loss=float(total.detach()),
        _graph=live,
        compiled=compiled,
        inner_values={n: v.detach() for n, v in inner.items()},
        inner_grads={n: g.detach() for n, g in zip(inner_reached, inner_grads) if g is not None},
    )
    order = [n for n in reversed(document.topological_order()) if n in result.grads]
    losses = [n for n in order if document.node_type(n).role in LOSS_ROLES]
    result.order = losses + [n for n in order if n not in losses]
    return result


@contextlib.contextmanager
def _recording_blocks(compiled: Any, document: Any) -> Iterator[dict[str, torch.Tensor]]:
    """While inside, each copy of each block node runs node by node and records its inner nodes' outputs (the
    same tensors the loss is computed from, so autograd gives their gradients) as ``"block/inner"`` in the first
    copy, ``"block[1]/inner"`` in the second (a shared repeat: each run of its one copy in turn)."""
    from torch import fx

    from graphedit.compiler.block_modules import copies
    from graphedit.model.blocks import copy_path

    recorded: dict[str, torch.Tensor] = {}
    patched = []
    for node_id in document.node_ids():
        module = compiled.root._modules.get(node_id)
        found = copies(module) if module is not None and document.node_type(node_id).block is not None else []
        for copy in dict.fromkeys(found):  # a shared repeat's one copy once
            paths = [copy_path(node_id, i) for i, c in enumerate(found) if c is copy]

            class Recorder(fx.Interpreter):
                def __init__(self, gm: Any, path: str) -> None:
                    super().__init__(gm)
                    self.path = path

                def run_node(self, n: fx.Node) -> Any:
                    result = super().run_node(n)
                    inner = n.meta.get("graphedit_id")
                    value = result[0] if isinstance(result, tuple) else result
                    if inner is not None and isinstance(value, torch.Tensor):
                        recorded[f"{self.path}/{inner}"] = value
                    return result

            def forward(*args: Any, _copy: Any = copy, _paths: list = paths, _calls: list = [0]) -> Any:  # noqa: B006
                path = _paths[_calls[0] % len(_paths)]
                _calls[0] += 1
                return Recorder(_copy, path).run(*args)

            copy.forward = forward  # an instance attribute: nn.Module.__call__ finds it first
            patched.append(copy)
    try:
        yield recorded
    finally:
        for copy in patched:
            del copy.forward


def _total_loss(document: Any, values: dict[str, torch.Tensor]) -> torch.Tensor:
    """The objective's total: each loss node times its weight, penalties as they are."""
    total = None
    for node_id in document.topological_order():
        role = document.node_type(node_id).role
        if role not in LOSS_ROLES or node_id not in values:
            continue
        term = values[node_id]
        weight = document.params(node_id).get("weight", 1.0)
        if role == "loss" and weight != 1.0:
            term = term * weight
        total = term if total is None else total + term
    if total is None:
        raise ValueError("the graph has no loss node, so there is nothing to backpropagate. Fix: add a loss node.")
    return total


def _tap_nodes(taps: Any) -> dict[str, Any]:
    """The fx node behind each key of the taps module's output (``node`` or ``node.port``), inputs included."""
    out: dict[str, Any] = {}
    for fx_node in taps.graph.nodes:
        if fx_node.op == "placeholder":
            out[fx_node.name] = fx_node
        elif fx_node.op == "output":
            out.update(fx_node.args[0])
    return out


def _tap_key(document: Any, node_id: str, port: str) -> str:
    first = document.node_type(node_id).output_ports()[0].name
    return node_id if port == first else f"{node_id}.{port}"


def _evaluate(gm: Any, target: Any, leaves: dict[Any, torch.Tensor]) -> Any:
    """The value of fx node ``target`` with the ``leaves`` given: only the operations between them run."""
    from torch.fx import Interpreter

    interpreter = Interpreter(gm)
    env = interpreter.env
    env.update(leaves)

    def value(fx_node: Any) -> Any:
        if fx_node not in env:
            for arg in fx_node.all_input_nodes:
                value(arg)
            env[fx_node] = interpreter.run_node(fx_node)
        return env[fx_node]

    return value(target)
