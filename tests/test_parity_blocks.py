"""Blocks of real networks built from the catalog against the same blocks written by hand in PyTorch.

Each reference names its layers after the graph's node ids, so weights are copied layer by layer (in
order within a layer); then parameter counts, output shapes and outputs must agree.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from graphkit import build, chain
from torch import nn

from graphedit.compiler import compile_graph


def conv(f, k, s=1, p=0, groups=1, bias=False):
    return {"filters": f, "kernel": k, "stride": s, "padding": p, "groups": groups, "bias": bias}


# ------------------------------------------------------------ MobileNetV2 inverted residual
def mobilenet_graph():
    nodes = [
        ("x", "Input", {"shape": [8, 10, 10]}),
        ("expand", "Conv2d", conv(48, 1)),
        ("bn1", "BatchNorm", {}),
        ("act1", "ReLU6", {}),
        ("dw", "Conv2d", conv(48, 3, 1, 1, groups=48)),
        ("bn2", "BatchNorm", {}),
        ("act2", "ReLU6", {}),
        ("project", "Conv2d", conv(8, 1)),
        ("bn3", "BatchNorm", {}),
        ("add", "Add", {}),
        ("out", "Output", {}),
    ]
    wires = chain("x", "expand", "bn1", "act1", "dw", "bn2", "act2", "project", "bn3")
    return build(nodes, wires + ["bn3 -> add.in1", "x -> add.in2", "add -> out"])


class InvertedResidual(nn.Module):
    def __init__(self):
        super().__init__()
        self.expand, self.bn1 = nn.Conv2d(8, 48, 1, bias=False), nn.BatchNorm2d(48)
        self.dw, self.bn2 = nn.Conv2d(48, 48, 3, 1, 1, groups=48, bias=False), nn.BatchNorm2d(48)
        self.project, self.bn3 = nn.Conv2d(48, 8, 1, bias=False), nn.BatchNorm2d(8)

    def forward(self, x):
        y = F.relu6(self.bn1(self.expand(x)))
        y = F.relu6(self.bn2(self.dw(y)))
        return x + self.bn3(self.project(y))


# ------------------------------------------------------- EfficientNet MBConv with squeeze-and-excitation
def mbconv_graph():
    nodes = [
        ("x", "Input", {"shape": [16, 8, 8]}),
        ("expand", "Conv2d", conv(64, 1)),
        ("bn1", "BatchNorm", {}),
        ("act1", "SiLU", {}),
        ("dw", "Conv2d", conv(64, 5, 1, 2, groups=64)),
        ("bn2", "BatchNorm", {}),
        ("act2", "SiLU", {}),
        ("squeeze", "AdaptiveAvgPool2d", {"size": [1, 1]}),
        ("fc1", "Conv2d", conv(4, 1, bias=True)),
        ("act3", "SiLU", {}),
        ("fc2", "Conv2d", conv(64, 1, bias=True)),
        ("gate", "Sigmoid", {}),
        ("scale", "Multiply", {}),
        ("project", "Conv2d", conv(16, 1)),
        ("bn3", "BatchNorm", {}),
        ("drop", "StochasticDepth", {"p": 0.2}),
        ("add", "Add", {}),
        ("out", "Output", {}),
    ]
    wires = chain("x", "expand", "bn1", "act1", "dw", "bn2", "act2", "squeeze", "fc1", "act3", "fc2", "gate")
    wires += ["act2 -> scale.in1", "gate -> scale.in2"] + chain("scale", "project", "bn3", "drop")
    return build(nodes, wires + ["drop -> add.in1", "x -> add.in2", "add -> out"])


class MBConv(nn.Module):
    """torchvision's MBConv (expand 4, kernel 5, SE with ratio 1/4 of the input channels)."""

    def __init__(self):
        super().__init__()
        self.expand, self.bn1 = nn.Conv2d(16, 64, 1, bias=False), nn.BatchNorm2d(64)
        self.dw, self.bn2 = nn.Conv2d(64, 64, 5, 1, 2, groups=64, bias=False), nn.BatchNorm2d(64)
        self.fc1, self.fc2 = nn.Conv2d(64, 4, 1), nn.Conv2d(4, 64, 1)
        self.project, self.bn3 = nn.Conv2d(64, 16, 1, bias=False), nn.BatchNorm2d(16)

    def forward(self, x):
        y = F.silu(self.bn2(self.dw(F.silu(self.bn1(self.expand(x))))))
        s = torch.sigmoid(self.fc2(F.silu(self.fc1(F.adaptive_avg_pool2d(y, 1)))))
        return x + self.bn3(self.project(y * s))  # stochastic depth is the identity in eval


