"""The user's own data: CSV, NumPy, image folders and text files, every bad file named, streaming under a memory cap.

Every file is written by the test into tmp_path; paths in the specs are relative to it (the project's folder).
"""

from __future__ import annotations

import tracemalloc

import graphs
import numpy as np
import pytest
import torch
from PIL import Image

from graphedit.compiler import compile_graph
from graphedit.training import userdata
from graphedit.training.binding import fit_inputs_to_dataset
from graphedit.training.datasets import DatasetError, InMemorySplit, StreamedSplit, load_dataset
from graphedit.training.events import StepEvent
from graphedit.training.trainer import Trainer


def csv_spec(path="data.csv", **options):
    return {"name": "csv", "options": {"path": path, **options}, "split": {"val": 0.25, "test": 0.0}}


def write(tmp_path, name, text):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def iris_like(n=40, seed=0):
    rng = np.random.default_rng(seed)
    rows = ["length,width,colour,species"]
    for i in range(n):
        species = ["setosa", "virginica"][i % 2]
        rows.append(f"{rng.normal(5 + 2 * (i % 2)):.3f},{rng.normal(3):.3f},{['red', 'blue', 'red'][i % 3]},{species}")
    return "\n".join(rows) + "\n"


def error_of(spec, base):
    with pytest.raises(DatasetError) as info:
        load_dataset(spec, base)
    return str(info.value)


# ------------------------------------------------------------------------------------------------------------ CSV
def test_csv_text_target_becomes_classes_and_features_are_standardised(tmp_path):
    write(tmp_path, "data.csv", iris_like())
    data = load_dataset(csv_spec(), tmp_path)
    info = data.info
    assert info.task == "classification" and info.class_names == ["setosa", "virginica"]
    assert info.feature_shape == (4,)  # length, width and the one-hot colour (blue, red)
    assert (info.feature_dtype, info.target_dtype, info.target_shape) == ("float32", "int64", ())
    assert isinstance(data.train, InMemorySplit) and info.sizes == {"test": 0, "val": 10, "train": 30}
    assert torch.allclose(data.train.X.mean(0), torch.zeros(4), atol=1e-5)
    assert any("one-hot encoded as 2 columns (blue, red)" in n for n in info.notes)
    assert any("classification" in n for n in info.notes)


def test_csv_chosen_columns_numeric_target_is_regression(tmp_path):
    rows = ["a,b,c,price"] + [f"{i},{i % 7},{i * 0.5},{i * 1.5 + 0.25}" for i in range(30)]
    write(tmp_path, "data.csv", "\n".join(rows))
    data = load_dataset(csv_spec(features="a, c", target="price"), tmp_path)  # comma text, as the settings panel gives
    assert data.info.task == "regression" and data.info.feature_shape == (2,) and data.info.target_shape == (1,)
    small = load_dataset(csv_spec(features=["a", "c"], target="b"), tmp_path)  # 7 whole numbers: classes
    assert small.info.task == "classification" and small.info.num_classes == 7
    forced = load_dataset(csv_spec(features=["a"], target="b", task="regression"), tmp_path)
    assert forced.info.task == "regression"


def test_csv_semicolons_decimal_commas_and_no_header(tmp_path):
    write(tmp_path, "data.csv", "\n".join(f"{i},5;{i % 3};{'ab'[i % 2]}" for i in range(12)))
    data = load_dataset(csv_spec(header=False), tmp_path)
    assert data.info.feature_shape == (2,) and data.info.class_names == ["a", "b"]
    assert any("decimal commas" in n for n in data.info.notes)
    wrong = error_of(csv_spec(target="label", header=False), tmp_path)
    assert "no column 'label'" in wrong and "col1, col2, col3" in wrong


def test_csv_ragged_rows_are_refused_with_their_lines(tmp_path):
    write(tmp_path, "data.csv", "a,b,label\n1,2,x\n3,4,y,9\n5,6,x\n7,y\n")
    message = error_of(csv_spec(), tmp_path)
    assert "data.csv" in message and "header has 3 columns" in message
    assert "line 3 has 4" in message and "line 5 has 2" in message and "Fix:" in message


def test_csv_trailing_separators_are_a_stated_fix_up(tmp_path):
    write(tmp_path, "data.csv", "a,b,label,\n1,2,x,\n3,4,y,\n5,6,x,\n7,8,y,\n")
    data = load_dataset(csv_spec(), tmp_path)  # the last column is the target, not the empty one
    assert data.info.feature_shape == (2,) and data.info.class_names == ["x", "y"]
    assert any("empty column(s) without a name" in n for n in data.info.notes)
    write(tmp_path, "data.csv", "a,b,label\n1,2,x,\n3,4,y,\n5,6,x\n7,8,y\n")
    data = load_dataset(csv_spec(), tmp_path)
    assert data.info.feature_shape == (2,)
    assert any("trailing separators" in n for n in data.info.notes)


