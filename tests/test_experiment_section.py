"""The project's optional `experiment` section: one syntax with `graphedit sweep --param`, saved only when set,
checked on load with one-line errors, and the sweep `graphedit sweep PROJECT` runs without --param."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from _project_helpers import assert_bad, good_data, tiny_registry, write

from graphedit.commands.sweep import add_arguments, config_for
from graphedit.model.experiment import DEFAULT_EXPERIMENT, experiment_params, parse_param
from graphedit.model.project import SCHEMA_PATH, load_project, project_from_json, project_to_json, save_project
from graphedit.training.sweep_space import SweepError, check_params

PROJECTS = Path(__file__).resolve().parent.parent / "projects"


@pytest.mark.parametrize(
    "text", ["dense1.units=16,32,64", "lr=0.0001..0.1:log", "batch_size=8..64", "optimizer=adam,sgd", "nesterov=true"]
)
def test_values_text_reads_back_as_the_same_parameter(text):
    param = parse_param(text)
    assert parse_param(f"{param.name}={param.values_text()}") == param


def test_the_section_is_left_out_until_it_declares_something_and_then_round_trips(tmp_path):
    registry = tiny_registry()
    project = project_from_json(good_data(), "memory", registry)
    assert "experiment" not in project_to_json(project)
    project.experiment["params"]["dense1.units"] = "2,3,4"
    project.experiment["params"]["lr"] = "1e-4..1e-1:log"
    project.experiment.update(sampler="random", trials=4, objective="val.accuracy", direction="maximize")
    path = save_project(project, tmp_path / "swept.gproj")
    data = json.loads(path.read_text(encoding="utf-8"))
    keys = list(data)
    assert keys.index("experiment") == keys.index("training") + 1
    jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    loaded = load_project(path, registry=registry)
    assert loaded.experiment == project.experiment
    assert [p.name for p in experiment_params(loaded.experiment)] == ["dense1.units", "lr"]
    assert experiment_params(loaded.experiment)[1].log


@pytest.mark.parametrize(
    ("section", "needles"),
    [
        ({"storage": "sqlite:///elsewhere.db"}, ("experiment.storage", "--storage")),
        ({"trails": 4}, ("unknown key 'trails'", "'experiment'")),
        ({"params": {"lr": "0.1..0.01"}}, ("experiment.params", "is not below")),
        ({"params": {"lr": 0.1}}, ("experiment.params must be an object of NAME: VALUES text",)),
        ({"sampler": "bayes"}, ("experiment", "sampler 'bayes'")),
        ({"trials": 0}, ("trials is 0",)),
        ({"objective": "loss"}, ("objective 'loss' is not SPLIT.METRIC",)),
        ([], ("'experiment' must be an object",)),
    ],
)
def test_a_bad_section_is_one_line_naming_the_file_and_key(tmp_path, section, needles):
    data = good_data() | {"experiment": section}
    assert_bad(write(tmp_path, data), tiny_registry(), *needles)


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(["p.gproj", *argv])


def test_the_command_line_runs_the_project_sweep_unless_told_otherwise():
    experiment = {**DEFAULT_EXPERIMENT, "params": {"dense1.units": "8,16"}, "trials": 3, "sampler": "grid"}
    config = config_for(_args(), experiment)
    assert [p.name for p in config.params] == ["dense1.units"] and config.trials == 3 and config.sampler == "grid"
    config = config_for(_args("--param", "lr=0.01,0.1", "--trials", "5"), experiment)
    assert [p.name for p in config.params] == ["lr"] and config.trials == 5 and config.sampler == "grid"
    config = config_for(_args("--objective", "val.accuracy"), experiment)
    assert config.direction == "maximize"
    with pytest.raises(SweepError, match="mark parameters for sweeping"):
        config_for(_args(), DEFAULT_EXPERIMENT).check()


def test_swept_node_values_must_be_values_the_node_takes(tmp_path):
    path = tmp_path / "mlp.gproj"
    shutil.copy(PROJECTS / "residual_mlp.gproj", path)
    project = project_to_json(load_project(path))
    check_params([parse_param("dense1.units=8,16")], project)
    with pytest.raises(SweepError, match="dense1.units.*Fix: change the values swept"):
        check_params([parse_param("dense1.units=0,8")], project)
