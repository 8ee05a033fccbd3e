"""Blocks (issue 13): definitions, instances, repeat, shared weights, nesting; parity with torch; bad input."""

from __future__ import annotations

import copy
import json

import pytest
import torch
from block_nets import TOWER, chain, node, resnet_data, siamese_data, wire
from torch import nn

from graphedit.compiler.compile import CompileError, compile_graph
from graphedit.compiler.shapes import ShapeInference
from graphedit.errors import GraphError, ProjectFileError
from graphedit.export import export_project
from graphedit.model.migrations import FORMAT, VERSION
from graphedit.model.project import SCHEMA_PATH, library_of, load_project, project_from_json, project_to_json
from graphedit.model.project import save_project as save

jsonschema = pytest.importorskip("jsonschema")


def load(data: dict) -> object:
    return project_from_json(copy.deepcopy(data), "test.gproj")


def inferred(project) -> ShapeInference:
    inference = ShapeInference(project.document)
    inference.run()
    return inference


# ------------------------------------------------------------------ parity
@pytest.fixture(scope="module")
def torchvision_models():
    from zoo_helpers import torchvision_models as models

    return models()


def test_resnet18_from_blocks_equals_torchvision_key_for_key(torchvision_models):
    project = load(resnet_data(18, classes=10, size=64))
    inference = inferred(project)
    assert inference.errors() == []
    assert len(project.document) == 14  # stem, four stages, head: the hierarchy, not 70 nodes
    reference = torchvision_models.resnet18(num_classes=10).eval()
    compiled = compile_graph(project.document, seed=0)
    ours = compiled.model.eval()
    assert list(ours.state_dict()) == list(reference.state_dict())
    keys = ours.state_dict()
    assert "layer2.0.downsample.0.weight" in keys and "layer2.1.downsample.0.weight" not in keys
    assert inference.total_params() == sum(p.numel() for p in reference.parameters())
    ours.load_state_dict(reference.state_dict())
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(ours(x), reference(x))
    assert inference.infos["layer3"].outputs["y"] == (2, 256, 4, 4)
    # a block's activations are every inner node's new tensors: layer1's 2 copies of conv1, bn1, relu1, conv2,
    # bn2, add, relu2, each 64×16×16 float32 (the switched-off downsample passes x through: nothing new)
    assert inference.infos["layer1"].activation_bytes == 2 * 7 * 64 * 16 * 16 * 4
    assert type(compiled.root.layer1[0]).__name__ == "BasicBlock"


def test_resnet50_bottlenecks_have_torchvision_keys_and_sizes(torchvision_models):
    with torch.device("meta"):
        reference = torchvision_models.resnet50(num_classes=10)
        compiled = compile_graph(load(resnet_data(50, classes=10, size=32)).document, device="meta")
    ours, theirs = compiled.model.state_dict(), reference.state_dict()
    assert list(ours) == list(theirs)
    assert all(ours[k].shape == theirs[k].shape for k in theirs)


