"""Measured time per node: a short profiled run of forward and backward passes (torch.profiler).

The objective is run node by node (an fx ``Interpreter``), each node inside a ``record_function``
range named after it, so every operator the profiler sees has the node it belongs to. The backward
pass is attributed through autograd's sequence numbers: the backward function of an operator carries
the number of the forward operator that created it (the last operator run with that number, since
operators that make no autograd node report the number without using it). On a CUDA device the
kernels' device time is counted, on the CPU the operators' CPU time. The run is short (a warm-up
step, then ``steps`` measured ones) and only on request: the Summary's "Profile" button.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

RANGE = "graphedit:"  # prefix of the profiler ranges that name nodes
BACKWARD = "autograd::engine::evaluate_function: "


@dataclass
class NodeTimes:
    """Milliseconds per step (the average over the measured steps) for each node, forward and backward."""

    forward: dict[str, float] = field(default_factory=dict)
    backward: dict[str, float] = field(default_factory=dict)
    device: str = "cpu"
    steps: int = 0

    def total(self, node_id: str) -> float:
        return self.forward.get(node_id, 0.0) + self.backward.get(node_id, 0.0)

    def grand_total(self) -> float:
        return sum(self.total(n) for n in self.nodes())

    def share(self, node_id: str) -> float:
        """The node's share of all nodes' forward + backward time, in [0, 1]."""
        whole = self.grand_total()
        return self.total(node_id) / whole if whole > 0 else 0.0

    def nodes(self) -> list[str]:
        return list(dict.fromkeys([*self.forward, *self.backward]))


def profile_nodes(compiled: Any, feed: dict[str, torch.Tensor], steps: int = 3, device: str = "cpu") -> NodeTimes:
    """Time each node of the compiled objective over ``steps`` forward + backward passes on ``feed``.

    ``compiled`` is moved to ``device``; pass a copy when the original is in use elsewhere.
    """
    from torch.fx import Interpreter
    from torch.profiler import ProfilerActivity, profile, record_function

    if compiled.objective is None:
        raise ValueError("the graph has no loss node, so there is no backward pass to time. Fix: add a loss node.")
    compiled.to(device)
    graph_module = compiled.objective
    names = [n.name for n in graph_module.graph.nodes if n.op == "placeholder"]
    args = [feed[name].to(device) for name in names]

    class Named(Interpreter):
        def run_node(self, n: Any) -> Any:
            node_id = n.meta.get("graphedit_id")
            if node_id is None or n.op in ("placeholder", "output"):
                return super().run_node(n)
            with record_function(RANGE + node_id):
                return super().run_node(n)

    def step() -> None:
        graph_module.zero_grad(set_to_none=True)
        Named(graph_module).run(*args)["loss"].backward()

    cuda = str(device).startswith("cuda")
    step()  # warm-up: first-call allocations and kernel selection are not the node's cost
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as prof:
        for _ in range(steps):
            step()
        if cuda:
            torch.cuda.synchronize()
    return _attribute(prof.events(), steps, cuda, str(device))


def _attribute(events: Any, steps: int, cuda: bool, device: str) -> NodeTimes:
    def cost(event: Any) -> float:
        return float(event.device_time_total if cuda else event.cpu_time_total) / 1000.0  # µs → ms

    times = NodeTimes(device=device, steps=steps)
    owner: dict[int, tuple[float, str]] = {}  # sequence number → (start, node) of the last forward op with it
    for event in events:
        if not event.name.startswith(RANGE):
            continue
        node_id = event.name[len(RANGE) :]
        times.forward[node_id] = times.forward.get(node_id, 0.0) + cost(event) / steps
        for child in _descendants(event):
            if child.sequence_nr >= 0:
                start = child.time_range.start
                if child.sequence_nr not in owner or owner[child.sequence_nr][0] <= start:
                    owner[child.sequence_nr] = (start, node_id)
    for event in events:
        if event.name.startswith(BACKWARD) and event.sequence_nr in owner:
            node_id = owner[event.sequence_nr][1]
            times.backward[node_id] = times.backward.get(node_id, 0.0) + cost(event) / steps
    return times


def _descendants(event: Any) -> list[Any]:
    out, todo = [], list(event.cpu_children)
    while todo:
        child = todo.pop()
        out.append(child)
        todo.extend(child.cpu_children)
    return out
