"""`graphedit check PROJECT [--json]`: shapes, parameters and memory of every node, then the analysis.

The analysis (:mod:`graphedit.compiler.analysis`) is the editor's: every problem that would stop a run,
and warnings. It reads no data. The exit status is 1 when the graph does not compute (shape errors), or a
weights file or dataset path is refused; a graph that computes but cannot train (no loss, say: an imported
model for export) exits 0 with its training errors listed, unless ``--train`` asks for a trainable graph.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from graphedit.commands import add_allow_outside
from graphedit.compiler.analysis import analyze
from graphedit.compiler.report import format_table, summarize
from graphedit.compiler.shapes import ShapeInference


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="a .gproj file")
    add_allow_outside(parser)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--train", action="store_true", help="exit 1 also when the graph cannot train (no loss, …)")


def run(args: argparse.Namespace) -> int:
    from graphedit.compiler.nodynamo import dynamo_deferred
    from graphedit.model.project import load_project
    from graphedit.training.binding import project_binding_problem
    from graphedit.training.weights_file import project_weights_problem

    project = load_project(args.project)
    with dynamo_deferred():  # check never compiles: spare it the second torch._dynamo takes to import
        inference = ShapeInference(project.document, observe=False)
        rows = summarize(project.document, inference)
        problems = analyze(project.document, inference, project.training)
    errors = [p for p in problems if p.is_error and p.stage == "graph"]
    training = [p for p in problems if p.is_error and p.stage != "graph"]
    warnings = [p for p in problems if not p.is_error]
    weights = project_weights_problem(project, inference) if not errors else None
    outside = outside_problem(project, args.allow_outside)
    weights = "; ".join(p for p in (weights, outside) if p) or None
    data = project_binding_problem(project.document, project.dataset)
    if args.json:
        payload = {
            "project": str(args.project),
            "valid": not errors and not weights and not data,
            "nodes": [r.to_json() for r in rows],
            "total_params": sum(r.params for r in rows),
            "trainable_params": sum(r.params for r in rows if not r.frozen),
            "frozen_params": sum(r.params for r in rows if r.frozen),
            "total_param_bytes": sum(r.param_bytes for r in rows),
            "total_activation_bytes_per_example": sum(r.activation_bytes for r in rows),
            "errors": [{"node": p.node_id, "message": str(p), "fix": p.fix} for p in errors],
            "trainable": not errors and not training,
            "training_errors": [{"node": p.node_id, "message": str(p), "fix": p.fix} for p in training],
            "warnings": [{"node": p.node_id, "message": str(p), "fix": p.fix} for p in warnings],
            "weights_error": weights,
            "dataset_error": data,
        }
        print(json.dumps(payload, indent=2))
    else:
        print(format_table(rows))
        for p in problems:
            print(f"{p.level}: {p}")
        for problem in (weights, data):
            if problem:
                print(f"error: {problem}")
        count = len(errors) + bool(weights) + bool(data)
        untrainable = f"; cannot train: {len(training)} error(s)" if training else ""
        print(f"{args.project}: {'valid' if not count else f'{count} error(s)'}{untrainable}")
    return 1 if errors or weights or data or (args.train and training) else 0


def outside_problem(project: Any, allowed: list[str]) -> str | None:
    """The dataset paths outside the project's folder that neither --allow-outside nor the user allowed."""
    from graphedit.errors import OutsidePathError
    from graphedit.training import trust

    folder = project.path.parent if project.path is not None else None
    kind = str(project.dataset.get("name"))
    with trust.allowing([*allowed, *trust.confirmed(project.path, project.dataset)]):
        for option in trust.PATH_OPTIONS:
            value = (project.dataset.get("options") or {}).get(option)
            if isinstance(value, str) and value and value in trust.outside_paths(project.dataset, folder):
                full = Path(value).expanduser()
                full = full if full.is_absolute() or folder is None else folder / full
                try:
                    trust.check_path(full, folder, kind, option)
                except OutsidePathError as exc:
                    return str(exc)
    return None
