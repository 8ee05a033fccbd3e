"""`graphedit sweep PROJECT --param NAME=VALUES ...`: a hyperparameter sweep on Optuna, headless.

Each ``--param`` is a list (``dense1.units=16,32,64``) or a range (``lr=1e-4..1e-1:log``) of a
training setting, a dataset option (``dataset.noise``) or a node parameter. Trials run ``--jobs``
at a time, each as an ordinary run of the project (its runs folder gets one run per trial). The
study lives beside the project (``NAME.sweep.db``) unless ``--storage`` names another Optuna
storage, which only the command line can do; running the command again resumes the study up to
``--trials`` finished trials. One line per finished trial goes to stderr; the table to stdout.

Without ``--param`` the sweep is the one the project declares (its ``experiment`` section, which the
editor's Inspector and Experiments panel write); options given on the command line override it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from typing import Any

from graphedit.model.experiment import DEFAULT_EXPERIMENT, DIRECTIONS, PRUNERS, SAMPLERS
from graphedit.training.sweep import SweepConfig, TrialRow


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="a .gproj file")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUES",
        help="a swept parameter: dense1.units=16,32,64, lr=1e-4..1e-1:log, optimizer=adam,sgd, dataset.noise=0..0.3; "
        "none: the parameters the project's experiment section declares",
    )
    # no defaults here: an option left out takes the project's experiment section, whose defaults are DEFAULT_EXPERIMENT
    given = "(default: the project's, else {})".format
    parser.add_argument(
        "--trials", type=int, help="finished trials the study should reach " + given(DEFAULT_EXPERIMENT["trials"])
    )
    parser.add_argument(
        "--jobs", type=int, help="trials trained at once, one process each " + given(DEFAULT_EXPERIMENT["jobs"])
    )
    parser.add_argument(
        "--sampler", choices=SAMPLERS, help="how values are chosen " + given(DEFAULT_EXPERIMENT["sampler"])
    )
    parser.add_argument(
        "--pruner", choices=PRUNERS, help="stop poor trials early " + given(DEFAULT_EXPERIMENT["pruner"])
    )
    parser.add_argument("--objective", help="SPLIT.METRIC to optimise " + given(DEFAULT_EXPERIMENT["objective"]))
    parser.add_argument("--direction", choices=DIRECTIONS, help="default: the project's; maximize for an accuracy")
    parser.add_argument(
        "--storage",
        help="an Optuna storage URL that several machines share (default: beside the project)",
    )
    parser.add_argument("--study", dest="study_name", help="the study's name (default: the project's file name)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampler")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per trial (default 1)")
    parser.add_argument("--json", action="store_true", help="print the trials as JSON on stdout")


def run(args: argparse.Namespace) -> int:
    from graphedit.model.project import load_project, project_to_json
    from graphedit.training.sweep import Sweep

    project = load_project(args.project)
    config = config_for(args, project.experiment)
    progress = Progress(config.trials)
    sweep = Sweep(project_to_json(project), project.path, config, on_trial=progress)
    progress.done = config.trials - sweep.remaining()
    try:
        rows = sweep.run()
    except KeyboardInterrupt:
        print("graphedit sweep: stopped; run the same command again to resume the study", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps([asdict(row) for row in rows], indent=2, default=str))
    else:
        print(results_table(rows, [p.name for p in config.params], config.direction))
    return 0


def config_for(args: argparse.Namespace, experiment: dict[str, Any]) -> SweepConfig:
    """The sweep to run: the command line's options over the project's ``experiment`` section.

    ``--param`` replaces the section's parameters as a whole (a sweep of other parameters, not more of them).
    """
    from graphedit.training.sweep_space import parse_param

    plan = dict(experiment)
    for key in ("trials", "jobs", "sampler", "pruner", "objective"):
        if getattr(args, key) is not None:
            plan[key] = getattr(args, key)
    if args.direction is not None:
        plan["direction"] = args.direction
    elif args.objective is not None and args.objective != experiment.get("objective"):
        plan["direction"] = "maximize" if "acc" in args.objective.split(".")[-1] else "minimize"
    config = SweepConfig.from_experiment(
        {**DEFAULT_EXPERIMENT, **plan},
        storage=args.storage,
        study_name=args.study_name,
        seed=args.seed,
        threads=args.threads,
    )
    if args.param:
        config.params = [parse_param(text) for text in args.param]
    return config


class Progress:
    """One line per finished trial on stderr: how many of the requested trials are done, and the best so far."""

    def __init__(self, total: int, stream: Any = None) -> None:
        self.total, self.done, self.stream, self.start = total, 0, stream or sys.stderr, time.monotonic()

    def __call__(self, row: TrialRow) -> None:
        self.done += 1
        value = "" if row.value is None else f" value {row.value:.4g}"
        detail = f" ({row.message})" if row.message else ""
        elapsed = time.monotonic() - self.start
        self.stream.write(
            f"[{self.done}/{self.total}] trial {row.number} {row.state}{value}{detail}  {elapsed:.0f} s\n"
        )
        self.stream.flush()


def results_table(rows: list[TrialRow], names: list[str], direction: str) -> str:
    """The trials as a text table, best first; unfinished and failed trials last."""

    def key(row: TrialRow) -> tuple[int, float]:
        if row.value is None:
            return (1, 0.0)
        return (0, -row.value if direction == "maximize" else row.value)

    header = ["trial", "state", "value", *names, "seconds"]
    lines = [header]
    for row in sorted(rows, key=key):
        value = "" if row.value is None else f"{row.value:.5g}"
        seconds = "" if row.seconds is None else f"{row.seconds:.1f}"
        params = [_text(row.params.get(name, "")) for name in names]
        lines.append([str(row.number), row.state, value, *params, seconds])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines)


def _text(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
