"""Every catalog operator against the torch function or module it names, and through the four exports.

The rows live in :mod:`operator_table`; a type without a row fails here, so no operator is skipped quietly.
"""

from __future__ import annotations

import pytest
import torch
from graphkit import build
from operator_table import ROWS, SHAPE_ERRORS, N, Row, TorchAttention
from torch import nn

from graphedit.compiler.compile import compile_graph
from graphedit.errors import NodeError
from graphedit.export.common import export_model
from graphedit.export.onnx_export import export_onnx
from graphedit.export.python_source import export_python
from graphedit.export.safetensors_export import export_safetensors
from graphedit.export.torchscript import export_torchscript
from graphedit.model.project import new_project
from graphedit.nodes.registry import default_registry
from graphedit.nodes.spec import Call

TESTED = sorted(t for t, row in ROWS.items() if row.ref is not None)


def test_every_catalog_type_has_a_row():
    types = {t.type_id for t in default_registry().types()}
    assert types - set(ROWS) == set(), "add a row to tests/operator_table.py for each new node type"
    assert set(ROWS) - types == set(), "rows for types the catalog no longer has"
    for type_id, row in ROWS.items():
        assert (row.ref is None) != (row.covered == ""), type_id


def _inputs(row: Row, seed: int = 0) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    dtypes = row.dtypes or (torch.float32,) * len(row.shapes)
    return [
        torch.randint(0, 5, s, generator=gen) if d == torch.int64 else torch.randn(s, generator=gen)
        for s, d in zip(row.shapes, dtypes)
    ]


def copy_weights(ours: nn.Module, ref: nn.Module) -> None:
    """Copy ``ours`` into ``ref`` tensor by tensor in order (catalog wrappers may nest the torch layer)."""
    mine, theirs = list(ours.state_dict().values()), ref.state_dict()
    assert len(mine) == len(theirs)
    mapped = {}
    for (key, want), got in zip(theirs.items(), mine):
        assert want.shape == got.shape, key
        mapped[key] = got
    ref.load_state_dict(mapped)


def _built(type_id: str, row: Row, device: str = "cpu"):
    t = default_registry().get(type_id)
    params = t.validate_params(row.params)
    ports = [p.name for p in t.input_ports(params)]
    given = dict(zip(row.wires or ports, row.shapes))
    shapes = [given.get(port) for port in ports]  # None where a port stays unwired, as the compiler passes it
    if t.check is not None:
        t.check(params, shapes)
    with torch.device(device):
        return t.build(params, shapes)


def _call(built, xs):
    if isinstance(built, Call):
        return built.fn(xs, **built.kwargs) if built.pack else built.fn(*xs, **built.kwargs)
    return built(*xs)


@pytest.mark.parametrize("type_id", TESTED)
@pytest.mark.slow
def test_operator_matches_torch(type_id):
    row = ROWS[type_id]
    torch.manual_seed(0)
    built = _built(type_id, row)
    ref = row.ref()
    if isinstance(built, nn.Module):
        with torch.no_grad():  # distinct values everywhere, so a swapped tensor cannot pass
            for p in built.parameters():
                p.add_(0.1 * torch.randn_like(p))
        built.eval()
        if isinstance(ref, nn.Module):
            copy_weights(built, ref)
            ref.eval()
    xs = _inputs(row)
    with torch.no_grad():
        got, want = _call(built, xs), ref(*xs)
    got = got if isinstance(got, (tuple, list)) else (got,)
    want = want if isinstance(want, (tuple, list)) else (want,)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    meta = _built(type_id, row, "meta")
    with torch.no_grad():
        shaped = _call(meta, [torch.empty(s, dtype=x.dtype, device="meta") for s, x in zip(row.shapes, xs)])
    shaped = shaped if isinstance(shaped, (tuple, list)) else (shaped,)
    assert [tuple(s.shape) for s in shaped] == [tuple(a.shape) for a in got], "shape inference on meta"


def operator_graph(type_id: str, row: Row):
    """Input(s) → the node → Output for each of its outputs."""
    t = default_registry().get(type_id)
    dtypes = row.dtypes or (torch.float32,) * len(row.shapes)
    nodes = [
        (f"x{i}", "Input", {"shape": list(s[1:]), "dtype": "int64" if d == torch.int64 else "float32"})
        for i, (s, d) in enumerate(zip(row.shapes, dtypes))
    ]
    nodes.append(("op", type_id, row.params))
    params = t.validate_params(row.params)
    ports = row.wires or [p.name for p in t.input_ports(params)]
    wires = [f"x{i} -> op.{port}" for i, port in enumerate(ports[: len(row.shapes)])]
    for j, port in enumerate(p.name for p in _outputs(t, params)):
        nodes.append((f"out{j}", "Output", {}))
        wires.append(f"op.{port} -> out{j}")
    return build(nodes, wires)


def _outputs(t, params):
    try:
        return t.output_ports(params)
    except TypeError:  # a catalog whose outputs do not depend on parameters
        return t.output_ports()


@pytest.mark.parametrize("type_id", [t for t in TESTED if ROWS[t].export])
@pytest.mark.slow
def test_operator_exports_in_four_formats(type_id, tmp_path):
    project = new_project()
    project.document = operator_graph(type_id, ROWS[type_id])
    compiled = compile_graph(project.document, seed=0)
    with torch.no_grad():
        for p in compiled.root.parameters():
            p.add_(0.1 * torch.randn_like(p))
    em = export_model(project, compiled, trained=False)
    assert export_onnx(em, tmp_path / "op.onnx")["max_abs_diff"] <= 1e-4
    assert export_torchscript(em, tmp_path / "op.pt")["max_abs_diff"] <= 1e-5
    assert export_python(em, tmp_path / "op_model.py")["max_abs_diff"] == 0.0
    export_safetensors(em, tmp_path / "op.safetensors")
    assert (tmp_path / "op.safetensors").stat().st_size > 0


