"""Point run-time failures back to the node that caused them.

Both helpers re-run a compiled module node by node with an fx
``Interpreter`` (slow, so only after something went wrong) and read
``node.meta["graphedit_id"]``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import fx


class _Tracker(fx.Interpreter):
    def __init__(self, gm: fx.GraphModule, check_finite: bool = False) -> None:
        super().__init__(gm)
        self.current: str | None = None
        self.nonfinite: str | None = None
        self.check_finite = check_finite

    def run_node(self, n: fx.Node) -> Any:
        self.current = n.meta.get("graphedit_id")
        result = super().run_node(n)
        if self.check_finite and self.nonfinite is None and self.current is not None:
            tensors = result if isinstance(result, (tuple, list)) else [result]
            for t in tensors:
                if isinstance(t, torch.Tensor) and t.is_floating_point() and not torch.isfinite(t).all():
                    self.nonfinite = self.current
                    break
        return result


def _args(gm: fx.GraphModule, kwargs: dict[str, Any]) -> list[Any]:
    names = [n.target for n in gm.graph.nodes if n.op == "placeholder"]
    return [kwargs[name] for name in names]


def locate_failure(gm: fx.GraphModule, kwargs: dict[str, Any]) -> tuple[str | None, Exception | None]:
    """Run ``gm`` node by node; return the id of the node that raised, and the exception."""
    tracker = _Tracker(gm)
    try:
        with torch.no_grad():
            tracker.run(*_args(gm, kwargs))
    except Exception as exc:
        return tracker.current, exc
    return None, None


def locate_nonfinite(gm: fx.GraphModule, kwargs: dict[str, Any]) -> str | None:
    """The id of the first node (in execution order) whose output holds NaN or inf."""
    tracker = _Tracker(gm, check_finite=True)
    try:
        with torch.no_grad():
            tracker.run(*_args(gm, kwargs))
    except Exception:
        return tracker.nonfinite or tracker.current
    return tracker.nonfinite
