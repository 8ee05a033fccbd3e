"""Fine-tuning an imported network with the user's own pretrained weights: a new head, the backbone frozen."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from graphedit.cli import main
from graphedit.errors import WeightsError
from graphedit.importers import import_source
from graphedit.importers.pretrained import read_pretrained
from graphedit.model.project import load_project, save_project
from graphedit.training.runs import FINAL
from graphedit.training.session import run_project

BACKBONE = ("fc1", "bn1", "fc2")
NET = textwrap.dedent(
    """
    import torch
    from torch import nn

    class Net(nn.Module):
        input_shape = (2,)

        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(2, 16)
            self.bn1 = nn.BatchNorm1d(16)
            self.fc2 = nn.Linear(16, 16)
            self.head = nn.Linear(16, 3)

        def forward(self, x):
            return self.head(torch.relu(self.fc2(torch.relu(self.bn1(self.fc1(x))))))
    """
)


class Payload:
    """Any object beyond tensors and plain containers: torch.load(weights_only=True) refuses to build it."""


def pretrained(tmp_path):
    """The module's file and 'pretrained' weights: seeded, with batch-norm statistics of their own."""
    (tmp_path / "net.py").write_text(NET)
    torch.manual_seed(7)
    namespace: dict = {}
    exec(compile(NET, "net.py", "exec"), namespace)  # the test's own source, to make the weights
    model = namespace["Net"]()
    model.bn1.running_mean.uniform_(-1, 1)
    model.bn1.running_var.uniform_(0.5, 2)
    state = model.state_dict()
    save_file({k: v.contiguous() for k, v in state.items()}, str(tmp_path / "pre.safetensors"))
    return state


def test_a_frozen_pretrained_backbone_keeps_its_weights_while_a_new_head_learns(tmp_path):
    state = pretrained(tmp_path)
    result = import_source(f"{tmp_path / 'net.py'}:Net", tmp_path / "net.gproj", weights=tmp_path / "pre.safetensors")
    assert result.notes[0].startswith(f"{len(state)} of {len(state)} tensors loaded from pre.safetensors")
    project = load_project(tmp_path / "net.gproj")
    doc = project.document
    imported = load_file(str(tmp_path / project.weights["path"]))
    torch.testing.assert_close(imported["bn1.running_mean"], state["bn1.running_mean"], rtol=0, atol=0)
    # a new head for a 2-class task: the 3-unit head goes, a Dense 2, a Target and a loss come
    output = next(n for n in doc.node_ids() if doc.node_type(n).role == "output")
    old_head = doc.in_edges(output)[0].src
    feed = doc.in_edges(old_head)[0]
    doc.remove_node(old_head)
    doc.add_node("Dense", {"units": 2}, node_id="new_head")
    doc.add_node("Target", {}, node_id="label")
    doc.add_node("SoftmaxCrossEntropy", {}, node_id="ce")
    doc.connect(feed.src, feed.src_port, "new_head", "x")
    doc.connect("new_head", "y", "ce", "pred")
    doc.connect("new_head", "y", output, "x")
    doc.connect("label", "y", "ce", "target")
    for node_id in BACKBONE:
        doc.set_training(node_id, frozen=True)
    project.dataset = {"name": "circle", "options": {"n": 256, "noise": 0.1}, "split": {"val": 0.25, "test": 0.0}}
    project.training.update({"start_from": "weights", "epochs": 4, "lr": 0.02, "batch_size": 32, "device": "cpu"})
    path = save_project(project, tmp_path / "finetune.gproj")
    assert main(["check", str(path)]) == 0  # the weights lack the new head: fine when starting from them
    project.training["start_from"] = "init"
    assert main(["check", str(save_project(project, tmp_path / "scratch.gproj"))]) == 1
    started = []
    summary = run_project(
        json.loads(path.read_text()), path, observers=[started.append], point_project=True, probes=False
    )
    assert summary["status"] == "finished"
    notes = started[0].info["notes"]
    assert any("start from their init" in n and "new_head" in n for n in notes), notes
    final = load_file(summary["run"] + "/" + FINAL)
    for key, value in imported.items():
        if key.split(".")[0] in BACKBONE:
            assert torch.equal(final[key], value), key  # bit-identical, running statistics included
    assert summary["val"]["loss"] < 0.69  # the new head learned (chance is ln 2)

    # step two: unfreeze, the backbone ten times slower; it starts from step one's weights and now moves
    again = load_project(path)
    for node_id in BACKBONE:
        again.document.set_training(node_id, frozen=False, lr_scale=0.1)
    again.training["epochs"] = 2
    save_project(again, path)
    summary2 = run_project(json.loads(path.read_text()), path, probes=False)
    second = load_file(summary2["run"] + "/" + FINAL)
    assert not torch.equal(second["fc1.weight"], final["fc1.weight"])
    assert torch.equal(load_file(str(tmp_path / again.weights["path"]))["new_head.weight"], final["new_head.weight"])


