"""The node-type catalog: every type validates, checks, builds on meta and CPU with the right shape."""

from __future__ import annotations

import math
import types
from typing import Any

import pytest
import torch
from torch import nn

from graphedit.errors import NodeError, ParamError
from graphedit.nodes import registry as registry_module
from graphedit.nodes.init import apply_init
from graphedit.nodes.registry import Registry, default_registry
from graphedit.nodes.spec import INIT_CHOICES, Call, NodeType, Param, Port


def make(shape: tuple[int, ...] | None, dtype: torch.dtype, device: str) -> torch.Tensor | None:
    if shape is None:
        return None
    if dtype == torch.int64:
        return torch.zeros(shape, dtype=dtype, device=device)
    return torch.randn(shape, device=device) if device != "meta" else torch.empty(shape, device=device)


def run_node(
    node_type: NodeType,
    params: dict[str, Any] | None,
    shapes: list[tuple[int, ...] | None],
    device: str = "cpu",
    dtypes: list[torch.dtype] | None = None,
    inputs: list[torch.Tensor] | None = None,
) -> tuple[torch.Tensor, Any]:
    """Validate, check, build and call a node; return (output, built)."""
    p = node_type.validate_params(params)
    if node_type.check is not None:
        node_type.check(p, shapes)
    dtypes = dtypes or [torch.float32] * len(shapes)
    if inputs is None:
        inputs = [make(s, d, device) for s, d in zip(shapes, dtypes, strict=True)]
    with torch.device(device):
        built = node_type.build(p, shapes)
    if isinstance(built, Call):
        if built.pack:
            args = [x for x in inputs if x is not None]
            if node_type.role == "weight_penalty":
                args = [torch.ones(3, 4, device=device), torch.ones(5, device=device)]
            return built.fn(args, **built.kwargs), built
        return built.fn(*inputs, **built.kwargs), built
    assert isinstance(built, nn.Module)
    return built(*inputs), built


I64 = torch.int64
F32 = torch.float32
N = 4

