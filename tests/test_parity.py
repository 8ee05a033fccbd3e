"""Compiled graphs against the same networks written by hand in PyTorch.

Each reference module names its layers after the graph's node ids, so the
state dicts line up key for key: equal parameter counts, equal output shapes,
and equal outputs after copying the weights across.
"""

import pytest
import torch
import torch.nn.functional as F
from graphkit import build, chain
from torch import nn

from graphedit.compiler import compile_graph


def conv(f, k, s=1, p=0, bias=True):
    return {"filters": f, "kernel": k, "stride": s, "padding": p, "bias": bias}


# ------------------------------------------------------------------ Keras CNN
def keras_cnn_graph():
    nodes = [
        ("img", "Input", {"shape": [1, 32, 32]}),
        ("conv1", "Conv2d", conv(16, 5, 2, 2)),
        ("relu1", "ReLU", {}),
        ("conv2", "Conv2d", conv(32, 5, 2, 2)),
        ("relu2", "ReLU", {}),
        ("conv3", "Conv2d", conv(32, 3, 2, 1)),
        ("relu3", "ReLU", {}),
        ("flat", "Flatten", {}),
        ("drop1", "Dropout", {"p": 0.5}),
        ("dense1", "Dense", {"units": 32}),
        ("relu4", "ReLU", {}),
        ("drop2", "Dropout", {"p": 0.5}),
        ("dense2", "Dense", {"units": 10}),
        ("out", "Output", {}),
    ]
    return build(nodes, chain(*[n[0] for n in nodes]))


class KerasCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 5, 2, 2)
        self.conv2 = nn.Conv2d(16, 32, 5, 2, 2)
        self.conv3 = nn.Conv2d(32, 32, 3, 2, 1)
        self.drop1 = nn.Dropout(0.5)
        self.dense1 = nn.Linear(32 * 4 * 4, 32)
        self.drop2 = nn.Dropout(0.5)
        self.dense2 = nn.Linear(32, 10)

    def forward(self, x):
        x = F.relu(self.conv3(F.relu(self.conv2(F.relu(self.conv1(x))))))
        x = self.drop1(torch.flatten(x, 1))
        return self.dense2(self.drop2(F.relu(self.dense1(x))))


# ------------------------------------------------------- ResNet basic block
def resnet_graph():
    nodes = [
        ("img", "Input", {"shape": [16, 8, 8]}),
        ("conv1", "Conv2d", conv(16, 3, 1, 1, bias=False)),
        ("bn1", "BatchNorm", {}),
        ("relu1", "ReLU", {}),
        ("conv2", "Conv2d", conv(16, 3, 1, 1, bias=False)),
        ("bn2", "BatchNorm", {}),
        ("add1", "Add", {}),
        ("relu2", "ReLU", {}),
        ("out", "Output", {}),
    ]
    wires = chain("img", "conv1", "bn1", "relu1", "conv2", "bn2") + ["bn2 -> add1.in1", "img -> add1.in2"]
    return build(nodes, wires + chain("add1", "relu2", "out"))


class BasicBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(16, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 16, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(16)

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + x)


# ------------------------------------------------------------ DenseNet block
def densenet_graph():
    nodes = [("img", "Input", {"shape": [8, 8, 8]})]
    wires = []
    prev = ["img"]
    for i in (1, 2):
        nodes += [(f"bn{i}", "BatchNorm", {}), (f"relu{i}", "ReLU", {}), (f"conv{i}", "Conv2d", conv(4, 3, 1, 1))]
        nodes.append((f"cat{i}", "Concat", {"inputs": len(prev) + 1}))
        wires += [f"{prev[-1]} -> bn{i}"] + chain(f"bn{i}", f"relu{i}", f"conv{i}")
        wires += [f"{p} -> cat{i}.in{j + 1}" for j, p in enumerate(prev[:1])]
        wires += [f"conv{j} -> cat{i}.in{j + 1}" for j in range(1, i + 1)]
        prev = prev + [f"cat{i}"]
    nodes.append(("out", "Output", {}))
    wires.append("cat2 -> out")
    return build(nodes, wires)


class DenseBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(8), nn.Conv2d(8, 4, 3, 1, 1)
        self.bn2, self.conv2 = nn.BatchNorm2d(12), nn.Conv2d(12, 4, 3, 1, 1)

    def forward(self, x):
        c1 = self.conv1(F.relu(self.bn1(x)))
        cat1 = torch.cat([x, c1], 1)
        c2 = self.conv2(F.relu(self.bn2(cat1)))
        return torch.cat([x, c1, c2], 1)


# ------------------------------------------------------------ Inception module
def inception_graph():
    nodes = [
        ("img", "Input", {"shape": [8, 8, 8]}),
        ("b1", "Conv2d", conv(4, 1)),
        ("b3red", "Conv2d", conv(4, 1)),
        ("b3", "Conv2d", conv(8, 3, 1, 1)),
        ("b5red", "Conv2d", conv(2, 1)),
        ("b5", "Conv2d", conv(4, 5, 1, 2)),
        ("pool", "MaxPool2d", {"kernel": 3, "stride": 1, "padding": 1}),
        ("bpool", "Conv2d", conv(4, 1)),
        ("cat1", "Concat", {"inputs": 4}),
        ("out", "Output", {}),
    ]
    wires = ["img -> b1", "img -> b3red", "b3red -> b3", "img -> b5red", "b5red -> b5", "img -> pool", "pool -> bpool"]
    wires += ["b1 -> cat1.in1", "b3 -> cat1.in2", "b5 -> cat1.in3", "bpool -> cat1.in4", "cat1 -> out"]
    return build(nodes, wires)


class Inception(nn.Module):
    def __init__(self):
        super().__init__()
        self.b1 = nn.Conv2d(8, 4, 1)
        self.b3red, self.b3 = nn.Conv2d(8, 4, 1), nn.Conv2d(4, 8, 3, 1, 1)
        self.b5red, self.b5 = nn.Conv2d(8, 2, 1), nn.Conv2d(2, 4, 5, 1, 2)
        self.pool, self.bpool = nn.MaxPool2d(3, 1, 1), nn.Conv2d(8, 4, 1)

    def forward(self, x):
        return torch.cat(
            [self.b1(x), self.b3(self.b3red(x)), self.b5(self.b5red(x)), self.bpool(self.pool(x))],
            1,
        )


# ---------------------------------------------------------------- U-Net
def unet_graph():
    nodes = [
        ("img", "Input", {"shape": [1, 16, 16]}),
        ("enc1", "Conv2d", conv(8, 3, 1, 1)),
        ("relu1", "ReLU", {}),
        ("pool1", "MaxPool2d", {}),
        ("enc2", "Conv2d", conv(16, 3, 1, 1)),
        ("relu2", "ReLU", {}),
        ("pool2", "MaxPool2d", {}),
        ("mid", "Conv2d", conv(32, 3, 1, 1)),
        ("relu3", "ReLU", {}),
        ("up2", "ConvTranspose2d", {"filters": 16, "kernel": 2, "stride": 2}),
        ("cat2", "Concat", {}),
        ("dec2", "Conv2d", conv(16, 3, 1, 1)),
        ("relu4", "ReLU", {}),
        ("up1", "ConvTranspose2d", {"filters": 8, "kernel": 2, "stride": 2}),
        ("cat1", "Concat", {}),
        ("dec1", "Conv2d", conv(8, 3, 1, 1)),
        ("relu5", "ReLU", {}),
        ("head", "Conv2d", conv(2, 1)),
        ("out", "Output", {}),
    ]
    wires = chain("img", "enc1", "relu1", "pool1", "enc2", "relu2", "pool2", "mid", "relu3", "up2")
    wires += ["up2 -> cat2.in1", "relu2 -> cat2.in2"] + chain("cat2", "dec2", "relu4", "up1")
    wires += ["up1 -> cat1.in1", "relu1 -> cat1.in2"] + chain("cat1", "dec1", "relu5", "head", "out")
    return build(nodes, wires)


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc1, self.enc2, self.mid = nn.Conv2d(1, 8, 3, 1, 1), nn.Conv2d(8, 16, 3, 1, 1), nn.Conv2d(16, 32, 3, 1, 1)
        self.up2, self.dec2 = nn.ConvTranspose2d(32, 16, 2, 2), nn.Conv2d(32, 16, 3, 1, 1)
        self.up1, self.dec1 = nn.ConvTranspose2d(16, 8, 2, 2), nn.Conv2d(16, 8, 3, 1, 1)
        self.head = nn.Conv2d(8, 2, 1)

    def forward(self, x):
        e1 = F.relu(self.enc1(x))
        e2 = F.relu(self.enc2(F.max_pool2d(e1, 2)))
        m = F.relu(self.mid(F.max_pool2d(e2, 2)))
        d2 = F.relu(self.dec2(torch.cat([self.up2(m), e2], 1)))
        d1 = F.relu(self.dec1(torch.cat([self.up1(d2), e1], 1)))
        return self.head(d1)