class Tower(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.dense1, self.relu1, self.dense2 = nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dense2(self.relu1(self.dense1(x)))


class Siamese(nn.Module):
    """The torch twin: one tower called at both sites."""

    def __init__(self) -> None:
        super().__init__()
        self.tower_a = Tower()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.tower_a(a) - self.tower_a(b)


def test_siamese_pair_with_shared_weights_equals_its_torch_twin(tmp_path):
    project = load(siamese_data(shared=True))
    inference = inferred(project)
    twin = Siamese()
    assert inference.total_params() == sum(p.numel() for p in twin.parameters())
    compiled = compile_graph(project.document, seed=0)
    assert list(compiled.model.state_dict()) == list(twin.state_dict())
    compiled.model.load_state_dict(twin.state_dict())
    a, b = torch.randn(5, 6), torch.randn(5, 6)
    with torch.no_grad():
        assert torch.equal(compiled.model(a, b), twin(a, b))
        assert torch.equal(compiled.model(a, a), torch.zeros(5, 4))  # one set of weights: equal inputs, zero
    # the weights are stored once, so safetensors (which refuses tensors sharing memory) takes them
    out = export_project(project, "safetensors", tmp_path / "siamese.safetensors", initial_weights=True)
    assert out["tensors"] == len(twin.state_dict())


def test_separate_instances_have_their_own_weights():
    project = load(siamese_data(shared=False))
    compiled = compile_graph(project.document, seed=0)
    keys = list(compiled.model.state_dict())
    assert "tower_a.dense1.weight" in keys and "tower_b.dense1.weight" in keys
    a = torch.randn(3, 6)
    with torch.no_grad():
        assert not torch.equal(compiled.model(a, a), torch.zeros(3, 4))


def test_shared_instances_with_different_parameters_are_refused():
    data = siamese_data(shared=True)
    data["graph"]["nodes"][3]["params"]["units"] = 8
    with pytest.raises(CompileError, match="tower_b.*shares weights with 'tower_a'.*units"):
        compile_graph(load(data).document)


def test_shared_repeat_applies_one_copy_several_times():
    data = siamese_data(shared=True)
    tower = data["blocks"][0]["graph"]["nodes"]
    tower[3]["params"]["units"] = 6  # the tower keeps its width, so it can feed itself
    data["graph"]["nodes"][2]["params"].update(repeat=3)
    data["graph"]["nodes"][3]["params"].update(repeat=3)
    compiled = compile_graph(load(data).document, seed=0)
    assert sorted(compiled.model.state_dict()) == sorted(f"tower_a.0.{k}" for k in Tower().state_dict())
    block = compiled.root.tower_a._modules["0"]
    a = torch.randn(2, 6)
    with torch.no_grad():
        assert torch.allclose(compiled.root.tower_a(a), block(block(block(a))))


# ------------------------------------------------------------ edits inside
def test_an_edit_inside_a_definition_changes_every_instance():
    project = load(siamese_data(shared=False))
    inference = inferred(project)
    assert inference.infos["tower_a"].outputs["y"] == (2, 4) == inference.infos["tower_b"].outputs["y"]
    definition = library_of(project.document).definitions["Tower"]
    definition.document.set_param("dense2", "units", 3)
    inference.update()
    assert inference.infos["tower_a"].outputs["y"] == (2, 3) == inference.infos["tower_b"].outputs["y"]
    assert inference.infos["diff"].outputs["y"] == (2, 3)


def test_an_error_inside_shows_on_the_block_node_with_its_path():
    project = load(resnet_data(18, classes=10, size=16, width=4))
    definition = library_of(project.document).definitions["BasicBlock"]
    definition.document.set_param("conv2", "kernel", 9)
    definition.document.set_param("conv2", "padding", 0)
    inference = inferred(project)
    error = inference.infos["layer1"].error
    assert error is not None and error.path == ("0", "conv2")
    assert error.problem.startswith("0/conv2: ")
    assert inference.infos["layer2"].blocked


def test_repeat_whose_output_cannot_feed_its_input_names_the_copy():
    shrink = {
        "name": "Shrink",
        "params": [],
        "graph": {
            "nodes": [node("x", "BlockInput"), node("conv", "Conv2d", filters=4, kernel=3), node("y", "BlockOutput")],
            "edges": chain("x", "conv", "y"),
        },
    }
    nodes = [node("image", "Input", shape=[1, 4, 4]), node("stack", "Shrink", repeat=3)]
    data = {"format": FORMAT, "version": VERSION, "blocks": [shrink], "graph": {"nodes": nodes, "edges": []}}
    data["graph"]["edges"] = [wire("image", "stack")]
    error = inferred(load(data)).infos["stack"].error
    assert error is not None and error.path == ("1", "conv")
    assert "fed by copy 0: [N, 4, 2, 2]" in error.problem


def test_overrides_must_name_exposed_parameters_and_existing_copies():
    data = resnet_data(18, classes=10, size=16, width=4)
    data["graph"]["nodes"][5]["params"]["overrides"] = {"5": {"stride": 2}}
    assert "repeats 2 times" in inferred(load(data)).infos["layer1"].error.problem
    data["graph"]["nodes"][5]["params"]["overrides"] = {"0": {"strde": 2}}
    assert "strde" in inferred(load(data)).infos["layer1"].error.problem
    data["graph"]["nodes"][5]["params"]["overrides"] = {"1": {"stride": "two"}}  # checked as 'stride' declares
    problem = inferred(load(data)).infos["layer1"].error.problem
    assert "'overrides' of repeat 1.stride" in problem and "'two'" in problem


def test_a_definition_in_use_cannot_be_deleted_and_names_its_instances():
    project = load(siamese_data())
    library = library_of(project.document)
    with pytest.raises(GraphError, match="still used by tower_a, tower_b"):
        library.remove("Tower")
    project.document.remove_node("tower_a")
    project.document.remove_node("tower_b")
    library.remove("Tower")
    assert "Tower" not in library


def test_a_block_cannot_be_added_inside_itself():
    project = load(resnet_data(18, size=16, width=4))
    library = library_of(project.document)
    basic = library.definitions["BasicBlock"].document
    with pytest.raises(GraphError, match="cannot contain itself"):
        basic.add_node("BasicBlock")
    with pytest.raises(GraphError, match="Downsample.*BasicBlock already contains Downsample"):
        library.definitions["Downsample"].document.add_node("BasicBlock")


# --------------------------------------------------------------- the file
def test_a_project_with_blocks_round_trips_and_matches_the_schema(tmp_path):
    project = load(resnet_data(18, size=16, width=4))
    path = save(project, tmp_path / "resnet.gproj")
    again = load_project(path)
    assert project_to_json(again) == project_to_json(project)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert [b["name"] for b in data["blocks"]] == ["Downsample", "BasicBlock"]
    assert data["graph"]["nodes"][6]["params"]["overrides"] == {"0": {"downsample": True, "stride": 2}}
    jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    ("change", "needles"),
    [
        (lambda d: d["blocks"][0]["graph"]["nodes"].append(node("inner", "BasicBlock")), ["contain each other"]),
        (lambda d: d["blocks"][1]["graph"]["nodes"].append(node("me", "BasicBlock")), ["BasicBlock → BasicBlock"]),
        (lambda d: d["blocks"][1]["graph"]["nodes"].append(node("z", "Missing")), ["'BasicBlock'", "'Missing'"]),
        (lambda d: d["graph"]["nodes"].append(node("z", "Missing")), ["unknown type 'Missing'"]),
        (lambda d: d["blocks"][1]["params"][0]["binds"].append("conv1.nope"), ["conv1.nope", "no parameter 'nope'"]),
        (lambda d: d["blocks"][1]["params"][0]["binds"].append("ghost.filters"), ["no inner node 'ghost'"]),
        (lambda d: d["blocks"].append(copy.deepcopy(d["blocks"][0])), ["two blocks are named 'Downsample'"]),
        (lambda d: d["blocks"][0].update(name="Dense"), ["built-in node type"]),
        (lambda d: d.update(blocks={"a": 1}), ["'blocks' must be a list"]),
        (lambda d: d["blocks"][1]["params"].append({"name": "repeat", "binds": ["conv1.kernel"]}), ["'repeat'"]),
    ],
)
def test_bad_block_definitions_are_one_clear_line(change, needles):
    data = resnet_data(18, size=16, width=4)
    change(data)
    with pytest.raises(ProjectFileError) as err:
        load(data)
    message = str(err.value)
    assert message.startswith("test.gproj: ") and "\n" not in message
    for needle in needles:
        assert needle in message


