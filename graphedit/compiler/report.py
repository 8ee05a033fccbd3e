"""A model summary: node, type, output shapes, parameters — for `graphedit check` and the editor."""

from __future__ import annotations

from dataclasses import dataclass

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

    def to_json(self) -> dict:
        return {
            "node": self.node_id,
            "type": self.type_id,
            "outputs": self.outputs,
            "params": self.params,
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
            )
        )
    return rows


def format_table(rows: list[SummaryRow]) -> str:
    header = ("node", "type", "output shape", "parameters")
    body = [(r.node_id, r.type_id, ", ".join(r.outputs), f"{r.params:,}") for r in rows]
    total = sum(r.params for r in rows)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body, ("total", "", "", f"{total:,}"))]
    line = "  ".join(f"{{:<{w}}}" for w in widths[:3]) + f"  {{:>{widths[3]}}}"
    out = [line.format(*header), "  ".join("-" * w for w in widths)]
    out += [line.format(*row) for row in body]
    out.append("  ".join("-" * w for w in widths))
    out.append(line.format("total", "", "", f"{total:,}"))
    return "\n".join(out)