# ------------------------------------------------------------------- ShuffleNet V2 unit
def shufflenet_graph():
    nodes = [
        ("x", "Input", {"shape": [16, 8, 8]}),
        ("split", "Chunk", {"chunks": 2}),
        ("pw1", "Conv2d", conv(8, 1)),
        ("bn1", "BatchNorm", {}),
        ("relu1", "ReLU", {}),
        ("dw", "Conv2d", conv(8, 3, 1, 1, groups=8)),
        ("bn2", "BatchNorm", {}),
        ("pw2", "Conv2d", conv(8, 1)),
        ("bn3", "BatchNorm", {}),
        ("relu2", "ReLU", {}),
        ("cat", "Concat", {}),
        ("shuffle", "ChannelShuffle", {"groups": 2}),
        ("out", "Output", {}),
    ]
    wires = ["x -> split", "split.out2 -> pw1"] + chain("pw1", "bn1", "relu1", "dw", "bn2", "pw2", "bn3", "relu2")
    return build(nodes, wires + ["split.out1 -> cat.in1", "relu2 -> cat.in2"] + chain("cat", "shuffle", "out"))


class ShuffleUnit(nn.Module):
    """torchvision's InvertedResidual of ShuffleNetV2 with stride 1."""

    def __init__(self):
        super().__init__()
        self.pw1, self.bn1 = nn.Conv2d(8, 8, 1, bias=False), nn.BatchNorm2d(8)
        self.dw, self.bn2 = nn.Conv2d(8, 8, 3, 1, 1, groups=8, bias=False), nn.BatchNorm2d(8)
        self.pw2, self.bn3 = nn.Conv2d(8, 8, 1, bias=False), nn.BatchNorm2d(8)

    def forward(self, x):
        x1, x2 = x.chunk(2, dim=1)
        y = F.relu(self.bn3(self.pw2(self.bn2(self.dw(F.relu(self.bn1(self.pw1(x2))))))))
        out = torch.cat((x1, y), dim=1)
        n, c, h, w = out.shape
        return out.view(n, 2, c // 2, h, w).transpose(1, 2).contiguous().view(n, c, h, w)


# ------------------------------------------------------------ DenseNet-121 dense block
LAYERS, GROWTH, C0 = 6, 4, 8


def densenet_graph():
    nodes = [("x", "Input", {"shape": [C0, 6, 6]})]
    wires: list[str] = []
    features = ["x"]
    for i in range(1, LAYERS + 1):
        source = features[0]
        if len(features) > 1:
            nodes.append((f"cat{i}", "Concat", {"inputs": len(features)}))
            wires += [f"{f} -> cat{i}.in{j + 1}" for j, f in enumerate(features)]
            source = f"cat{i}"
        nodes += [
            (f"norm{i}a", "BatchNorm", {}),
            (f"relu{i}a", "ReLU", {}),
            (f"conv{i}a", "Conv2d", conv(4 * GROWTH, 1)),
            (f"norm{i}b", "BatchNorm", {}),
            (f"relu{i}b", "ReLU", {}),
            (f"conv{i}b", "Conv2d", conv(GROWTH, 3, 1, 1)),
        ]
        wires += [f"{source} -> norm{i}a"] + chain(f"norm{i}a", f"relu{i}a", f"conv{i}a", f"norm{i}b", f"relu{i}b")
        wires.append(f"relu{i}b -> conv{i}b")
        features.append(f"conv{i}b")
    nodes += [("final", "Concat", {"inputs": len(features)}), ("out", "Output", {})]
    wires += [f"{f} -> final.in{j + 1}" for j, f in enumerate(features)] + ["final -> out"]
    return build(nodes, wires)


class DenseBlock(nn.Module):
    """torchvision's _DenseBlock / _DenseLayer (bn_size 4), layers named like the graph."""

    def __init__(self):
        super().__init__()
        for i in range(1, LAYERS + 1):
            c = C0 + (i - 1) * GROWTH
            self.add_module(f"norm{i}a", nn.BatchNorm2d(c))
            self.add_module(f"conv{i}a", nn.Conv2d(c, 4 * GROWTH, 1, bias=False))
            self.add_module(f"norm{i}b", nn.BatchNorm2d(4 * GROWTH))
            self.add_module(f"conv{i}b", nn.Conv2d(4 * GROWTH, GROWTH, 3, 1, 1, bias=False))

    def forward(self, x):
        features = [x]
        for i in range(1, LAYERS + 1):
            layer = [
                getattr(self, f"{n}{i}{s}") for n, s in (("norm", "a"), ("conv", "a"), ("norm", "b"), ("conv", "b"))
            ]
            y = layer[1](F.relu(layer[0](torch.cat(features, 1))))
            features.append(layer[3](F.relu(layer[2](y))))
        return torch.cat(features, 1)


# ------------------------------------------------------------ ViT encoder layer with class token
T, D, HEADS = 6, 16, 4


def vit_graph():
    nodes = [
        ("tokens", "Input", {"shape": [T, D]}),
        ("cls", "Parameter", {"shape": [1, D], "fill": "normal"}),
        ("cat", "Concat", {}),
        ("pos", "Parameter", {"shape": [T + 1, D], "fill": "normal"}),
        ("embed", "Add", {}),
        ("ln1", "LayerNorm", {"over": "last"}),
        ("attn", "MultiheadAttention", {"heads": HEADS}),
        ("res1", "Add", {}),
        ("ln2", "LayerNorm", {"over": "last"}),
        ("fc1", "Dense", {"units": 4 * D}),
        ("gelu", "GELU", {}),
        ("fc2", "Dense", {"units": D}),
        ("res2", "Add", {}),
        ("head", "Slice", {"axis": 1, "start": 0, "end": 1}),
        ("out", "Output", {}),
    ]
    wires = ["tokens -> cls", "cls -> cat.in1", "tokens -> cat.in2", "tokens -> pos", "cat -> embed.in1"]
    wires += ["pos -> embed.in2", "embed -> ln1", "ln1 -> attn.query", "embed -> res1.in1", "attn -> res1.in2"]
    wires += chain("res1", "ln2", "fc1", "gelu", "fc2") + ["res1 -> res2.in1", "fc2 -> res2.in2"]
    return build(nodes, wires + chain("res2", "head", "out"))


class ViTLayer(nn.Module):
    """A pre-norm transformer encoder layer behind a class token and a learned position embedding."""

    def __init__(self):
        super().__init__()
        self.cls = nn.Parameter(torch.zeros(1, D))
        self.pos = nn.Parameter(torch.zeros(T + 1, D))
        self.ln1, self.ln2 = nn.LayerNorm(D), nn.LayerNorm(D)
        self.attn = nn.MultiheadAttention(D, HEADS, batch_first=True)
        self.fc1, self.fc2 = nn.Linear(D, 4 * D), nn.Linear(4 * D, D)

    def forward(self, tokens):
        x = torch.cat([self.cls.expand(tokens.shape[0], -1, -1), tokens], 1) + self.pos
        h = self.ln1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        x = x + self.fc2(F.gelu(self.fc1(self.ln2(x))))
        return x[:, :1]


# ------------------------------------------------------------ bidirectional GRU tagger
def tagger_graph():
    nodes = [
        ("words", "Input", {"shape": [7], "dtype": "int64"}),
        ("embed", "Embedding", {"vocab": 20, "dim": 8}),
        ("gru", "GRU", {"units": 6, "return": "sequence", "bidirectional": True}),
        ("tags", "Dense", {"units": 5}),
        ("out", "Output", {}),
    ]
    return build(nodes, chain("words", "embed", "gru", "tags", "out"))


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 8)
        self.gru = nn.GRU(8, 6, batch_first=True, bidirectional=True)
        self.tags = nn.Linear(12, 5)

    def forward(self, words):
        return self.tags(self.gru(self.embed(words))[0])