def test_csv_non_numeric_cell_is_named(tmp_path):
    write(tmp_path, "data.csv", "a,b,label\n1,2,x\n3,4,y\n5,six,x\n7,8,y\n")
    message = error_of(csv_spec(), tmp_path)
    assert "line 4, column 'b'" in message and "'six' is not a number" in message and "Fix:" in message


@pytest.mark.parametrize("mode", ["error", "drop", "mean"])
def test_csv_missing_values(tmp_path, mode):
    write(tmp_path, "data.csv", "a,b,label\n1,2,x\n3,NA,y\n5,,x\n7,8,y\n9,10,\n11,12,x\n")
    spec = {**csv_spec(missing=mode), "split": {"val": 0.0, "test": 0.0}}
    if mode == "error":
        message = error_of(spec, tmp_path)
        assert "line 3, column 'b': the value is missing" in message and "'drop'" in message and "'mean'" in message
        return
    data = load_dataset(spec, tmp_path)
    notes = " ".join(data.info.notes)
    if mode == "drop":
        assert data.info.sizes["train"] == 3 and "left out 3 row(s)" in notes and "lines 3, 4, 6" in notes
    else:  # filled with the column's mean; a missing target cannot be invented, so that row goes
        assert data.info.sizes["train"] == 5 and "b: 2" in notes and "left out 1 row(s) with a missing target" in notes
        raw = load_dataset({**spec, "standardize": False}, tmp_path).train.X
        # two cells filled with 8, the mean of 2, 8, 10 and 12
        assert sorted(raw[:, 1].tolist()) == [2.0, 8.0, 8.0, 8.0, 12.0]


def test_csv_target_with_one_class(tmp_path):
    write(tmp_path, "data.csv", "a,b,label\n1,2,yes\n3,4,yes\n5,6,yes\n")
    message = error_of(csv_spec(), tmp_path)
    assert "'label' has one value ('yes') in all 3 rows" in message and "Fix:" in message


def test_csv_that_is_a_png(tmp_path):
    Image.new("RGB", (4, 4), "red").save(tmp_path / "picture.png")
    (tmp_path / "data.csv").write_bytes((tmp_path / "picture.png").read_bytes())
    message = error_of(csv_spec(), tmp_path)
    assert "data.csv is not CSV text: it is a PNG image" in message and "image_folder" in message


def test_csv_empty_file_unknown_columns_and_latin1(tmp_path):
    write(tmp_path, "data.csv", "")
    assert "is empty" in error_of(csv_spec(), tmp_path)
    write(tmp_path, "data.csv", "a,b,label\n1,2,x\n3,4,y\n")
    assert "feature column(s) 'zz' do not exist" in error_of(csv_spec(features=["zz"]), tmp_path)
    (tmp_path / "data.csv").write_bytes("a,b,label\n1,2,caf\xe9\n3,4,th\xe9\n5,6,caf\xe9\n".encode("cp1252"))
    data = load_dataset(csv_spec(), tmp_path)
    assert data.info.class_names == ["café", "thé"] and any("Windows-1252" in n for n in data.info.notes)
    assert "does not exist" in error_of(csv_spec("missing.csv"), tmp_path)


# ---------------------------------------------------------------------------------------------------------- NumPy
def npy_spec(**options):
    return {"name": "numpy", "options": options, "split": {"val": 0.2, "test": 0.0}}


