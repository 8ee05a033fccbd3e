"""`graphedit import SOURCE -o PROJECT.gproj [--input-shape 1,28,28 ...]`.

SOURCE is an ONNX file, ``package.module:Class`` or ``path/to/file.py:Class``
(a class or function taking no arguments that gives an fx-traceable module).
An ONNX file is only read; a Python source is imported and so runs, like
``python file.py`` would: the help says so.
"""

from __future__ import annotations

import argparse

from graphedit.errors import GraphEditError


def _shape(text: str) -> tuple[int, ...]:
    try:
        dims = tuple(int(part) for part in text.replace("x", ",").split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a shape such as 1,28,28") from None
    if not dims or min(dims) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a shape such as 1,28,28")
    return dims


RUNS_CODE = (
    "Warning: file.py:Class and package.module:Class are imported, which RUNS their Python code with your "
    "permissions, as `python file.py` would: import only code you trust. An .onnx file is only read, never run."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "Turn an ONNX file or a PyTorch module into a laid-out project with its weights."
    parser.epilog = RUNS_CODE
    parser.add_argument("source", help="model.onnx, package.module:Class or file.py:Class (Python sources run)")
    parser.add_argument("-o", "--output", required=True, help="the project file to write (.gproj)")
    parser.add_argument(
        "--input-shape",
        action="append",
        type=_shape,
        help="shape of one example without the batch dimension, e.g. 1,28,28; repeat for several inputs",
    )
    parser.add_argument(
        "--weights",
        help="your pretrained weights for a PyTorch module: .safetensors, an .onnx file's initialisers, "
        "or a .pt file (with --allow-pt)",
    )
    parser.add_argument(
        "--allow-pt",
        action="store_true",
        help="read a .pt/.pth weights file (a pickle) with torch.load(weights_only=True): tensors only",
    )


def run(args: argparse.Namespace) -> int:
    from graphedit.importers import import_source

    if not str(args.output).endswith(".gproj"):
        raise GraphEditError(f"{args.output}: the project file name must end in .gproj")
    result = import_source(args.source, args.output, args.input_shape, args.weights, args.allow_pt)
    doc = result.project.document
    print(f"{args.source}: imported {len(doc)} nodes into {args.output}")
    for note in result.notes:
        print(f"  note: {note}")
    print(f"  weights: {result.project.weights['path']} (sha256 {result.project.weights['sha256'][:12]}…)")
    print(f"  parameters: {result.imported_params} (source {result.source_params})")
    print(f"  max |difference| from the source's outputs: {result.max_abs_diff:.3g}")
    return 0