def test_a_version1_file_has_no_blocks_and_the_tower_definition_stands_alone():
    data = {"format": FORMAT, "version": VERSION, "blocks": [TOWER], "graph": {"nodes": [], "edges": []}}
    project = load(data)
    assert list(library_of(project.document).definitions) == ["Tower"]
    assert project_to_json(project)["blocks"][0]["name"] == "Tower"


# ---------------------------------------------------------- train, export
@pytest.mark.slow
def test_a_block_built_resnet_learns_digits():
    from graphedit.training.datasets import load_dataset
    from graphedit.training.trainer import Trainer

    data = resnet_data(18, classes=10, size=8, width=4, channels=1)
    project = load(data)
    compiled = compile_graph(project.document, seed=0)
    digits = load_dataset({"name": "digits", "options": {"as_images": True, "size": 8}, "split": {"val": 0.2}})
    settings = {"epochs": 4, "lr": 0.01, "batch_size": 64, "device": "cpu", "probe_every": -1}
    trainer = Trainer(compiled, digits, settings, probes=False)
    before = trainer.evaluate(trainer.val_split)["loss"]
    trainer.fit()
    after = trainer.evaluate(trainer.val_split)
    assert after["loss"] < 0.7 * before


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_block_networks_export_and_match(tmp_path, fmt):
    project = load(resnet_data(18, classes=10, size=32, width=4))
    out = export_project(project, fmt, tmp_path / f"resnet.{'pt' if fmt == 'torchscript' else 'onnx'}", True)
    assert out["max_abs_diff"] < 1e-4