CASES = {
    "mobilenet_v2_inverted_residual": (mobilenet_graph, InvertedResidual, lambda: torch.randn(4, 8, 10, 10)),
    "efficientnet_mbconv_se": (mbconv_graph, MBConv, lambda: torch.randn(4, 16, 8, 8)),
    "shufflenet_v2_unit": (shufflenet_graph, ShuffleUnit, lambda: torch.randn(4, 16, 8, 8)),
    "densenet121_dense_block": (densenet_graph, DenseBlock, lambda: torch.randn(4, C0, 6, 6)),
    "vit_encoder_layer": (vit_graph, ViTLayer, lambda: torch.randn(4, T, D)),
    "bigru_tagger": (tagger_graph, Tagger, lambda: torch.randint(0, 20, (4, 7))),
}


def _copy_by_layer(ours: nn.Module, ref: nn.Module) -> None:
    theirs = ref.state_dict()
    mapped = {}
    layers: dict[str, list[torch.Tensor]] = {}
    for key, value in ours.state_dict().items():
        layers.setdefault(key.split(".")[0], []).append(value)
    for layer, values in layers.items():
        keys = [k for k in theirs if k.split(".")[0] == layer]
        assert len(keys) == len(values), layer
        for k, v in zip(keys, values):
            mapped[k] = v.reshape(theirs[k].shape) if theirs[k].numel() == v.numel() else v
    ref.load_state_dict(mapped)


