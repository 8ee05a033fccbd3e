"""Import keeps hierarchy (issue 13, item 5): submodules become blocks, repeated ones one definition.

A ResNet-18-style module written here (torchvision's layout at 1/8 width, 64×64 inputs) and torchvision's own
resnet18 (where it imports) must open as stem → layer1…layer4 → head with at most 15 top-level nodes, each
stage one node repeating one BasicBlock definition (the first copy's stride and downsample branch as
overrides), take the module's state dict by its own keys, and give its outputs within 1e-5.
"""

from __future__ import annotations

import textwrap
import warnings
from pathlib import Path

import pytest
import torch
from zoo_helpers import assert_check_valid, onnx_file, small_model, torchvision_models

from graphedit.cli import main
from graphedit.compiler import compile_graph
from graphedit.importers import UnsupportedOpError, import_module, import_source, load_module
from graphedit.model.project import load_project

RESNET = '''
import torch
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, cin, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or cin != planes:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNetStyle(nn.Module):
    """torchvision's ResNet-18 layout at width 8 (and 1 block per stage with ``blocks=1``)."""

    input_shape = (3, 64, 64)

    def __init__(self, width=8, blocks=2, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = width
        for i in range(4):
            planes = width * 2**i
            rest = [BasicBlock(planes, planes) for _ in range(blocks - 1)]
            self.add_module(f"layer{i + 1}", nn.Sequential(BasicBlock(cin, planes, 1 if i == 0 else 2), *rest))
            cin = planes
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class Flex(nn.Module):
    """One class, two wirings: the ReLU before or after the convolution."""

    def __init__(self, pre):
        super().__init__()
        self.pre = pre
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.conv(self.act(x)) if self.pre else self.act(self.conv(x))


class Mixed(nn.Module):
    """A stage whose blocks differ in structure, and a module called twice (two calls of one module)."""

    input_shape = (4, 16, 16)

    def __init__(self):
        super().__init__()
        tail = nn.Sequential(nn.Conv2d(4, 6, 3, padding=1), nn.ReLU())
        self.stage = nn.Sequential(BasicBlock(4, 4), Flex(True), Flex(False), tail)
        self.twice = nn.Sequential(nn.Conv2d(6, 6, 1), nn.BatchNorm2d(6))
        self.head = nn.Linear(6, 3)

    def forward(self, x):
        x = self.stage(x)
        x = self.twice(torch.relu(self.twice(x)))
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class SineInside(nn.Module):
    input_shape = (4, 8, 8)

    def __init__(self):
        super().__init__()
        self.block = Wave()

    def forward(self, x):
        return self.block(x)


class Wave(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        return torch.sin(self.conv(x))
'''


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    path = tmp_path_factory.mktemp("blocks") / "resnet_style.py"
    path.write_text(textwrap.dedent(RESNET))
    return path


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _trained_looking(model):
    """Random batch-norm statistics and affine terms, so a weight that lands in the wrong place shows."""
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                for t in (m.weight, m.bias, m.running_mean):
                    t.copy_(torch.rand(t.shape, generator=gen) - 0.5)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
    return model.eval()


def _model(source, name="ResNetStyle", **kw):
    torch.manual_seed(0)
    cls = type(load_module(f"{source}:{name}"))
    return _trained_looking(cls(**kw))


def _stages(doc):
    return {n: doc.params(n) for n in doc.node_ids() if n.startswith("layer")}


def _assert_resnet_stages(doc, block):
    """stem → layer1…layer4 → head, each stage one node repeating ``block``; the first copy differs from layer2 on."""
    assert len(doc) <= 15, doc.node_ids()
    stages = _stages(doc)
    assert list(stages) == ["layer1", "layer2", "layer3", "layer4"]
    assert {doc.node_type(n).type_id for n in stages} == {block}
    assert [p["repeat"] for p in stages.values()] == [2, 2, 2, 2]
    assert stages["layer1"]["overrides"] == ()
    for name in ("layer2", "layer3", "layer4"):
        first = dict(dict(stages[name]["overrides"])[0])
        assert first["stride"] == 2 and first["downsample"] is True
        assert stages[name]["stride"] == 1 and stages[name]["downsample"] is False
    filters = [p["filters"] for p in stages.values()]
    assert filters == [filters[0] * 2**i for i in range(4)]


