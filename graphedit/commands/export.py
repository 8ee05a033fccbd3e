"""`graphedit export PROJECT --format torchscript|onnx|safetensors|python -o PATH [--initial-weights]`."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

FORMATS = ("torchscript", "onnx", "safetensors", "python")
SUFFIX = {"torchscript": ".pt", "onnx": ".onnx", "safetensors": ".safetensors", "python": ".py"}


def python_file_name(stem: str) -> str:
    """The default ``.py`` name for a project: an importable module name (``01_mlp`` → ``model_01_mlp.py``)."""
    name = re.sub(r"\W", "_", stem)
    return f"model_{name}.py" if name[:1].isdigit() or not name else f"{name}_model.py"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="a .gproj file")
    parser.add_argument("--format", "-f", required=True, choices=FORMATS, help="what to write")
    parser.add_argument("-o", "--output", help="file to write (default: the project's name with the format's suffix)")
    parser.add_argument(
        "--initial-weights",
        action="store_true",
        help="export an untrained project with its initial (random) weights instead of refusing",
    )


def run(args: argparse.Namespace) -> int:
    from graphedit.export import export_project
    from graphedit.model.project import load_project

    project = load_project(args.project)
    output = Path(args.output) if args.output else Path(args.project).with_suffix(SUFFIX[args.format])
    if args.format == "python" and not args.output:
        output = output.with_name(python_file_name(output.stem))
    report = export_project(project, args.format, output, initial_weights=args.initial_weights)
    weights = "trained weights" if report["trained"] else "INITIAL (untrained) weights"
    check = f"; max |difference| from the torch model {report['max_abs_diff']:.3g}" if "max_abs_diff" in report else ""
    for warning in report.get("warnings", []):
        print(f"graphedit export: warning: {warning}", file=sys.stderr)
    print(f"{args.project}: wrote {args.format} to {output} with {weights}{check}")
    if args.format == "python":
        print(f"  weights beside it: {report['weights']} (load with load_model() from the file)")
    if args.format == "safetensors":
        print(f"  graph as JSON: {report['graph_json']}")
    return 0