def test_a_pt_file_is_read_only_when_confirmed_and_only_its_tensors(tmp_path):
    state = pretrained(tmp_path)
    torch.save(state, tmp_path / "pre.pt")
    with pytest.raises(WeightsError) as caught:
        read_pretrained(tmp_path / "pre.pt")
    message = str(caught.value)
    assert "--allow-pt" in message and "safetensors" in message and "\n" not in message
    loaded = read_pretrained(tmp_path / "pre.pt", allow_pt=True)
    assert set(loaded) == set(state) and torch.equal(loaded["fc1.weight"], state["fc1.weight"])

    torch.save({"fc1.weight": state["fc1.weight"], "extra": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(WeightsError, match="refused it"):
        read_pretrained(tmp_path / "evil.pt", allow_pt=True)


def test_onnx_initialisers_are_pretrained_weights(tmp_path):
    state = pretrained(tmp_path)
    namespace: dict = {}
    exec(compile(NET, "net.py", "exec"), namespace)
    model = namespace["Net"]()
    model.load_state_dict(state)
    model.eval()
    torch.onnx.export(model, (torch.randn(2, 2),), str(tmp_path / "net.onnx"), dynamo=False)
    tensors = read_pretrained(tmp_path / "net.onnx")
    assert torch.equal(tensors["fc1.weight"], state["fc1.weight"])


def test_weights_that_do_not_fit_are_one_line(tmp_path):
    pretrained(tmp_path)
    save_file({"fc1.weight": torch.zeros(5, 5)}, str(tmp_path / "bad.safetensors"))
    with pytest.raises(WeightsError, match=r"'fc1.weight' has shape \[5, 5\] but the model's has \[16, 2\]"):
        import_source(f"{tmp_path / 'net.py'}:Net", tmp_path / "n.gproj", weights=tmp_path / "bad.safetensors")
    save_file({"other": torch.zeros(1)}, str(tmp_path / "none.safetensors"))
    with pytest.raises(WeightsError, match="none of its 1 tensor names"):
        import_source(f"{tmp_path / 'net.py'}:Net", tmp_path / "n.gproj", weights=tmp_path / "none.safetensors")


def test_the_fine_tuning_example_keeps_its_frozen_backbone_then_fine_tunes_it_slower(tmp_path):
    """Lesson 7d: the backbone trained in 7c, frozen under a new head, then unfrozen with lr scale 0.1."""
    projects = Path(__file__).resolve().parents[1] / "projects"
    for name in ("07d_finetune_parity.gproj", "07c_pretrain_digits.safetensors"):
        shutil.copy(projects / name, tmp_path / name)
    path = tmp_path / "07d_finetune_parity.gproj"
    project = load_project(path)
    frozen = [n for n in project.document.node_ids() if project.document.is_frozen(n)]
    assert sorted(frozen) == ["bn1", "conv1", "fc1"]
    pretrained = load_file(str(tmp_path / "07c_pretrain_digits.safetensors"))
    overrides = {"device": "cpu", "epochs": project.meta["target"]["epochs"]}
    summary = run_project(json.loads(path.read_text()), path, overrides, probes=False, point_project=True)
    assert summary["val"]["accuracy"] >= project.meta["target"]["value"]
    first = load_file(summary["run"] + "/" + FINAL)
    backbone = [k for k in first if k.split(".")[0] in frozen]
    assert {k.split(".")[0] for k in backbone} == set(frozen) and "bn1.running_mean" in backbone
    for key in backbone:
        assert torch.equal(first[key], pretrained[key]), key  # bit-identical, batch-norm statistics included
    assert "parity_head.weight" not in pretrained

    # phase two: the backbone unfrozen, ten times slower than the head; it starts from phase one's weights
    again = load_project(path)
    assert again.weights["path"] != "07c_pretrain_digits.safetensors"  # the project now points at phase one
    for node_id in frozen:
        again.document.set_training(node_id, frozen=False, lr_scale=0.1)
    save_project(again, path)
    summary2 = run_project(json.loads(path.read_text()), path, {"device": "cpu", "epochs": 2}, probes=False)
    second = load_file(summary2["run"] + "/" + FINAL)
    assert summary2["val"]["accuracy"] >= project.meta["target"]["value"]
    moved = {k: float((second[k] - first[k]).abs().max()) for k in ("conv1.weight", "fc1.weight", "parity_head.weight")}
    assert moved["conv1.weight"] > 0 and moved["fc1.weight"] > 0, moved
