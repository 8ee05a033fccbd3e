"""Sweeps on Optuna: parameters parsed and checked, trials recorded in the study and the runs, pruning, resuming."""

import json
import shutil
from pathlib import Path

import pytest

from graphedit.commands.sweep import results_table
from graphedit.model.project import load_project, project_to_json
from graphedit.training.sweep import Sweep, SweepConfig, study_rows
from graphedit.training.sweep_space import SweepError, apply_values, check_params, parse_param
from graphedit.training.sweep_worker import TRIAL_FILE

PROJECTS = Path(__file__).resolve().parent.parent / "projects"


def test_parse_lists_and_ranges():
    units = parse_param("dense1.units=16,32,64")
    assert (units.section, units.owner, units.key, units.choices) == ("node", "dense1", "units", (16, 32, 64))
    lr = parse_param("lr=1e-4..1e-1:log")
    assert (lr.section, lr.key, lr.low, lr.high, lr.log, lr.integer) == ("training", "lr", 1e-4, 0.1, True, False)
    assert parse_param("batch_size=8..64").integer
    assert parse_param("optimizer=adam,sgd").choices == ("adam", "sgd")
    assert parse_param("training.nesterov=true,false").choices == (True, False)
    noise = parse_param("dataset.noise=0..0.3")
    assert (noise.section, noise.key) == ("dataset", "noise")
    dist = lr.distribution()
    assert dist.log and dist.low == 1e-4


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("lr", "NAME=VALUES"),
        ("lr=0.1..0.01", "is not below"),
        ("lr=0..1:log", "log scale"),
        ("units=a..b", "two numbers"),
        ("dense1.units=4,8:log", "ranges only"),
        ("lr=nan,1", "finite"),
    ],
)
def test_bad_parameter_text_is_one_clear_error(text, needle):
    with pytest.raises(SweepError, match=needle):
        parse_param(text)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("dense9.units=4,8", "no node 'dense9'"),
        ("dense1.widht=4,8", "has no parameter 'widht'"),
        ("learning_rate=0.1,0.2", "not a training setting"),
        ("dataset.colour=1,2", "no option 'colour'"),
    ],
)
def test_parameters_must_name_something_in_the_project(text, needle):
    project = project_to_json(load_project(PROJECTS / "residual_mlp.gproj"))
    with pytest.raises(SweepError, match=needle):
        check_params([parse_param(text)], project)


def test_apply_values_changes_a_copy():
    project = project_to_json(load_project(PROJECTS / "residual_mlp.gproj"))
    params = [parse_param("dense1.units=8,16"), parse_param("lr=0.1,0.2"), parse_param("dataset.noise=0,0.2")]
    out = apply_values(project, params, {"dense1.units": 8, "lr": 0.2, "dataset.noise": 0.2})
    dense1 = next(n for n in out["graph"]["nodes"] if n["id"] == "dense1")
    assert dense1["params"]["units"] == 8 and out["training"]["lr"] == 0.2
    assert out["dataset"]["options"]["noise"] == 0.2
    assert next(n for n in project["graph"]["nodes"] if n["id"] == "dense1")["params"]["units"] == 32


def _small_project(tmp_path: Path) -> tuple[dict, Path]:
    path = tmp_path / "mlp.gproj"
    shutil.copy(PROJECTS / "residual_mlp.gproj", path)
    project = project_to_json(load_project(path))
    project["dataset"]["options"]["n"] = 200
    project["training"].update(epochs=2, batch_size=50)
    return project, path


def _config(**changes) -> SweepConfig:
    params = [parse_param("lr=0.003,0.03,0.3"), parse_param("batch_size=25,50")]
    return SweepConfig(**{"params": params, "trials": 6, "jobs": 2, "sampler": "grid", "pruner": "none", **changes})


@pytest.mark.slow
def test_a_sweep_records_every_trial_in_the_study_and_the_runs(tmp_path):
    project, path = _small_project(tmp_path)
    seen = []
    sweep = Sweep(project, path, _config(), on_trial=seen.append)
    rows = sweep.run()
    assert len(seen) == 6 and len(rows) == 6
    assert {r.state for r in rows} == {"complete"}
    grid = {(r.params["lr"], r.params["batch_size"]) for r in rows}
    assert len(grid) == 6  # the grid sampler visited every combination once
    for row in rows:
        record = json.loads((Path(row.run) / TRIAL_FILE).read_text())
        assert record["params"] == row.params and record["trial"] == row.number
        snapshot = json.loads((Path(row.run) / "project.gproj").read_text())
        assert snapshot["training"]["lr"] == row.params["lr"]
        assert snapshot["training"]["batch_size"] == row.params["batch_size"]
    assert Path(rows[0].run).parent == path.with_name("mlp.runs")
    best = sweep.study.best_trial
    assert best.value == min(r.value for r in rows)
    applied = apply_values(project, _config().params, best.params)
    assert applied["training"]["lr"] == best.params["lr"]
    table = results_table(rows, ["lr", "batch_size"], "minimize").splitlines()
    assert table[0].split()[:3] == ["trial", "state", "value"] and table[1].split()[0] == str(best.number)


@pytest.mark.slow
def test_a_pruned_trial_is_marked_pruned(tmp_path, monkeypatch):
    import optuna

    project, path = _small_project(tmp_path)
    monkeypatch.setattr(Sweep, "_pruner", lambda self: optuna.pruners.ThresholdPruner(upper=1e-9))
    rows = Sweep(project, path, _config(trials=2, jobs=1, sampler="random")).run()
    assert [r.state for r in rows] == ["pruned", "pruned"]
    states = {
        t.state.name for t in optuna.load_study(study_name="mlp", storage=f"sqlite:///{tmp_path}/mlp.sweep.db").trials
    }
    assert states == {"PRUNED"}


@pytest.mark.slow
def test_a_stopped_sweep_resumes_to_the_requested_count(tmp_path):
    project, path = _small_project(tmp_path)
    config = _config(sampler="random", trials=4)
    first = None

    def stop_after_two(row):
        if sum(r.state == "complete" for r in study_rows(first.study)) >= 2:
            first.request_stop()

    first = Sweep(project, path, config, on_trial=stop_after_two)
    rows = first.run()
    done = [r for r in rows if r.state == "complete"]
    interrupted = [r for r in rows if r.state == "failed" and r.message == "interrupted"]
    assert len(done) == 2 and len(interrupted) == 1  # the second job's trial was running when the sweep stopped
    assert first.remaining() == 2
    rows = Sweep(project, path, config).run()
    assert sum(r.state == "complete" for r in rows) == 4
    rerun = [r for r in rows if r.params == interrupted[0].params and r.state == "complete"]
    assert rerun, "the interrupted trial's values are run again"
