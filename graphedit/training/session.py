"""One training run of a project, composed headless: the single path shared by ``graphedit train`` and the editor.

:func:`run_project` takes the project as JSON data (what the editor sends to its
worker process, and what the command line reads from the file), loads the
dataset, fits the Input/Target shapes to it, compiles the graph, and trains it
with a :class:`~graphedit.training.runs.RunRecorder` writing the run folder.
Observers first receive a :class:`StartedEvent` (dataset metadata, steps per
epoch, the run folder), then the trainer's events. A failure at any stage (a
dataset that cannot load, a graph that does not compile, NaN, out of memory)
reaches the observers as one ``FailedEvent``, is recorded in the run's
``summary.json`` and is raised as a :class:`~graphedit.errors.GraphEditError`.

``control`` lets another thread or process pause and stop the loop: it answers
``wait_if_paused()`` (blocks while paused) and ``should_stop()``; the trainer
asks between steps. No Qt here (DESIGN.md decision 6), and torch is imported only when a run starts.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import math
import os
from pathlib import Path
from typing import Any, Protocol

from graphedit.errors import GraphEditError, NodeError, TrainingError
from graphedit.training.events import FailedEvent, StartedEvent

SNAPSHOT = "project.gproj"  # the project as it was trained, kept in the run folder


class Control(Protocol):
    def wait_if_paused(self) -> None: ...

    def should_stop(self) -> bool: ...


def settings_for(training: dict[str, Any], overrides: dict[str, Any] | None = None) -> Any:
    """The project's training section as TrainSettings with ``overrides`` (``None`` ignored); raises TrainingError."""
    from graphedit.training.settings import TrainSettings

    names = {f.name for f in dataclasses.fields(TrainSettings)}
    overrides = {k: v for k, v in (overrides or {}).items() if k in names and v is not None}
    return TrainSettings.from_dict(training).replace(**overrides)


def run_project(
    project_json: dict[str, Any],
    project_path: str | os.PathLike[str] | None,
    overrides: dict[str, Any] | None = None,
    observers: list[Any] | tuple[Any, ...] = (),
    control: Control | None = None,
    *,
    run_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    probes: bool = True,
    point_project: bool = False,
    checkpoint_every: int | None = None,
    distributed: Any = None,
    allow_outside: tuple[str, ...] | list[str] = (),
) -> dict[str, Any]:
    """Train the project once; return the trainer's summary plus ``run`` (the folder) and ``weights``.

    ``run_dir`` is the run folder to record into (default: a new one beside ``project_path``);
    with ``resume`` it is the run to continue (default: the latest with a checkpoint).
    ``point_project`` saves the project file pointing to the run's final weights (the command
    line does this; the editor asks the user's open project instead). ``overrides`` holds
    training settings that replace the project's (``epochs``, ``lr``, ...). ``checkpoint_every``
    (epochs) replaces the recorder's wall-time checkpoint schedule. ``distributed`` (a
    :class:`~graphedit.training.distributed.Distributed`) trains this process's share of a torchrun
    job; only rank 0 records the run, and with ``resume`` every rank reads the same checkpoint. Dataset
    paths outside the project's folder are read only when in ``allow_outside`` or confirmed by the user
    (:mod:`graphedit.training.trust`).
    """
    observers = list(observers)
    path = Path(project_path) if project_path is not None else None
    main = distributed is None or distributed.main
    try:
        folder = _run_folder(path, run_dir, resume) if main else None
        # the run to continue: every rank loads its checkpoint (only reading), rank 0 alone records into it
        source = folder if main or not resume else _run_folder(path, run_dir, resume)
    except OSError as exc:
        raise disk_error(exc, path) from None
    recorder = None
    fitting = finished = False
    try:
        from graphedit.compiler import compile_graph
        from graphedit.model.project import project_from_json, project_to_json
        from graphedit.training import trust
        from graphedit.training.binding import fit_inputs_to_dataset
        from graphedit.training.checkpoint import load_checkpoint
        from graphedit.training.datasets import load_dataset
        from graphedit.training.memory import check_fits
        from graphedit.training.runs import GRAPH, RunRecorder, write_graph
        from graphedit.training.trainer import Trainer

        project = project_from_json(project_json, str(path or "the project"))
        project.path = path
        if folder is not None:
            _write_snapshot(folder, project_json, resume)
        allowed = [*allow_outside, *trust.confirmed(path, project.dataset)]
        with trust.allowing(allowed):
            data = load_dataset(project.dataset, base_dir=path.parent if path is not None else None)
        fit_inputs_to_dataset(project.document, data.info)
        if folder is not None and (not resume or not (folder / GRAPH).exists()):
            write_graph(folder, project_to_json(project))  # as trained: Input and Target fitted to the data
        settings = settings_for(project.training, overrides)
        if distributed is not None:
            settings = settings.replace(device=distributed.device(settings.device))
            distributed.join(settings.device)
        check_fits(project.document, settings)  # refuse what cannot fit before allocating it
        compiled = compile_graph(project.document, device="cpu", seed=settings.seed)
        if settings.start_from == "weights" and not resume:
            from graphedit.training.weights_file import load_start_weights

            data.info.notes.extend(load_start_weights(project, compiled.root))
        policies = _run_policies(settings, compiled, data)
        if folder is not None:
            recorder = RunRecorder(
                folder, settings.to_dict(), data.spec, resume=resume, checkpoint_every=checkpoint_every, extra=policies
            )
        recorders = [recorder] if recorder is not None else []
        inside = _inside_recorders(overrides, folder if main else None, main)
        trainer = Trainer(
            compiled,
            data,
            settings,
            [*recorders, *observers, *inside],
            probes=probes,
            control=control,
            distributed=distributed,
        )
        if resume:
            trainer.restore_state(*load_checkpoint(source))
            if trainer.epoch >= settings.epochs:
                raise TrainingError(
                    f"{source}: the run already has {trainer.epoch} epochs. Fix: ask for more epochs than that."
                )
        started = StartedEvent(
            info=data.info.to_json(),
            steps_per_epoch=math.ceil(len(data.train) / settings.batch_size),
            epochs=settings.epochs,
            run_dir=str(folder or ""),
            node_ids=list(project.document.node_ids()),
            first_epoch=trainer.epoch,
            settings=settings.to_dict(),
        )
        for observer in [*observers, *inside]:
            observer(started)
        fitting = True
        summary = trainer.fit()
        finished = True
    except GraphEditError as exc:
        if not (fitting and isinstance(exc, TrainingError)):  # the trainer reports its own TrainingErrors
            _report_failure(exc, recorder, folder, observers)
        raise
    except Exception as exc:  # out of memory in backward, a node pack's bug: still one clear failure
        error = as_training_error(exc)
        _report_failure(error, recorder, folder, observers)
        raise error from exc
    finally:
        if distributed is not None:
            distributed.leave(finished)
    weights = None
    if point_project and path is not None:
        from graphedit.training.runs import FINAL, point_project_to

        weights = point_project_to(project, folder / FINAL)
    return {**summary, **policies, "run": str(folder or ""), "weights": weights}


