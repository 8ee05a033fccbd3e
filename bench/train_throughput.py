"""Training throughput on the user's path: `graphedit train` against the same loop written by hand in PyTorch.

GraphEdit runs ``run_project`` as ``graphedit train`` runs it: run recorder, default (automatic)
probes, the thread policy. The reference is the loop a PyTorch user writes for the same network on
the same tensors: Adam, a seeded randperm per epoch, per-step loss and accuracy, a validation pass
per epoch. Cases:

* ``residual_mlp``: projects/residual_mlp.gproj, many tiny epochs (60 by default);
* ``lenet``: projects/07_lenet.gproj (digits at 32×32);
* ``keras_cnn``: projects/keras_cnn.gproj (lesson 6's network);
* ``image_folder``: a generated folder of PNGs streamed batch by batch (GraphEdit's streamed
  image_folder dataset) against a plain ``torch.utils.data.DataLoader`` decoding the same files.

Figures, each the median of ``--reps`` interleaved repetitions (GraphEdit, hand, hand, GraphEdit, …)
with the spread (min–max) and the load average beside it:

* ``<case>_ratio``: in-loop samples/s, GraphEdit / hand (goal ≥ 0.98); ``<case>_ratio_best``: the fastest
  run of each, the pair least disturbed by other work on the machine (where single runs vary by a third);
* ``<case>_probe_overhead``: fit time with default probes / without, minus 1 (goal ≤ 0.05);
  ``<case>_probe_share``: the probes' own time over the fit's, both measured inside each run (the summary's
  ``probe_seconds``): unlike the overhead, a ratio within one run, which the machine's pace from one run to the
  next does not blur; it leaves out what probes cost indirectly (caches they evict);
* ``<case>_command_ratio``: wall time of ``python hand.py`` / ``graphedit train`` (goal ≥ 0.95 on runs
  ≥ 30 s), ``<case>_startup_overhead_s``: the fixed part (wall minus loop) above the hand script's
  (goal ≤ 1.5 s), and ``<case>_peak_rss_ratio`` (goal ≤ 1.15 on keras_cnn);
* ``keras_cnn_vs_keras``: GraphEdit / Keras 3 (torch backend), where Keras is installed; not a goal.

Beside the in-loop ratio and the probe overhead, ``_cpu`` figures compare the CPU time the process
spent (``time.process_time``, all its threads) instead of wall time: on a machine shared with other
work, wall time mostly measures the other work. Where the host also changes the CPU's pace from one run to
the next, two benches measure the same loops without it: bench/same_core.py runs both sides at once on one
core, and bench/instructions.py counts the instructions each loop executes (valgrind).

    .venv/bin/python bench/train_throughput.py [--reps 5] [--cases residual_mlp,lenet,keras_cnn,image_folder]
        [--threads 0] [--device cpu] [--no-command] [--channels-last auto|on|off]

``--threads 0`` lets GraphEdit's thread policy choose and gives the hand loop the same count. GraphEdit's
memory order is the project's (``channels_last: auto``: channels-last on the CPU for the convolution cases,
which the hand loop does not use); ``--channels-last off`` compares the two loops in the same order.
The script also runs itself as the hand-written training script (``--hand CASE``): that mode
imports only torch and safetensors, as a user's script would.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import throughput_hand as hand  # beside this script: the hand-written side
import torch
from throughput_hand import CPU, hand_folder_loop, hand_loop, loop_begin, loop_end, loop_mark
from throughput_keras import keras_speeds

ROOT = Path(__file__).resolve().parents[1]
BATCH_KEY = "batch_size"
DEVICE = "cpu"
CASES = {  # project file, epochs of a measured run
    "residual_mlp": ("projects/residual_mlp.gproj", 60),
    "lenet": ("projects/07_lenet.gproj", 3),
    "keras_cnn": ("projects/keras_cnn.gproj", 3),
    "image_folder": (None, 2),
}


# ------------------------------------------------------------------ the hand-written side: throughput_hand.py
def hand_script(args: argparse.Namespace) -> None:
    """``--hand CASE``: the whole hand-written script, as a user runs it (imports, data, loop)."""
    from safetensors.torch import load_file

    torch.set_num_threads(args.threads)
    meta = json.loads(Path(args.data).with_suffix(".json").read_text())
    if args.hand == "image_folder":
        seconds = hand_folder_loop(meta, args.epochs, meta["lr"], meta["batch"])
    else:
        seconds = hand_loop(args.hand, load_file(args.data), args.epochs, meta["lr"], meta["batch"])
    print(json.dumps({"seconds": seconds}))


# ------------------------------------------------------------------ GraphEdit's side
def load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def spread(values: list[float], fmt: str = ".3f") -> str:
    return f"(spread {min(values):{fmt}}–{max(values):{fmt}}, n={len(values)}, load {load()})"


def make_folder(base: Path, per_class: int = 300, size: int = 32) -> Path:
    """Two classes of grey PNGs: bright squares and dark discs on noise."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    folder = base / "shapes"
    yy, xx = np.mgrid[:size, :size]
    for label, name in enumerate(("discs", "squares")):
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            img = rng.normal(100, 30, (size, size))
            cx, cy, r = rng.integers(8, size - 8, 2).tolist() + [int(rng.integers(4, 8))]
            if label:
                img[max(cy - r, 0) : cy + r, max(cx - r, 0) : cx + r] = 230
            else:
                img[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = 20
            Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(folder / name / f"{i:04d}.png")
    return folder


class Case:
    """One project: its file in a temp folder, its tensors (or files) for the hand loop."""

    def __init__(self, name: str, tmp: Path, epochs: int | None) -> None:
        from graphedit.model.project import Project, load_project, project_to_json, save_project
        from graphedit.training.binding import fit_inputs_to_dataset
        from graphedit.training.datasets import load_dataset

        self.name = name
        source, default_epochs = CASES[name]
        self.epochs = epochs or default_epochs
        folder = tmp / name
        folder.mkdir()
        if source is None:  # the streamed image folder
            sys.path.insert(0, str(ROOT / "tests"))
            import graphs

            images = make_folder(folder)
            doc = graphs.keras_cnn(32, classes=2)
            spec = {"name": "image_folder", "options": {"path": str(images), "memory_limit_mb": 0.01}}
            training = {"optimizer": "adam", "lr": 0.002, "batch_size": 32, "epochs": self.epochs, "seed": 0}
            project = Project(document=doc, dataset=spec, training=training)
        else:
            project = load_project(ROOT / source)
        project.training = {**project.training, "device": DEVICE}
        self.path = save_project(project, folder / f"{name}.gproj")
        self.project_json = project_to_json(project)
        data = load_dataset(project.dataset, base_dir=folder)
        fit_inputs_to_dataset(project.document, data.info)
        self.lr, self.batch = project.training["lr"], project.training["batch_size"]
        self.data_file = folder / "data.safetensors"
        meta = {"lr": self.lr, "batch": self.batch}
        if data.info.streamed:  # the same number of files in each split, standardised with the same figures
            files = sorted((str(p), int(p.parent.name == "squares")) for p in images.rglob("*.png"))
            files = [files[i] for i in torch.randperm(len(files), generator=torch.Generator().manual_seed(0))]
            n_train, n_val = data.info.sizes["train"], data.info.sizes["val"]
            std = data.info.standardization or {"mean": 0.0, "std": 1.0}
            meta.update(train=files[:n_train], val=files[n_train : n_train + n_val], **std)
            self.tensors = None
            self.files = meta
        else:
            self.tensors = {"X": data.train.X, "y": data.train.y, "Xv": data.val.X, "yv": data.val.y}
            from safetensors.torch import save_file

            save_file({k: v.contiguous() for k, v in self.tensors.items()}, str(self.data_file))
            self.files = None
        self.data_file.with_suffix(".json").write_text(json.dumps(meta))
        self.samples = data.info.sizes["train"]
        self.runs = 0
        self.probes = 0  # of the last run, the last probe after its loop included
        self.shares: list[float] = []  # probe_seconds / seconds of each run with probes

    def graphedit(self, probes: bool = True) -> tuple[float, float]:
        """run_project as `graphedit train` runs it: (samples/s, fit seconds); the fit's CPU seconds in CPU[0]."""
        from graphedit.training.events import EpochEvent, FinishedEvent, ProbeEvent
        from graphedit.training.session import StartedEvent, run_project

        def clock(event: object) -> None:
            if isinstance(event, StartedEvent):
                CPU[0] = loop_begin()
            elif isinstance(event, EpochEvent) and event.epoch == self.epochs:
                loop_mark()
            elif isinstance(event, ProbeEvent) and event.payload["kind"] == "probe":
                self.probes += 1
            elif isinstance(event, FinishedEvent):
                loop_end(CPU[0])

        self.runs += 1
        self.probes = 0
        folder = self.path.parent / f"run-{self.runs}"
        overrides: dict = {"epochs": self.epochs, "device": DEVICE, **LAYOUT}
        if probes and INSIDE:  # the Inside dock's views open: embeddings each epoch, weight snapshots
            overrides["inside"] = {"embed": embedded_node(self.project_json), "snapshots": True}
        summary = run_project(self.project_json, self.path, overrides, [clock], run_dir=folder, probes=probes)
        shutil.rmtree(folder, ignore_errors=True)
        if probes:
            self.shares.append(float(summary.get("probe_seconds", 0.0)) / float(summary["seconds"]))
        return float(summary["samples_per_second"]), float(summary["seconds"])

    def side(self, name: str) -> Callable[[], object]:
        """One run of a side by its name in SIDES."""
        return {"ge": self.graphedit, "nop": lambda: self.graphedit(probes=False), "hand": self.hand}[name]

    def threads(self) -> int:
        """What GraphEdit's thread policy chooses for this case (a one-epoch run reports it)."""
        from graphedit.training.session import run_project

        folder = self.path.parent / "policy"
        summary = run_project(self.project_json, self.path, {"epochs": 1, "device": DEVICE, **LAYOUT}, run_dir=folder)
        shutil.rmtree(folder, ignore_errors=True)
        return int(summary["threads"])

    def hand(self) -> float:
        if self.tensors is None:
            seconds = hand_folder_loop(self.files, self.epochs, self.lr, self.batch)
        else:
            seconds = hand_loop(self.name, self.tensors, self.epochs, self.lr, self.batch)
        return self.epochs * self.samples / seconds


SIDES = ("ge", "nop", "hand")  # GraphEdit with the default probes, GraphEdit without probes, the hand loop
INSIDE: list[bool] = []  # --inside: the probe overhead counts the Inside dock's requests too
LAYOUT: dict[str, str] = {}  # --channels-last: GraphEdit's memory order (default: the project's, auto)


def embedded_node(project_json: dict) -> str:
    """The node the Embeddings view embeds by default: the last hidden node but one."""
    from graphedit.model.project import project_from_json

    document = project_from_json(project_json, "bench").document
    skip = ("input", "target", "loss", "metric", "output", "weight_penalty")
    nodes = [n for n in document.topological_order() if document.node_type(n).role not in skip]
    return nodes[-2] if len(nodes) >= 2 else nodes[0]


# Started from a small launcher: a child forked from this (large) process would report this process's
# RSS as its own peak, since Linux carries the high-water mark across fork and exec.
LAUNCHER = (
    "import resource, subprocess, sys, time; t = time.perf_counter(); r = subprocess.run(sys.argv[1:]); "
    "w = time.perf_counter() - t; "
    "print('LAUNCHER', w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(r.returncode)"
)


def command(argv: list[str]) -> tuple[float, float, dict]:
    """Run a command; (wall seconds, peak RSS MiB, its JSON output)."""
    proc = subprocess.run([sys.executable, "-c", LAUNCHER, *argv], capture_output=True, cwd=ROOT, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stderr[-2000:]}")
    _, wall, peak_kib = proc.stderr.strip().splitlines()[-1].split()
    return float(wall), float(peak_kib) / 1024, json.loads(proc.stdout[proc.stdout.index("{") :])


def compare(case: Case, reps: int, threads: int, whole: bool) -> dict[str, float]:
    case.graphedit()  # warm up both
    case.hand()
    ge, hand, with_p, without = [], [], [], []
    cpu: dict[str, list[float]] = {"ge": [], "hand": [], "without": []}
    for rep in range(reps):
        for which in ("ge", "hand") if rep % 2 == 0 else ("hand", "ge"):
            if which == "ge":
                speed, seconds = case.graphedit()
                ge.append(speed)
                with_p.append(seconds)
            else:
                hand.append(case.hand())
            cpu[which].append(CPU[0])
        without.append(case.graphedit(probes=False)[1])
        cpu["without"].append(CPU[0])
    ratios = [g / h for g, h in zip(ge, hand)]
    out = {"ratio": statistics.median(ge) / statistics.median(hand)}
    print(f"{case.name}_graphedit_samples_per_s: {statistics.median(ge):.0f} {spread(ge, '.0f')}")
    print(f"{case.name}_pytorch_samples_per_s: {statistics.median(hand):.0f} {spread(hand, '.0f')}")
    print(f"{case.name}_ratio: {out['ratio']:.3f} {spread(ratios)}")
    print(f"{case.name}_ratio_best: {max(ge) / max(hand):.3f}")  # the fastest run of each: the least disturbed
    overhead = statistics.median(with_p) / statistics.median(without) - 1
    print(f"{case.name}_probe_overhead: {overhead:.3f} {spread([a / b - 1 for a, b in zip(with_p, without)])}")
    shares = case.shares[-reps:]
    print(f"{case.name}_probe_share: {statistics.median(shares):.4f} {spread(shares, '.4f')}")
    med = {k: statistics.median(v) for k, v in cpu.items()}
    ratios_cpu = [h / g for g, h in zip(cpu["ge"], cpu["hand"])]
    print(f"{case.name}_ratio_cpu: {med['hand'] / med['ge']:.3f} {spread(ratios_cpu)}")
    print(f"{case.name}_probe_overhead_cpu: {med['ge'] / med['without'] - 1:.3f}")
    if not whole:
        return out
    python = sys.executable
    script = Path(python).with_name("graphedit")  # the console script a user runs
    entry = (
        [str(script)]
        if script.exists()
        else [python, "-c", "import sys; from graphedit.cli import main; sys.exit(main())"]
    )
    ge_cmd = [*entry, "train", str(case.path), "--epochs", str(case.epochs), "--quiet", "--json"]
    if threads:
        ge_cmd += ["--threads", str(threads)]
    if LAYOUT:
        ge_cmd += ["--channels-last", LAYOUT["channels_last"]]
    hand_cmd = [python, __file__, "--hand", case.name, "--data", str(case.data_file), "--epochs", str(case.epochs)]
    hand_cmd += ["--threads", str(threads or torch.get_num_threads())]
    walls: dict[str, list[float]] = {"ge": [], "hand": []}
    fixed: dict[str, list[float]] = {"ge": [], "hand": []}
    rss: dict[str, list[float]] = {"ge": [], "hand": []}
    for rep in range(reps):
        for which in ("ge", "hand") if rep % 2 == 0 else ("hand", "ge"):
            wall, peak, result = command(ge_cmd if which == "ge" else hand_cmd)
            walls[which].append(wall)
            fixed[which].append(wall - float(result["seconds"]))
            rss[which].append(peak)
    ge_wall, hand_wall = statistics.median(walls["ge"]), statistics.median(walls["hand"])
    print(f"{case.name}_command_wall_s: graphedit {ge_wall:.2f}, hand {hand_wall:.2f} {spread(walls['ge'], '.2f')}")
    print(f"{case.name}_command_ratio: {hand_wall / ge_wall:.3f} (goal ≥ 0.95 on runs ≥ 30 s)")
    startup = statistics.median(fixed["ge"]) - statistics.median(fixed["hand"])
    print(
        f"{case.name}_startup_overhead_s: {startup:.2f} (graphedit {statistics.median(fixed['ge']):.2f} s "
        f"outside the loop, hand script {statistics.median(fixed['hand']):.2f} s)"
    )
    peak = statistics.median(rss["ge"]) / statistics.median(rss["hand"])
    print(
        f"{case.name}_peak_rss_ratio: {peak:.3f} (graphedit {statistics.median(rss['ge']):.0f} MiB, "
        f"hand {statistics.median(rss['hand']):.0f} MiB)"
    )
    return out


# ------------------------------------------------------------------ Keras 3, where installed
def keras_reference(case: Case, reps: int) -> None:
    speeds, version = keras_speeds(case.tensors, case.lr, case.batch, case.epochs, reps)
    if not speeds:
        print(f"keras_cnn_vs_keras: skipped ({version})")
        return
    ge = statistics.median(case.graphedit()[0] for _ in range(reps))
    print(f"keras_cnn_keras_samples_per_s: {statistics.median(speeds):.0f} (keras {version}, torch backend)")
    print(f"keras_cnn_vs_keras: {ge / statistics.median(speeds):.3f} {spread(speeds, '.0f')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--epochs", type=int, help="epochs of every case (default: each case's own)")
    parser.add_argument("--threads", type=int, default=0, help="0: GraphEdit's thread policy (the hand loop's too)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--no-command", action="store_true", help="skip the whole-command runs")
    parser.add_argument(
        "--inside", action="store_true", help="probes with the Embeddings and Landscape views open (their run override)"
    )
    parser.add_argument("--channels-last", choices=("auto", "on", "off"), help="GraphEdit's memory order")
    parser.add_argument("--hand", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        INSIDE.append(True)
    if args.channels_last:
        LAYOUT["channels_last"] = args.channels_last
    global DEVICE
    DEVICE = hand.DEVICE = args.device
    if args.hand:
        args.threads = args.threads or 1
        hand_script(args)
        return
    tmp = Path(tempfile.mkdtemp(prefix="graphedit-bench-"))
    try:
        print(f"torch: {torch.__version__}  reps: {args.reps}  device: {DEVICE}  load average: {load()}")
        for name in [c.strip() for c in args.cases.split(",") if c.strip()]:
            case = Case(name, tmp, args.epochs)
            threads = args.threads or case.threads()
            torch.set_num_threads(threads)
            layout = LAYOUT.get("channels_last", "the project's")
            print(
                f"{name}: {case.samples} training samples, {case.epochs} epochs, threads {threads}, "
                f"channels_last {layout}"
            )
            compare(case, args.reps, args.threads, whole=not args.no_command)
            if name == "keras_cnn" and DEVICE == "cpu":
                keras_reference(case, args.reps)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