def test_npy_features_and_targets(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", rng.normal(size=(50, 3)))
    np.save(tmp_path / "y.npy", rng.integers(1, 4, 50))  # classes 1, 2, 3
    data = load_dataset(npy_spec(path="x.npy", y_path="y.npy"), tmp_path)
    assert data.info.feature_dtype == "float32" and data.info.class_names == ["1", "2", "3"]
    assert any("renumbered 0 … 2" in n for n in data.info.notes)
    np.save(tmp_path / "t.npy", rng.normal(size=50))
    assert load_dataset(npy_spec(path="x.npy", y_path="t.npy"), tmp_path).info.task == "regression"
    assert load_dataset(npy_spec(path="x.npy"), tmp_path).info.task == "reconstruction"


def test_npz_channels_last_bytes_become_images(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (30, 6, 6, 3), dtype=np.uint8)
    np.savez(tmp_path / "pics.npz", X=images, labels=np.eye(3)[np.arange(30) % 3])
    data = load_dataset({**npy_spec(path="pics.npz", y_key="labels"), "standardize": False}, tmp_path)
    assert data.info.feature_shape == (3, 6, 6) and data.info.num_classes == 3
    assert float(data.train.X.max()) <= 1.0
    notes = " ".join(data.info.notes)
    assert "channels last" in notes and "0–255 scaled" in notes and "one-hot" in notes and "differ in case" in notes
    message = error_of(npy_spec(path="pics.npz", x_key="features"), tmp_path)
    assert "no array named 'features'" in message and "X, labels" in message


def test_text_file_renamed_npy(tmp_path):
    write(tmp_path, "x.npy", "a,b,c\n1,2,3\n")
    message = error_of(npy_spec(path="x.npy"), tmp_path)
    assert "x.npy is not a NumPy .npy or .npz file: it is text (it begins 'a,b,c')" in message and "'csv'" in message


def test_npy_bad_contents(tmp_path):
    np.save(tmp_path / "x.npy", np.ones((10, 2)))
    np.save(tmp_path / "y.npy", np.zeros(9, dtype=np.int64))
    assert "10 rows but the targets have 9" in error_of(npy_spec(path="x.npy", y_path="y.npy"), tmp_path)
    X = np.ones((10, 2))
    X[6, 1] = np.nan
    np.save(tmp_path / "nan.npy", X)
    assert "row 6 of nan.npy holds NaN" in error_of(npy_spec(path="nan.npy"), tmp_path)
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    assert "never unpickles" in error_of(npy_spec(path="obj.npy"), tmp_path)
    full = (tmp_path / "x.npy").read_bytes()
    (tmp_path / "cut.npy").write_bytes(full[: len(full) - 40])
    assert "damaged or cut short" in error_of(npy_spec(path="cut.npy"), tmp_path)
    np.save(tmp_path / "same.npy", np.full(10, 3))
    assert "one class only" in error_of(npy_spec(path="x.npy", y_path="same.npy"), tmp_path)


def make_large_npy(tmp_path, n=8192, d=256):
    """8 MB of float32 features whose class is the sign of the first two features' sum."""
    rng = np.random.default_rng(1)
    X = np.lib.format.open_memmap(tmp_path / "big.npy", mode="w+", dtype=np.float32, shape=(n, d))
    for start in range(0, n, 4096):  # written in chunks, so the test itself stays small
        X[start : start + 4096] = rng.normal(2.0, 3.0, (min(4096, n - start), d))
    y = (X[:, 0] + X[:, 1] > 4.0).astype(np.int64)
    X.flush()
    del X
    np.save(tmp_path / "big_y.npy", y)
    return n * d * 4


@pytest.mark.slow
def test_streamed_npy_larger_than_the_memory_cap_trains(tmp_path, monkeypatch):
    size = make_large_npy(tmp_path)
    cap_mb = 1.0
    monkeypatch.setattr(userdata, "MEMORY_LIMIT_MB", cap_mb)
    assert size > 8 * cap_mb * 2**20 - 1
    spec = npy_spec(path="big.npy", y_path="big_y.npy")
    tracemalloc.start()
    data = load_dataset(spec, tmp_path)
    X, y = next(iter(data.train.batches(256, shuffle=True, generator=torch.Generator().manual_seed(0))))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # never the whole 8 MB array at once: memory-mapped, read a batch at a time (the peak counts the
    # bookkeeping too: the targets, the split's row numbers and the sampler's shuffled list of them)
    assert peak < cap_mb * 2**20
    assert isinstance(data.train, StreamedSplit) and isinstance(data.val, StreamedSplit) and data.info.streamed
    assert any("read from disk a batch at a time" in n for n in data.info.notes)
    assert X.shape == (256, 256) and X.dtype == torch.float32
    assert abs(float(X.mean())) < 0.2 and abs(float(X.std()) - 1.0) < 0.2  # standardised (fitted on a train sample)
    assert data.info.standardization is not None and len(data.info.standardization["mean"]) == 256

    doc = graphs.mlp((256,), hidden=(32,))
    fit_inputs_to_dataset(doc, data.info)
    steps = []
    settings = {"device": "cpu", "epochs": 1, "lr": 0.003, "batch_size": 64, "log_every": 1}
    summary = Trainer(compile_graph(doc, seed=0), data, settings, [steps.append], probes=True).fit()
    losses = [e.loss for e in steps if isinstance(e, StepEvent)]
    assert summary["epochs"] == 1 and len(losses) == 103
    assert np.mean(losses[-20:]) < 0.6 * np.mean(losses[:20])
    assert summary["val"]["accuracy1"] > 0.85


def test_streamed_npz_member_is_mapped_where_it_lies(tmp_path, monkeypatch):
    monkeypatch.setattr(userdata, "MEMORY_LIMIT_MB", 0.01)
    X = np.arange(4000, dtype=np.float32).reshape(1000, 4)
    np.savez(tmp_path / "a.npz", x=X, y=np.arange(1000) % 2)
    data = load_dataset({**npy_spec(path="a.npz"), "standardize": False, "split": {"val": 0.0}}, tmp_path)
    assert isinstance(data.train, StreamedSplit)
    got = torch.cat([b for b, _ in data.train.batches(100)])
    want = torch.from_numpy(X)[torch.from_numpy(np.sort(np.random.default_rng([0, 1]).permutation(1000)))]
    assert torch.equal(got.sort(0).values, want.sort(0).values)
    np.savez_compressed(tmp_path / "c.npz", x=X, y=np.arange(1000) % 2)
    assert "compressed (numpy.savez_compressed)" in error_of(npy_spec(path="c.npz"), tmp_path)


# --------------------------------------------------------------------------------------------------------- images
def make_folder(tmp_path, classes=("circle", "square"), n=6, size=(12, 12), mode="L", name="pics"):
    root = tmp_path / name
    for c, cls in enumerate(classes):
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            img = Image.new(mode, size, 0 if mode == "L" else (0, 0, 0))
            value = 255 if mode == "L" else (255, 120 * c, 0)
            for x in range(2 + i % 3, size[0] - 2):
                img.putpixel((x, (3 + 4 * c) % size[1]), value)
            img.save(root / cls / f"{i:03d}.png")
    return root


def img_spec(**options):
    return {"name": "image_folder", "options": {"path": "pics", **options}, "split": {"val": 0.25, "test": 0.0}}


def test_image_folder_grey_and_rgb(tmp_path):
    make_folder(tmp_path, mode="RGB")
    grey = load_dataset(img_spec(size=12), tmp_path)
    assert grey.info.feature_shape == (1, 12, 12) and grey.info.class_names == ["circle", "square"]
    assert grey.info.sizes["train"] + grey.info.sizes["val"] == 12 and grey.info.task == "classification"
    assert any("converted 12 colour image(s) to grey" in n for n in grey.info.notes)
    rgb = load_dataset({**img_spec(size=12, color="rgb"), "standardize": False}, tmp_path)
    assert rgb.info.feature_shape == (3, 12, 12) and float(rgb.train.X.max()) == 1.0
    assert not rgb.info.notes


def test_image_folder_mixed_sizes_are_resized(tmp_path):
    root = make_folder(tmp_path, size=(12, 12))
    Image.new("L", (20, 30), 128).save(root / "circle" / "big.png")
    data = load_dataset(img_spec(size=16), tmp_path)
    assert data.info.feature_shape == (1, 16, 16)
    notes = " ".join(data.info.notes)
    assert "images come in 2 sizes (12×12: 12, 20×30: 1): all resized to 16×16" in notes
    assert "not square are stretched" in notes


def test_unreadable_image_is_skipped_with_a_note(tmp_path):
    root = make_folder(tmp_path)
    (root / "square" / "broken.png").write_bytes(b"not an image at all\n")
    good = (root / "circle" / "000.png").read_bytes()
    (root / "circle" / "cut.png").write_bytes(good[: len(good) // 2])  # a real PNG header, the pixels cut off
    data = load_dataset(img_spec(size=12), tmp_path)
    assert sum(data.info.sizes.values()) == 12
    notes = " ".join(data.info.notes)
    assert "skipped 2 unreadable image(s)" in notes and "square/broken.png (it is text" in notes
    assert "circle/cut.png (damaged PNG data" in notes
    message = error_of(img_spec(size=12, unreadable="error"), tmp_path)
    assert "circle/cut.png cannot be read as an image" in message and "Fix:" in message


def test_image_folder_bad_layouts(tmp_path):
    (tmp_path / "pics").mkdir()
    assert "holds no class subfolders with images (it is empty)" in error_of(img_spec(), tmp_path)
    (tmp_path / "pics" / "cat").mkdir()
    write(tmp_path, "pics/cat/notes.txt", "hello")
    assert "holds no class subfolders with images (it holds cat)" in error_of(img_spec(), tmp_path)
    make_folder(tmp_path, classes=("cat",))
    assert "only the subfolder 'cat'" in error_of(img_spec(), tmp_path)
    make_folder(tmp_path, classes=("cat", "dog", "bird"))
    for f in (tmp_path / "pics" / "bird").iterdir():
        f.unlink()
    Image.new("L", (12, 12)).save(tmp_path / "pics" / "loose.png")
    notes = " ".join(load_dataset(img_spec(size=12), tmp_path).info.notes)
    assert "without images: bird" in notes and "outside any class subfolder" in notes and "notes.txt" in notes
    write(tmp_path, "file.csv", "a\n")
    assert "is a file, not a folder" in error_of(img_spec(path="file.csv"), tmp_path)


def test_image_with_the_wrong_extension_is_read_by_content(tmp_path):
    root = make_folder(tmp_path)
    (root / "circle" / "000.png").rename(root / "circle" / "000.jpg")
    data = load_dataset(img_spec(size=12), tmp_path)
    assert sum(data.info.sizes.values()) == 12
    assert any("by content, not extension: circle/000.jpg is PNG" in n for n in data.info.notes)


def test_large_image_folder_is_decoded_lazily(tmp_path, monkeypatch):
    make_folder(tmp_path, n=20, size=(16, 16))
    monkeypatch.setattr(userdata, "MEMORY_LIMIT_MB", 0.01)  # 40 × 16 × 16 × 4 bytes = 40 kB > 10 kB
    data = load_dataset({**img_spec(size=16), "augment": {"flip": True, "shift": 1, "noise": 0.1}}, tmp_path)
    assert isinstance(data.train, StreamedSplit) and data.info.streamed
    assert any("decoded a batch at a time" in n for n in data.info.notes)
    X, y = next(iter(data.train.batches(8, shuffle=True, generator=torch.Generator().manual_seed(0))))
    assert X.shape == (8, 1, 16, 16) and X.dtype == torch.float32 and y.dtype == torch.int64
    doc = graphs.cnn((1, 16, 16), classes=2, filters=4)
    summary = Trainer(compile_graph(doc, seed=0), data, {"device": "cpu", "epochs": 2}, probes=False).fit()
    assert summary["status"] == "finished"


# ----------------------------------------------------------------------------------------------------------- text
def test_text_file(tmp_path):
    write(tmp_path, "story.txt", "the cat sat on the mat.\r\nthe dog sat on the log.\r\n" * 5)
    data = load_dataset({"name": "text_file", "options": {"path": "story.txt", "window": 4}}, tmp_path)
    assert data.info.task == "sequence" and data.info.feature_shape == (4,) and "\r" not in data.info.vocab
    (tmp_path / "scan.txt").write_bytes(b"%PDF-1.4 binary")
    message = error_of({"name": "text_file", "options": {"path": "scan.txt"}}, tmp_path)
    assert "scan.txt is not a text file: it is a PDF document" in message
    write(tmp_path, "empty.txt", "")
    assert "empty.txt is empty" in error_of({"name": "text_file", "options": {"path": "empty.txt"}}, tmp_path)


def test_streamed_folder_skips_an_image_that_fails_only_when_decoded(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    for cls in ("a", "b"):
        (tmp_path / "pics" / cls).mkdir(parents=True)
        for i in range(5):
            Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(
                tmp_path / "pics" / cls / f"{i}.jpg"
            )
    whole = (tmp_path / "pics" / "a" / "0.jpg").read_bytes()
    (tmp_path / "pics" / "a" / "cut.jpg").write_bytes(
        whole[: len(whole) * 2 // 3]
    )  # the header reads, the pixels do not
    monkeypatch.setattr(userdata, "MEMORY_LIMIT_MB", 0.001)
    data = load_dataset({**img_spec(size=16), "split": {"val": 0.0, "test": 0.0}}, tmp_path)
    assert isinstance(data.train, StreamedSplit) and data.info.sizes["train"] == 11
    served = sum(len(X) for X, _ in data.train.batches(4))
    assert served == 10  # the damaged image left out of its batch
    assert any("skipped while streaming: a/cut.jpg cannot be decoded" in n for n in data.info.notes)
    monkeypatch.setattr(userdata, "MEMORY_LIMIT_MB", 1000.0)  # in memory: decoded at once, skipped with a note
    data = load_dataset(img_spec(size=16), tmp_path)
    assert sum(data.info.sizes.values()) == 10 and any(
        "a/cut.jpg (image file is truncated" in n for n in data.info.notes
    )
    with pytest.raises(DatasetError, match="a/cut.jpg cannot be decoded"):
        load_dataset(img_spec(size=16, unreadable="error"), tmp_path)
