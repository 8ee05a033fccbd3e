"""Dataset paths outside the project's folder are read only once the user allowed them, and never by the file's say."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from graphedit.cli import main
from graphedit.errors import OutsidePathError
from graphedit.training import trust
from graphedit.training.datasets import load_dataset

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def own_config(tmp_path, monkeypatch):
    monkeypatch.setenv(trust.CONFIG_ENV, str(tmp_path / "config"))


def table(path: Path, n: int = 40) -> Path:
    rng = np.random.default_rng(0)
    rows = ["a,b,label"] + [f"{rng.normal():.3f},{rng.normal():.3f},{i % 2}" for i in range(n)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def spec(path: str) -> dict:
    return {"name": "csv", "options": {"path": path, "target": "label"}, "split": {"val": 0.25, "test": 0.0}}


def project_with(tmp_path: Path, data_path: str) -> Path:
    data = json.loads((ROOT / "projects" / "01_single_neuron.gproj").read_text(encoding="utf-8"))
    data["dataset"] = spec(data_path)
    data["training"]["epochs"] = 1
    folder = tmp_path / "project"
    folder.mkdir(exist_ok=True)
    path = folder / "p.gproj"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def outside_cases(tmp_path: Path) -> dict[str, str]:
    secret = table(tmp_path / "secret" / "data.csv")
    folder = tmp_path / "project"
    folder.mkdir(exist_ok=True)
    (folder / "link.csv").symlink_to(secret)
    return {"absolute": str(secret), "dotdot": "../secret/data.csv", "symlink": "link.csv"}


@pytest.mark.parametrize("case", ["absolute", "dotdot", "symlink"])
def test_reading_outside_the_folder_needs_an_allowance(tmp_path, case):
    value = outside_cases(tmp_path)[case]
    folder = tmp_path / "project"
    with pytest.raises(OutsidePathError) as info:
        load_dataset(spec(value), base_dir=folder)
    message = str(info.value)
    assert "outside" in message and "--allow-outside" in message and "\n" not in message
    with trust.allowing([tmp_path / "secret"]):
        assert load_dataset(spec(value), base_dir=folder).info.sizes["train"] > 0


def test_inside_the_folder_needs_nothing(tmp_path):
    table(tmp_path / "project" / "sub" / "data.csv")
    assert load_dataset(spec("sub/data.csv"), base_dir=tmp_path / "project").info.sizes["train"] > 0


def test_headless_check_and_train_refuse_with_the_fix_and_accept_allow_outside(tmp_path, capsys):
    value = outside_cases(tmp_path)["absolute"]
    path = project_with(tmp_path, value)
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "outside" in out and "--allow-outside" in out
    assert main(["check", str(path), "--allow-outside", value]) == 0
    capsys.readouterr()
    assert main(["train", str(path), "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--allow-outside" in err
    assert main(["train", str(path), "--quiet", "--allow-outside", value]) == 0


def test_a_project_file_cannot_confirm_itself(tmp_path, capsys):
    value = outside_cases(tmp_path)["absolute"]
    path = project_with(tmp_path, value)
    data = json.loads(path.read_text())
    data["dataset"]["options"]["allow_outside"] = [value]  # what a hostile file might try
    data["meta"]["trusted"] = True
    path.write_text(json.dumps(data))
    assert main(["check", str(path)]) == 1
    assert "--allow-outside" in capsys.readouterr().out


def test_the_users_confirmation_is_kept_per_project_and_dataset(tmp_path, capsys):
    value = outside_cases(tmp_path)["absolute"]
    path = project_with(tmp_path, value)
    dataset = json.loads(path.read_text())["dataset"]
    from graphedit.model.project import load_project

    project = load_project(path)
    assert trust.unconfirmed(path, project.dataset) == [value]
    trust.confirm(path, project.dataset, [value])
    assert trust.unconfirmed(path, project.dataset) == []
    store = Path(os.environ[trust.CONFIG_ENV]) / trust.STORE_NAME
    assert store.exists() and str(path.resolve()) in store.read_text()
    assert main(["check", str(path)]) == 0  # the user's word, from their settings
    capsys.readouterr()
    # another dataset section (or another file) is asked again
    changed = dict(project.dataset, seed=5)
    assert trust.unconfirmed(path, changed) == [value]
    assert trust.unconfirmed(tmp_path / "project" / "other.gproj", project.dataset) == [value]
    assert dataset["options"]["path"] == value  # the project file itself is unchanged


class FakeTrustPrompts:
    def __init__(self, answer: bool) -> None:
        self.answer, self.asked = answer, []

    def ask_allow_outside(self, project_name, paths):
        self.asked.append((project_name, list(paths)))
        return self.answer


@pytest.mark.gui
def test_the_editor_asks_before_a_run_reads_outside_and_remembers_a_yes(qtbot, tmp_path, monkeypatch):
    from _window_helpers import make_window

    value = outside_cases(tmp_path)["dotdot"]
    path = project_with(tmp_path, value)
    window = make_window(qtbot, tmp_path)
    assert window.files.open(path, ask=False)
    started = []
    monkeypatch.setattr(window.training.session, "start", lambda *a, **k: started.append(a) or str(tmp_path / "run"))
    window.training.trust_prompts = no = FakeTrustPrompts(False)
    assert window.training.run() is None
    assert no.asked == [("p.gproj", [value])] and not started
    window.training.trust_prompts = yes = FakeTrustPrompts(True)
    assert window.training.run() is not None and len(started) == 1
    assert yes.asked and trust.unconfirmed(path, window.files.project.dataset) == []
    window.training.trust_prompts = again = FakeTrustPrompts(False)
    assert window.training.run() is not None and not again.asked  # remembered for this project and dataset
