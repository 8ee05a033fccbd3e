"""torchvision's classifiers import through PyTorch (fx) and ONNX: same outputs, a valid graph, every export.

resnet18 and mobilenet_v2 are imported as published (at 64×64, 10 classes); the others at a fraction of
their width or depth (``zoo_helpers.SMALL``) with the same structure. The full zoo at 224×224 and the
timings are ``bench/zoo_import.py``.
"""

from __future__ import annotations

import pytest
import torch
from zoo_helpers import assert_check_valid, onnx_file, small_model, torchvision_models

from graphedit.export import export_project
from graphedit.importers import UnsupportedOpError, import_module, import_source
from graphedit.model.project import load_project

FAST = ("resnet18", "mobilenet_v2", "squeezenet1_0", "efficientnet_b0")
SLOW = ("resnet50", "vgg11", "densenet121", "googlenet")
EXPORTS = {"torchscript": "pt", "onnx": "onnx", "safetensors": "safetensors", "python": "py"}


@pytest.fixture(scope="module", autouse=True)
def _torchvision():
    if torchvision_models() is None:  # the reason is printed by torchvision_models
        pytest.skip("torchvision 0.28.0 is not importable here (see the printed reason)")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
    _IMPORTS.clear()


_IMPORTS: dict = {}  # (name, route): an import, made once for the tests of this file that read it


def _imported(name, route, tmp_path):
    if (name, route) in _IMPORTS:
        return _IMPORTS[name, route]
    model, shape = small_model(name)
    out = tmp_path / f"{name}_{route}.gproj"
    if route == "fx":
        result = import_module(model, out, [shape], name)
    else:
        result = import_source(onnx_file(model, shape, tmp_path / f"{name}.onnx"), out)
    _IMPORTS[name, route] = model, shape, result, out
    return model, shape, result, out


def _check_route(name, route, tmp_path, capsys, exports):
    model, shape, result, out = _imported(name, route, tmp_path)
    x = torch.randn(3, *shape, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        diff = float((result.compiled.model(x) - model(x)).abs().max())
    assert diff <= 1e-4, f"{name} via {route}: outputs differ by {diff:.3g}"
    assert_check_valid(out, capsys)
    if route == "fx":
        assert result.imported_params == result.source_params
        assert set(result.compiled.root.state_dict()) == set(model.state_dict())  # submodules became blocks
    project = load_project(out)
    for fmt in exports:
        report = export_project(project, fmt, tmp_path / f"exported_{name}.{EXPORTS[fmt]}")
        assert report.get("max_abs_diff", 0.0) <= 1e-4, (fmt, report)


@pytest.mark.parametrize("route", ["fx", "onnx"])
@pytest.mark.parametrize("name", FAST)
@pytest.mark.slow
def test_torchvision_classifier_imports(name, route, tmp_path, capsys):
    # the exports from the PyTorch route (blocks: nested containers, Fire) for two models, as each export compiles
    # the block graph again; ONNX's own round trip is tested in test_import
    exports = EXPORTS if route == "fx" and name in ("resnet18", "squeezenet1_0") else ()
    if route == "fx" and name == "efficientnet_b0":
        exports = ("python",)  # StochasticDepth inside its blocks: the .py writes the catalog's class
    _check_route(name, route, tmp_path, capsys, exports)


@pytest.mark.slow
@pytest.mark.parametrize("route", ["fx", "onnx"])
@pytest.mark.parametrize("name", SLOW)
def test_larger_torchvision_classifier_imports(name, route, tmp_path, capsys):
    _check_route(name, route, tmp_path, capsys, EXPORTS if route == "fx" else ())


def test_python_export_of_a_flat_import(tmp_path):
    model, shape = small_model("squeezenet1_0")
    import_module(model, tmp_path / "flat.gproj", [shape], flat=True)
    report = export_project(load_project(tmp_path / "flat.gproj"), "python", tmp_path / "flat_model.py")
    assert report["max_abs_diff"] <= 1e-4


@pytest.mark.slow
def test_densenet_keeps_its_wide_concatenations(tmp_path):
    _, _, result, _ = _imported("densenet121", "fx", tmp_path)
    doc = result.project.document
    docs = [doc, *(d.document for d in doc.registry.definitions.values())]  # dense layers are blocks
    widths = [d.params(n)["inputs"] for d in docs for n in d.node_ids() if d.node_type(n).type_id == "Concat"]
    assert max(widths) == 25  # the last dense layer of block 3 (24 layers) joins 25 maps


def test_an_op_graphedit_lacks_is_one_line_naming_op_node_and_support(tmp_path):
    class Cosine(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3)

        def forward(self, x):
            return torch.cos(self.conv(x))

    path = onnx_file(Cosine().eval(), (3, 8, 8), tmp_path / "cos.onnx")
    with pytest.raises(UnsupportedOpError) as info:
        import_source(path, tmp_path / "cos.gproj")
    message = str(info.value)
    assert "\n" not in message
    assert "ONNX Cos" in message and "node '/Cos'" in message and "would import it" in message
    with pytest.raises(UnsupportedOpError, match=r"torch\.cos at cos: .*would import it"):
        import_module(Cosine(), tmp_path / "cos2.gproj", [(3, 8, 8)])
