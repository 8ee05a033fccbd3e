"""`graphedit train PROJECT`: train a project headless, record the run, point the project to its weights.

The Input/Target shapes are set from the dataset first, so users never type
sizes. A progress bar goes to stderr; the final summary to stdout (``--json``
for machine-readable output). ``--resume`` continues the latest run from its
last checkpoint (pass a larger ``--epochs`` to train further).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Any, TextIO

from graphedit.training.events import EpochEvent, FailedEvent, StepEvent


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="a .gproj file")
    parser.add_argument("--epochs", type=int, help="number of epochs (overrides the project's setting)")
    parser.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--seed", type=int, help="random seed of weights, shuffling and dropout")
    parser.add_argument("--batch-size", type=int, dest="batch_size", help="examples per step")
    parser.add_argument("--lr", type=float, help="learning rate")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    parser.add_argument("--resume", action="store_true", help="continue the latest run from its checkpoint")
    parser.add_argument("--no-probes", action="store_true", dest="no_probes", help="skip activation/gradient probes")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


class ProgressBar:
    """A plain-text progress bar on stderr; one line per epoch when stderr is not a terminal."""

    def __init__(self, epochs: int, steps_per_epoch: int, stream: TextIO | None = None, width: int = 24) -> None:
        self.epochs, self.steps_per_epoch, self.width = epochs, max(1, steps_per_epoch), width
        self.stream = stream or sys.stderr
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.last_draw = 0.0

    def __call__(self, event: Any) -> None:
        if isinstance(event, StepEvent) and self.live and time.monotonic() - self.last_draw > 0.1:
            self.last_draw = time.monotonic()
            done = (event.step - 1) % self.steps_per_epoch + 1
            filled = int(self.width * done / self.steps_per_epoch)
            bar = "#" * filled + "." * (self.width - filled)
            self.stream.write(f"\repoch {event.epoch}/{self.epochs} [{bar}] loss {event.loss:.4g}   ")
            self.stream.flush()
        elif isinstance(event, EpochEvent):
            text = f"epoch {event.epoch}/{self.epochs}  " + _metrics_text(event.train, event.val)
            text += f"  ({event.seconds:.2f} s)"
            self.stream.write(("\r" if self.live else "") + text + (" " * 8 if self.live else "") + "\n")
            self.stream.flush()
        elif isinstance(event, FailedEvent) and self.live:
            self.stream.write("\n")


def _metrics_text(train: dict[str, float] | None, val: dict[str, float] | None) -> str:
    parts = []
    for prefix, values in (("", train), ("val ", val)):
        for key, value in (values or {}).items():
            parts.append(f"{prefix}{key} {value:.4g}")
    return "  ".join(parts)


def run(args: argparse.Namespace) -> int:
    from graphedit.compiler import compile_graph
    from graphedit.errors import TrainingError
    from graphedit.model.project import load_project
    from graphedit.training.binding import fit_inputs_to_dataset
    from graphedit.training.checkpoint import load_checkpoint
    from graphedit.training.datasets import load_dataset
    from graphedit.training.runs import FINAL, RunRecorder, latest_run, new_run_dir, point_project_to
    from graphedit.training.settings import TrainSettings
    from graphedit.training.trainer import Trainer

    project = load_project(args.project)
    data = load_dataset(project.dataset, base_dir=project.path.parent)
    fit_inputs_to_dataset(project.document, data.info)
    overrides = {k: getattr(args, k) for k in ("epochs", "device", "seed", "batch_size", "lr")}
    settings = TrainSettings.from_dict(project.training).replace(**overrides)
    compiled = compile_graph(project.document, device="cpu", seed=settings.seed)

    if args.resume:
        folder = latest_run(project.path, with_checkpoint=True)
        if folder is None:
            raise TrainingError(f"{args.project}: no earlier run with a checkpoint. Fix: train without --resume.")
    else:
        folder = new_run_dir(project.path)
    recorder = RunRecorder(folder, settings.to_dict(), data.spec, resume=args.resume)
    observers: list[Any] = [recorder]
    if not args.quiet:
        steps = math.ceil(len(data.train) / settings.batch_size)
        observers.append(ProgressBar(settings.epochs, steps))
    trainer = Trainer(compiled, data, settings, observers=observers, probes=not args.no_probes)
    if args.resume:
        trainer.restore_state(*load_checkpoint(folder))
        if trainer.epoch >= settings.epochs:
            raise TrainingError(
                f"{folder}: the run already has {trainer.epoch} epochs. Fix: pass --epochs with more than that."
            )
        if not args.quiet:
            print(f"resuming {folder} after epoch {trainer.epoch}", file=sys.stderr)
    summary = trainer.fit()
    weights = point_project_to(project, folder / FINAL)
    summary = {**summary, "run": str(folder), "weights": weights}
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        print(
            f"{summary['status']}: {summary['epochs']} epochs, {summary['steps']} steps in {summary['seconds']:.2f} s"
        )
        print("final  " + _metrics_text(summary["train"], summary["val"]))
        if summary["best_epoch"]:
            restored = " (restored)" if summary["restored_best"] else ""
            print(f"best epoch {summary['best_epoch']}: loss {summary['best_loss']:.4g}{restored}")
        print(f"run: {folder}")
        print(f"weights: {weights['path']}")
    return 130 if summary["status"] == "interrupted" else 0
