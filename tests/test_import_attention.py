"""torch's ``nn.MultiheadAttention``, called in a module's forward (PyTorch importer) or as its ONNX export
decomposes it (ONNX importer), comes back as one MultiheadAttention node: self- and cross-attention, a
separate value, key/value sizes of their own, a key padding mask (``x != 0`` or ``x.bool()``) and a causal
mask; what the node cannot express is refused in one line naming the layer."""

from __future__ import annotations

import inspect
import json
import warnings

import pytest
import torch
from torch import nn
from zoo_helpers import NO_LOSS

from graphedit.cli import main
from graphedit.importers import import_module, import_source
from graphedit.importers.common import UnsupportedOpError


class Attend(nn.Module):
    """``attn(query, memory[, value], key_padding_mask=…)``; ``mask`` says how the padding mask is written."""

    def __init__(self, kdim=None, vdim=None, mask="", causal=False, own_value=False, bias=True, batch_first=True):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, bias=bias, batch_first=batch_first, kdim=kdim, vdim=vdim)
        self.mask, self.causal, self.own_value = mask, causal, own_value
        for p in self.parameters():  # distinct biases too (torch starts them at 0)
            nn.init.normal_(p, std=0.3)

    def attend(self, query, memory, *rest):
        value = rest[0] if self.own_value else memory
        padding = {"": None, "nonzero": lambda m: m != 0, "bool": lambda m: m.bool(), "zero": lambda m: m == 0}
        padding = padding[self.mask](rest[-1]) if self.mask else None
        causal = None
        if self.causal == "bool":  # new_ones: torch.fx traces it; torch.ones(T, S) of traced sizes it cannot
            causal = query.new_ones(query.shape[1], memory.shape[1], dtype=torch.bool).triu(1)
        elif self.causal == "float":
            causal = nn.Transformer.generate_square_subsequent_mask(query.shape[1])
        elif self.causal == "band":
            causal = query.new_ones(query.shape[1], memory.shape[1], dtype=torch.bool).triu(2)
        out, _ = self.attn(query, memory, value, key_padding_mask=padding, attn_mask=causal, need_weights=False)
        return out


class AttendTwo(Attend):  # torch.fx needs a forward with named inputs
    def forward(self, query, memory):
        return self.attend(query, memory)


class AttendSelf(Attend):
    def forward(self, query):
        return self.attend(query, query)


class AttendThree(Attend):
    def forward(self, query, memory, third):
        return self.attend(query, memory, third)


class AttendFour(Attend):
    def forward(self, query, memory, value, padding):
        return self.attend(query, memory, value, padding)


def attend(**kwargs):
    """The Attend module for ``kwargs``, its forward taking the inputs :func:`_inputs` gives."""
    count = 2 + bool(kwargs.get("own_value")) + bool(kwargs.get("mask"))
    return {2: AttendTwo, 3: AttendThree, 4: AttendFour}[count](**kwargs)


def _inputs(module, query_len=5, memory_len=6):
    """Example inputs by the names of the module's forward arguments."""
    torch.manual_seed(1)
    a = module.attn
    inputs = [torch.randn(3, query_len, 8), torch.randn(3, memory_len, a.kdim)]
    if module.own_value:
        inputs.append(torch.randn(3, memory_len, a.vdim))
    if module.mask:
        padding = torch.zeros(3, memory_len)
        padding[0, -2:] = 1  # the first example's last two keys are padding
        padding[2, -1] = 1
        inputs.append(padding)
    return dict(zip(inspect.signature(module.forward).parameters, inputs, strict=False))


def _import(module, inputs, route, tmp_path):
    """Import ``module`` by ``route``; its Input nodes are named after the forward's arguments either way."""
    if route == "fx":
        shapes = [tuple(x.shape[1:]) for x in inputs.values()]
        return import_module(module, tmp_path / "attn.gproj", shapes, flat=True)
    path = tmp_path / "attn.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if route == "onnx_dynamo":  # its ops carry their module path and class as metadata, not in their names
            batch = torch.export.Dim("batch")
            dynamic = tuple({0: batch} for _ in inputs)
            kwargs = {"dynamo": True, "dynamic_shapes": dynamic, "verbose": False}
        else:
            kwargs = {"dynamo": False, "opset_version": 20, "dynamic_axes": {name: {0: "batch"} for name in inputs}}
        torch.onnx.export(module.eval(), tuple(inputs.values()), str(path), input_names=list(inputs), **kwargs)
    return import_source(path, tmp_path / "attn.gproj")


