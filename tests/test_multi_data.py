"""Datasets with several inputs and targets: named arrays bind to the Input/Target nodes of those names."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from graphkit import build

from graphedit.errors import GraphEditError, TrainingError
from graphedit.model.project import Project, project_to_json
from graphedit.training.binding import name_problems
from graphedit.training.datasets import DatasetError, load_dataset
from graphedit.training.events import EpochEvent
from graphedit.training.session import run_project

TRAINING = {"epochs": 6, "batch_size": 32, "device": "cpu", "seed": 0, "lr": 0.01, "optimizer": "adam"}


def two_input_graph(a: str = "a", b: str = "b", target: str = "t"):
    """y = f(a, b): the two inputs concatenated, an MLP, mean squared error against the target."""
    return build(
        [
            (a, "Input", {"shape": [4]}),
            (b, "Input", {"shape": [4]}),
            (target, "Target", {"shape": [1], "dtype": "float32"}),
            ("concat1", "Concat", {}),
            ("dense1", "Dense", {"units": 32}),
            ("relu1", "ReLU", {}),
            ("dense2", "Dense", {"units": 1}),
            ("mse1", "MSE", {}),
        ],
        [f"{a} -> concat1.in1", f"{b} -> concat1.in2", "concat1 -> dense1", "dense1 -> relu1", "relu1 -> dense2"]
        + ["dense2 -> mse1.pred", f"{target} -> mse1.target"],
    )


def save_pairs(path, n: int = 400, **extra) -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, n, 4)).astype(np.float32)
    np.savez(path, a=a, b=b, t=(2 * a[:, :1] - b[:, 1:2]).astype(np.float32), **extra)  # needs both inputs


def test_a_two_input_npz_dataset_trains(tmp_path):
    save_pairs(tmp_path / "pairs.npz")
    dataset = {"name": "numpy", "options": {"path": "pairs.npz", "inputs": ["a", "b"], "targets": ["t"]}}
    project = Project(document=two_input_graph(), dataset=dataset, training=TRAINING)
    epochs: list[EpochEvent] = []
    summary = run_project(
        project_to_json(project),
        tmp_path / "p.gproj",
        observers=[lambda e: isinstance(e, EpochEvent) and epochs.append(e)],
    )
    assert summary["status"] == "finished"
    first, last = epochs[0].val["loss"], epochs[-1].val["loss"]
    assert last < 0.5 * first, (first, last)


def test_bind_maps_data_names_to_nodes_of_other_names(tmp_path):
    save_pairs(tmp_path / "pairs.npz", n=64)
    dataset = {
        "name": "numpy",
        "options": {"path": "pairs.npz", "inputs": ["a", "b"], "targets": ["t"]},
        "bind": {"a": "left", "b": "right", "t": "label"},
    }
    project = Project(document=two_input_graph("left", "right", "label"), dataset=dataset, training=TRAINING)
    summary = run_project(project_to_json(project), tmp_path / "p.gproj", {"epochs": 1})
    assert summary["status"] == "finished"
    data = load_dataset(dataset, tmp_path)
    assert set(data.train.X) == {"left", "right"} and set(data.train.y) == {"label"}
    assert data.info.inputs["left"]["name"] == "a"


def test_a_name_without_a_node_and_a_node_without_data_are_one_line(tmp_path):
    save_pairs(tmp_path / "pairs.npz", n=64)
    dataset = {"name": "numpy", "options": {"path": "pairs.npz", "inputs": ["a", "b"], "targets": ["t"]}}
    project = Project(document=two_input_graph("a", "other", "t"), dataset=dataset, training=TRAINING)
    with pytest.raises(TrainingError) as caught:
        run_project(project_to_json(project), tmp_path / "p.gproj")
    message = str(caught.value)
    assert "\n" not in message
    assert "'b' has no Input node of that name" in message and "Input node 'other' gets no data" in message
    assert "Fix:" in message
    assert name_problems(["a", "b"], ["t"], {"a": {}, "b": {}}, {"t": {}}, "x") is None


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"inputs": ["a", "missing"], "targets": ["t"]}, "pairs.npz has no array named 'missing'"),
        ({"inputs": ["a", "b"], "targets": ["a"]}, "named both an input and a target"),
        ({"inputs": ["a", "short"], "targets": ["t"]}, "differ in length"),
        ({"inputs": ["a", "objects"], "targets": ["t"]}, "holds Python objects"),
        ({"inputs": [], "targets": ["t"]}, "option inputs is empty"),
    ],
)
def test_a_bad_npz_is_one_line_naming_file_and_array(tmp_path, options, needle):
    save_pairs(
        tmp_path / "pairs.npz", n=16, short=np.zeros((3, 4), np.float32), objects=np.array([{}, 1], dtype=object)
    )
    with pytest.raises(DatasetError) as caught:
        load_dataset({"name": "numpy", "options": {"path": "pairs.npz", **options}}, tmp_path)
    assert needle in str(caught.value) and "\n" not in str(caught.value) and "Fix:" in str(caught.value)


def test_bind_must_map_names_to_distinct_nodes():
    with pytest.raises(GraphEditError, match="more than one name"):
        load_dataset({"name": "digit_pairs", "bind": {"left": "x", "right": "x"}})


def test_digit_pairs_show_the_same_digit_about_as_often_as_asked():
    data = load_dataset({"name": "digit_pairs", "options": {"n": 400, "same": 0.5}, "standardize": False})
    assert data.info.inputs is not None and set(data.info.inputs) == {"left", "right"}
    assert data.info.inputs["left"]["shape"] == [1, 8, 8] and data.info.targets["same"]["shape"] == [1]
    same = data.train.y["same"]
    assert 0.35 < float(same.mean()) < 0.65
    left, right = data.train.X["left"], data.train.X["right"]
    identical = (left == right).flatten(1).all(1)
    assert not bool(identical[same[:, 0] == 0].any())  # different digits are different images
    assert float(left.max()) <= 1.0 and float(left.min()) >= 0.0
    torch.testing.assert_close(data.train.X["left"].shape[1:], torch.Size([1, 8, 8]))


def test_check_names_data_without_a_node_in_one_line(tmp_path, capsys):
    from graphedit.cli import main
    from graphedit.model.project import save_project

    dataset = {"name": "digit_pairs", "bind": {"right": "second"}}
    graph = two_input_graph("left", "right", "same")  # 'right' is bound to 'second', which does not exist
    path = save_project(Project(document=graph, dataset=dataset), tmp_path / "pairs.gproj")
    assert main(["check", str(path)]) == 1
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("error:")]
    assert len(lines) == 1
    assert "'right' (bound to 'second') has no Input node" in lines[0] and "Input node 'right' gets no data" in lines[0]
    assert main(["check", str(path), "--json"]) == 1
    assert "gets no data" in json.loads(capsys.readouterr().out)["dataset_error"]
    one_input = save_project(Project(document=graph, dataset={"name": "circle"}), tmp_path / "circle.gproj")
    assert main(["check", str(one_input)]) == 1
    out = capsys.readouterr().out
    assert "feeds one Input node" in out and "'right' would get no data" in out


def test_csv_column_groups_feed_several_inputs(tmp_path):
    rng = np.random.default_rng(1)
    rows = rng.normal(size=(120, 3))
    colour = rng.choice(["red", "blue"], 120)
    label = (rows[:, 0] + (colour == "red") > 0.5).astype(int)
    lines = ["x1,x2,x3,colour,label"] + [
        f"{a:.4f},{b:.4f},{c:.4f},{k},{t}" for (a, b, c), k, t in zip(rows, colour, label)
    ]
    (tmp_path / "table.csv").write_text("\n".join(lines) + "\n")
    options = {"path": "table.csv", "groups": ["numbers=x1|x2|x3", "kind=colour"], "target": "label"}
    data = load_dataset({"name": "csv", "options": options}, tmp_path)
    assert {k: v["shape"] for k, v in data.info.inputs.items()} == {"numbers": [3], "kind": [2]}  # colour one-hot
    assert data.info.targets["label"]["dtype"] == "int64" and data.info.num_classes == 2
    graph = build(
        [
            ("numbers", "Input", {}),
            ("kind", "Input", {}),
            ("label", "Target", {}),
            ("concat1", "Concat", {}),
            ("dense1", "Dense", {"units": 2}),
            ("ce", "SoftmaxCrossEntropy", {}),
        ],
        [
            "numbers -> concat1.in1",
            "kind -> concat1.in2",
            "concat1 -> dense1",
            "dense1 -> ce.pred",
            "label -> ce.target",
        ],
    )
    project = Project(document=graph, dataset={"name": "csv", "options": options}, training=TRAINING)
    summary = run_project(project_to_json(project), tmp_path / "p.gproj", {"epochs": 2})
    assert summary["status"] == "finished"
    with pytest.raises(DatasetError, match="not 'name=column1\\|column2'"):
        load_dataset({"name": "csv", "options": {**options, "groups": ["numbers"]}}, tmp_path)
    with pytest.raises(DatasetError, match="name the target column too"):
        load_dataset({"name": "csv", "options": {**options, "target": ""}}, tmp_path)
