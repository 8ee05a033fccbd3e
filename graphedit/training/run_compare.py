"""Comparing runs: the settings and graph parameters that differ between runs, and the diff of two runs.

A run folder keeps the project it trained (``project.gproj``, see :mod:`graphedit.training.session`).
From it come the runs table's columns (every training setting and node parameter whose value is
not the same in all runs) and the diff of two runs: settings changed, nodes added and removed,
node parameters changed, wires added and removed. No Qt here; the Runs panel shows the results.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

MISSING = object()


def flat_settings(project: dict[str, Any] | None) -> dict[str, Any]:
    """``training.*`` and ``dataset.*`` values of a project JSON as one flat mapping (``lr``, ``dataset.noise``)."""
    if not project:
        return {}
    out: dict[str, Any] = {}
    for key, value in (project.get("training") or {}).items():
        if not isinstance(value, (dict, list)):
            out[key] = value
    dataset = project.get("dataset") or {}
    if dataset.get("name") is not None:
        out["dataset"] = dataset.get("name")
    for key, value in (dataset.get("options") or {}).items():
        if not isinstance(value, (dict, list)):
            out[f"dataset.{key}"] = value
    return out


def graph_params(project: dict[str, Any] | None) -> dict[str, Any]:
    """Every node parameter of a project JSON as ``node.param`` -> value (lists as text, so they compare)."""
    out: dict[str, Any] = {}
    for node in ((project or {}).get("graph") or {}).get("nodes", []):
        for key, value in (node.get("params") or {}).items():
            out[f"{node.get('id')}.{key}"] = json.dumps(value) if isinstance(value, (list, dict)) else value
    return out


def varying_columns(projects: list[dict[str, Any] | None]) -> tuple[list[str], list[str]]:
    """The setting and the node-parameter columns whose values differ between the recorded projects.

    The common settings (learning rate, batch size, optimiser, epochs) are always columns;
    a parameter of a node missing from some runs differs too.
    """
    recorded = [p for p in projects if p]
    settings = [flat_settings(p) for p in recorded]
    params = [graph_params(p) for p in recorded]
    always = ["lr", "batch_size", "optimizer", "epochs"]
    setting_cols = always + sorted(k for k in _varying(settings) if k not in always)
    return setting_cols, sorted(_varying(params))


def _varying(rows: list[dict[str, Any]]) -> set[str]:
    keys = set().union(*rows) if rows else set()
    return {k for k in keys if len({json.dumps(r.get(k, "—"), default=str) for r in rows}) > 1}


@dataclass
class RunDiff:
    """What changed from run ``a`` to run ``b``."""

    settings: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # key -> (a, b)
    added: list[str] = field(default_factory=list)  # node ids in b only
    removed: list[str] = field(default_factory=list)  # node ids in a only
    params: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # "node.param" -> (a, b), nodes in both
    types: dict[str, tuple[str, str]] = field(default_factory=dict)  # node id -> (type in a, type in b)
    wires_added: list[str] = field(default_factory=list)
    wires_removed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(
            (self.settings, self.added, self.removed, self.params, self.types, self.wires_added, self.wires_removed)
        )

    def lines(self) -> list[str]:
        """The diff as short lines for a tooltip or the command line."""
        out = [f"{k}: {_text(a)} → {_text(b)}" for k, (a, b) in sorted(self.settings.items())]
        out += [f"+ node {n}" for n in self.added] + [f"− node {n}" for n in self.removed]
        out += [f"{n}: {a} → {b}" for n, (a, b) in sorted(self.types.items())]
        out += [f"{k}: {_text(a)} → {_text(b)}" for k, (a, b) in sorted(self.params.items())]
        out += [f"+ wire {w}" for w in self.wires_added] + [f"− wire {w}" for w in self.wires_removed]
        return out


def diff_runs(a: dict[str, Any], b: dict[str, Any]) -> RunDiff:
    """The difference between the projects two runs trained."""
    diff = RunDiff()
    sa, sb = flat_settings(a), flat_settings(b)
    for key in sorted(set(sa) | set(sb)):
        if sa.get(key, MISSING) != sb.get(key, MISSING):
            diff.settings[key] = (sa.get(key), sb.get(key))
    nodes_a, nodes_b = _nodes(a), _nodes(b)
    diff.added = sorted(set(nodes_b) - set(nodes_a))
    diff.removed = sorted(set(nodes_a) - set(nodes_b))
    for node_id in sorted(set(nodes_a) & set(nodes_b)):
        na, nb = nodes_a[node_id], nodes_b[node_id]
        if na.get("type") != nb.get("type"):
            diff.types[node_id] = (str(na.get("type")), str(nb.get("type")))
            continue
        pa, pb = na.get("params") or {}, nb.get("params") or {}
        for key in sorted(set(pa) | set(pb)):
            if pa.get(key, MISSING) != pb.get(key, MISSING):
                diff.params[f"{node_id}.{key}"] = (pa.get(key), pb.get(key))
    wires_a, wires_b = _wires(a), _wires(b)
    diff.wires_added = sorted(wires_b - wires_a)
    diff.wires_removed = sorted(wires_a - wires_b)
    return diff


def _nodes(project: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(n.get("id")): n for n in (project.get("graph") or {}).get("nodes", [])}


def _wires(project: dict[str, Any]) -> set[str]:
    edges = (project.get("graph") or {}).get("edges", [])
    return {f"{e.get('src')}.{e.get('src_port')} → {e.get('dst')}.{e.get('dst_port')}" for e in edges}


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