@pytest.mark.parametrize(("type_id", "params", "shapes", "problem", "fix"), SHAPE_ERRORS)
def test_operator_shape_error_names_the_fix(type_id, params, shapes, problem, fix):
    t = default_registry().get(type_id)
    with pytest.raises(NodeError) as info:
        t.check(t.validate_params(params), shapes)
    assert problem in info.value.problem
    assert fix in info.value.fix


def _torchvision_stochastic_depth(x: torch.Tensor, p: float, mode: str) -> torch.Tensor:
    """torchvision.ops.stochastic_depth in training, transcribed (torchvision is not a runtime dependency)."""
    survival = 1.0 - p
    size = [x.shape[0]] + [1] * (x.ndim - 1) if mode == "row" else [1] * x.ndim
    noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(survival)
    if survival > 0.0:
        noise.div_(survival)
    return x * noise


@pytest.mark.parametrize("mode", ["row", "batch"])
def test_stochastic_depth_drops_whole_rows_like_torchvision(mode):
    layer = _built("StochasticDepth", Row({"p": 0.5, "mode": mode}, ((64, 3, 4),))).train()
    x = torch.randn(64, 3, 4)
    torch.manual_seed(5)
    got = layer(x)
    torch.manual_seed(5)
    torch.testing.assert_close(got, _torchvision_stochastic_depth(x, 0.5, mode))
    kept = (got != 0).flatten(1).all(1)
    assert torch.equal(kept, (got != 0).flatten(1).any(1))  # a row is kept or dropped as a whole
    assert 0 < int(kept.sum()) < 64 if mode == "row" else int(kept.sum()) in (0, 64)
    torch.testing.assert_close(got[kept], x[kept] * 2)
    assert torch.equal(layer.eval()(x), x)


def test_channel_dropout_drops_whole_channels_like_torch():
    layer = _built("ChannelDropout", Row({"p": 0.5}, ((8, 6, 4, 4),))).train()
    x = torch.randn(8, 6, 4, 4)
    torch.manual_seed(3)
    got = layer(x)
    torch.manual_seed(3)
    torch.testing.assert_close(got, nn.Dropout2d(0.5).train()(x))
    zero = (got == 0).flatten(2)
    assert torch.equal(zero.all(2), zero.any(2)) and zero.all(2).any()


@pytest.mark.parametrize(("type_id", "count"), [("Add", 1), ("Concat", 1), ("Multiply", 1), ("Concat", 25)])
def test_variadic_merges_take_any_number_of_inputs(type_id, count):
    shapes = tuple((N, 2, 3) for _ in range(count))
    xs = _inputs(Row(shapes=shapes))
    got = _call(_built(type_id, Row({"inputs": count}, shapes)), xs)
    want = {"Add": lambda: sum(xs[1:], xs[0]), "Concat": lambda: torch.cat(xs, 1), "Multiply": lambda: xs[0]}[type_id]
    torch.testing.assert_close(got, want())


def test_wiring_the_last_port_of_a_variadic_node_frees_a_new_one():
    concat = default_registry().get("Concat")
    params = concat.validate_params({"inputs": 2, "axis": 1})
    assert concat.params_after_wiring(params, "in1") is None
    assert concat.params_after_wiring(params, "in2") == {"inputs": 3, "axis": 1}
    assert default_registry().get("Subtract").params_after_wiring({}, "b") is None


def test_cross_attention_with_a_padding_mask_matches_torch_and_exports(tmp_path):
    row = Row(
        {"heads": 2},
        ((N, 5, 8), (N, 6, 4), (N, 6, 2), (N, 6)),
        dtypes=(torch.float32,) * 3 + (torch.int64,),
        wires=("query", "key", "value", "mask"),
    )
    built = _built("MultiheadAttention", row).eval()
    ref = TorchAttention(8, 2, kdim=4, vdim=2).eval()
    copy_weights(built, ref)
    q, k, v, _ = _inputs(row)
    mask = torch.zeros(N, 6, dtype=torch.int64)
    mask[:, 4:] = 1  # the last two keys are padding
    with torch.no_grad():
        got = built(q, k, v, mask)
        torch.testing.assert_close(got, ref(q, k, v, mask))
        k2 = k.clone()
        k2[:, 4:] += 100.0  # what padding holds does not matter
        torch.testing.assert_close(built(q, k2, v, mask), got)
    project = new_project()
    project.document = operator_graph("MultiheadAttention", row)
    em = export_model(project, compile_graph(project.document, seed=0), trained=False)
    assert export_onnx(em, tmp_path / "attn.onnx")["max_abs_diff"] <= 1e-4
    assert export_python(em, tmp_path / "attn_model.py")["max_abs_diff"] == 0.0


def test_adaptive_pooling_onnx_limit_is_one_line_with_the_fix(tmp_path):
    from graphedit.export.weights import ExportError

    row = Row({"size": [3, 3]}, ((N, 2, 7, 7),))
    project = new_project()
    project.document = operator_graph("AdaptiveAvgPool2d", row)
    em = export_model(project, compile_graph(project.document, seed=0), trained=False)
    with pytest.raises(ExportError, match="size that divides it") as info:
        export_onnx(em, tmp_path / "a.onnx")
    assert "\n" not in str(info.value)
    assert export_python(em, tmp_path / "a_model.py")["max_abs_diff"] == 0.0  # the other exports still work
