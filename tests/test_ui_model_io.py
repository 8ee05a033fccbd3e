"""File ▸ Export and File ▸ Import in the editor: the menu actions, the untrained-weights question, errors."""

from __future__ import annotations

import shutil
import textwrap

import numpy as np
import onnxruntime as ort
import pytest
import torch
from _window_helpers import PROJECTS, make_window
from safetensors.torch import save_file

from graphedit.compiler import compile_graph
from graphedit.training.runs import point_project_to

pytestmark = pytest.mark.gui


class FakeIOPrompts:
    def __init__(self, initial: bool = False, export_path=None, source=None, cls=None, project_path=None):
        self.initial, self.export_answer, self.source, self.cls, self.project_answer = (
            initial,
            export_path,
            source,
            cls,
            project_path,
        )
        self.asked_initial: list[str] = []
        self.infos: list[str] = []
        self.errors: list[str] = []

    def ask_initial_weights(self, name):
        self.asked_initial.append(name)
        return self.initial

    def export_path(self, suggested, file_filter):
        return self.export_answer

    def import_source(self, folder):
        return self.source

    def import_class(self, path):
        return self.cls

    def confirm_run_code(self, source):
        self.asked_run_code = getattr(self, "asked_run_code", []) + [source]
        return getattr(self, "run_code", True)

    def pretrained_weights(self, folder):
        return getattr(self, "weights", None)

    def confirm_pt(self, path):
        self.asked_pt = getattr(self, "asked_pt", []) + [path]
        return getattr(self, "allow_pt", False)

    def project_path(self, suggested):
        return self.project_answer

    def info(self, title, text):
        self.infos.append(text)

    def error(self, title, text):
        self.errors.append(text)


def open_copy(window, tmp_path, name="residual_mlp.gproj"):
    path = tmp_path / name
    shutil.copy(PROJECTS / name, path)
    assert window.files.open(path, ask=False)
    return path


def test_untrained_export_asks_and_refusal_writes_nothing(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    open_copy(window, tmp_path)
    out = tmp_path / "model.onnx"
    prompts = FakeIOPrompts(initial=False, export_path=str(out))
    window.model_io.prompts = prompts
    window.model_io.actions["onnx"].trigger()
    assert prompts.asked_initial == ["residual_mlp.gproj"]
    assert not out.exists()
    prompts.initial = True
    window.model_io.actions["onnx"].trigger()
    assert out.exists()
    assert "INITIAL" in prompts.infos[-1]


def test_trained_export_from_menu_matches_the_model(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    path = open_copy(window, tmp_path)
    project = window.files.project
    compiled = compile_graph(project.document, seed=3)
    weights = tmp_path / "trained.safetensors"
    save_file({k: v.contiguous() for k, v in compiled.root.state_dict().items()}, str(weights))
    point_project_to(project, weights)
    out = tmp_path / "mlp.onnx"
    prompts = FakeIOPrompts(export_path=str(out))
    window.model_io.prompts = prompts
    window.model_io.actions["onnx"].trigger()
    assert not prompts.asked_initial and not prompts.errors
    assert "trained weights" in prompts.infos[-1]
    compiled.root.eval()
    x = torch.randn(7, 2)
    with torch.no_grad():
        want = compiled.model(x).numpy()
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    assert np.abs(got - want).max() < 1e-4
    assert path.exists()


def test_import_from_menu_opens_the_module_as_a_graph(qtbot, tmp_path):
    source = tmp_path / "tiny_net.py"
    source.write_text(
        textwrap.dedent(
            """
            import torch
            from torch import nn

            class Tiny(nn.Module):
                input_shape = (4,)

                def __init__(self):
                    super().__init__()
                    self.fc1 = nn.Linear(4, 8)
                    self.fc2 = nn.Linear(8, 8)
                    self.head = nn.Linear(16, 3)

                def forward(self, x):
                    h = torch.relu(self.fc1(x))
                    return self.head(torch.cat([h, self.fc2(h) + h], 1))
            """
        )
    )
    window = make_window(qtbot, tmp_path)
    before = window.controller.document.to_json()
    prompts = FakeIOPrompts(source=str(source), cls="Tiny", project_path=str(tmp_path / "tiny.gproj"))
    window.model_io.prompts = prompts
    window.model_io.import_action.trigger()
    assert not prompts.errors, prompts.errors
    doc = window.controller.document
    assert doc.to_json() != before
    types = {doc.node_type(n).type_id for n in doc.node_ids()}
    assert {"Dense", "ReLU", "Concat", "Add"} <= types
    total = sum(window.controller.shapes.infos[n].params for n in doc.node_ids())
    assert total == (4 * 8 + 8) + (8 * 8 + 8) + (16 * 3 + 3)


def test_import_of_an_unsupported_op_is_an_error_and_keeps_the_graph(qtbot, tmp_path):
    source = tmp_path / "odd.py"
    source.write_text(
        "import torch\nfrom torch import nn\n\n"
        "class Odd(nn.Module):\n    input_shape = (4,)\n\n"
        "    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 4)\n\n"
        "    def forward(self, x):\n        return torch.sin(self.fc(x))\n"
    )
    window = make_window(qtbot, tmp_path)
    open_copy(window, tmp_path)
    before = window.controller.document.to_json()
    prompts = FakeIOPrompts(source=str(source), cls="Odd", project_path=str(tmp_path / "odd.gproj"))
    window.model_io.prompts = prompts
    window.model_io.import_action.trigger()
    assert prompts.errors and "sin" in prompts.errors[0]
    assert window.controller.document.to_json() == before
    assert not (tmp_path / "odd.gproj").exists()


def test_import_with_a_pt_file_asks_first_and_a_refusal_says_how_to_convert(qtbot, tmp_path):
    from safetensors.torch import load_file

    source = tmp_path / "small.py"
    source.write_text(
        "from torch import nn\n\n\nclass Small(nn.Module):\n    input_shape = (4,)\n\n"
        "    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 2)\n\n"
        "    def forward(self, x):\n        return self.fc(x)\n"
    )
    torch.manual_seed(3)
    state = {"fc.weight": torch.randn(2, 4), "fc.bias": torch.randn(2)}
    torch.save(state, tmp_path / "small.pt")
    window = make_window(qtbot, tmp_path)
    prompts = FakeIOPrompts(source=str(source), cls="Small", project_path=str(tmp_path / "small.gproj"))
    prompts.weights = str(tmp_path / "small.pt")
    window.model_io.prompts = prompts
    window.model_io.import_action.trigger()
    assert prompts.asked_pt == [str(tmp_path / "small.pt")]
    assert len(prompts.errors) == 1 and "safetensors" in prompts.errors[0] and "weights_only=True" in prompts.errors[0]
    assert len(window.controller.document) == 0  # the graph in the editor is unchanged
    prompts.allow_pt, prompts.errors = True, []
    window.model_io.import_action.trigger()
    assert not prompts.errors, prompts.errors
    project = window.files.project
    weights = load_file(str(tmp_path / project.weights["path"]))
    assert torch.equal(weights["fc.weight"], state["fc.weight"])
