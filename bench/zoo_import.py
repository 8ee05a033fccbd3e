"""Import torchvision's classifiers at 224×224 through both routes (PyTorch fx and ONNX) and tabulate them.

For each model × route: the top-level node count and block definitions (``--flat``: none), the largest
output difference from the original on a fresh batch, ``check`` (valid or not), the four exports, and
the import's seconds. An import that is not
possible prints the importer's one-line reason in the table. Then ``vgg11_onnx_import_s`` (goal ≤ 5 s)
beside its reference measured side by side: one ONNX Runtime session and run of the same file, the
floor an import that checks its outputs cannot beat (``--old-evaluator`` also times onnx's pure-Python
reference evaluator, which the importer used before: 42–74 s).

Random weights (seed 0; no network here). Usage:
    python bench/zoo_import.py [--models resnet18 vgg11 …] [--routes fx onnx] [--size 224] [--no-exports] [--flat]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from zoo_helpers import FULL, full_model, onnx_file, torchvision_models  # noqa: E402

from graphedit.compiler.report import summarize  # noqa: E402
from graphedit.errors import GraphEditError  # noqa: E402
from graphedit.export import export_project  # noqa: E402
from graphedit.export.common import max_abs_diff, scaled_diff  # noqa: E402
from graphedit.importers import import_module, import_source  # noqa: E402
from graphedit.model.project import load_project  # noqa: E402

EXPORTS = {"torchscript": "pt", "onnx": "onnx", "safetensors": "safetensors", "python": "py"}


def one(name: str, route: str, model: torch.nn.Module, size: int, folder: Path, exports: bool, flat: bool) -> dict:
    out = folder / f"{name}_{route}.gproj"
    row = {"model": name, "route": route}
    try:
        if route == "onnx":
            source = onnx_file(model, (3, size, size), folder / f"{name}.onnx")
            start = time.perf_counter()
            result = import_source(source, out, flat=flat)
        else:
            start = time.perf_counter()
            result = import_module(model, out, [(3, size, size)], name, flat=flat)
        row["seconds"] = time.perf_counter() - start
    except GraphEditError as exc:
        row["error"] = str(exc)
        return row
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        got, want = result.compiled.model(x), model(x)
    row["diff"] = max_abs_diff([want], [got])
    row["scaled"] = scaled_diff([want], [got])  # what the importers' own check compares with 1e-4
    project = load_project(out)
    row["nodes"] = len(project.document)
    row["blocks"] = len(project.document.registry.definitions)
    row["check"] = "valid" if not [r for r in summarize(project.document) if r.error] else "errors"
    if exports:
        done = []
        for fmt, ext in EXPORTS.items():
            try:
                export_project(project, fmt, folder / f"exported_{name}_{route}.{ext}")
                done.append(fmt)
            except GraphEditError as exc:
                row.setdefault("export_errors", []).append(f"{fmt}: {exc}")
        row["exports"] = f"{len(done)}/{len(EXPORTS)}"
    return row


def vgg_reference(path: Path, size: int, old: bool) -> dict[str, float]:
    import onnxruntime as ort

    feed = {"x": np.random.default_rng(0).standard_normal((2, 3, size, size)).astype(np.float32)}
    start = time.perf_counter()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    session.run(None, feed)
    lines = {"vgg11_onnx_runtime_run_s": time.perf_counter() - start}
    if old:
        import onnx
        from onnx.reference import ReferenceEvaluator

        start = time.perf_counter()
        ReferenceEvaluator(onnx.load(str(path))).run(None, feed, intermediate=True)
        lines["vgg11_onnx_reference_evaluator_s"] = time.perf_counter() - start
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(FULL), choices=FULL)
    parser.add_argument("--routes", nargs="+", default=["fx", "onnx"], choices=["fx", "onnx"])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--no-exports", action="store_true", help="skip the four exports (much faster)")
    parser.add_argument("--old-evaluator", action="store_true", help="also time onnx's reference evaluator")
    parser.add_argument("--flat", action="store_true", help="import one node per layer (no blocks)")
    args = parser.parse_args()
    if torchvision_models() is None:
        sys.exit(1)
    rows, extra = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        warm = full_model("resnet18", 10)  # the first import pays for torch's lazy modules: not timed
        import_module(warm, folder / "warm.gproj", [(3, 32, 32)], "warm")
        for name in args.models:
            model = full_model(name)
            for route in args.routes:
                row = one(name, route, model, args.size, folder, not args.no_exports, args.flat)
                rows.append(row)
                print_row(row, header=len(rows) == 1)
                if name == "vgg11" and route == "onnx" and "seconds" in row:
                    extra["vgg11_onnx_import_s"] = row["seconds"]
                    extra.update(vgg_reference(folder / "vgg11.onnx", args.size, args.old_evaluator))
            del model
    for row in rows:
        for line in row.get("export_errors", []):
            print(f"export error ({row['model']} {row['route']}): {line}")
    missing = [r for r in rows if "error" in r]
    print(f"imported: {len(rows) - len(missing)}/{len(rows)}")
    ok = sum(1 for r in rows if r.get("scaled", 1.0) <= 1e-4)
    print(f"parity_ok: {ok}/{len(rows)}  (max|diff| over the largest output, or 1)")
    for key, value in extra.items():
        print(f"{key}: {value:.2f}")
    if "vgg11_onnx_import_s" in extra:
        ratio = extra["vgg11_onnx_import_s"] / extra["vgg11_onnx_runtime_run_s"]
        print(f"vgg11_onnx_import_vs_runtime_run: {ratio:.2f}x (goal: import <= 5 s)")
        if "vgg11_onnx_reference_evaluator_s" in extra:
            old = extra["vgg11_onnx_reference_evaluator_s"] / extra["vgg11_onnx_import_s"]
            print(f"vgg11_old_evaluator_vs_import: {old:.1f}x")


def print_row(row: dict, header: bool) -> None:
    if header:
        print(f"{'model':16} {'route':5} {'nodes':>5} {'blocks':>6} {'max|diff|':>10} {'seconds':>8}  check  exports")
    if "error" in row:
        print(f"{row['model']:16} {row['route']:5} not imported: {row['error']}")
        return
    print(
        f"{row['model']:16} {row['route']:5} {row['nodes']:5d} {row['blocks']:6d} {row['diff']:10.2e} "
        f"{row['seconds']:8.2f}  "
        f"{row['check']:5}  {row.get('exports', '-')}",
        flush=True,
    )


if __name__ == "__main__":
    main()
