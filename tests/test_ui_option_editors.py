"""The one editor factory (graphedit.ui.option_editors) behind the Training panel, its dataset options and the
Inspector: each editor is made from its option's declaration and refuses what the declaration refuses."""

from __future__ import annotations

import pytest
from _window_helpers import screenshot
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from test_ui_training import open_window

from graphedit.model.training_options import TRAINING_OPTIONS
from graphedit.nodes.options import INT_LIMIT, Option
from graphedit.ui.option_editors import ChoiceEditor, FloatEditor, IntEditor, make_editor

pytestmark = pytest.mark.gui


def test_the_training_panel_has_an_editor_for_every_grouped_setting(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path)
    dock, project = window.training.settings_dock, window.files.project
    window.resize(1280, 720)
    dock.show()
    dock.raise_()
    area, optimizer = dock.widget(), dock.editors["optimizer"]
    area.verticalScrollBar().setValue(optimizer.mapTo(area.widget(), optimizer.pos()).y())  # the training settings
    screenshot(window, "training_settings_window.png")
    grouped = {o.name for o in TRAINING_OPTIONS if o.group}
    assert {name.split(".")[0] for name in dock.editors} == grouped
    assert dock.editors["early_stopping.patience"].minimum() == 1
    assert isinstance(dock.editors["seed"], IntEditor) and dock.editors["seed"].maximum() == INT_LIMIT
    messages = []
    window.controller.message.connect(messages.append)
    momentum = dock.editors["momentum"]
    momentum.setFocus()
    momentum.lineEdit().selectAll()
    QTest.keyClicks(momentum, "1.5")
    QTest.keyClick(momentum, Qt.Key.Key_Return)
    assert project.training["momentum"] == 0.9 and messages and "Momentum is 1.5, above its maximum 1" in messages[-1]
    lr = dock.editors["lr"]
    lr.stepBy(1)  # a log-scale setting steps by doubling
    assert project.training["lr"] == pytest.approx(0.04)
    window.controller.undo_stack.undo()
    assert project.training["lr"] == 0.02 and lr.text() == "0.02"
    area = dock.widget()
    area.verticalScrollBar().setValue(
        dock.editors["optimizer"].mapTo(area.widget(), dock.editors["optimizer"].pos()).y()
    )
    screenshot(dock, "training_settings_from_options.png")


def test_a_dataset_option_row_refuses_with_the_datasets_message(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path)
    dock, project = window.training.settings_dock, window.files.project
    messages = []
    window.controller.message.connect(messages.append)
    n = dock._option_widgets["n"].widget
    assert isinstance(n, IntEditor) and (n.minimum(), n.maximum()) == (4, 1_000_000)
    n.offer(2)
    assert "dataset 'circle': option 'n' is 2, below its minimum 4" in messages[-1]
    assert project.dataset["options"]["n"] == 200 and n.value() == 200
    labels = dock._option_widgets["labels"].widget
    assert isinstance(labels, ChoiceEditor) and labels.currentData() == "index"
    labels.activated.emit(labels.findData("signed"))
    assert project.dataset["options"]["labels"] == "signed"


def test_a_choice_keeps_a_value_it_does_not_list(qtbot):
    device = Option("device", "choice", "auto", choices=("auto", "cpu"), open=True)
    editor = make_editor(device, "cuda:3", lambda v: device.coerce(v, strict=False), [("auto", "auto"), ("cpu", "CPU")])
    qtbot.addWidget(editor)
    assert editor.currentData() == "cuda:3" and "not available here" in editor.currentText()
    rate = make_editor(Option("rate", "float", 0.1, min=0.0, max=1.0, unit="%"), 0.1)
    qtbot.addWidget(rate)
    assert isinstance(rate, FloatEditor) and rate.suffix() == " %"
    with pytest.raises(ValueError, match="scope"):
        make_editor(Option("s", "scope", None, options=(Option("a", "int", 1),)), {})
