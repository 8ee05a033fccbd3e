"""`graphedit train` where runs cannot be written: advice that fits the problem, in one line."""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path

import pytest

from graphedit.cli import main
from graphedit.training import runs

ROOT = Path(__file__).resolve().parents[1]


def small_project(tmp_path: Path) -> Path:
    path = tmp_path / "p.gproj"
    shutil.copy(ROOT / "projects" / "01_single_neuron.gproj", path)
    data = json.loads(path.read_text())
    data["training"]["epochs"] = 1
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("code", "advice"),
    [
        (errno.EROFS, "read-only disk"),
        (errno.EACCES, "may not write there"),
        (errno.ENOSPC, "disk is full"),
    ],
)
def test_no_room_for_the_run_folder(tmp_path, monkeypatch, capsys, code, advice):
    path = small_project(tmp_path)

    def refuse(project_path):
        raise OSError(code, "refused by the test", str(tmp_path / "p.runs"))

    monkeypatch.setattr(runs, "new_run_dir", refuse)  # root ignores chmod: simulate the OS' answer
    assert main(["train", str(path), "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert advice in err and "p.runs" in err and "Fix:" in err


def test_the_disk_fills_up_while_recording(tmp_path, monkeypatch, capsys):
    path = small_project(tmp_path)

    def full(module, target):
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr(runs, "save_weights", full)
    assert main(["train", str(path), "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert "disk is full" in err and "Traceback" not in err and len(err.splitlines()) == 1
