"""safetensors export: the inference model's state dict plus the graph as JSON.

The graph travels twice: in the safetensors header's metadata (key ``graph``),
so the one file is self-describing, and as ``<name>.graph.json`` beside it for
people and tools that do not read safetensors headers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safetensors.torch import save_file

from graphedit.export.common import ExportModel

FORMAT = "graphedit-safetensors"


def graph_description(em: ExportModel) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": 1,
        "trained": em.trained,
        "inputs": [
            {"name": n, "shape": ["N", *em.input_specs[n][0]], "dtype": em.input_specs[n][1]} for n in em.input_names
        ],
        "outputs": em.output_names,
        "graph": em.graph_json,
    }


def sidecar_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.stem + ".graph.json")


def export_safetensors(em: ExportModel, path: str | Path) -> dict[str, Any]:
    """Write ``path`` (``.safetensors``) and ``<stem>.graph.json``; returns the tensor count."""
    path = Path(path)
    state = {k: v.detach().contiguous().clone() for k, v in em.model.state_dict().items()}
    description = graph_description(em)
    text = json.dumps(description, ensure_ascii=False, separators=(",", ":"))
    save_file(state, str(path), metadata={"format": FORMAT, "graph": text})
    sidecar_path(path).write_text(json.dumps(description, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return {"tensors": len(state), "graph_json": str(sidecar_path(path))}