# type id -> (params, input shapes, expected output shape, input dtypes)
SAMPLES: dict[str, tuple[dict[str, Any], list, tuple[int, ...], list | None]] = {
    "Dense": ({"units": 5}, [(N, 7)], (N, 5), None),
    "Maxout": ({"units": 5, "pieces": 3}, [(N, 7)], (N, 5), None),
    "Conv1d": ({"filters": 6, "kernel": 3}, [(N, 2, 10)], (N, 6, 8), None),
    "Conv2d": ({"filters": 6, "kernel": 3, "padding": "same"}, [(N, 3, 9, 9)], (N, 6, 9, 9), None),
    "ConvTranspose2d": ({"filters": 4}, [(N, 3, 5, 5)], (N, 4, 10, 10), None),
    "MaxPool2d": ({}, [(N, 3, 8, 8)], (N, 3, 4, 4), None),
    "AvgPool2d": ({}, [(N, 3, 8, 6)], (N, 3, 4, 3), None),
    "GlobalAvgPool": ({}, [(N, 3, 8, 8)], (N, 3), None),
    "Upsample": ({"mode": "bilinear"}, [(N, 3, 4, 4)], (N, 3, 8, 8), None),
    "ConvTranspose3d": ({"filters": 4}, [(N, 3, 2, 5, 5)], (N, 4, 4, 10, 10), None),
    "Upsample3d": ({"mode": "trilinear"}, [(N, 3, 2, 4, 4)], (N, 3, 4, 8, 8), None),
    "Flatten": ({}, [(N, 16, 8, 8)], (N, 1024), None),
    "Reshape": ({"shape": [1, -1, 28]}, [(N, 784)], (N, 1, 28, 28), None),
    "Identity": ({}, [(N, 3)], (N, 3), None),
    "Step": ({}, [(N, 3)], (N, 3), None),
    "Sigmoid": ({"beta": 2.0}, [(N, 3)], (N, 3), None),
    "Tanh": ({}, [(N, 3)], (N, 3), None),
    "ReLU": ({}, [(N, 3)], (N, 3), None),
    "LeakyReLU": ({}, [(N, 3)], (N, 3), None),
    "ELU": ({}, [(N, 3)], (N, 3), None),
    "SELU": ({}, [(N, 3)], (N, 3), None),
    "GELU": ({}, [(N, 3)], (N, 3), None),
    "Softmax": ({}, [(N, 3)], (N, 3), None),
    "BatchNorm": ({}, [(N, 3, 4, 4)], (N, 3, 4, 4), None),
    "LayerNorm": ({}, [(N, 3, 4)], (N, 3, 4), None),
    "Dropout": ({}, [(N, 3)], (N, 3), None),
    "GaussianNoise": ({}, [(N, 3)], (N, 3), None),
    "Add": ({"inputs": 3}, [(N, 3, 2)] * 3, (N, 3, 2), None),
    "Concat": ({}, [(N, 3, 4, 4), (N, 5, 4, 4)], (N, 8, 4, 4), None),
    "Multiply": ({}, [(N, 3)] * 2, (N, 3), None),
    "Embedding": ({"vocab": 10, "dim": 6}, [(N, 8)], (N, 8, 6), [I64]),
    "RNN": ({"units": 7}, [(N, 5, 3)], (N, 7), None),
    "LSTM": ({"units": 7, "return": "sequence", "layers": 2}, [(N, 5, 3)], (N, 5, 7), None),
    "GRU": ({"units": 7}, [(N, 5, 3)], (N, 7), None),
    "Reparameterize": ({}, [(N, 2), (N, 2)], (N, 2), None),
    "SoftmaxCrossEntropy": ({}, [(N, 5), (N,)], (), [F32, I64]),
    "BinaryCrossEntropy": ({}, [(N, 1), (N, 1)], (), None),
    "MSE": ({}, [(N, 3), (N, 3)], (), None),
    "SSE": ({}, [(N, 1), (N,)], (), None),
    "L1Loss": ({}, [(N, 3), (N, 3)], (), None),
    "KLDivergence": ({}, [(N, 2), (N, 2)], (), None),
    "L1WeightPenalty": ({}, [None], (), None),
    "L2WeightPenalty": ({}, [(N, 3)], (), None),
    "ActivationL1": ({}, [(N, 3)], (), None),
    "Accuracy": ({}, [(N, 5), (N,)], (), [F32, I64]),
}
DATA_TYPES = {"Input", "Target", "Output"}
EXPECTED_IDS = set(SAMPLES) | DATA_TYPES


def test_registry_has_every_type():
    reg = default_registry()
    # every type, new ones included, has a row in tests/operator_table.py (test_operators checks that)
    assert {t.type_id for t in reg.types()} >= EXPECTED_IDS
    assert reg.pack_errors == []


@pytest.mark.parametrize("type_id", sorted(EXPECTED_IDS))
def test_type_is_documented_and_defaults_validate(type_id):
    t = default_registry().get(type_id)
    assert t.doc and t.formula and t.title
    assert t.validate_params({}) == t.defaults()
    assert all(p.doc for p in t.params)
    assert set(t.key_params) <= {p.name for p in t.params}
    if type_id not in DATA_TYPES:
        assert t.build is not None


@pytest.mark.parametrize("device", ["meta", "cpu"])
@pytest.mark.parametrize("type_id", sorted(SAMPLES))
def test_builds_with_expected_shape(type_id, device):
    params, shapes, expected, dtypes = SAMPLES[type_id]
    t = default_registry().get(type_id)
    assert len(shapes) == len(t.input_ports(t.validate_params(params)))
    out, built = run_node(t, params, shapes, device, dtypes)
    assert tuple(out.shape) == expected
    assert out.device.type == device
    if isinstance(built, Call):
        assert built.fn.__name__ != "<lambda>"
        assert "<locals>" not in built.fn.__qualname__


def test_defaults_build_on_typical_shape():
    reg = default_registry()
    for type_id, shapes in {"Dense": [(N, 2)], "Conv2d": [(N, 1, 28, 28)], "LSTM": [(N, 8, 4)]}.items():
        out, _ = run_node(reg.get(type_id), {}, shapes, "meta")
        assert out.shape[0] == N


