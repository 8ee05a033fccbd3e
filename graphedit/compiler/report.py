"""A model summary: node, type, output shapes, parameters and memory — for `graphedit check` and the editor.

Parameter memory counts a layer's parameters and buffers; activation memory is
what the node's outputs take for one example (views such as Flatten and muted
nodes take none). Multiply activations by the batch size, and roughly by two
while training (the backward pass keeps them), to size a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphedit.compiler.shapes import ShapeInference
from graphedit.model.document import GraphDocument
from graphedit.nodes.spec import shape_text


@dataclass
class SummaryRow:
    node_id: str
    type_id: str
    outputs: list[str]
    params: int
    error: str | None
    fix: str | None
    param_bytes: int = 0
    activation_bytes: int = 0
    frozen: bool = False  # its weights are not trained (transfer learning)

    def to_json(self) -> dict[str, Any]:
        return {
            "node": self.node_id,
            "type": self.type_id,
            "outputs": self.outputs,
            "params": self.params,
            **({"frozen": True} if self.frozen else {}),
            "param_bytes": self.param_bytes,
            "activation_bytes_per_example": self.activation_bytes,
            "error": self.error,
            "fix": self.fix,
        }


def summarize(document: GraphDocument, inference: ShapeInference | None = None) -> list[SummaryRow]:
    """One row per node in topological order."""
    inference = inference or ShapeInference(document, observe=False)
    infos = inference.update() if inference.infos else inference.run()
    rows = []
    for node_id in inference.order():
        info = infos[node_id]
        node_type = document.node_type(node_id)
        if info.error is not None:
            outputs = ["error"]
        elif info.blocked:
            outputs = ["?"]
        elif node_type.role == "output":
            outputs = [shape_text(s) for s in info.inputs.values()]
        else:
            outputs = [shape_text(s) for s in info.outputs.values()]
        rows.append(
            SummaryRow(
                node_id,
                node_type.type_id,
                outputs,
                info.params,
                str(info.error) if info.error else None,
                info.error.fix if info.error else None,
                info.param_bytes,
                info.activation_bytes,
                document.is_frozen(node_id),
            )
        )
    return rows


def byte_text(n: int) -> str:
    """``512 B``, ``1.5 KiB``, ``64.0 MiB``, ``1.20 GiB``."""
    if n < 1024:
        return f"{n} B"
    for unit, scale in (("KiB", 1024), ("MiB", 1024**2), ("GiB", 1024**3), ("TiB", 1024**4)):
        if n < scale * 1024 or unit == "TiB":
            value = n / scale
            return f"{value:.2f} {unit}" if value < 10 else f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def totals(rows: list[SummaryRow]) -> dict[str, int]:
    return {
        "params": sum(r.params for r in rows),
        "trainable_params": sum(r.params for r in rows if not r.frozen),
        "frozen_params": sum(r.params for r in rows if r.frozen),
        "param_bytes": sum(r.param_bytes for r in rows),
        "activation_bytes_per_example": sum(r.activation_bytes for r in rows),
    }


def format_table(rows: list[SummaryRow]) -> str:
    header = ("node", "type", "output shape", "parameters", "param memory", "activations/example")
    body = [
        (
            r.node_id,
            r.type_id,
            ", ".join(r.outputs),
            f"{r.params:,}" + (" frozen" if r.frozen else ""),
            byte_text(r.param_bytes),
            byte_text(r.activation_bytes),
        )
        for r in rows
    ]
    t = totals(rows)
    total = (
        "total",
        "",
        "",
        f"{t['params']:,}",
        byte_text(t["param_bytes"]),
        byte_text(t["activation_bytes_per_example"]),
    )
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body, total)]
    line = "  ".join(f"{{:<{w}}}" for w in widths[:3]) + "".join(f"  {{:>{w}}}" for w in widths[3:])
    out = [line.format(*header), "  ".join("-" * w for w in widths)]
    out += [line.format(*row) for row in body]
    out.append("  ".join("-" * w for w in widths))
    out.append(line.format(*total))
    if t["frozen_params"]:
        out.append(f"trainable {t['trainable_params']:,}, frozen {t['frozen_params']:,}")
    return "\n".join(out)
