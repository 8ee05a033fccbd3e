"""The CUDA paths, checked on a machine with a GPU (CI has none; run this where one is lent).

1. Parity: the seven architectures of tests/test_parity.py compiled on the GPU give the CPU's outputs.
2. Training: lesson 6's Keras CNN trained on CUDA, with and without mixed precision, reaches its target.
3. Failures: a NaN on the GPU names its node; an out-of-memory becomes a clear TrainingError.
4. Export: the CUDA-trained project exports to TorchScript and ONNX, checked against the model.
5. Throughput: samples/s of ``run_project`` on the GPU for the Keras CNN and LeNet (data resident on the
   device), plain, with AMP, with channels_last and with ``torch.compile`` (its compile time printed apart),
   each against the plain run (``--no-compile`` skips the compiled run, which takes tens of seconds).

    python bench/cuda_paths.py        (prints ``name: value`` lines; exit 1 if a check fails)
"""

from __future__ import annotations

import functools
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import graphs  # noqa: E402
import test_parity  # noqa: E402

from graphedit.compiler import compile_graph  # noqa: E402
from graphedit.errors import GraphEditError, TrainingError  # noqa: E402
from graphedit.export import export_project  # noqa: E402
from graphedit.model.project import load_project, project_to_json  # noqa: E402
from graphedit.training.datasets import load_dataset  # noqa: E402
from graphedit.training.session import run_project  # noqa: E402
from graphedit.training.trainer import Trainer  # noqa: E402

FAILED: list[str] = []
DEVICE = os.environ.get("GRAPHEDIT_BENCH_DEVICE", "cuda")  # "cpu" dry-runs the script where no GPU is
EPOCHS, REPS = (20, 3) if DEVICE == "cuda" else (3, 1)  # a throughput run: epochs, interleaved rounds


def check(name: str, ok: bool, value: object) -> None:
    print(f"{name}: {value}")
    if not ok:
        FAILED.append(name)


def parity() -> None:
    worst = 0.0
    for name, (make_graph, _, make_input) in test_parity.CASES.items():
        compiled = compile_graph(make_graph(), seed=0)
        compiled.root.eval()
        x = make_input()
        with torch.no_grad():
            cpu = compiled.model(x)
            compiled.to(DEVICE)
            gpu = compiled.model(x.to(DEVICE)).cpu()
        diff = float((cpu - gpu).abs().max())
        worst = max(worst, diff)
        print(f"parity_{name}_max_abs_diff: {diff:.2e}")
    check("parity_cuda_worst_max_abs_diff", worst < 1e-3, f"{worst:.2e}")


def train_example(folder: Path, amp: bool) -> tuple[dict, Path]:
    path = folder / f"keras_cnn_amp{int(amp)}.gproj"
    shutil.copy(ROOT / "projects" / "06_keras_cnn.gproj", path)
    project = load_project(path)
    target = project.meta["target"]
    start = time.perf_counter()
    summary = run_project(
        project_to_json(project),
        str(path),
        {"device": DEVICE, "amp": amp, "epochs": target["epochs"]},
        point_project=True,
    )
    seconds = time.perf_counter() - start
    key = target["metric"].removeprefix("val_")
    value = summary["val"][key] if key in summary["val"] else summary["val"].get("accuracy")
    check(f"keras_cnn_cuda_amp{int(amp)}_val_{key}", value >= target["value"], f"{value:.3f}")
    print(f"keras_cnn_cuda_amp{int(amp)}_seconds: {seconds:.1f}")
    return summary, path