def _assert_weights_load_by_key(out: Path, model, shape):
    """A fresh compile of the saved project takes the module's state dict as it is, and gives its outputs."""
    compiled = compile_graph(load_project(out).document, seed=0)
    assert set(compiled.root.state_dict()) == set(model.state_dict())
    compiled.root.load_state_dict(model.state_dict(), strict=True)
    compiled.model.eval()
    x = torch.randn(3, *shape, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        torch.testing.assert_close(compiled.model(x), model(x), rtol=1e-5, atol=1e-5)


def test_resnet_style_module_opens_as_stages_of_one_block(source, tmp_path, capsys):
    model, out = _model(source), tmp_path / "resnet.gproj"
    result = import_module(model, out, [(3, 64, 64)])
    assert result.notes == [] and result.max_abs_diff <= 1e-5
    doc = result.project.document
    _assert_resnet_stages(doc, "BasicBlock")
    library = doc.registry
    assert set(library.definitions) == {"BasicBlock", "Downsample"}
    exposed = {e.name: e.binds for e in library.definitions["BasicBlock"].exposed}
    assert exposed["downsample"] == ("downsample.enabled",)
    assert set(exposed["filters"]) >= {"conv1.filters", "conv2.filters"}
    assert [n for n in library.definitions["Downsample"].document.node_ids() if n.isdigit()] == ["0", "1"]
    assert set(result.compiled.root.state_dict()) == set(model.state_dict())
    assert result.imported_params == result.source_params
    _assert_weights_load_by_key(out, model, (3, 64, 64))
    assert_check_valid(out, capsys)


def test_one_block_per_stage_is_a_container_block_with_torchs_keys(source, tmp_path):
    model, out = _model(source, blocks=1), tmp_path / "resnet1.gproj"
    doc = import_module(model, out, [(3, 64, 64)]).project.document
    stages = _stages(doc)
    assert len(stages) == 4 and len(doc) <= 15
    inner = {doc.node_type(n).block.document.node_type("0").type_id for n in stages}
    assert inner == {"BasicBlock"}  # layerN.0 is one BasicBlock: the stage is a block holding it as node "0"
    _assert_weights_load_by_key(out, model, (3, 64, 64))


def test_blocks_that_differ_stay_separate_and_a_module_called_twice_shares_its_weights(source, tmp_path, capsys):
    model, out = _model(source, "Mixed"), tmp_path / "mixed.gproj"
    result = import_module(model, out, [(4, 16, 16)])
    doc = result.project.document
    stage = doc.node_type("stage").block
    inside = [stage.document.node_type(str(i)).type_id for i in range(4)]
    assert inside[:3] == ["BasicBlock", "Flex", "Flex2"] and inside[3] not in inside[:3]  # wired otherwise: two
    ours, theirs = set(result.compiled.root.state_dict()), set(model.state_dict())
    assert {k for k in ours if k.startswith("stage.")} == {k for k in theirs if k.startswith("stage.")}
    assert {k for k in ours if k.startswith("twice")} == {k for k in theirs if k.startswith("twice")}  # one set
    calls = [n for n in doc.node_ids() if doc.node_type(n).type_id == "Twice"]
    assert calls == ["twice", "twice_1"] and all(doc.params(n)["shared"] for n in calls)  # a block node per call
    x = torch.randn(2, 4, 16, 16, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        torch.testing.assert_close(result.compiled.model(x), model(x), rtol=1e-5, atol=1e-5)
    assert_check_valid(out, capsys)


def test_flat_import_stays_available(source, tmp_path, capsys):
    out = tmp_path / "flat.gproj"
    assert main(["import", f"{source}:ResNetStyle", "-o", str(out), "--flat"]) == 0
    text = capsys.readouterr().out
    assert "block definitions" not in text
    flat = load_project(out).document
    assert not flat.registry.definitions and len(flat) > 50
    assert main(["import", f"{source}:ResNetStyle", "-o", str(tmp_path / "blocks.gproj")]) == 0
    assert "and 2 block definitions (Downsample, BasicBlock)" in capsys.readouterr().out


def test_an_unsupported_op_inside_a_submodule_is_one_line(source, tmp_path):
    with pytest.raises(UnsupportedOpError) as info:
        import_source(f"{source}:SineInside", tmp_path / "sine.gproj")
    assert "\n" not in str(info.value) and "torch.sin" in str(info.value)
    assert not (tmp_path / "sine.gproj").exists()


def test_onnx_name_scopes_become_blocks(source, tmp_path, capsys):
    model = _model(source)
    path = onnx_file(model, (3, 64, 64), tmp_path / "resnet.onnx")
    out = tmp_path / "resnet_onnx.gproj"
    result = import_source(path, out)
    assert result.notes == [] and result.max_abs_diff <= 1e-4
    doc = result.project.document
    block = doc.node_type("layer1").type_id
    _assert_resnet_stages(doc, block)
    inside = doc.registry.definitions[block].document
    assert {"conv1", "conv2", "downsample"} <= set(inside.node_ids())  # named after the modules in the scopes
    x = torch.randn(3, 3, 64, 64, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        torch.testing.assert_close(result.compiled.model(x), model(x), rtol=1e-4, atol=1e-4)
    assert_check_valid(out, capsys)
    flat = import_source(path, tmp_path / "flat.gproj", flat=True).project.document
    assert not flat.registry.definitions and len(flat) > 30


@pytest.mark.parametrize("route", ["fx", "onnx"])
def test_torchvision_resnet18_opens_as_stages_of_basic_blocks(route, tmp_path):
    if torchvision_models() is None:
        pytest.skip("torchvision is not importable here (see the printed reason)")
    model, shape = small_model("resnet18")
    out = tmp_path / f"resnet18_{route}.gproj"
    if route == "fx":
        result = import_module(model, out, [shape])
    else:
        result = import_source(onnx_file(model, shape, tmp_path / "resnet18.onnx"), out)
    doc = result.project.document
    _assert_resnet_stages(doc, "BasicBlock" if route == "fx" else doc.node_type("layer1").type_id)
    if route == "fx":
        _assert_weights_load_by_key(out, model, shape)
    else:
        assert result.max_abs_diff <= 1e-4


@pytest.mark.slow  # torch's dynamo export takes ~10 s
def test_dynamo_onnx_export_keeps_paths_and_classes_as_metadata(source, tmp_path):
    """torch's dynamo exporter names nodes node_Conv_3 and keeps module paths and classes as metadata."""
    model = _model(source, width=4)
    path = tmp_path / "dynamo.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (torch.randn(2, 3, 64, 64),),
            str(path),
            dynamo=True,
            input_names=["x"],
            output_names=["y"],
            dynamic_shapes={"x": {0: torch.export.Dim("batch")}},
            verbose=False,
        )
    result = import_source(path, tmp_path / "dynamo.gproj")
    _assert_resnet_stages(result.project.document, "BasicBlock")  # the class, from the metadata
    assert result.max_abs_diff <= 1e-4


def test_a_hierarchy_that_does_not_fold_is_imported_flat_with_a_note(source, tmp_path, monkeypatch, capsys):
    from graphedit.errors import GraphError
    from graphedit.importers import hierarchy

    def refuse(*args, **kwargs):
        raise GraphError("block 'BasicBlock': something inside is wrong")

    monkeypatch.setattr(hierarchy, "fold", refuse)
    out = tmp_path / "noted.gproj"
    assert main(["import", f"{source}:ResNetStyle", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "note: imported flat: the module hierarchy did not fold into blocks (block 'BasicBlock'" in text
    assert not load_project(out).document.registry.definitions
