"""Built-in datasets: shapes, classes, split sizes, determinism with the seed, errors with fixes."""

from __future__ import annotations

import pytest
import torch

from graphedit.errors import GraphEditError
from graphedit.training.datasets import DatasetError, InMemorySplit, Split, dataset_names, load_dataset

# name, options, task, feature shape, target shape, feature dtype, target dtype, classes, samples
CASES = [
    ("circle", {"n": 200}, "classification", (2,), (), "float32", "int64", 2, 200),
    ("xor", {"n": 200, "noise": 0.1}, "classification", (2,), (), "float32", "int64", 2, 200),
    ("gauss", {"n": 200}, "classification", (2,), (), "float32", "int64", 2, 200),
    ("spiral", {"n": 200, "labels": "binary"}, "classification", (2,), (1,), "float32", "float32", 2, 200),
    ("plane", {"n": 200}, "regression", (2,), (1,), "float32", "float32", None, 200),
    ("multigauss", {"n": 200}, "regression", (2,), (1,), "float32", "float32", None, 200),
    ("logic", {}, "classification", (2,), (1,), "float32", "float32", 2, 4),
    ("regression1d", {}, "regression", (1,), (1,), "float32", "float32", None, 100),
    ("iris", {}, "classification", (4,), (), "float32", "int64", 3, 150),
    ("wine", {}, "classification", (13,), (), "float32", "int64", 3, 178),
    ("breast_cancer", {}, "classification", (30,), (), "float32", "int64", 2, 569),
    ("digits", {}, "classification", (64,), (), "float32", "int64", 10, 1797),
    ("shapes", {"n": 90}, "classification", (1, 16, 16), (), "float32", "int64", 3, 90),
    ("text", {}, "sequence", (8,), (), "int64", "int64", None, None),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_builtin_dataset(case):
    name, options, task, fshape, tshape, fdtype, tdtype, classes, n = case
    spec = {"name": name, "options": options, "split": {"val": 0.25, "test": 0.0}, "seed": 3}
    data = load_dataset(spec)
    info = data.info
    assert (info.task, info.feature_shape, info.target_shape) == (task, fshape, tshape)
    assert (info.feature_dtype, info.target_dtype) == (fdtype, tdtype)
    if classes is not None:
        assert info.num_classes == classes and len(info.class_names) == classes
        assert set(torch.unique(data.train.y.reshape(-1)).tolist()) <= set(range(classes))
    total = sum(info.sizes.values())
    if n is not None:
        assert total == n
    assert isinstance(data.train, Split) and isinstance(data.train, InMemorySplit)
    assert data.train.X.shape == (info.sizes["train"], *fshape)
    assert data.train.y.shape == (info.sizes["train"], *tshape)
    if info.sizes["val"]:
        assert len(data.val) == info.sizes["val"] == round(0.25 * total)
    assert data.test is None
    again = load_dataset(spec)
    assert torch.equal(again.train.X, data.train.X) and torch.equal(again.train.y, data.train.y)
    other = load_dataset({**spec, "seed": 4})
    if name not in ("logic", "iris", "wine", "breast_cancer", "digits", "text"):
        assert not torch.equal(other.train.X, data.train.X)  # generated data changes with the seed
    elif info.sizes["val"]:
        assert not torch.equal(other.train.y, data.train.y)  # fixed data: the split changes with the seed


def test_every_builtin_is_tested():
    from graphedit.training.userdata import USER_KINDS  # the user's own files: tests/test_userdata.py

    named = {"digit_pairs"}  # several inputs and targets: tests/test_multi_data.py
    assert set(dataset_names()) - set(USER_KINDS) - named == {c[0] for c in CASES}


def test_standardize_fits_train_only():
    data = load_dataset({"name": "wine", "split": {"val": 0.3, "test": 0.1}, "seed": 0})
    X = data.train.X
    assert torch.allclose(X.mean(0), torch.zeros(13), atol=1e-4)
    assert torch.allclose(X.std(0, unbiased=False), torch.ones(13), atol=1e-3)
    assert not torch.allclose(data.val.X.mean(0), torch.zeros(13), atol=1e-3)
    assert data.info.sizes == {"test": 18, "val": 53, "train": 107}
    raw = load_dataset({"name": "wine", "standardize": False})
    assert raw.train.X.max() > 100  # proline is in the hundreds
    assert len(data.info.standardization["mean"]) == 13


def test_digits_as_upsampled_images():
    data = load_dataset({"name": "digits", "options": {"as_images": True, "size": 32}, "standardize": False})
    assert data.info.feature_shape == (1, 32, 32)
    assert float(data.train.X.min()) >= 0.0 and float(data.train.X.max()) <= 1.0
    small = load_dataset({"name": "digits", "options": {"as_images": True}, "standardize": False})
    assert small.info.feature_shape == (1, 8, 8)
    near = load_dataset({"name": "digits", "options": {"as_images": True, "size": 16, "interpolation": "nearest"}})
    assert near.info.feature_shape == (1, 16, 16)
    recon = load_dataset({"name": "digits", "options": {"task": "reconstruct"}})
    assert recon.info.task == "reconstruction" and recon.train.y is None and recon.info.target_shape is None


def test_digits_subset_and_pixel_noise_follow_the_seed():
    full = load_dataset({"name": "digits", "standardize": False, "split": {"val": 0.0}})
    few = load_dataset({"name": "digits", "options": {"n": 300}, "standardize": False, "split": {"val": 0.0}})
    assert sum(few.info.sizes.values()) == 300 and set(few.train.y.tolist()) == set(range(10))
    rows = {tuple(r.tolist()) for r in full.train.X}
    assert all(tuple(r.tolist()) in rows for r in few.train.X)  # a subset of the real digits, not new ones
    noisy = load_dataset({"name": "digits", "options": {"noise": 0.2}, "standardize": False, "split": {"val": 0.0}})
    clean = {tuple(r.tolist()): int(t) for r, t in zip(full.train.X, full.train.y)}
    assert float(noisy.train.X.min()) >= 0.0 and float(noisy.train.X.max()) <= 1.0
    assert sum(tuple(r.tolist()) in clean for r in noisy.train.X) == 0  # every image is corrupted
    again = load_dataset({"name": "digits", "options": {"noise": 0.2}, "standardize": False, "split": {"val": 0.0}})
    assert torch.equal(again.train.X, noisy.train.X)  # the same noise on every load with the same seed


def test_shapes_segmentation_masks():
    data = load_dataset({"name": "shapes", "options": {"n": 60, "task": "segment"}, "standardize": False})
    assert data.info.task == "segmentation" and data.info.target_shape == (1, 16, 16)
    X, y = data.train.X, data.train.y
    assert set(torch.unique(y).tolist()) == {0.0, 1.0}
    assert 0.05 < float(y.mean()) < 0.6  # shapes cover part of the image
    assert float(X[y > 0.5].mean()) > float(X[y < 0.5].mean()) + 0.4  # the mask marks the bright pixels
    classes = load_dataset({"name": "shapes", "options": {"n": 60, "task": "segment", "mask": "classes"}})
    assert classes.info.target_shape == (16, 16) and classes.info.num_classes == 4
    assert set(torch.unique(classes.train.y).tolist()) == {0, 1, 2, 3}


def test_text_windows_predict_the_next_character():
    data = load_dataset({"name": "text", "options": {"text": "abcabcabcabd", "window": 3}, "split": {"val": 0.0}})
    vocab = data.info.vocab
    assert vocab == ["a", "b", "c", "d"]
    for x, y in zip(data.train.X.tolist(), data.train.y.tolist()):
        window = "".join(vocab[i] for i in x)
        assert "abcabcabcabd".find(window + vocab[y]) >= 0


def test_text_file_relative_to_project(tmp_path):
    (tmp_path / "poem.txt").write_text("roses are red, violets are blue\n", encoding="utf-8")
    data = load_dataset({"name": "text", "options": {"path": "poem.txt", "window": 4}}, base_dir=tmp_path)
    assert data.info.feature_shape == (4,)
    with pytest.raises(DatasetError, match="does not exist.*Fix"):
        load_dataset({"name": "text", "options": {"path": "missing.txt"}}, base_dir=tmp_path)


def test_batches_cover_the_split_in_a_seeded_order():
    data = load_dataset({"name": "circle", "options": {"n": 100}, "split": {"val": 0.0}})
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    a = torch.cat([x for x, _ in data.train.batches(32, shuffle=True, generator=g1)])
    b = torch.cat([x for x, _ in data.train.batches(32, shuffle=True, generator=g2)])
    assert torch.equal(a, b) and len(a) == 100
    assert torch.equal(a[a[:, 0].argsort()], data.train.X[data.train.X[:, 0].argsort()])


@pytest.mark.parametrize(
    ("spec", "pattern"),
    [
        ({"name": "mnist"}, "unknown dataset 'mnist'.*Fix.*circle"),
        ({"name": "circle", "options": {"radius": 3}}, "no option 'radius'.*Fix.*noise"),
        ({"name": "circle", "options": {"n": "many"}}, "option 'n' must be a number"),
        ({"name": "circle", "options": {"n": 2}}, "below its minimum.*Fix"),
        ({"name": "digits", "options": {"interpolation": "cubic"}}, "must be one of bilinear, nearest"),
        ({"name": "circle", "split": {"val": 0.6, "test": 0.5}}, "leaves no training data"),
    ],
)
def test_bad_specs_raise_with_a_fix(spec, pattern):
    with pytest.raises(GraphEditError, match=pattern):
        load_dataset(spec)


def test_the_spiral_winds_as_many_turns_as_asked():
    import numpy as np

    from graphedit.training.builtin_data import spiral

    def angle_swept(turns):
        options = {"n": 400, "noise": 0.0, "labels": "index", "turns": turns}
        points = spiral(options, np.random.default_rng(0), None).X[1:200]  # one arm, from its centre out
        return float(np.abs(np.diff(np.unwrap(np.arctan2(points[:, 0], points[:, 1])))).sum())

    assert angle_swept(1.75) == pytest.approx(2 * np.pi * 1.75, rel=0.05)
    assert angle_swept(3.0) == pytest.approx(2 * np.pi * 3.0, rel=0.05)
    with pytest.raises(GraphEditError, match="turns"):
        load_dataset({"name": "spiral", "options": {"turns": 0}})