def failures() -> None:
    data = load_dataset({"name": "circle", "options": {"n": 200}})
    compiled = compile_graph(graphs.mlp(hidden=(8, 8)), seed=0)
    with torch.no_grad():
        compiled.root.dense2.weight.fill_(math.inf)
    trainer = Trainer(compiled, data, {"device": DEVICE, "epochs": 1}, [lambda e: None], probes=False)
    try:
        trainer.fit()
        check("nan_on_cuda_names_node", False, "no error")
    except TrainingError as exc:
        check("nan_on_cuda_names_node", exc.node_id == "dense2", exc.node_id)
    if DEVICE != "cuda":
        return
    # 4096 maps of 64×64 per image at batch 4096 need about a terabyte of activations
    data = load_dataset({"name": "shapes", "options": {"n": 4096, "size": 64}, "split": {"val": 0.0, "test": 0.0}})
    from graphkit import build, chain

    doc = build(
        [
            ("img", "Input", {"shape": [1, 64, 64]}),
            ("conv1", "Conv2d", {"filters": 4096, "kernel": 3, "padding": 1}),
            ("pool", "GlobalAvgPool", {}),
            ("out", "Dense", {"units": 3}),
            ("label", "Target", {}),
            ("ce", "SoftmaxCrossEntropy", {}),
        ],
        chain("img", "conv1", "pool", "out") + ["out -> ce.pred", "label -> ce.target"],
    )
    compiled = compile_graph(doc, seed=0)
    trainer = Trainer(compiled, data, {"device": "cuda", "epochs": 1, "batch_size": 4096}, [], probes=False)
    try:
        trainer.fit()
        check("oom_is_a_clear_error", False, "no error")
    except GraphEditError as exc:
        check("oom_is_a_clear_error", "out of memory" in str(exc) and "batch size" in str(exc), str(exc)[:120])
    torch.cuda.empty_cache()


def exports(path: Path) -> None:
    project = load_project(path)
    for fmt, suffix in (("torchscript", ".pt"), ("onnx", ".onnx")):
        report = export_project(project, fmt, path.with_suffix(suffix))
        diff = report.get("max_abs_diff", 0.0)
        check(f"export_{fmt}_from_cuda_run_max_abs_diff", diff < 1e-4 and report["trained"], f"{diff:.2e}")


def run_speed(project_json: dict, path: Path, name: str, variant: str, options: dict) -> float:
    """One run of a project with a variant's options: its samples/s (compile time apart, and printed)."""
    run_dir = path.parent / f"{name}-{variant}"
    summary = run_project(project_json, str(path), {"device": DEVICE, "epochs": EPOCHS, **options}, run_dir=run_dir)
    shutil.rmtree(run_dir, ignore_errors=True)
    if "compile_seconds" in summary:
        print(f"{name}_{DEVICE}_{variant}_compile_seconds: {summary['compile_seconds']:.1f}")
    return float(summary["samples_per_second"])


def throughput(folder: Path, compiled_run: bool) -> None:
    """Samples/s of each CUDA option against the plain run (recorder and probes on, as the user's path).

    One untimed run of each project first (CUDA's context, cuDNN's algorithm search), then ``REPS`` rounds of
    every variant, interleaved; each figure is the median of its rounds. A compiled run is timed once: its
    ``compile_seconds`` is printed apart.
    """
    off, on = {"channels_last": "off"}, {"channels_last": "on"}  # explicit: `auto` would choose per device
    variants = {"plain": off, "amp": {"amp": True, **off}, "channels_last": on}
    variants["amp_channels_last"] = {"amp": True, **on}
    for name in ("keras_cnn", "07_lenet"):
        path = folder / f"{name}.gproj"
        shutil.copy(ROOT / "projects" / f"{name}.gproj", path)
        project_json = project_to_json(load_project(path))

        speed = functools.partial(run_speed, project_json, path, name)
        speed("warm_up", {"epochs": 1})
        runs: dict[str, list[float]] = {variant: [] for variant in variants}
        for _ in range(REPS):
            for variant, options in variants.items():
                runs[variant].append(speed(variant, options))
        if compiled_run:
            runs["compile"] = [speed("compile", {"compile": True, **off})]
        speeds = {variant: statistics.median(values) for variant, values in runs.items()}
        for variant, values in runs.items():
            low, high = min(values), max(values)
            print(f"{name}_{DEVICE}_{variant}_samples_per_s: {speeds[variant]:.0f} (spread {low:.0f}–{high:.0f})")
        for variant, value in speeds.items():
            if variant != "plain":
                print(f"{name}_{DEVICE}_{variant}_vs_plain: {value / speeds['plain']:.3f}")


def main() -> int:
    if DEVICE == "cuda" and not torch.cuda.is_available():
        print("cuda: not available here; nothing to check")
        return 0
    name = torch.cuda.get_device_name(0) if DEVICE == "cuda" else DEVICE
    print(f"device: {name}  torch {torch.__version__}")
    parity()
    with tempfile.TemporaryDirectory() as tmp:
        _, path = train_example(Path(tmp), amp=False)
        train_example(Path(tmp), amp=True)
        exports(path)
        throughput(Path(tmp), "--no-compile" not in sys.argv)
    failures()
    print(f"failed_checks: {json.dumps(FAILED)}")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