def test_probes_see_inside_every_copy_of_a_block():
    project = load(resnet_data(18, classes=10, size=32, width=4))
    compiled = compile_graph(project.document, seed=0).to("cpu")
    compiled.root.eval()
    seen = {}
    compiled.root.layer2[0].conv1.register_forward_hook(lambda m, i, o: seen.setdefault("conv1", o))
    compiled.root.layer2[0].downsample._modules["0"].register_forward_hook(lambda m, i, o: seen.setdefault("ds", o))
    compiled.root.layer2[1].conv2.register_forward_hook(lambda m, i, o: seen.setdefault("second", o))
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        taps = compiled.taps(image=x, label=torch.zeros(2, dtype=torch.long))
    assert {"layer1/conv1", "layer1/relu2", "layer2/downsample/0", "layer2/downsample/1"} <= set(taps)
    assert {"layer1[1]/conv1", "layer2[1]/conv2", "layer4[1]/relu2"} <= set(taps)  # the second copies too
    assert "layer1/downsample/0" not in taps  # switched off in layer1: no such node runs
    assert "layer2[1]/downsample/0" not in taps  # only the first copy of a stage has it
    assert torch.equal(taps["layer2/conv1"], seen["conv1"]) and torch.equal(taps["layer2/downsample/0"], seen["ds"])
    assert torch.equal(taps["layer2[1]/conv2"], seen["second"])
    assert torch.equal(taps["layer2[1]/relu2"], taps["layer2"])  # the last copy's output is the block node's
    assert taps["layer2/conv1"].shape == (2, 8, 4, 4)


def test_shared_copies_each_have_their_values_and_name_the_same_weights():
    from graphedit.compiler.block_modules import inner_parameters

    data = siamese_data(shared=True)
    data["blocks"][0]["graph"]["nodes"][3]["params"]["units"] = 6
    data["graph"]["nodes"][2]["params"].update(repeat=3)
    data["graph"]["nodes"][3]["params"].update(repeat=3)
    compiled = compile_graph(load(data).document, seed=0)
    a, b = torch.randn(2, 6), torch.randn(2, 6)
    with torch.no_grad():
        taps = compiled.taps(a=a, b=b)
    block = compiled.root.tower_a._modules["0"]
    with torch.no_grad():
        once = block(a)
        assert torch.allclose(taps["tower_a[1]/" + _last_inner(block)], block(once))
    weights = inner_parameters(compiled.root.tower_a, "tower_a")
    dense = [k for k in weights if k.startswith("tower_a/")]
    assert dense and all(weights[k] == weights[k.replace("tower_a/", "tower_a[2]/")] for k in dense)


def _last_inner(block) -> str:
    """The inner node whose value is the copy's output (the one feeding BlockOutput)."""
    out = next(n for n in block.graph.nodes if n.op == "output")
    return out.args[0].meta["graphedit_id"]
