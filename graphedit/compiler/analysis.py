"""Analyze a graph before training: every problem that would stop a run, and warnings worth a look.

One analysis for ``graphedit check`` and the editor (its Problems panel, status bar and the Run button), as
MATLAB's Deep Network Designer analyses a network before it trains. It uses static checks and the shape
inference's meta tensors only: no data is read and no layer is run on real numbers, so it answers in
milliseconds.

Errors (a run would fail or learn nothing): shape errors, no loss, Inputs or Targets the dataset cannot
feed, targets of the wrong kind for the loss, nodes the data never reaches, losses no parameter reaches.
Warnings (a run works but probably not as meant): dead branches, a Softmax before SoftmaxCrossEntropy, a
learning rate far outside the optimiser's usual range.

``data`` is optional: anything with the attributes of
:class:`~graphedit.training.dataset_types.DatasetInfo` (``name``, ``task``, ``target_shape``,
``num_classes``); without it the dataset checks use what the graph says alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphedit.compiler.shapes import ShapeInference, reach
from graphedit.model.document import GraphDocument

ERROR, WARNING = "error", "warning"
CLASS_LOSSES = ("SoftmaxCrossEntropy",)
VALUE_LOSSES = ("MSE", "SSE", "L1Loss")  # real-valued targets (BinaryCrossEntropy takes 0/1 labels)
SINK_ROLES = ("loss", "weight_penalty", "metric", "output")
DATA_ROLES = ("input", "target")
# the learning rates each optimiser usually trains well with; a factor of 10 beyond either end is a warning
USUAL_LR = {
    "sgd": (1e-4, 1.0),
    "perceptron": (1e-3, 10.0),
    "adam": (1e-5, 3e-2),
    "adamw": (1e-5, 3e-2),
    "rmsprop": (1e-5, 3e-2),
}
LR_SLACK = 10.0


@dataclass(frozen=True)
class Problem:
    """One finding: ``level`` is ``"error"`` or ``"warning"``; ``node_id`` is ``None`` for the whole graph.

    ``stage`` says what an error stops: ``"graph"`` (shape errors: the graph does not compute, so it can neither
    train nor export) or ``"train"`` (everything else: the graph computes, and exports, but cannot train)."""

    level: str
    node_id: str | None
    problem: str
    fix: str = ""
    stage: str = "train"

    @property
    def is_error(self) -> bool:
        return self.level == ERROR

    def __str__(self) -> str:
        where = f"node '{self.node_id}': " if self.node_id else ""
        tail = f" Fix: {self.fix}" if self.fix else ""
        return f"{where}{self.problem}.{tail}"

    def to_json(self) -> dict[str, Any]:
        return {"level": self.level, "stage": self.stage, "node": self.node_id, "message": str(self), "fix": self.fix}


@dataclass(frozen=True)
class Structure:
    """What the analysis needs from the wiring alone: it changes when nodes or wires do, not with parameters,
    so the editor keeps one between structural edits (a parameter edit on 10,000 nodes stays cheap)."""

    order: dict[str, int]
    roles: dict[str, str]
    unfed: list[str]  # nodes with inputs wired that no Input or Target reaches
    dead: list[str]  # nodes whose output reaches no loss, metric or Output
    loss_upstream: frozenset[str]
    # the problems found from the wiring alone (by the shape errors that hide some) and the sorted analyses of the
    # last few edits: kept with the structure, so an edit of a 10,000-node graph with as many dead nodes does not
    # build, sort and compare 10,000 problems again
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def remember(self, key: Any, make: Callable[[], Any], keep: int = 4) -> Any:
        """``make()``, kept under ``key`` with the last ``keep`` values of its kind (``key[0]``)."""
        if key not in self.memo:
            same = [k for k in self.memo if k[0] == key[0]]
            for old in same[: max(0, len(same) - keep + 1)]:
                del self.memo[old]
            self.memo[key] = make()
        return self.memo[key]

    def ids(self, role: str) -> list[str]:
        """The nodes of one role, in graph order."""
        by_role: dict[str, list[str]] = self.remember(("roles",), lambda: _by_role(self.roles), keep=1)
        return by_role.get(role, [])


def _by_role(roles: dict[str, str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for node_id, role in roles.items():
        out.setdefault(role, []).append(node_id)
    return out


def structure_of(document: GraphDocument, order: list[str] | None = None) -> Structure:
    graph = document.graph
    order = list(document.topological_order()) if order is None else order
    roles = {n: document.node_type(n).role for n in order}
    fed = reach(graph, _ids(roles, *DATA_ROLES))
    useful = reach(graph, _ids(roles, *SINK_ROLES), upstream=True)
    return Structure(
        {n: i for i, n in enumerate(order)},
        roles,
        [n for n, r in roles.items() if r not in DATA_ROLES and graph.pred[n] and n not in fed],
        [n for n, r in roles.items() if r not in DATA_ROLES and n not in useful],
        frozenset(reach(graph, _ids(roles, "loss"), upstream=True)),
    )


def analyze(
    document: GraphDocument,
    inference: ShapeInference | None = None,
    training: dict[str, Any] | None = None,
    data: Any = None,
    structure: Structure | None = None,
) -> list[Problem]:
    """Every problem of the graph, errors first, each in graph order. An empty graph has none.

    ``structure`` may be one kept from an earlier call while no node or wire changed since."""
    if not len(document):
        return []
    if inference is None:
        inference = ShapeInference(document, observe=False)
        inference.run()
    else:
        inference.update()
    structure = structure or structure_of(document, inference.order())
    found = [Problem(ERROR, e.node_id, e.problem.rstrip("."), e.fix, "graph") for e in inference.errors()]
    hidden = frozenset(p.node_id for p in found)
    found += _data_problems(document, structure, data)
    found += _reach_problems(inference, structure)
    found += _loss_problems(document, structure, data)
    found += _lr_problems(training)
    wiring = structure.remember(("wiring", hidden), lambda: _wiring_problems(structure, hidden))
    order = structure.order

    def ranked() -> list[Problem]:
        return sorted(found + wiring, key=lambda p: (not p.is_error, order.get(p.node_id or "", len(order))))

    return list(structure.remember(("sorted", hidden, tuple(found)), ranked))  # errors first, whole-graph ones last


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.is_error]


def summary_text(problems: list[Problem]) -> str:
    """``no errors``, ``2 errors``, ``1 error · 3 warnings``: what the status bar says."""
    n_err = sum(p.is_error for p in problems)
    n_warn = len(problems) - n_err
    text = f"{n_err} error{'s' * (n_err != 1)}" if n_err else "no errors"
    return text + (f" · {n_warn} warning{'s' * (n_warn != 1)}" if n_warn else "")


# ----------------------------------------------------------------- checks
def _ids(roles: dict[str, str], *wanted: str) -> list[str]:
    return [n for n, r in roles.items() if r in wanted]


def _data_problems(document: GraphDocument, structure: Structure, data: Any) -> list[Problem]:
    out = []
    inputs, targets = structure.ids("input"), structure.ids("target")
    name = f"dataset '{data.name}'" if data is not None else "the dataset"
    if not inputs:
        out.append(Problem(ERROR, None, "the graph has no Input node, so no data can enter it", "add an Input node"))
    elif len(inputs) > 1 and data is not None and getattr(data, "inputs", None) is None:
        # a dataset with named inputs feeds several (its names are checked by training.binding); unknown data: too
        out.append(
            Problem(
                ERROR,
                inputs[1],
                f"the graph has {len(inputs)} Input nodes ({', '.join(inputs)}) and {name} feeds exactly one",
                "keep a single Input node and wire it to every branch that needs the data",
            )
        )
    has_targets = None if data is None else data.target_shape is not None
    if has_targets is False and targets:
        out.append(
            Problem(
                ERROR,
                targets[0],
                f"{name} is a {data.task} dataset with no targets",
                "remove the Target node and wire the Input into the loss's target port",
            )
        )
    elif len(targets) > 1 and data is not None and getattr(data, "targets", None) is None:
        out.append(
            Problem(
                ERROR,
                targets[1],
                f"the graph has {len(targets)} Target nodes ({', '.join(targets)}) and {name} gives one target",
                "keep a single Target node and wire it to every loss and metric",
            )
        )
    elif has_targets and not targets:
        out.append(
            Problem(
                ERROR,
                None,
                f"{name} has targets but the graph has no Target node to receive them",
                "add a Target node and wire it into the loss's target port",
            )
        )
    return out


def _reach_problems(inference: ShapeInference, structure: Structure) -> list[Problem]:
    out = []
    losses = structure.ids("loss")
    if losses and not any(inference.infos[n].params for n in structure.loss_upstream if n in inference.infos):
        out.append(
            Problem(
                ERROR,
                losses[0],
                "no parameter reaches the loss: no layer with weights lies upstream of it, so training changes nothing",
                "put a layer with weights (Dense, Conv2d, …) between the Input and the loss",
            )
        )
    return out


def _wiring_problems(structure: Structure, failed: frozenset[str | None]) -> list[Problem]:
    """Nodes no data reaches and dead branches, but for nodes with a shape error (an unwired port says it)."""
    out = [
        Problem(
            ERROR,
            node_id,
            "no data reaches this node: nothing flows into it from an Input or a Target",
            "wire its inputs to the network, or delete it",
        )
        for node_id in structure.unfed
        if node_id not in failed
    ]
    out += [
        Problem(
            WARNING,
            node_id,
            "dead branch: its output reaches no loss, metric or Output, so it takes no part in training",
            "wire it on to a loss or an Output node, or delete it",
        )
        for node_id in structure.dead
        if node_id not in failed
    ]
    return out


def _loss_problems(document: GraphDocument, structure: Structure, data: Any) -> list[Problem]:
    out = []
    roles = structure.roles
    losses = structure.ids("loss")
    if not losses and not structure.ids("weight_penalty"):
        out.append(
            Problem(
                ERROR,
                None,
                "the graph has no loss node, so training has nothing to minimise",
                "add a loss (SoftmaxCrossEntropy for classes, MSE for numbers) fed by the output and the Target",
            )
        )
    task = getattr(data, "task", None)
    classes = getattr(data, "num_classes", None) or 0
    for loss in losses:
        type_id = document.node_type(loss).type_id
        pred = document.edge_into(loss, "pred")
        if type_id in CLASS_LOSSES and pred is not None and document.node_type(pred.src).type_id == "Softmax":
            scores = document.edge_into(pred.src, "x")
            before = f"'{scores.src}'" if scores is not None else "the scores"
            out.append(
                Problem(
                    WARNING,
                    pred.src,
                    "a Softmax feeds SoftmaxCrossEntropy, which applies softmax itself: the scores are squashed twice "
                    "and training slows down",
                    f"wire {before} straight into '{loss}' (keep the Softmax for an Output)",
                )
            )
        target = document.edge_into(loss, "target")
        from_data = target is not None and roles.get(target.src) == "target"
        if type_id in CLASS_LOSSES and task == "regression" and from_data:
            out.append(
                Problem(
                    ERROR,
                    loss,
                    f"targets of the wrong kind: dataset '{data.name}' gives numbers (regression) and "
                    f"{type_id} needs class indices",
                    "use MSE (or L1Loss) for numbers, or choose a classification dataset",
                )
            )
        if type_id in VALUE_LOSSES and task == "classification" and classes > 2 and from_data:
            out.append(
                Problem(
                    ERROR,
                    loss,
                    f"targets of the wrong kind: dataset '{data.name}' gives class indices 0 … {classes - 1} and "
                    f"{type_id} would treat them as numbers to regress",
                    "use SoftmaxCrossEntropy with one output unit per class",
                )
            )
    return out


def _lr_problems(training: dict[str, Any] | None) -> list[Problem]:
    if not training:
        return []
    optimizer, lr = training.get("optimizer"), training.get("lr")
    usual = USUAL_LR.get(str(optimizer))
    if usual is None or isinstance(lr, bool) or not isinstance(lr, (int, float)) or lr <= 0:
        return []
    lo, hi = usual
    if lo / LR_SLACK <= lr <= hi * LR_SLACK:
        return []
    way = "high" if lr > hi * LR_SLACK else "low"
    return [
        Problem(
            WARNING,
            None,
            f"learning rate {lr:g} is far too {way} for {optimizer}, which usually trains with {lo:g} … {hi:g}",
            f"set the learning rate in the Training panel to a value in {lo:g} … {hi:g}",
        )
    ]
