"""What a sweep's trials say: the best trial, the best value so far, parameters scaled for a parallel-coordinates
plot, and each parameter's importance (Optuna's fANOVA). No Qt: the editor's Experiments panel draws these."""

from __future__ import annotations

import math
from typing import Any

from graphedit.model.experiment import SweepError, SweepParam

MIN_FOR_IMPORTANCE = 3  # complete trials needed before an importance means anything


def best_row(rows: list[Any], direction: str) -> Any | None:
    """The complete trial with the best value (the lowest trial number among equals), or ``None``."""
    done = [r for r in rows if r.state == "complete" and r.value is not None]
    if not done:
        return None
    sign = -1.0 if direction == "maximize" else 1.0
    return min(done, key=lambda r: (sign * r.value, r.number))


def best_so_far(rows: list[Any], direction: str) -> list[tuple[int, float]]:
    """``(trial number, best value up to it)`` at every complete trial, in trial order."""
    out: list[tuple[int, float]] = []
    best: float | None = None
    for row in sorted(rows, key=lambda r: r.number):
        if row.state != "complete" or row.value is None:
            continue
        if best is None or (row.value > best if direction == "maximize" else row.value < best):
            best = row.value
        out.append((row.number, best))
    return out


def scaled(param: SweepParam, value: Any) -> float | None:
    """``value`` on the parameter's axis from 0 to 1 (a log range on a log scale; a list by position)."""
    if not param.is_range:
        if value not in param.choices:
            return None
        n = len(param.choices)
        return 0.5 if n == 1 else param.choices.index(value) / (n - 1)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    low, high = float(param.low), float(param.high)
    if param.log:
        if value <= 0:
            return None
        low, high, value = math.log(low), math.log(high), math.log(value)
    return min(1.0, max(0.0, (value - low) / (high - low)))


def axis_ticks(param: SweepParam) -> list[tuple[float, str]]:
    """Where an axis of the parallel-coordinates plot is labelled: each choice, or the range's two ends."""
    if not param.is_range:
        return [(scaled(param, c) or 0.0, str(c)) for c in param.choices]
    return [(0.0, f"{param.low:g}"), (1.0, f"{param.high:g}")]


def importances(rows: list[Any], params: list[SweepParam], direction: str) -> dict[str, float]:
    """Each parameter's share of the objective's variance (fANOVA), largest first.

    Raises SweepError saying why there is none yet (too few complete trials, all values equal).
    """
    import optuna
    from optuna.trial import create_trial

    distributions = {p.name: p.distribution() for p in params}
    done = [r for r in rows if r.state == "complete" and r.value is not None]
    usable = [r for r in done if all(p.name in r.params and _fits(p, r.params[p.name]) for p in params)]
    if len(usable) < MIN_FOR_IMPORTANCE:
        raise SweepError(
            f"importance needs at least {MIN_FOR_IMPORTANCE} complete trials of this search space; "
            f"there are {len(usable)}."
        )
    if len({r.value for r in usable}) < 2:
        raise SweepError("every complete trial has the same value, so no parameter explains a difference.")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction=direction)  # in memory: the trials as they are, not the stored study
    for row in usable:
        values = {p.name: row.params[p.name] for p in params}
        study.add_trial(create_trial(params=values, distributions=distributions, value=row.value))
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)
    return dict(optuna.importance.get_param_importances(study, evaluator=evaluator))


def _fits(param: SweepParam, value: Any) -> bool:
    """Whether a trial's value lies in today's search space (a study may hold trials of an earlier one)."""
    if not param.is_range:
        return value in param.choices
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    return param.low <= value <= param.high and (not param.integer or float(value).is_integer())