@pytest.mark.parametrize("name", list(CASES))
def test_block_matches_hand_written_torch(name):
    make_graph, make_ref, make_input = CASES[name]
    torch.manual_seed(0)
    doc = make_graph()
    compiled = compile_graph(doc, seed=0)
    with torch.no_grad():  # trained-looking weights and batch-norm statistics, distinct everywhere
        for key, value in compiled.root.state_dict().items():
            if value.is_floating_point():
                value.add_(0.1 * torch.randn_like(value))
                if key.endswith("running_var"):
                    value.abs_()
    ref = make_ref()
    assert sum(p.numel() for p in compiled.root.parameters()) == sum(p.numel() for p in ref.parameters())
    _copy_by_layer(compiled.root, ref)
    compiled.root.eval()
    ref.eval()
    x = make_input()
    with torch.no_grad():
        got, want = compiled.model(x), ref(x)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_densenet_block_concatenates_seven_inputs():
    doc = densenet_graph()
    assert doc.params("final")["inputs"] == LAYERS + 1 >= 7


@pytest.mark.parametrize("name", list(CASES))
def test_block_exports_to_onnx_torchscript_and_python(name, tmp_path):
    from graphedit.export.common import export_model
    from graphedit.export.onnx_export import export_onnx
    from graphedit.export.python_source import export_python
    from graphedit.export.torchscript import export_torchscript
    from graphedit.model.project import new_project

    project = new_project()
    project.document = CASES[name][0]()
    em = export_model(project, compile_graph(project.document, seed=0), trained=False)
    assert export_onnx(em, tmp_path / "block.onnx")["max_abs_diff"] <= 1e-4
    assert export_torchscript(em, tmp_path / "block.pt")["max_abs_diff"] <= 1e-5
    assert export_python(em, tmp_path / "block_model.py")["max_abs_diff"] == 0.0