def failure_node(exc: BaseException) -> str | None:
    """The node a failure names, if any (training errors and compile errors both carry one)."""
    node_id = getattr(exc, "node_id", None) if isinstance(exc, (TrainingError, NodeError)) else None
    return node_id or None


def disk_error(exc: OSError, where: Path | None) -> TrainingError:
    """Advice that fits a failed write of the run folder: read-only place, no permission, full disk."""
    place = f"beside {where}" if where is not None else "in the run folder"
    target = exc.filename or place
    if exc.errno == errno.ENOSPC or exc.errno == getattr(errno, "EDQUOT", -1):
        fix = "the disk is full: free some space (delete old runs in the Runs panel) or save the project elsewhere"
    elif exc.errno == errno.EROFS:
        fix = "the folder is on a read-only disk: save the project (File ▸ Save As) to a writable folder"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        fix = "you may not write there: save the project (File ▸ Save As) to a folder of yours"
    else:
        fix = "check that the project's folder is writable and has free space"
    return TrainingError(f"cannot write the run record {place} ({target}: {exc.strerror or exc}). Fix: {fix}.")


def as_training_error(exc: BaseException) -> TrainingError:
    """A user-facing error for an exception the trainer did not expect."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM):
        return disk_error(exc, None)
    name = type(exc).__name__
    detail = (str(exc).splitlines() or [""])[0]
    if isinstance(exc, MemoryError) or "out of memory" in detail.lower():
        return TrainingError(
            f"training ran out of memory ({name}). Fix: lower the batch size, make layers smaller, "
            "or train on another device."
        )
    return TrainingError(f"training failed: {name}: {detail}. Fix: check the graph with graphedit check.")


def _run_policies(settings: Any, compiled: Any, data: Any) -> dict[str, Any]:
    """Set torch's thread count for this run and choose its memory order (graphedit.training.threads): what was
    chosen and why."""
    from graphedit.training.binding import bind
    from graphedit.training.settings import resolve_device
    from graphedit.training.threads import apply_threads, channels_last_policy

    device = resolve_device(settings.device)
    kwargs = None
    if data.train.in_memory and device.type == "cpu" and settings.threads == 0:
        X, y = next(iter(data.train.batches(settings.batch_size)))
        kwargs = bind(compiled, data.info).kwargs(X, y)
    layout, why = channels_last_policy(settings.channels_last, device, compiled.root)
    return {
        **apply_threads(settings.threads, device, compiled.objective, kwargs),
        "channels_last": layout,
        "channels_last_policy": why,
    }


def _inside_recorders(overrides: dict[str, Any] | None, folder: Path | None, main: bool) -> list[Any]:
    """The Inside dock's request (embeddings each epoch, weight snapshots), a run override: rank 0 only."""
    from graphedit.training.inside_probes import InsideRecorder, inside_request

    request = inside_request(overrides)
    return [InsideRecorder(request, folder)] if request and main else []


def _run_folder(path: Path | None, run_dir: str | os.PathLike[str] | None, resume: bool) -> Path:
    from graphedit.training.runs import latest_run, new_run_dir

    if run_dir is not None:
        folder = Path(run_dir)
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    if path is None:
        raise TrainingError("the project has no file yet, so its runs have no folder. Fix: save the project first.")
    if not resume:
        return new_run_dir(path)
    folder = latest_run(path, with_checkpoint=True)
    if folder is None:
        raise TrainingError(f"{path}: no earlier run with a checkpoint. Fix: train without --resume.")
    return folder


def _write_snapshot(folder: Path, project_json: dict[str, Any], resume: bool) -> None:
    target = folder / SNAPSHOT
    if resume and target.exists():
        return  # the graph the run started with
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(project_json, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    tmp.replace(target)


def _report_failure(exc: BaseException, recorder: Any, folder: Path | None, observers: list[Any]) -> None:
    from graphedit.training.runs import RunRecorder

    event = FailedEvent(str(exc), failure_node(exc))
    if recorder is None and folder is not None:
        recorder = RunRecorder(folder)
    for observer in [*([recorder] if recorder is not None else []), *observers]:
        observer(event)
