"""`graphedit train PROJECT`: train a project headless, record the run, point the project to its weights.

The Input/Target shapes are set from the dataset first, so users never type
sizes. A progress bar goes to stderr; the final summary to stdout (``--json``
for machine-readable output). ``--resume`` continues the latest run from its
last checkpoint (pass a larger ``--epochs`` to train further), in one process or, with
``--nproc-per-node``, in several: every rank reads the checkpoint, rank 0 records. The device ``cuda:all`` (as
the editor saves it) means ``--nproc-per-node`` = the GPUs of this machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, TextIO

from graphedit.commands import add_allow_outside
from graphedit.model.training_options import ALL_GPUS, TRAINING_OPTIONS
from graphedit.nodes.options import Option
from graphedit.training.events import EpochEvent, FailedEvent, StartedEvent, StepEvent


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="a .gproj file")
    add_allow_outside(parser)
    for option in TRAINING_OPTIONS:  # the settings a run may override: those declared with a flag
        if option.flag:
            add_setting_flag(parser, option)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    parser.add_argument("--resume", action="store_true", help="continue the latest run from its checkpoint")
    # probes feed the editor's live views; nothing headless reads them, so the command runs none
    parser.add_argument("--no-probes", action="store_true", dest="no_probes", help=argparse.SUPPRESS)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    scale = parser.add_argument_group("distributed training (torchrun, DistributedDataParallel)")
    scale.add_argument("--nproc-per-node", type=int, dest="nproc_per_node", help="processes on this machine (GPUs)")
    scale.add_argument("--nnodes", type=int, default=1, help="machines taking part (default 1)")
    scale.add_argument("--rdzv-endpoint", dest="rdzv_endpoint", help="HOST:PORT where the machines meet")


def add_setting_flag(parser: argparse.ArgumentParser, option: Option) -> None:
    """``--batch-size N`` for the training setting ``batch_size``: its type and help from its declaration.

    Left out, a flag is ``None``: the project's setting holds.
    """
    flag = "--" + option.name.replace("_", "-")
    text = option.doc.replace("`", "") + " (overrides the project's setting)"
    if option.kind == "bool":
        parser.add_argument(flag, action="store_true", default=None, dest=option.name, help=text)
        return
    kind = {"int": int, "float": float}.get(option.kind, str)
    parser.add_argument(flag, type=kind, dest=option.name, help=text)


class ProgressBar:
    """A plain-text progress bar on stderr; one line per epoch when stderr is not a terminal.

    Epochs and steps per epoch come with the run's StartedEvent.
    """

    def __init__(self, stream: TextIO | None = None, width: int = 24) -> None:
        self.epochs, self.steps_per_epoch, self.width = 1, 1, width
        self.stream = stream or sys.stderr
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.last_draw = 0.0

    def __call__(self, event: Any) -> None:
        if isinstance(event, StartedEvent):
            self.epochs, self.steps_per_epoch = event.epochs, max(1, event.steps_per_epoch)
            if event.first_epoch:
                self.stream.write(f"resuming {event.run_dir} after epoch {event.first_epoch}\n")
        elif isinstance(event, StepEvent) and self.live and time.monotonic() - self.last_draw > 0.1:
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
    from graphedit.model.project import load_project, project_to_json
    from graphedit.training.distributed import Distributed, local_processes
    from graphedit.training.session import run_project

    distributed = Distributed.from_env()
    project = load_project(args.project)
    device = args.device or project.training.get("device")
    if distributed is None and args.nproc_per_node is None and args.nnodes == 1 and device == ALL_GPUS:
        args.nproc_per_node = local_processes(ALL_GPUS)[0]  # every GPU of this machine, as the editor trains it
    if distributed is None and (args.nproc_per_node or 1) * args.nnodes > 1:
        return _launch(args)
    overrides = {o.name: getattr(args, o.name) for o in TRAINING_OPTIONS if o.flag}
    main = distributed is None or distributed.main
    summary = run_project(
        project_to_json(project),
        project.path,
        overrides,
        observers=[ProgressBar()] if main and not args.quiet else [],
        resume=args.resume,
        probes=False,
        point_project=main,
        distributed=distributed,
        allow_outside=args.allow_outside,
    )
    if not main:
        return 0
    folder, weights = summary["run"], summary["weights"]
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
        if summary.get("compile_seconds") is not None:
            compiling = "the first step, and the first of each new batch shape; left out of samples/s"
            print(f"compile: {summary['compile_seconds']:.2f} s ({compiling})")
        if summary.get("probe_seconds") and summary["seconds"]:
            share = summary["probe_seconds"] / summary["seconds"]
            print(f"probes: {summary['probe_seconds']:.2f} s, {share:.1%} of training (the live views' statistics)")
        print(f"run: {folder}")
        print(f"weights: {weights['path']}")
    return 130 if summary["status"] == "interrupted" else 0


DISTRIBUTED_FLAGS = ("--nproc-per-node", "--nnodes", "--rdzv-endpoint")


def _launch(args: argparse.Namespace) -> int:
    """Start torchrun with this command line, less the flags that say how to distribute it."""
    from graphedit.training.distributed import launch, launch_command

    rank_args, skip = [], False
    for arg in getattr(args, "_argv", [])[1:]:  # [0] is the subcommand
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in DISTRIBUTED_FLAGS:
            skip = "=" not in arg
            continue
        rank_args.append(arg)
    return launch(launch_command(rank_args, args.nproc_per_node or 1, args.nnodes, args.rdzv_endpoint))
