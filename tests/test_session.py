"""The headless run composition shared by `graphedit train` and the editor's worker: events, control, failures."""

from __future__ import annotations

import dataclasses
import json

import graphs
import pytest

from graphedit.errors import GraphEditError, TrainingError
from graphedit.model.project import Project, project_to_json
from graphedit.training.events import EpochEvent, FailedEvent, FinishedEvent, StepEvent
from graphedit.training.runs import FINAL
from graphedit.training.session import SNAPSHOT, StartedEvent, run_project
from graphedit.ui.runner.worker import PAUSE, RUN, STOP, SharedControl, event_message

TRAINING = {"epochs": 2, "batch_size": 16, "device": "cpu", "seed": 0, "lr": 0.02}


def tiny(**training) -> dict:
    doc = graphs.mlp(in_shape=(5,), hidden=(16,), classes=2)  # [5] on purpose: the run fits it to the data
    project = Project(
        document=doc, dataset={"name": "circle", "options": {"n": 200}}, training={**TRAINING, **training}
    )
    return project_to_json(project)


class Counting:
    """A control that stops after ``stop_after`` steps and counts the pause checks."""

    def __init__(self, stop_after: int) -> None:
        self.stop_after, self.checks = stop_after, 0

    def wait_if_paused(self) -> None:
        self.checks += 1

    def should_stop(self) -> bool:
        return self.checks >= self.stop_after


def test_run_project_sends_started_first_and_records_the_snapshot(tmp_path):
    events = []
    data = tiny()
    summary = run_project(data, None, {"epochs": 3}, [events.append], run_dir=tmp_path / "run", probes=False)
    assert isinstance(events[0], StartedEvent)
    started = events[0]
    assert started.epochs == 3 and started.steps_per_epoch == 10 and started.info["feature_shape"] == [2]
    assert started.run_dir == str(tmp_path / "run") and "dense1" in started.node_ids
    assert summary["status"] == "finished" and summary["epochs"] == 3 and summary["run"] == str(tmp_path / "run")
    assert sum(isinstance(e, EpochEvent) for e in events) == 3 and isinstance(events[-1], FinishedEvent)
    assert json.loads((tmp_path / "run" / SNAPSHOT).read_text()) == data  # the graph as given, before fitting
    assert (tmp_path / "run" / FINAL).exists()


def test_control_pauses_and_stops_between_steps(tmp_path):
    control = Counting(stop_after=7)
    events = []
    summary = run_project(tiny(epochs=50), None, {}, [events.append], control, run_dir=tmp_path / "r", probes=False)
    assert summary["status"] == "stopped" and summary["steps"] == 7 and control.checks == 7
    assert [e.step for e in events if isinstance(e, StepEvent)] == []  # log_every 10: no step event before 7


def test_shared_control_reads_the_shared_state():
    class Value:
        value = RUN

    state = Value()
    control = SharedControl(state)
    assert not control.should_stop()
    state.value = STOP
    assert control.should_stop()
    control.wait_if_paused()  # not paused: returns at once
    state.value = PAUSE
    assert not control.should_stop()


def test_a_dataset_that_cannot_load_is_reported_and_recorded(tmp_path):
    data = tiny()
    data["dataset"]["name"] = "no_such_data"
    events = []
    with pytest.raises(GraphEditError, match="no_such_data"):
        run_project(data, None, {}, [events.append], run_dir=tmp_path / "run")
    assert len(events) == 1 and isinstance(events[0], FailedEvent) and "no_such_data" in events[0].message
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["status"] == "failed"


def test_nan_is_reported_once_with_its_node(tmp_path):
    events = []
    data = tiny(lr=1e30, optimizer="sgd", momentum=0.0, epochs=3)
    with pytest.raises(TrainingError, match="NaN or infinite"):
        run_project(data, None, {}, [events.append], run_dir=tmp_path / "run", probes=False)
    failed = [e for e in events if isinstance(e, FailedEvent)]
    assert len(failed) == 1 and failed[0].node_id


def test_an_unexpected_exception_becomes_one_training_error(tmp_path):
    def broken(event):
        if isinstance(event, EpochEvent):
            raise ValueError("observer bug")

    seen = []
    with pytest.raises(TrainingError, match="ValueError: observer bug"):
        run_project(tiny(), None, {}, [seen.append, broken], run_dir=tmp_path / "run", probes=False)
    assert sum(isinstance(e, FailedEvent) for e in seen) == 1


def test_an_unsaved_project_needs_a_run_folder():
    with pytest.raises(TrainingError, match="save the project first"):
        run_project(tiny(), None, {})


def test_the_wire_messages_declare_every_field_of_their_event():
    from graphedit.training import events

    declared = {
        "started": events.StartedMessage,
        "step": events.StepMessage,
        "epoch": events.EpochMessage,
        "probe": events.ProbeMessage,
        "finished": events.FinishedMessage,
        "failed": events.FailedMessage,
    }
    for event_type, kind in events.MESSAGE_TYPES.items():
        assert declared[kind].__required_keys__ == {"type", *(f.name for f in dataclasses.fields(event_type))}, kind


def test_events_travel_as_plain_dicts():
    message = event_message(StepEvent(3, 1, 0.5, {"accuracy1": 0.75}))
    assert message == {"type": "step", "step": 3, "epoch": 1, "loss": 0.5, "metrics": {"accuracy1": 0.75}}
    started = event_message(StartedEvent({"name": "circle"}, 10, 2, "/r", ["a"]))
    assert started["type"] == "started" and started["steps_per_epoch"] == 10 and started["node_ids"] == ["a"]
    assert event_message(FinishedEvent({})) is None  # the worker sends "finished" itself, with the run folder