CASES = {  # name: (Attend's arguments, the node's wired ports, causal)
    "cross": ({}, ["query", "key"], False),
    "cross_own_sizes": ({"kdim": 6, "vdim": 4, "own_value": True}, ["query", "key", "value"], False),
    "padding_mask": ({"mask": "nonzero"}, ["query", "key", "mask"], False),
    "bool_padding_mask_no_bias": ({"mask": "bool", "bias": False}, ["query", "key", "mask"], False),
    "causal_cross_value_and_mask": (
        {"causal": "bool", "mask": "nonzero", "own_value": True},
        ["query", "key", "value", "mask"],
        True,
    ),
}


DYNAMO = {"cross_own_sizes", "causal_cross_value_and_mask"}  # the slower exporter, on the cases that cover most


@pytest.mark.parametrize(
    ("name", "route"),
    [(n, r) for n in CASES for r in ("fx", "onnx", "onnx_dynamo") if r != "onnx_dynamo" or n in DYNAMO],
)
@pytest.mark.slow
def test_attention_comes_back_as_one_node_within_1e_5(name, route, tmp_path, capsys):
    kwargs, ports, causal = CASES[name]
    torch.manual_seed(0)
    module = attend(**kwargs).eval()
    inputs = _inputs(module)
    result = _import(module, inputs, route, tmp_path)
    doc = result.project.document
    attn = [n for n in doc.node_ids() if doc.node_type(n).type_id == "MultiheadAttention"]
    assert len(attn) == 1 and doc.params(attn[0])["heads"] == 2 and doc.params(attn[0])["causal"] is causal
    assert sorted(e.dst_port for e in doc.in_edges(attn[0])) == sorted(ports)
    assert result.imported_params == sum(p.numel() for p in module.parameters())
    if route != "onnx_dynamo":  # its shape constants are initializers too, so the source count is an estimate
        assert result.imported_params == result.source_params
    with torch.no_grad():  # the compiled model takes its inputs in the order of their node ids
        got = result.compiled.model(*[inputs[n] for n in result.compiled.input_ids])
        assert float((got - module(*inputs.values())).abs().max()) <= 1e-5
    _assert_check_valid(tmp_path / "attn.gproj", len(inputs), capsys)


def _assert_check_valid(path, inputs, capsys):
    """``graphedit check``: every shape found, no error but the missing loss (and, with several inputs, that the
    new project's default dataset feeds one Input: an import brings no data)."""
    main(["check", str(path), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert all(not row.get("error") for row in report["nodes"]), report["nodes"]
    assert len(report["errors"]) <= 1 and all(e["message"].startswith(NO_LOSS) for e in report["errors"])
    expected = None if inputs == 1 else f"feeds one Input node, and the graph has {inputs}"
    assert report["dataset_error"] is expected or expected in report["dataset_error"]


@pytest.mark.parametrize("route", ["fx", "onnx"])
def test_self_attention_with_a_float_causal_mask_comes_back_causal(route, tmp_path):
    module = AttendSelf(causal="float").eval()
    inputs = {"query": torch.randn(2, 5, 8)}
    result = _import(module, inputs, route, tmp_path)
    doc = result.project.document
    attn = next(n for n in doc.node_ids() if doc.node_type(n).type_id == "MultiheadAttention")
    assert doc.params(attn)["causal"] is True
    with torch.no_grad():
        assert float((result.compiled.model(inputs["query"]) - module(inputs["query"])).abs().max()) <= 1e-5


REFUSED = {
    "onnx": "cannot import ONNX attention (torch's nn.MultiheadAttention) at scope '/attn/': ",
    "fx": "cannot import MultiheadAttention at module 'attn': ",
}


@pytest.mark.parametrize("route", ["fx", "onnx"])
@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({"mask": "zero"}, "its key_padding_mask is x == 0"),
        ({"causal": "band"}, "its attn_mask is not causal"),
        ({"batch_first": False}, "batch"),
    ],
    ids=["zero_marks_padding", "not_causal", "time_first"],
)
def test_attention_the_node_cannot_express_is_refused_in_one_line(kwargs, why, route, tmp_path):
    module = attend(**kwargs).eval()
    inputs = _inputs(module, memory_len=5)
    if not module.attn.batch_first:  # [T, N, E], where the importer feeds [2, …]: T = 2 keeps shapes consistent
        inputs = {"query": inputs["query"][:2], "memory": inputs["query"][:2]}
    with pytest.raises(UnsupportedOpError) as caught:
        _import(module, inputs, route, tmp_path)
    message = str(caught.value)
    assert message.startswith(REFUSED[route]) and why in message and "\n" not in message


def test_an_import_whose_output_turns_nan_differs_infinitely():
    """NaN compares false with any tolerance: the parity check counts a NaN on one side only as infinite."""
    from graphedit.export.common import max_abs_diff

    nan = float("nan")
    assert max_abs_diff([torch.tensor([1.0, nan])], [torch.tensor([1.0, nan])]) == 0.0
    assert max_abs_diff([torch.tensor([1.0, 2.0])], [torch.tensor([1.0, nan])]) == float("inf")


