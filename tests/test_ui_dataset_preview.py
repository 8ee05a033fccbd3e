"""The dataset preview: headless results for each kind, and the widget's table, image grid, bars and errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QHBoxLayout, QWidget

from graphedit.training.userdata_preview import preview_dataset

pytestmark = pytest.mark.gui


def write_csv(tmp_path, rows=30):
    lines = ["sepal_len,sepal_wid,note,species"]
    names = ["setosa", "versicolor", "virginica"]
    for i in range(rows):
        wid = "" if i == 4 else f"{3 + (i % 5) / 10:.1f}"
        lines.append(f"{4.5 + (i % 7) / 3:.2f},{wid},id{i},{names[min(i % 5, 2)]}")
    (tmp_path / "flowers.csv").write_text("\n".join(lines) + "\n")
    return {
        "name": "csv",
        "options": {"path": "flowers.csv", "features": ["sepal_len", "sepal_wid"], "missing": "mean"},
    }


def write_folder(tmp_path):
    rng = np.random.default_rng(0)
    for c, (name, colour) in enumerate([("red", (220, 40, 40)), ("green", (40, 180, 60)), ("blue", (40, 80, 220))]):
        (tmp_path / "pics" / name).mkdir(parents=True)
        for i in range(4 + 3 * c):
            pixels = np.zeros((20, 20, 3), dtype=np.uint8)
            r0, c0 = rng.integers(0, 10, 2)
            pixels[r0 : r0 + 10, c0 : c0 + 10] = colour
            Image.fromarray(pixels).save(tmp_path / "pics" / name / f"{i}.png")
    Image.new("RGB", (30, 20), (128, 128, 128)).save(tmp_path / "pics" / "red" / "wide.png")
    return {"name": "image_folder", "options": {"path": "pics", "color": "rgb", "size": 20}}


def test_preview_of_a_csv(tmp_path):
    p = preview_dataset(write_csv(tmp_path), tmp_path, rows=5)
    assert p["error"] is None and p["view"] == "table" and p["task"] == "classification"
    assert p["columns"] == ["sepal_len", "sepal_wid", "note", "species"] and len(p["rows"]) == 5
    assert p["roles"] == {"sepal_len": "feature", "sepal_wid": "feature", "note": "unused", "species": "target"}
    assert p["class_counts"] == {"setosa": 6, "versicolor": 6, "virginica": 18}
    assert any("sepal_wid: 1" in n for n in p["notes"])


def test_preview_of_images_numpy_text_and_builtins(tmp_path):
    p = preview_dataset(write_folder(tmp_path), tmp_path, images_per_class=3)
    assert p["view"] == "images" and p["class_counts"] == {"blue": 10, "green": 7, "red": 5}
    assert [i["label"] for i in p["images"]] == ["blue"] * 3 + ["green"] * 3 + ["red"] * 3
    assert p["images"][0]["image"].shape == (20, 20, 3) and p["images"][0]["image"].dtype == np.uint8
    assert any("2 sizes" in n for n in p["notes"])
    np.save(tmp_path / "x.npy", np.random.default_rng(0).integers(0, 255, (12, 8, 8), dtype=np.uint8))
    np.save(tmp_path / "y.npy", np.arange(12) % 2)
    q = preview_dataset({"name": "numpy", "options": {"path": "x.npy", "y_path": "y.npy"}}, tmp_path)
    assert q["view"] == "images" and q["class_counts"] == {"0": 6, "1": 6} and q["images"][0]["image"].shape == (8, 8)
    (tmp_path / "poem.txt").write_text("roses are red\nviolets are blue\n")
    t = preview_dataset({"name": "text_file", "options": {"path": "poem.txt", "window": 4}}, tmp_path)
    assert t["view"] == "text" and t["text"].startswith("roses") and t["class_counts"]["e"] == 6
    c = preview_dataset({"name": "circle", "options": {"n": 100}}, rows=4)
    assert len(c["rows"]) == 4 and c["columns"] == ["x1", "x2", "target"] and sum(c["class_counts"].values()) == 100
    d = preview_dataset({"name": "digits", "options": {"as_images": True}})
    assert d["view"] == "images" and len(d["class_counts"]) == 10


def test_preview_reports_errors_instead_of_raising(tmp_path):
    (tmp_path / "one.csv").write_text("a,b\n1,x\n2,x\n")
    p = preview_dataset({"name": "csv", "options": {"path": "one.csv"}}, tmp_path)
    assert "has one value ('x')" in p["error"] and p["rows"] == [["1", "x"], ["2", "x"]]  # the table still shows
    assert "does not exist" in preview_dataset({"name": "csv", "options": {"path": "nope.csv"}}, tmp_path)["error"]
    assert "unknown dataset" in preview_dataset({"name": "nonsense"})["error"]


def test_widget_shows_table_images_bars_and_errors(qtbot, tmp_path):
    from graphedit.ui.dataset_preview import DatasetPreview

    table = DatasetPreview()
    qtbot.addWidget(table)
    table.set_spec(write_csv(tmp_path), tmp_path)
    assert table.stack.currentWidget() is table.table and table.table.rowCount() == 20
    assert table.table.horizontalHeaderItem(3).text() == "species (target)"
    assert table.bars.counts == {"setosa": 6, "versicolor": 6, "virginica": 18} and not table.side.isHidden()
    assert not table.notes_label.isHidden() and table.error_label.isHidden()
    assert table.summary.text() == "csv · classification · 30 examples · features [2]"

    images = DatasetPreview()
    qtbot.addWidget(images)
    images.set_spec(write_folder(tmp_path), tmp_path)
    assert images.stack.currentWidget() is images.grid and len(images.grid.thumbs) == 6 + 6 + 5
    assert images.grid.thumbs[0].pixmap().height() == 56

    (tmp_path / "bad.csv").write_bytes((tmp_path / "pics" / "red" / "0.png").read_bytes())
    table.set_spec({"name": "csv", "options": {"path": "bad.csv"}}, tmp_path)
    assert not table.error_label.isHidden() and "bad.csv is not CSV text: it is a PNG image" in table.error_label.text()
    assert table.side.isHidden()


def test_screenshot(qtbot, tmp_path):
    from _window_helpers import screenshot

    from graphedit.ui.dataset_preview import DatasetPreview

    host = QWidget()
    qtbot.addWidget(host)
    row = QHBoxLayout(host)
    left, right = DatasetPreview(), DatasetPreview()
    row.addWidget(left)
    row.addWidget(right)
    left.set_spec(write_csv(tmp_path), tmp_path)
    right.set_spec(write_folder(tmp_path), tmp_path)
    host.resize(1400, 560)
    host.show()
    qtbot.waitExposed(host)
    path = screenshot(host, "dataset_preview.png")
    assert path.stat().st_size > 10_000