def test_layers_with_weights_have_init():
    reg = default_registry()
    with_init = {t.type_id for t in reg.types() if t.has_weights_init}
    assert with_init == {
        *("Dense", "Maxout", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose2d", "ConvTranspose3d", "Embedding"),
        *("RNN", "LSTM", "GRU"),
    }


def test_ports_and_roles():
    reg = default_registry()
    assert reg.get("Input").inputs == () and reg.get("Input").role == "input"
    assert reg.get("Target").role == "target" and reg.get("Output").outputs == ()
    assert [p.name for p in reg.get("Add").input_ports({"inputs": 4})] == ["in1", "in2", "in3", "in4"]
    for t in reg.types():
        if t.role == "loss":
            assert t.outputs == (Port("loss", doc=t.outputs[0].doc),)
            assert t.param("weight").min == 0
    l2 = reg.get("L2WeightPenalty")
    assert l2.role == "weight_penalty" and l2.inputs[0].optional
    assert [p.name for p in reg.get("Reparameterize").inputs] == ["mu", "logvar"]
    assert reg.get("GaussianNoise").train_only


@pytest.mark.parametrize(
    ("type_id", "params", "message"),
    [
        ("Dense", {"units": 0}, "minimum"),
        ("Dense", {"units": 2.5}, "whole number"),
        ("Dense", {"bias": "yes"}, "true or false"),
        ("Dense", {"init": "glorot"}, "must be one of"),
        ("Dense", {"nope": 1}, "no parameter"),
        ("Conv2d", {"padding": "full"}, "same, valid"),
        ("Dropout", {"p": 1.5}, "maximum"),
        ("Add", {"inputs": 0}, "minimum"),
        ("Input", {"shape": []}, "list of whole numbers"),
        ("Sigmoid", {"beta": float("nan")}, "finite"),
    ],
)
def test_param_errors(type_id, params, message):
    with pytest.raises(ParamError, match=message):
        default_registry().get(type_id).validate_params(params)


@pytest.mark.parametrize(
    ("type_id", "params", "shapes", "problem", "fix"),
    [
        ("Dense", {}, [(N, 16, 8, 8)], "Dense expects [N, features] but gets [N, 16, 8, 8]", "insert a Flatten"),
        ("Dense", {}, [(N,)], "Dense expects", "Reshape with shape [1]"),
        ("Maxout", {}, [(N, 2, 3)], "Maxout expects", "Flatten"),
        ("Conv2d", {}, [(N, 784)], "Conv2d expects [N, C, H, W] but gets [N, 784]", "Reshape to [C, H, W]"),
        ("Conv2d", {}, [(N, 28, 28)], "Conv2d expects", "one channel"),
        ("Conv2d", {"kernel": 5}, [(N, 3, 3, 3)], "does not fit", "smaller kernel"),
        ("Conv2d", {"kernel": 4, "stride": 2, "padding": "same"}, [(N, 3, 8, 8)], "odd kernel", "odd kernel"),
        ("Conv1d", {}, [(N, 10)], "Conv1d expects [N, C, L]", "Reshape to [1, L]"),
        ("ConvTranspose2d", {"output_padding": 2}, [(N, 3, 4, 4)], "output_padding", "at most 1"),
        ("MaxPool2d", {"kernel": 2, "padding": 2}, [(N, 3, 8, 8)], "more than half", "padding ≤ 1"),
        ("MaxPool2d", {"kernel": 4}, [(N, 3, 2, 2)], "does not fit", "smaller kernel"),
        ("Upsample", {}, [(N, 3)], "Upsample expects", "Reshape"),
        ("Reshape", {"shape": [5, -1]}, [(N, 12)], "do not fit", "product is 12"),
        ("Reshape", {"shape": [-1, -1]}, [(N, 12)], "not valid", "at most one -1"),
        ("Flatten", {}, [(N,)], "Flatten expects", "nothing to flatten"),
        ("BatchNorm", {}, [(N,)], "BatchNorm expects", "Reshape"),
        (
            "Add",
            {},
            [(N, 16, 8, 8), (N, 32, 8, 8)],
            "inputs differ: [N, 16, 8, 8] vs [N, 32, 8, 8]",
            "channels differ: 16 vs 32 — add a 1×1 Conv2d to match them",
        ),
        ("Add", {}, [(N, 16), (N, 32)], "inputs differ", "features differ: 16 vs 32 — add a Dense layer"),
        ("Multiply", {}, [(N, 3, 8, 8), (N, 3, 4, 4)], "do not broadcast", "spatial sizes differ: 8×8 vs 4×4"),
        (
            "Concat",
            {},
            [(N, 16, 8, 8), (N, 32, 4, 4)],
            "Concat inputs differ",
            "spatial sizes differ: 8×8 vs 4×4 — add pooling/upsampling or crop so they match",
        ),
        ("Concat", {"axis": 3}, [(N, 3), (N, 3)], "axis 3 does not exist", "axis from 1 to 1"),
        ("LSTM", {}, [(N, 8)], "LSTM expects [N, T, features]", "Embedding"),
        ("Reparameterize", {}, [(N, 2), (N, 3)], "mu and logvar differ", "features differ"),
        ("SoftmaxCrossEntropy", {}, [(N, 1), (N,)], "one score per class", "BinaryCrossEntropy"),
        ("SoftmaxCrossEntropy", {}, [(N, 5), (N, 1)], "does not fit", "dtype to int64"),
        ("MSE", {}, [(N, 3), (N, 2)], "differ", "shape of the prediction"),
        ("KLDivergence", {}, [(N, 2), (N, 4)], "differ", "add a Dense layer"),
        ("Accuracy", {}, [(N, 5), (N, 5, 2)], "does not fit", "class indices"),
    ],
)
def test_check_errors_name_the_fix(type_id, params, shapes, problem, fix):
    t = default_registry().get(type_id)
    with pytest.raises(NodeError) as info:
        t.check(t.validate_params(params), shapes)
    assert info.value.node_id is None
    assert problem in info.value.problem
    assert fix in info.value.fix
    assert fix in str(info.value)


def test_accuracy_takes_binary_masks_shaped_like_a_one_channel_pred():
    t = default_registry().get("Accuracy")
    t.check(t.validate_params({}), [(N, 1, 16, 16), (N, 1, 16, 16)])  # segmentation: one logit per pixel
    acc = t.build({}, [(2, 1, 2, 2), (2, 1, 2, 2)]).fn
    pred = torch.tensor([[[[1.0, -1.0], [1.0, 1.0]]], [[[-1.0, -1.0], [-1.0, 1.0]]]])
    assert acc(pred, (pred > 0).float()).item() == 1.0 and acc(pred, (pred < 0).float()).item() == 0.0


def test_cross_entropy_rejects_float_class_indices_at_run_time():
    t = default_registry().get("SoftmaxCrossEntropy")
    with pytest.raises(NodeError, match="int64"):
        run_node(t, {}, [(N, 5), (N,)], "meta", [F32, F32])


def test_conv_same_padding_with_stride_gives_ceil():
    t = default_registry().get("Conv2d")
    out, _ = run_node(t, {"kernel": 5, "stride": 2, "padding": "same"}, [(1, 3, 7, 7)], "meta")
    assert out.shape[2:] == (4, 4)
    out, _ = run_node(t, {"kernel": 4, "padding": "same"}, [(1, 3, 7, 7)], "cpu")
    assert out.shape[2:] == (7, 7)


def test_train_only_layers_are_identity_in_eval():
    reg = default_registry()
    x = torch.randn(8, 3)
    for type_id in ("GaussianNoise", "Dropout"):
        _, m = run_node(reg.get(type_id), {}, [(8, 3)], "cpu")
        m.eval()
        assert torch.equal(m(x), x)
    _, rep = run_node(reg.get("Reparameterize"), {}, [(8, 3), (8, 3)], "cpu")
    rep.eval()
    assert torch.equal(rep(x, x), x)


def test_batchnorm_picks_dimension_from_shape():
    t = default_registry().get("BatchNorm")
    assert isinstance(run_node(t, {}, [(N, 5)], "meta")[1], nn.BatchNorm1d)
    assert isinstance(run_node(t, {}, [(N, 5, 7)], "meta")[1], nn.BatchNorm1d)
    assert isinstance(run_node(t, {}, [(N, 5, 7, 7)], "meta")[1], nn.BatchNorm2d)


def test_penalties_and_metric_values():
    reg = default_registry()
    w = [torch.tensor([1.0, -2.0]), torch.tensor([[3.0]])]
    l2 = reg.get("L2WeightPenalty").build({"lam": 0.5}, [None])
    assert l2.pack and l2.fn(w, **l2.kwargs).item() == pytest.approx(0.5 * 14)
    l1 = reg.get("L1WeightPenalty").build({"lam": 0.1}, [None])
    assert l1.fn(w, **l1.kwargs).item() == pytest.approx(0.6)
    acc = reg.get("Accuracy").build({}, [(3, 2), (3,)]).fn
    assert acc(torch.tensor([[2.0, 1.0], [0.0, 1.0], [0.0, 1.0]]), torch.tensor([0, 1, 0])).item() == pytest.approx(
        2 / 3
    )
    assert acc(torch.tensor([[1.0], [-1.0]]), torch.tensor([1.0, 1.0])).item() == pytest.approx(0.5)
    sparsity = reg.get("ActivationL1").build({"weight": 1.0}, [(2,)]).fn
    assert sparsity(torch.tensor([-1.0, 3.0])).item() == pytest.approx(2.0)


def test_losses_on_known_values():
    reg = default_registry()
    pred, target = torch.tensor([[1.0, 2.0], [3.0, 5.0]]), torch.tensor([[0.0, 2.0], [3.0, 3.0]])
    assert reg.get("MSE").build({}, []).fn(pred, target).item() == pytest.approx(5 / 4)
    assert reg.get("SSE").build({}, []).fn(pred, target).item() == pytest.approx(5 / 2)
    assert reg.get("L1Loss").build({}, []).fn(pred, target).item() == pytest.approx(3 / 4)
    kl = reg.get("KLDivergence").build({}, []).fn
    assert kl(torch.zeros(3, 2), torch.zeros(3, 2)).item() == pytest.approx(0.0)
    assert kl(torch.ones(1, 2), torch.zeros(1, 2)).item() == pytest.approx(1.0)
    bce = reg.get("BinaryCrossEntropy").build({}, []).fn
    assert bce(torch.zeros(2, 1), torch.tensor([0, 1])).item() == pytest.approx(math.log(2))


@pytest.mark.parametrize(
    ("scheme", "gain"),
    [("he", 2.0), ("xavier", 1.0), ("lecun", 1.0)],
)
def test_apply_init_statistics(scheme, gain):
    torch.manual_seed(0)
    lin = nn.Linear(400, 500)
    apply_init(lin, scheme)
    assert lin.weight.std().item() == pytest.approx(math.sqrt(gain / 400), rel=0.05)
    assert lin.weight.mean().abs().item() < 0.01 and torch.count_nonzero(lin.bias) == 0
    conv = nn.Conv2d(16, 64, 5)
    apply_init(conv, scheme)
    assert conv.weight.std().item() == pytest.approx(math.sqrt(gain / (16 * 25)), rel=0.05)


def test_apply_init_other_schemes_and_module_kinds():
    torch.manual_seed(0)
    reg = default_registry()
    tconv = nn.ConvTranspose2d(8, 32, 4)  # weight [in, out, k, k]: torch's fan_in = 32·16
    apply_init(tconv, "he")
    assert tconv.weight.std().item() == pytest.approx(math.sqrt(2 / (32 * 16)), rel=0.05)
    _, lstm = run_node(reg.get("LSTM"), {"units": 64}, [(2, 5, 100)], "cpu")
    apply_init(lstm, "xavier")
    assert lstm.rnn.weight_ih_l0.std().item() == pytest.approx(math.sqrt(1 / 100), rel=0.05)
    assert lstm.rnn.weight_hh_l0.std().item() == pytest.approx(math.sqrt(1 / 64), rel=0.05)
    assert torch.count_nonzero(lstm.rnn.bias_ih_l0) == 0
    _, maxout = run_node(reg.get("Maxout"), {"units": 64}, [(2, 300)], "cpu")
    apply_init(maxout, "uniform")
    assert maxout.linear.weight.abs().max().item() <= 0.01
    emb = nn.Embedding(1000, 64)
    apply_init(emb, "he")
    assert emb.weight.std().item() == pytest.approx(math.sqrt(2), rel=0.05)
    apply_init(emb, "zeros")
    assert torch.count_nonzero(emb.weight) == 0
    lin = nn.Linear(3, 3)
    before = lin.bias.clone()
    apply_init(lin, "torch")
    assert torch.equal(lin.bias, before)
    apply_init(nn.BatchNorm1d(3), "zeros")  # no weights of its own to initialise: untouched
    with torch.device("meta"):
        apply_init(nn.Linear(3, 3), "he")
    with pytest.raises(ParamError):
        apply_init(lin, "glorot")
    assert set(INIT_CHOICES) == set(reg.get("Dense").param("init").choices)


def _fake_entry_points(objects):
    class FakeEntryPoint:
        def __init__(self, name, obj):
            self.name, self.value, self._obj = name, f"fakepack.{name}", obj

        def load(self):
            if isinstance(self._obj, Exception):
                raise self._obj
            return self._obj

    def entry_points(group):
        assert group == registry_module.ENTRY_POINT_GROUP
        return [FakeEntryPoint(name, obj) for name, obj in objects.items()]

    return entry_points


def test_node_pack_from_entry_point(monkeypatch):
    extra = NodeType(
        "Swish",
        "Swish",
        "activation",
        "x · σ(x)",
        build=lambda params, shapes: Call(torch.nn.functional.silu),
        params=(Param("beta", "float", 1.0, doc="β"),),
        legacy_ids=("SiLU",),
    )
    pack = types.SimpleNamespace(NODE_TYPES=[extra])
    monkeypatch.setattr(
        registry_module, "entry_points", _fake_entry_points({"good": pack, "broken": ImportError("no module zzz")})
    )
    monkeypatch.setattr(registry_module, "_default", None)
    reg = default_registry()
    assert reg.get("Swish") is extra and "SiLU" in reg and reg.canonical_id("SiLU") == "Swish"
    assert "Dense" in reg
    assert len(reg.pack_errors) == 1 and "broken" in reg.pack_errors[0] and "no module zzz" in reg.pack_errors[0]


def test_legacy_ids_resolve():
    reg = Registry()
    reg.load_builtins()
    assert reg.canonical_id("Linear") == "Dense"
    for t in reg.types():
        for old in t.legacy_ids:
            assert reg.get(old) is t


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_model_functions_compile_with_torchscript():
    """Call functions of model families must survive torch.jit.script for the TorchScript export."""
    reg = default_registry()
    model_families = {"dense", "convolution", "activation", "normalization", "merge", "sequence", "generative"}
    for type_id, (params, shapes, _, _) in SAMPLES.items():
        t = reg.get(type_id)
        if t.category not in model_families:
            continue
        with torch.device("meta"):
            built = t.build(t.validate_params(params), shapes)
        if isinstance(built, nn.Module):
            torch.jit.script(built)
        elif built.fn.__module__.startswith("graphedit.nodes"):
            torch.jit.script(built.fn)


def test_target_shape_convention():
    from graphedit.nodes.data import feature_shape

    target = default_registry().get("Target")
    assert feature_shape("Target", target.defaults()) == ()  # int64 [1]: class indices [N]
    assert feature_shape("Target", {"shape": (8, 8), "dtype": "int64"}) == (8, 8)
    assert feature_shape("Target", {"shape": (1,), "dtype": "float32"}) == (1,)
    assert feature_shape("Input", default_registry().get("Input").defaults()) == (2,)


def test_layernorm_without_affine_learns_nothing_and_standardises():
    node = default_registry().get("LayerNorm")
    plain = node.build(node.validate_params({"affine": False}), [(2, 3, 4)])
    assert not list(plain.parameters()) and len(list(node.build(node.defaults(), [(2, 3, 4)]).parameters())) == 2
    x = torch.randn(2, 3, 4)
    assert torch.allclose(plain(x), torch.nn.functional.layer_norm(x, [3, 4]), atol=1e-6)
