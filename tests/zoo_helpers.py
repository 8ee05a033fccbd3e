"""torchvision's classifiers for the import tests and ``bench/zoo_import.py``: randomly initialised, seeded.

PyPI's torchvision 0.28.0 is built against the CUDA torch; beside our CPU torch its compiled ops
(``torchvision::nms`` …) do not load and ``import torchvision`` fails while registering their fake kernels.
The classifiers use none of those ops, so :func:`torchvision_models` declares the two schemas that the
import needs (``nms``, ``qnms``) before importing it; nothing can call them (they have no kernel).
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

FULL = ("resnet18", "resnet50", "vgg11", "squeezenet1_0", "mobilenet_v2", "densenet121", "googlenet", "efficientnet_b0")
_DECLARED: list[Any] = []  # the Library must stay alive for its definitions to stay registered


def _declare_missing_ops() -> None:
    if _DECLARED:
        return
    try:
        lib = torch.library.Library("torchvision", "DEF")
        lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    except RuntimeError:  # already defined (the compiled ops loaded after all)
        return
    _DECLARED.append(lib)


def torchvision_models() -> Any:
    """``torchvision.models``, or None with the reason printed when torchvision is missing or broken."""
    if importlib.util.find_spec("torchvision") is None:
        print("torchvision is not installed: pip install -c constraints.txt --no-deps torchvision==0.28.0")
        return None
    try:
        import torchvision  # noqa: F401

        return importlib.import_module("torchvision.models")
    except Exception:
        pass
    _declare_missing_ops()
    try:
        return importlib.import_module("torchvision.models")
    except Exception as exc:
        print(f"torchvision does not import beside torch {torch.__version__}: {str(exc).splitlines()[0]}")
        return None


def full_model(name: str, classes: int = 1000) -> nn.Module:
    """torchvision's ``name`` as published (random weights, seed 0), in evaluation mode."""
    models = torchvision_models()
    torch.manual_seed(0)
    kw: dict[str, Any] = {"weights": None, "num_classes": classes}
    if name == "googlenet":
        kw.update(aux_logits=False, init_weights=True)
    model = getattr(models, name)(**kw)
    return _randomise_bn(model).eval()


def _small_vgg(models: Any) -> nn.Module:
    from torchvision.models.vgg import VGG, make_layers

    cfg = [8, "M", 16, "M", 32, 32, "M", 64, 64, "M", 64, 64, "M"]  # vgg11's "A" at 1/8 width
    model = VGG(make_layers(cfg, batch_norm=False), num_classes=10)
    model.classifier = nn.Sequential(
        nn.Linear(64 * 7 * 7, 64), nn.ReLU(True), nn.Dropout(), nn.Linear(64, 64), nn.ReLU(True), nn.Dropout(),
        nn.Linear(64, 10),
    )  # fmt: skip
    return model


def _small_efficientnet(models: Any) -> nn.Module:
    from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf

    setting, last = _efficientnet_conf("efficientnet_b0", width_mult=0.25, depth_mult=0.5)
    return EfficientNet(setting, 0.2, stochastic_depth_prob=0.2, num_classes=10, last_channel=last)


SMALL: dict[str, tuple[Callable[[Any], nn.Module], tuple[int, int, int]]] = {
    # name: (constructor, input shape); the structure of the full model at a fraction of its width or depth
    "resnet50": (lambda m: m.resnet.ResNet(m.resnet.Bottleneck, [1, 1, 1, 1], num_classes=10), (3, 64, 64)),
    "vgg11": (_small_vgg, (3, 224, 224)),  # 224: the five poolings leave the 7×7 its classifier expects
    "squeezenet1_0": (lambda m: m.squeezenet1_0(num_classes=10), (3, 64, 64)),
    "densenet121": (
        lambda m: m.densenet.DenseNet(
            growth_rate=4, block_config=(6, 12, 24, 16), num_init_features=8, bn_size=2, num_classes=10
        ),
        (3, 64, 64),
    ),  # fmt: skip
    "googlenet": (lambda m: m.googlenet(num_classes=10, aux_logits=False, init_weights=True), (3, 64, 64)),
    "efficientnet_b0": (_small_efficientnet, (3, 64, 64)),
    "resnet18": (lambda m: m.resnet18(num_classes=10), (3, 64, 64)),
    "mobilenet_v2": (lambda m: m.mobilenet_v2(num_classes=10), (3, 64, 64)),
}


def small_model(name: str) -> tuple[nn.Module, tuple[int, int, int]]:
    """A test-sized ``name`` (random weights, seed 0) in evaluation mode, and its input shape."""
    models = torchvision_models()
    make, shape = SMALL[name]
    torch.manual_seed(0)
    return _randomise_bn(make(models)).eval(), shape


def _randomise_bn(model: nn.Module) -> nn.Module:
    """Untrained BatchNorm statistics are 0 and 1: random ones make the parity check see them."""
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=gen) - 0.5)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
    return model


def onnx_file(model: nn.Module, shape: tuple[int, ...], path: Path) -> Path:
    """``model`` exported to ONNX as the importer tests and bench/zoo_import.py read it (batch axis dynamic)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (torch.randn(2, *shape),),
            str(path),
            dynamo=False,
            opset_version=20,
            input_names=["x"],
            output_names=["y"],
            dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
        )
    return path


def assert_check_valid(path: Path, capsys: Any) -> None:
    """``graphedit check`` finds every shape and no error but the one an imported model always has: no loss.

    An import is the network alone (no Target, no loss); the analysis says training needs a loss.
    """
    import json

    from graphedit.cli import main
    from graphedit.model.project import load_project
    from graphedit.training.weights_file import project_weights_problem

    main(["check", str(path), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert all(not row.get("error") for row in report["nodes"]), report["nodes"]
    assert len(report["errors"]) <= 1 and all(e["message"].startswith(NO_LOSS) for e in report["errors"])
    assert report["dataset_error"] is None
    assert project_weights_problem(load_project(path)) is None  # check skips it while there is an error


NO_LOSS = "the graph has no loss node, so training has nothing to minimise"
