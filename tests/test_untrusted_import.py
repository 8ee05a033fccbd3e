"""Importing Python runs it: the editor asks first, and a refusal runs nothing; the CLI help says so."""

from __future__ import annotations

import pytest
from _window_helpers import make_window
from test_ui_model_io import FakeIOPrompts

from graphedit.cli import main


@pytest.mark.gui
def test_the_editor_asks_before_importing_python_and_a_no_runs_nothing(qtbot, tmp_path):
    marker = tmp_path / "ran"
    source = tmp_path / "net.py"
    source.write_text(f"import pathlib\npathlib.Path({str(marker)!r}).touch()\n")
    window = make_window(qtbot, tmp_path)
    before = window.controller.document.to_json()
    prompts = FakeIOPrompts(source=str(source), cls="Net", project_path=str(tmp_path / "net.gproj"))
    prompts.run_code = False
    window.model_io.prompts = prompts
    window.model_io.import_action.trigger()
    assert prompts.asked_run_code == [f"{source}:Net"]
    assert not marker.exists() and not (tmp_path / "net.gproj").exists()
    assert window.controller.document.to_json() == before and not prompts.errors


def test_import_help_says_python_sources_run(capsys):
    with pytest.raises(SystemExit):
        main(["import", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "RUNS their Python code" in text and "only read" in text
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "RUNS" in capsys.readouterr().out
