"""What the headless commands import: `check` infers shapes without torch._dynamo; `--help` imports no torch.

Each case runs in a fresh interpreter (the test process has loaded everything already).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UNWANTED = ("torch._dynamo", "sympy", "onnx", "onnxruntime", "sklearn", "scipy", "PySide6", "pyqtgraph")


def fresh(code: str) -> dict:
    """Run ``code`` in a new interpreter; it leaves a dict in ``result``, printed as JSON on the last line."""
    script = f"import json, sys\nresult = {{}}\n{code}\nprint(json.dumps(result))"
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_check_infers_every_shape_without_dynamo_or_gui_libraries():
    result = fresh(
        "from graphedit.cli import main\n"
        "result['code'] = main(['check', '--json', 'projects/keras_cnn.gproj'])\n"
        f"result['loaded'] = [m for m in {UNWANTED!r} if m in sys.modules]"
    )
    assert result == {"code": 0, "loaded": []}


def test_help_lists_the_commands_without_importing_torch():
    result = fresh(
        "import contextlib, io\n"
        "from graphedit.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try: main(['--help'])\n"
        "    except SystemExit: pass\n"
        "result['help'] = out.getvalue()\n"
        "result['torch'] = 'torch' in sys.modules"
    )
    assert not result["torch"]
    for command in ("check", "train", "export", "import"):
        assert command in result["help"]


def test_deferred_dynamo_gives_the_same_shapes_and_leaves_no_trace():
    result = fresh(
        "import torch\n"
        "from graphedit.compiler.nodynamo import dynamo_deferred\n"
        "from graphedit.compiler.report import summarize\n"
        "from graphedit.model.project import load_project\n"
        "doc = load_project('projects/keras_cnn.gproj').document\n"
        "with dynamo_deferred():\n"
        "    deferred = [r.to_json() for r in summarize(doc)]\n"
        "result['during'] = 'torch._dynamo' in sys.modules\n"
        "torch.relu(torch.empty(2, device='meta'))  # its wrapper must load the real module now\n"
        "result['after'] = getattr(sys.modules.get('torch._dynamo'), '__file__', None) is not None\n"
        "result['same'] = deferred == [r.to_json() for r in summarize(doc)]"
    )
    assert result == {"during": False, "after": True, "same": True}


def test_a_failing_torch_check_still_raises_torchs_error_while_deferred():
    result = fresh(
        "import torch\n"
        "from graphedit.compiler.nodynamo import dynamo_deferred\n"
        "plain = torch._check_with\n"
        "conv = torch.nn.Conv2d(1, 2, 5, device='meta')\n"
        "with dynamo_deferred():\n"
        "    result['fits'] = list(conv(torch.empty(1, 1, 8, 8, device='meta')).shape)\n"
        "    result['sympy'] = getattr(sys.modules.get('sympy'), '__file__', None) is not None  # the real one\n"
        "    try:\n"
        "        conv(torch.empty(1, 1, 3, 3, device='meta'))  # a kernel larger than its input\n"
        "    except RuntimeError as exc:\n"
        "        result['error'] = str(exc)\n"
        "result['restored'] = torch._check_with is plain"
    )
    assert result["fits"] == [1, 2, 4, 4] and not result["sympy"] and result["restored"]
    assert "Kernel size can't be greater than actual input size" in result["error"]


def test_every_example_checks_without_sympy_and_with_the_same_shapes():
    result = fresh(
        "import glob, torch\n"
        "from graphedit.compiler.nodynamo import dynamo_deferred\n"
        "from graphedit.compiler.report import summarize\n"
        "from graphedit.model.project import load_project\n"
        "docs = [load_project(p).document for p in sorted(glob.glob('projects/*.gproj'))]\n"
        "with dynamo_deferred():\n"
        "    deferred = [[r.to_json() for r in summarize(doc)] for doc in docs]\n"
        "result['count'] = len(docs)\n"
        "result['loaded'] = [m for m in ('sympy', 'torch.fx.experimental.symbolic_shapes')\n"
        "                    if getattr(sys.modules.get(m), '__file__', None)]\n"
        "result['same'] = deferred == [[r.to_json() for r in summarize(doc)] for doc in docs]"
    )
    assert result["count"] >= 30 and result["loaded"] == [] and result["same"]


def test_the_editors_lasting_stand_ins_give_way_to_the_real_module_when_something_needs_it():
    result = fresh(
        "import torch\n"
        "from graphedit.compiler.nodynamo import defer_for_process\n"
        "from graphedit.compiler.report import summarize\n"
        "from graphedit.model.project import load_project\n"
        "defer_for_process()\n"
        "doc = load_project('projects/keras_cnn.gproj').document\n"
        "deferred = [r.to_json() for r in summarize(doc)]\n"
        "real = lambda m: getattr(sys.modules.get(m), '__file__', None) is not None\n"
        "result['before'] = [m for m in ('torch._dynamo', 'sympy') if real(m)]\n"
        "answered = list(sys.modules['torch._dynamo'].answered)  # the wrappers the stand-in answered\n"
        "torch._dynamo.reset()  # a use the stand-in does not answer: the real module loads\n"
        "result['after'] = real('torch._dynamo')\n"
        "kept = [f for f in answered if getattr(f, '__dynamo_disable', None) is f]\n"
        "result['rewrapped'] = bool(answered) and not kept\n"
        "result['same'] = deferred == [r.to_json() for r in summarize(doc)]"
    )
    assert result == {"before": [], "after": True, "rewrapped": True, "same": True}


def test_the_profiler_imports_a_submodule_of_the_deferred_dynamo_and_runs():
    result = fresh(
        "import torch\n"
        "from graphedit.compiler.nodynamo import defer_for_process\n"
        "from graphedit.model.project import load_project\n"
        "from graphedit.training.inspection import open_inspection\n"
        "from graphedit.training.node_profile import profile_nodes\n"
        "defer_for_process()\n"
        "seen = open_inspection(load_project('projects/keras_cnn.gproj'), examples=8)\n"
        "result['dynamo_for_inspection'] = getattr(sys.modules.get('torch._dynamo'), '__file__', None) is not None\n"
        "times = profile_nodes(seen.compiled, seen.feed(slice(0, 8)), steps=1, device='cpu')\n"
        "result['profiled'] = times.grand_total() > 0"
    )
    assert result == {"dynamo_for_inspection": False, "profiled": True}