# ------------------------------------------------ 3-D convolutional autoencoder (the notes' figure)
def conv_ae3d_graph():
    nodes = [
        ("vol", "Input", {"shape": [1, 8, 8, 8]}),
        ("enc1", "Conv3d", conv(4, 3, 1, 1)),
        ("relu1", "ReLU", {}),
        ("pool1", "MaxPool3d", {}),
        ("enc2", "Conv3d", conv(8, 3, 1, 1)),
        ("relu2", "ReLU", {}),
        ("pool2", "MaxPool3d", {}),
        ("dec2", "ConvTranspose3d", {"filters": 4, "kernel": 2, "stride": 2}),
        ("relu3", "ReLU", {}),
        ("up1", "Upsample3d", {"mode": "trilinear"}),
        ("dec1", "Conv3d", conv(1, 3, 1, 1)),
        ("out", "Output", {}),
    ]
    return build(nodes, chain(*[n[0] for n in nodes]))


class ConvAE3d(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc1, self.enc2 = nn.Conv3d(1, 4, 3, 1, 1), nn.Conv3d(4, 8, 3, 1, 1)
        self.dec2, self.dec1 = nn.ConvTranspose3d(8, 4, 2, 2), nn.Conv3d(4, 1, 3, 1, 1)

    def forward(self, x):
        h = F.max_pool3d(F.relu(self.enc2(F.max_pool3d(F.relu(self.enc1(x)), 2))), 2)
        h = F.interpolate(F.relu(self.dec2(h)), scale_factor=2, mode="trilinear")
        return self.dec1(h)


# ------------------------------------------------------------------- VAE
def vae_graph():
    nodes = [
        ("x", "Input", {"shape": [64]}),
        ("enc", "Dense", {"units": 32}),
        ("relu1", "ReLU", {}),
        ("mu", "Dense", {"units": 2}),
        ("logvar", "Dense", {"units": 2}),
        ("z", "Reparameterize", {}),
        ("dec", "Dense", {"units": 32}),
        ("relu2", "ReLU", {}),
        ("recon", "Dense", {"units": 64}),
        ("out", "Output", {}),
        ("mse1", "MSE", {}),
        ("kl1", "KLDivergence", {"weight": 0.5}),
    ]
    wires = chain("x", "enc", "relu1", "mu") + ["relu1 -> logvar", "mu -> z.mu", "logvar -> z.logvar"]
    wires += ["z.z -> dec"] + chain("dec", "relu2", "recon", "out")
    wires += ["recon -> mse1.pred", "x -> mse1.target", "mu -> kl1.mu", "logvar -> kl1.logvar"]
    return build(nodes, wires)


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc, self.mu, self.logvar = nn.Linear(64, 32), nn.Linear(32, 2), nn.Linear(32, 2)
        self.dec, self.recon = nn.Linear(2, 32), nn.Linear(32, 64)

    def forward(self, x):  # inference: z = mu
        h = F.relu(self.enc(x))
        return self.recon(F.relu(self.dec(self.mu(h))))


# ------------------------------------------------------- LSTM character model
def lstm_graph():
    nodes = [
        ("chars", "Input", {"shape": [8], "dtype": "int64"}),
        ("embed", "Embedding", {"vocab": 30, "dim": 16}),
        ("lstm", "LSTM", {"units": 32}),
        ("logits", "Dense", {"units": 30}),
        ("out", "Output", {}),
    ]
    return build(nodes, chain("chars", "embed", "lstm", "logits", "out"))


class CharLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(30, 16)
        self.lstm = nn.LSTM(16, 32, batch_first=True)
        self.logits = nn.Linear(32, 30)

    def forward(self, x):
        out, _ = self.lstm(self.embed(x))
        return self.logits(out[:, -1])


CASES = {
    "keras_cnn": (keras_cnn_graph, KerasCNN, lambda: torch.randn(5, 1, 32, 32)),
    "resnet_block": (resnet_graph, BasicBlock, lambda: torch.randn(5, 16, 8, 8)),
    "densenet_block": (densenet_graph, DenseBlock, lambda: torch.randn(5, 8, 8, 8)),
    "inception": (inception_graph, Inception, lambda: torch.randn(5, 8, 8, 8)),
    "unet": (unet_graph, UNet, lambda: torch.randn(5, 1, 16, 16)),
    "conv_ae3d": (conv_ae3d_graph, ConvAE3d, lambda: torch.randn(5, 1, 8, 8, 8)),
    "vae": (vae_graph, VAE, lambda: torch.randn(5, 64)),
    "lstm_chars": (lstm_graph, CharLSTM, lambda: torch.randint(0, 30, (5, 8))),
}


def _inner_state(module):
    """State-dict keys of catalog modules may nest the torch layer (``dense1.linear.weight``)."""
    return module.state_dict()


@pytest.mark.parametrize("name", list(CASES))
def test_parity_with_hand_written_torch(name):
    make_graph, make_ref, make_input = CASES[name]
    torch.manual_seed(0)
    compiled = compile_graph(make_graph(), seed=0)
    ref = make_ref()
    ours = compiled.root.state_dict()
    theirs = ref.state_dict()
    assert sum(p.numel() for p in compiled.root.parameters()) == sum(p.numel() for p in ref.parameters())
    assert len(ours) == len(theirs)
    # copy our weights into the reference, matching tensors by layer name and order within the layer
    by_layer: dict[str, list] = {}
    for key, value in ours.items():
        by_layer.setdefault(key.split(".")[0], []).append(value)
    mapped = {}
    for layer, values in by_layer.items():
        keys = [k for k in theirs if k.split(".")[0] == layer]
        assert len(keys) == len(values), layer
        for k, v in zip(keys, values):
            assert theirs[k].shape == v.shape, k
            mapped[k] = v
    ref.load_state_dict(mapped)
    compiled.root.eval()
    ref.eval()
    x = make_input()
    with torch.no_grad():
        got, want = compiled.model(x), ref(x)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_vae_objective_is_mse_plus_weighted_kl():
    compiled = compile_graph(vae_graph(), seed=0)
    x = torch.randn(6, 64)
    compiled.root.eval()
    with torch.no_grad():
        result = compiled.objective(x=x)
        recon = compiled.model(x)
        taps = compiled.taps(x=x)
    mu, logvar = taps["mu"], taps["logvar"]
    kl = (-0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(1)).mean()
    torch.testing.assert_close(result["mse1"], F.mse_loss(recon, x))
    torch.testing.assert_close(result["kl1"], kl)
    torch.testing.assert_close(result["loss"], F.mse_loss(recon, x) + 0.5 * kl)


def test_generated_code_reads_like_pytorch():
    compiled = compile_graph(resnet_graph(), seed=0)
    from graphedit.compiler import readable_code

    code = readable_code(compiled.model)
    assert "conv1 = self.conv1(img)" in code
    assert "= None" not in code
    assert "relu2" in code and "return relu2" in code