class Encoder(nn.Module):
    """One transformer encoder layer; ``causal``: with the square subsequent mask, as a decoder-only model has it."""

    def __init__(self, norm_first=False, causal=False):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, norm_first=norm_first)
        self.causal = causal

    def forward(self, x):
        if self.causal:  # is_causal: torch's attention builds the mask itself and drops the one given
            mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1])
            return self.layer(x, src_mask=mask, is_causal=True)
        return self.layer(x)


class PaddedEncoder(Encoder):
    """The layer turns the padding mask into a float one (−inf = padding) before its attention reads it."""

    def forward(self, x, padding):
        steps = x.shape[1]
        mask = x.new_ones(steps, steps, dtype=torch.bool).triu(1) if self.causal else None  # bool, as the padding
        return self.layer(x, src_mask=mask, src_key_padding_mask=padding != 0)


@pytest.mark.parametrize(
    ("cls", "kwargs", "causal", "route"),
    [
        (Encoder, {}, False, "onnx"),
        (Encoder, {"norm_first": True, "causal": True}, True, "onnx"),
        (PaddedEncoder, {"causal": True}, True, "onnx"),
        (Encoder, {"norm_first": True, "causal": True}, True, "onnx_dynamo"),
        (PaddedEncoder, {"causal": True}, True, "onnx_dynamo"),
    ],
    ids=["plain", "is_causal", "causal_and_padding_mask", "is_causal_dynamo", "causal_and_padding_mask_dynamo"],
)
@pytest.mark.slow
def test_a_transformer_encoder_layer_imports_from_onnx_within_1e_5(cls, kwargs, causal, route, tmp_path, capsys):
    """nn.TransformerEncoderLayer: its attention folds into one node (inside the layer's block), its feed-forward
    Linear layers on [N, T, E] are Dense nodes."""
    torch.manual_seed(0)
    module = cls(**kwargs).eval()
    inputs = {"x": torch.randn(3, 5, 8)}
    if cls is PaddedEncoder:
        inputs["padding"] = torch.tensor([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0], [0, 0, 0, 0, 1.0]])
    result = _import(module, inputs, route, tmp_path)
    doc = result.project.document
    inside = [doc.registry.definitions[d].document for d in doc.registry.definitions]
    types = sorted(d.node_type(n).type_id for d in [doc, *inside] for n in d.node_ids())
    assert types.count("MultiheadAttention") == 1 and types.count("Dense") == 2 and types.count("LayerNorm") == 2
    attn = next(n for d in [doc, *inside] for n in d.node_ids() if d.node_type(n).type_id == "MultiheadAttention")
    assert next(d for d in [doc, *inside] if attn in d).params(attn)["causal"] is causal
    assert result.imported_params == sum(p.numel() for p in module.parameters())
    if route != "onnx_dynamo":  # its shape constants are initializers too, so the source count is an estimate
        assert result.imported_params == result.source_params
    with torch.no_grad():
        got = result.compiled.model(*[inputs[n] for n in result.compiled.input_ids])
        assert float((got - module(*inputs.values())).abs().max()) <= 1e-5
    _assert_check_valid(tmp_path / "attn.gproj", len(inputs), capsys)


def test_a_torch_layer_the_pytorch_importer_cannot_trace_names_the_onnx_route(tmp_path):
    with pytest.raises(UnsupportedOpError) as caught:
        _import(Encoder().eval(), {"x": torch.randn(2, 5, 8)}, "fx", tmp_path)
    message = str(caught.value)
    assert message.startswith("cannot import TransformerEncoderLayer at module 'layer': ") and "\n" not in message
    assert "would import it; or import the model's ONNX export" in message


class BufferCausal(nn.Module):
    """A decoder's causal mask kept as a buffer, cut to the sequence (a fixed length: torch.fx cannot slice a
    buffer by a traced size)."""

    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        self.register_buffer("mask", torch.ones(16, 16, dtype=torch.bool).triu(1))

    def forward(self, x):
        return self.attn(x, x, x, attn_mask=self.mask[:5, :5], need_weights=False)[0]


@pytest.mark.parametrize("route", ["fx", "onnx"])
def test_a_causal_mask_kept_as_a_buffer_comes_back_causal(route, tmp_path):
    torch.manual_seed(0)
    module = BufferCausal().eval()
    x = torch.randn(3, 5, 8)
    result = _import(module, {"x": x}, route, tmp_path)
    doc = result.project.document
    attn = [n for n in doc.node_ids() if doc.node_type(n).type_id == "MultiheadAttention"]
    assert len(attn) == 1 and doc.params(attn[0])["causal"] is True
    with torch.no_grad():
        assert float((result.compiled.model(x) - module(x)).abs().max()) <= 1e-5
