"""One option schema (graphedit.nodes.options): ranges, log scale, choices, nested scopes, and what is made from
the declarations (defaults, checks, the JSON Schema, the format doc's table, the flags of graphedit train)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import jsonschema
import pytest

from graphedit.errors import ParamError, TrainingError
from graphedit.model.project_schema import DOC_PATH, REGENERATE, SCHEMA_PATH, doc_text, schema_text
from graphedit.model.project_settings import DEFAULT_TRAINING, SettingError, check_training
from graphedit.model.training_options import TRAINING_OPTIONS
from graphedit.nodes.options import Option
from graphedit.training.datasets import DatasetError, Opt, option_value
from graphedit.training.settings import TrainSettings

ROOT = Path(__file__).resolve().parents[1]


def test_a_range_is_checked_with_the_callers_error_and_label():
    units = Option("units", "int", 32, min=1, max=4096)
    assert units.coerce(3.0) == 3 and isinstance(units.coerce(3.0), int)
    with pytest.raises(ParamError, match=r"node dense1: parameter 'units' is 0, below its minimum 1\. Fix: use"):
        units.coerce(0, "node dense1: ")
    with pytest.raises(DatasetError, match=r"dataset 'circle': option 'units' is 5000, above its maximum 4096"):
        option_value(units, 5000, "circle")
    with pytest.raises(ParamError, match="must be a whole number, not 2.5"):
        units.coerce(2.5)
    lr = Option("lr", "float", 0.001, min=0.0, min_open=True)
    with pytest.raises(SettingError, match=r"training\.lr is 0\.0; it must be above 0\. Fix: use a value > 0"):
        lr.coerce(0.0, error=SettingError, label="training.lr")
    padding = Option("padding", "int", 0, allow=("same", "valid"))
    assert padding.coerce("same") == "same"
    with pytest.raises(ParamError, match="or one of same, valid"):
        padding.coerce("wide")


def test_a_log_scale_needs_a_positive_range_and_is_described():
    lr = Option("lr", "float", 0.001, min=0.0, min_open=True, log=True)
    assert lr.range_text() == "> 0, log scale"
    assert lr.json_schema() == {"type": "number", "exclusiveMinimum": 0}
    with pytest.raises(ValueError, match="log scale"):
        Option("bias", "float", 0.0, log=True)
    with pytest.raises(ValueError, match="log scale"):
        Option("on", "bool", False, min=1, log=True)


def test_choices_and_open_choices():
    optimizer = Option("optimizer", "choice", "adam", choices=("sgd", "adam"), open=True)
    assert optimizer.coerce("lion", strict=False) == "lion"  # a newer GraphEdit's project still opens
    with pytest.raises(ParamError, match="must be one of sgd, adam; got 'lion'"):
        optimizer.coerce("lion")
    with pytest.raises(ParamError, match="must be one of"):
        optimizer.coerce("", strict=False)
    closed = Option("mode", "choice", "a", choices=("a", "b"))
    assert closed.json_schema() == {"enum": ["a", "b"]} and closed.range_text() == "`a`, `b`"
    with pytest.raises(ValueError, match="needs its choices"):
        Option("mode", "choice", "a")


def test_a_nested_scope_fills_checks_and_keeps():
    block = Option(
        "block",
        "scope",
        None,
        options=(Option("width", "int", 16, min=1), Option("act", "choice", "relu", choices=("relu", "gelu"))),
    )
    assert block.defaults() == {"width": 16, "act": "relu"}
    assert block.coerce({"width": 8.0, "later": 1}) == {"width": 8, "act": "relu", "later": 1}
    with pytest.raises(ParamError, match=r"block\.width is 0, below its minimum 1"):
        block.coerce({"width": 0}, label="block")
    with pytest.raises(ParamError, match=r'must be an object such as \{"width": 16, "act": "relu"\}'):
        block.coerce([1])
    schema = block.json_schema()
    assert schema["properties"]["width"] == {"type": "integer", "minimum": 1}
    jsonschema.validate({"width": 3, "act": "gelu"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"width": 0}, schema)


def test_a_dataset_option_takes_its_kind_from_its_default():
    assert [Opt(1).kind, Opt(0.5).kind, Opt(True).kind, Opt("").kind, Opt([]).kind] == [
        "int",
        "float",
        "bool",
        "str",
        "names",
    ]
    assert Opt("a", choices=("a", "b")).kind == "choice"
    names = Opt([], "columns")
    assert names.coerce("a, b") == ["a", "b"] and names.defaults() is not names.default


def test_training_defaults_and_checks_come_from_the_declarations():
    stored = [o.name for o in TRAINING_OPTIONS if o.stored]
    assert list(DEFAULT_TRAINING) == stored  # the saved files' key order
    assert TrainSettings().to_dict() == {o.name: o.defaults() for o in TRAINING_OPTIONS}
    with pytest.raises(SettingError, match=r"training\.early_stopping\.patience is 0, below its minimum 1"):
        check_training({"early_stopping": {"enabled": True, "patience": 0}})
    assert check_training({"optimizer": "lion"})["optimizer"] == "lion"  # kept; the run refuses it:
    with pytest.raises(TrainingError, match="training setting 'optimizer' must be one of sgd, adam"):
        TrainSettings.from_dict({"optimizer": "lion"})
    assert TrainSettings.from_dict({"device": "cuda:1"}).device == "cuda:1"
    with pytest.raises(TrainingError, match="device 'tpu' is unknown"):
        TrainSettings.from_dict({"device": "tpu"})


def test_the_shipped_schema_and_format_doc_are_current():
    text = SCHEMA_PATH.read_text(encoding="utf-8")
    assert text == schema_text(text), f"project.schema.json is stale: run {REGENERATE}"
    doc = (ROOT / DOC_PATH).read_text(encoding="utf-8")
    assert doc == doc_text(doc), f"{DOC_PATH} is stale: run {REGENERATE}"
    schema = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    training = schema["properties"]["training"]["properties"]
    assert set(training) == {o.name for o in TRAINING_OPTIONS}
    assert training["lr"]["exclusiveMinimum"] == 0 and training["early_stopping"]["properties"]["patience"]


def test_the_train_commands_setting_flags_come_from_the_declarations():
    from graphedit.commands.train import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    flagged = [o for o in TRAINING_OPTIONS if o.flag]
    args = parser.parse_args(["p.gproj", "--batch-size", "8", "--lr", "1e-3", "--compile"])
    assert args.batch_size == 8 and args.lr == 0.001 and args.compile is True and args.epochs is None
    actions = {a.dest: a for a in parser._actions}
    for option in flagged:
        assert actions[option.name].help.startswith(option.doc.replace("`", ""))


def test_a_setting_declared_once_reaches_the_trainer_the_command_line_and_the_run_record(tmp_path, capsys):
    """warmup_epochs is one declaration in training_options.py (and the scheduler's code that reads it)."""
    import graphs

    from graphedit.cli import main
    from graphedit.model.project import Project, save_project
    from graphedit.training.runs import read_metrics, runs_folder

    doc = graphs.mlp(in_shape=(2,), hidden=(8,), classes=2)
    training = {"epochs": 4, "batch_size": 40, "lr": 0.04, "device": "cpu", "seed": 0}
    path = save_project(
        Project(document=doc, dataset={"name": "circle", "options": {"n": 160}}, training=training),
        tmp_path / "circle.gproj",
    )
    assert main(["train", str(path), "--quiet", "--warmup-epochs", "3"]) == 0
    capsys.readouterr()
    run = next(runs_folder(path).glob("*/settings.json")).parent
    assert json.loads((run / "settings.json").read_text())["training"]["warmup_epochs"] == 3
    assert [round(row["lr"], 4) for row in read_metrics(run)] == [0.01, 0.02, 0.03, 0.04]
    with pytest.raises(SettingError, match=r"training\.warmup_epochs is -1, below its minimum 0"):
        check_training({"warmup_epochs": -1})


def test_a_sweep_of_a_training_setting_is_checked_by_its_declaration():
    from graphedit.model.experiment import SweepError, parse_param
    from graphedit.training.sweep_space import check_params

    check_params([parse_param("lr=1e-4..1e-1:log"), parse_param("warmup_epochs=0,2")], {"graph": {"nodes": []}})
    with pytest.raises(SweepError, match=r"sweep 'momentum': training setting 'momentum' is 2\.0?, above its max"):
        check_params([parse_param("momentum=0.5,2")], {"graph": {"nodes": []}})
    with pytest.raises(SweepError, match="'early_stopping' is not a training setting"):
        check_params([parse_param("early_stopping=1,2")], {"graph": {"nodes": []}})


# the training section of project.schema.json as written by hand before it was generated (format version 2)
HAND_WRITTEN_TRAINING = {
    "optimizer": {"type": "string", "minLength": 1},
    "lr": {"type": "number", "exclusiveMinimum": 0},
    "momentum": {"type": "number", "minimum": 0, "maximum": 1},
    "nesterov": {"type": "boolean"},
    "weight_decay": {"type": "number", "minimum": 0},
    "schedule": {"type": "string", "minLength": 1},
    "batch_size": {"type": "integer", "minimum": 1},
    "epochs": {"type": "integer", "minimum": 1},
    "clip_grad": {"type": "number", "minimum": 0},
    "early_stopping": {
        "type": "object",
        "properties": {"enabled": {"type": "boolean"}, "patience": {"type": "integer", "minimum": 1}},
    },
    "seed": {"type": "integer", "minimum": 0},
    "device": {"type": "string", "minLength": 1},
    "amp": {"type": "boolean"},
    "channels_last": {"enum": ["auto", "on", "off"]},  # a boolean until format version 3
    "threads": {"type": "integer", "minimum": 0},
}


def _undocumented(schema):
    return {k: _undocumented(v) if isinstance(v, dict) else v for k, v in schema.items() if k != "description"}


def test_the_generated_schema_takes_every_stored_setting_as_the_hand_written_one_did():
    training = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))["properties"]["training"]["properties"]
    assert {k: _undocumented(training[k]) for k in DEFAULT_TRAINING} == HAND_WRITTEN_TRAINING
