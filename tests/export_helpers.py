"""Shared by the export/import tests: trained-looking project copies and a child process without GraphEdit."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

from graphedit.compiler.compile import compile_graph
from graphedit.export.weights import sha256_file
from graphedit.model.project import load_project, save_project

ROOT = Path(__file__).resolve().parents[1]
PROJECTS = sorted((ROOT / "projects").glob("*.gproj"))
TORCH_SITE = str(Path(torch.__file__).resolve().parents[1])


def trained_copy(source: Path, folder: Path, seed: int = 1):
    """Copy a project into ``folder`` with random 'trained' weights (every tensor distinct, BN stats too)."""
    target = folder / source.name
    shutil.copy(source, target)
    project = load_project(target)
    compiled = compile_graph(project.document, seed=seed)
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for key, value in compiled.root.state_dict().items():
        if value.is_floating_point():
            # noise on the scale of the initialisation, so deep nets keep sane outputs (10 layers of 500 units
            # with +0.1·N(0, 1) on every weight grow their outputs ~500×, beyond any absolute tolerance)
            spread = float(value.std()) if value.numel() > 1 and float(value.std()) > 0 else 1.0
            value = value + 0.1 * min(spread, 1.0) * torch.randn(value.shape, generator=gen)
            if key.endswith("running_var"):
                value = value.abs() + 0.5
        state[key] = value.contiguous()
    weights = target.with_suffix(".safetensors")
    save_file(state, str(weights))
    project.weights = {"path": weights.name, "sha256": sha256_file(weights)}
    save_project(project, target)
    return load_project(target)


CHILD = r"""
import importlib.util, json, sys
sys.path[:] = [p for p in sys.path if "site-packages" not in p] + [{site!r}]
try:
    import graphedit  # noqa: F401
except ImportError:
    pass
else:
    raise SystemExit("graphedit is importable in the child; the check would prove nothing")
import torch
specs = {specs!r}
results = {{}}
for kind, path in {files!r}:
    torch.manual_seed(0)
    inputs = [torch.randint(0, 2, (3, *s)) if d == "int64" else torch.randn(3, *s) for s, d in specs]
    if kind == "torchscript":
        model = torch.jit.load(path)
    else:
        spec = importlib.util.spec_from_file_location("exported", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        model = module.load_model()
    with torch.no_grad():
        out = model(*inputs)
    out = out if isinstance(out, (tuple, list)) else (out,)
    results[kind] = [o.tolist() for o in out]
print(json.dumps(results))
"""


def child_inputs(specs: list[tuple[tuple[int, ...], str]]) -> list[torch.Tensor]:
    torch.manual_seed(0)
    return [torch.randint(0, 2, (3, *s)) if d == "int64" else torch.randn(3, *s) for s, d in specs]


def run_without_graphedit(specs, files: list[tuple[str, str]], cwd: Path) -> dict[str, list]:
    """Run exported files in ``python -S -I`` with only torch's site-packages: GraphEdit cannot be imported."""
    code = CHILD.format(site=TORCH_SITE, specs=[(tuple(s), d) for s, d in specs], files=files)
    done = subprocess.run(
        [sys.executable, "-S", "-I", "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)
