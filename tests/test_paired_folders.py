"""Dataset kind image_folders: several folders of images paired by file stem, each feeding an Input or Target node."""

from __future__ import annotations

import numpy as np
import pytest
from graphkit import build
from PIL import Image

from graphedit.model.project import Project, project_to_json
from graphedit.training.datasets import DatasetError, load_dataset
from graphedit.training.session import run_project

SIZE = 8


def write_pairs(root, n: int = 48, seed: int = 0) -> None:
    """left/NNN.png and right/NNN.png, random grey; mask/NNN.png white where left is brighter than right."""
    rng = np.random.default_rng(seed)
    for name in ("left", "right", "mask"):
        (root / name).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        left, right = rng.integers(0, 256, (2, SIZE, SIZE), dtype=np.uint8)
        Image.fromarray(left).save(root / "left" / f"{i:03d}.png")
        Image.fromarray(right).convert("RGB").save(root / "right" / f"{i:03d}.bmp")  # any format, any mode
        Image.fromarray(np.where(left > right, 255, 0).astype(np.uint8)).save(root / "mask" / f"{i:03d}.png")


def spec(**options) -> dict:
    base = {"path": "pairs", "inputs": ["left", "right"], "targets": ["mask"], "size": SIZE}
    return {"name": "image_folders", "options": {**base, **options}, "standardize": False}


def test_images_pair_by_stem_and_masks_become_classes(tmp_path):
    write_pairs(tmp_path / "pairs")
    data = load_dataset(spec(), tmp_path)
    assert data.info.inputs["left"]["shape"] == [1, SIZE, SIZE] and data.info.inputs["right"]["shape"] == [
        1,
        SIZE,
        SIZE,
    ]
    assert data.info.task == "segmentation" and data.info.class_names == ["0", "255"]
    X, y = data.train.X, data.train.y
    assert set(X) == {"left", "right"} and set(y) == {"mask"} and y["mask"].shape[1:] == (SIZE, SIZE)
    assert float(X["left"].max()) <= 1.0
    # shuffled and split, every example still holds the files of one stem: the mask is left > right
    assert bool(((X["left"] > X["right"])[:, 0].long() == y["mask"]).all())


def segmenter():
    """left and right side by side as channels, a 1×1 convolution to two class scores per pixel."""
    return build(
        [
            ("left", "Input", {}),
            ("right", "Input", {}),
            ("mask", "Target", {}),
            ("concat1", "Concat", {}),
            ("conv1", "Conv2d", {"filters": 2, "kernel": 1}),
            ("ce", "SoftmaxCrossEntropy", {}),
            ("accuracy", "Accuracy", {}),
        ],
        ["left -> concat1.in1", "right -> concat1.in2", "concat1 -> conv1", "conv1 -> ce.pred", "mask -> ce.target"]
        + ["conv1 -> accuracy.pred", "mask -> accuracy.target"],
    )


def test_two_image_inputs_and_a_mask_train(tmp_path):
    write_pairs(tmp_path / "pairs", n=96)
    training = {"epochs": 15, "batch_size": 16, "device": "cpu", "seed": 0, "lr": 0.05, "optimizer": "adam"}
    project = Project(document=segmenter(), dataset=spec(), training=training)
    summary = run_project(project_to_json(project), tmp_path / "p.gproj", probes=False)
    assert summary["status"] == "finished"
    assert summary["val"]["accuracy"] > 0.9, summary["val"]  # a 1×1 convolution learns left − right > 0


def _break(kind: str, root) -> None:
    if kind == "unmatched":
        (root / "mask" / "005.png").unlink()
    elif kind == "two_files_one_stem":
        (root / "left" / "003.jpg").write_bytes((root / "left" / "004.png").read_bytes())
    elif kind == "not_an_image":
        (root / "right" / "007.bmp").write_text("name,label\na,1\n")
    elif kind == "truncated":
        data = (root / "left" / "002.png").read_bytes()
        (root / "left" / "002.png").write_bytes(data[: len(data) // 2])
    elif kind == "photo_masks":
        Image.fromarray(np.arange(SIZE * SIZE, dtype=np.uint8).reshape(SIZE, SIZE) * 3).save(root / "mask" / "001.png")


@pytest.mark.parametrize(
    ("kind", "options", "needle"),
    [
        ("unmatched", {}, "1 file stem(s) lack a partner in another folder: 005 (not in mask/)"),
        ("two_files_one_stem", {}, "left/ holds 003.jpg and 003.png, two images of one stem"),
        ("not_an_image", {}, "right/007.bmp cannot be read as an image: it is"),
        ("truncated", {}, "left/002.png cannot be read as an image: damaged PNG data"),
        ("photo_masks", {}, "too many for classes"),
        (None, {"targets": ["label"]}, "has no subfolder 'label' (it holds left, mask, right)"),
        (None, {"inputs": []}, "option inputs is empty"),
        (None, {"targets": ["left"]}, "folder 'left' is named twice"),
    ],
)
def test_bad_folders_are_one_line_naming_the_file_and_the_fix(tmp_path, kind, options, needle):
    write_pairs(tmp_path / "pairs", n=10)
    if kind:
        _break(kind, tmp_path / "pairs")
    with pytest.raises(DatasetError) as caught:
        load_dataset(spec(**options), tmp_path)
    message = str(caught.value)
    assert needle in message, message
    assert "\n" not in message and "Fix:" in message and "Traceback" not in message


def test_skip_leaves_out_unmatched_and_unreadable_examples_with_a_note(tmp_path):
    write_pairs(tmp_path / "pairs", n=10)
    for kind in ("unmatched", "not_an_image"):
        _break(kind, tmp_path / "pairs")
    data = load_dataset({**spec(unmatched="skip", unreadable="skip"), "split": {"val": 0.0, "test": 0.0}}, tmp_path)
    assert len(data.train) == 8
    notes = " ".join(data.info.notes)
    assert "left out 1 example(s) whose stem is not in every folder: 005" in notes
    assert "left out 1 example(s) with an unreadable image: 007" in notes


def test_train_on_bad_folders_prints_one_line_without_a_traceback(tmp_path, capsys):
    from graphedit.cli import main
    from graphedit.model.project import save_project

    write_pairs(tmp_path / "pairs", n=10)
    _break("unmatched", tmp_path / "pairs")
    path = save_project(Project(document=segmenter(), dataset=spec()), tmp_path / "p.gproj")
    assert main(["train", str(path)]) != 0
    out = capsys.readouterr()
    text = out.out + out.err
    assert "005 (not in mask/)" in text and "Traceback" not in text
