"""Quick, Draw! loaders (bitmap and strokes) and the stroke rasteriser."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nn.data import load_dataset, quickdraw
from nn.data.quickdraw import DEFAULT_CATEGORIES, load_doodles
from nn.data.strokes import normalize_strokes, rasterize_drawings, rasterize_strokes
from nn.errors import DatasetError


def make_bitmaps(folder: Path, counts: dict[str, int], prefix: str = "") -> dict[str, np.ndarray]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for i, (cat, n) in enumerate(counts.items()):
        a = np.zeros((n, 784), np.uint8)
        a[:, 0] = i  # category mark
        a[:, 1] = np.arange(n) % 256  # drawing index mark
        a[:, 2] = np.arange(n) // 256
        np.save(folder / f"{prefix}{cat}.npy", a)
        out[cat] = a
    return out


def _ids(x: np.ndarray) -> set[tuple[int, int]]:
    px = np.rint(x * 255).astype(int)
    return {(a, b + 256 * c) for a, b, c in px[:, :3]}


def test_bitmap_loader_split_and_labels(tmp_path):
    make_bitmaps(tmp_path / "quickdraw" / "numpy_bitmap", {"cat": 50, "house plant": 30})
    d = load_doodles(tmp_path, categories=["house plant", "cat"], test_fraction=0.2)
    assert d.label_names == ["house plant", "cat"] and d.input_shape == (28, 28, 1)
    assert d.x_train.shape == (64, 784) and d.x_test.shape == (16, 784)
    assert d.x_train.dtype == np.float32 and d.y_train.dtype == np.int64
    # labels follow the order of `categories`; the mark in pixel 0 is the file's index
    mark = np.rint(d.x_train[:, 0] * 255).astype(int)
    assert np.all((mark == 1) == (d.y_train == 0))
    assert np.bincount(d.y_test).tolist() == [6, 10]  # stratified
    assert not (_ids(d.x_train) & _ids(d.x_test))  # disjoint
    assert len(_ids(d.x_train) | _ids(d.x_test)) == 80


def test_split_is_fixed_by_seed(tmp_path):
    make_bitmaps(tmp_path / "numpy_bitmap", {"cat": 40, "bicycle": 40})
    a = load_doodles(tmp_path, seed=3, categories=["cat", "bicycle"])
    b = load_doodles(tmp_path, seed=3, categories=["cat", "bicycle"])
    c = load_doodles(tmp_path, seed=4, categories=["cat", "bicycle"])
    np.testing.assert_array_equal(a.x_test, b.x_test)
    np.testing.assert_array_equal(a.y_train, b.y_train)
    assert _ids(a.x_test) != _ids(c.x_test)
    # a category's split does not depend on which other categories are loaded
    only = load_doodles(tmp_path, seed=3, categories=["bicycle"])
    both_bicycle = {i for i in _ids(a.x_test) if i[0] == 1}
    assert _ids(only.x_test) == both_bicycle


def test_max_per_category_and_caps(tmp_path):
    make_bitmaps(tmp_path, {"cat": 100, "bicycle": 60})
    d = load_doodles(tmp_path, categories=["cat", "bicycle"], max_per_category=20,
                     test_fraction=0.25)
    assert len(d.x_train) == 30 and len(d.x_test) == 10
    assert max(i[1] for i in _ids(d.x_train) | _ids(d.x_test)) == 19  # the first 20 only
    d = load_doodles(tmp_path, categories=["cat", "bicycle"], n_train=7, n_test=3)
    assert len(d.x_train) == 7 and len(d.x_test) == 3
    d = load_doodles(tmp_path, categories=["cat"], test_fraction=0.0)
    assert len(d.x_test) == 0 and len(d.x_train) == 100


def test_bulk_download_file_names(tmp_path):
    make_bitmaps(tmp_path, {"cat": 10}, prefix="full_numpy_bitmap_")
    assert len(load_doodles(tmp_path, categories=["cat"]).x_train) == 8


@pytest.mark.parametrize("bad,match", [
    (np.zeros((5, 783), np.uint8), "expected uint8"),
    (np.zeros((5, 784), np.float32), "expected uint8"),
    (np.zeros((0, 784), np.uint8), "no drawings"),
])
def test_bad_bitmap_arrays(tmp_path, bad, match):
    np.save(tmp_path / "cat.npy", bad)
    with pytest.raises(DatasetError, match=match):
        load_doodles(tmp_path, categories=["cat"])


def test_truncated_and_garbage_npy(tmp_path):
    make_bitmaps(tmp_path, {"cat": 100})
    p = tmp_path / "cat.npy"
    p.write_bytes(p.read_bytes()[:5000])
    with pytest.raises(DatasetError, match="cat.npy"):
        load_doodles(tmp_path, categories=["cat"])
    p.write_bytes(b"this is not numpy")
    with pytest.raises(DatasetError, match="not a valid .npy"):
        load_doodles(tmp_path, categories=["cat"])


def test_pickled_npy_is_refused(tmp_path):
    np.save(tmp_path / "cat.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DatasetError, match="cat.npy"):
        load_doodles(tmp_path, categories=["cat"])


def test_missing_categories_offline(tmp_path):
    make_bitmaps(tmp_path / "quickdraw" / "numpy_bitmap", {"cat": 5})
    with pytest.raises(DatasetError) as e:
        load_doodles(tmp_path)  # the default ten
    msg = str(e.value)
    assert "\n" not in msg and "helicopter.npy" in msg and "cat.npy" not in msg
    assert "storage.googleapis.com/quickdraw_dataset/full/numpy_bitmap" in msg


@pytest.mark.parametrize("opts,match", [
    ({"categories": []}, "non-empty"),
    ({"categories": ["cat", "cat"]}, "repeat"),
    ({"source": "svg"}, "source"),
    ({"test_fraction": 1.0}, "test_fraction"),
    ({"max_per_category": -1}, "max_per_category"),
    ({"colour": True}, "unknown data option"),
])
def test_option_errors(tmp_path, opts, match):
    with pytest.raises(DatasetError, match=match):
        load_dataset("doodles", tmp_path, **opts)


def test_download_category(tmp_path, http_server, isolated_env, monkeypatch):
    src = tmp_path / "src"
    make_bitmaps(src, {"house plant": 12})
    http_server("/full/numpy_bitmap/house%20plant.npy", (src / "house plant.npy").read_bytes())
    monkeypatch.setattr(quickdraw, "BASE_URL", http_server.base + "/full/")
    d = load_doodles(None, categories=["house plant"], download=True, progress=False)
    assert len(d.x_train) + len(d.x_test) == 12
    assert (isolated_env / "quickdraw" / "numpy_bitmap" / "house plant.npy").is_file()


def test_default_categories_are_the_videos_ten():
    assert DEFAULT_CATEGORIES == ("helicopter", "house plant", "cat", "cruise ship", "windmill",
                                  "popsicle", "tractor", "umbrella", "bicycle", "octopus")


# ------------------------------------------------------------------ strokes

def _line(word: str, drawing) -> str:
    return json.dumps({"word": word, "countrycode": "GB", "recognized": True,
                       "key_id": "1", "drawing": drawing})


def test_strokes_loader(tmp_path):
    folder = tmp_path / "quickdraw" / "simplified"
    folder.mkdir(parents=True)
    square = [[[0, 255, 255, 0, 0], [0, 0, 255, 255, 0]]]
    cross = [[[0, 255], [0, 255]], [[0, 255], [255, 0]]]
    (folder / "square.ndjson").write_text("\n".join(_line("square", square) for _ in range(5)))
    (folder / "cross.ndjson").write_text("\n".join(_line("cross", cross) for _ in range(10)))
    d = load_doodles(tmp_path, categories=["square", "cross"], source="strokes",
                     max_per_category=5, test_fraction=0.2)
    assert d.x_train.shape == (8, 784) and d.x_test.shape == (2, 784)
    img = rasterize_strokes(square).astype(np.float32).ravel() / 255
    for x, y in zip(d.x_train, d.y_train, strict=True):
        if y == 0:
            np.testing.assert_array_equal(x, img)


def test_corrupt_ndjson_line(tmp_path):
    ok = _line("cat", [[[0, 10], [0, 10]]])
    (tmp_path / "cat.ndjson").write_text(ok + "\n" + '{"word": "cat", "drawing": [[[1, 2], [3]]]}')
    with pytest.raises(DatasetError, match=r"cat.ndjson:2"):
        load_doodles(tmp_path, categories=["cat"], source="strokes")
    (tmp_path / "cat.ndjson").write_text(ok + "\n{not json")
    with pytest.raises(DatasetError, match=r"cat.ndjson:2"):
        load_doodles(tmp_path, categories=["cat"], source="strokes")


def test_rasterize_basic_properties():
    assert rasterize_strokes([]).shape == (28, 28)
    assert rasterize_strokes([]).max() == 0
    img = rasterize_strokes([[[0, 255], [128, 128]]])  # a horizontal line, centred
    assert img.dtype == np.uint8 and img.shape == (28, 28)
    rows = img.sum(axis=1)
    assert rows.argmax() in (13, 14) and rows[:10].sum() == 0 and rows[-10:].sum() == 0
    np.testing.assert_array_equal(img, img[:, ::-1])  # symmetric left-right
    assert img[:, 3].max() > 0 and img[:, 0].max() == 0  # 16 units of padding
    assert rasterize_strokes([[[5], [5]]]).max() > 0  # a lone dot still shows
    assert rasterize_strokes([[[0, 255], [0, 255]]], size=64).shape == (64, 64)


def test_rasterize_stroke_formats_and_normalisation():
    xs, ys = [10.0, 60.0, 30.0], [5.0, 40.0, 90.0]
    a = rasterize_strokes([(xs, ys)])
    b = rasterize_strokes([np.stack([xs, ys], axis=1)], layout="points")
    c = rasterize_strokes([(np.array(xs) * 3 + 100, np.array(ys) * 3 - 50)])  # user coords
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    norm = normalize_strokes([(xs, ys)])
    assert np.isclose(np.concatenate(norm).min(), 0) and np.isclose(np.ptp(norm[0][:, 1]), 255)
    again = normalize_strokes(norm, layout="points")
    np.testing.assert_allclose(again[0], norm[0])
    many = rasterize_drawings([[(xs, ys)], []])
    assert many.shape == (2, 28, 28) and np.array_equal(many[0], a) and many[1].max() == 0


def test_two_point_strokes_are_xs_ys():
    # [[x0, x1], [y0, y1]] is ambiguous by shape; Quick, Draw!'s (xs, ys) reading is used
    a = rasterize_strokes([[[0, 255], [100, 100]], [[0, 0], [0, 200]]])
    b = rasterize_strokes([[[0, 100], [255, 100]], [[0, 0], [0, 200]]], layout="points")
    np.testing.assert_array_equal(a, b)


def test_rasterize_rejects_bad_strokes():
    with pytest.raises(ValueError):
        rasterize_strokes([[1, 2, 3]])
    with pytest.raises(ValueError):
        rasterize_strokes([[[1, 2, 3]]], layout="points")


# ------------------------------------------------------------------ the real files

def test_real_cat_vs_bicycle(shared_data, need):
    need(shared_data / "quickdraw" / "numpy_bitmap" / "cat.npy")
    d = load_dataset("doodles", shared_data, categories=["cat", "bicycle"])
    assert d.x_train.shape == (4800, 784) and d.x_test.shape == (1200, 784)
    assert np.bincount(d.y_test).tolist() == [600, 600]
    assert 0.05 < d.x_train.mean() < 0.4
    # NEUROEVO_DATA-style pointing at the bitmap folder itself works too
    d2 = load_doodles(shared_data / "quickdraw" / "numpy_bitmap", categories=["cat", "bicycle"])
    np.testing.assert_array_equal(d.x_test, d2.x_test)


def test_real_strokes_ten_categories(shared_data, need):
    need(shared_data / "quickdraw" / "simplified" / "house plant.ndjson")
    d = load_doodles(shared_data / "quickdraw", source="strokes", max_per_category=6)
    assert d.label_names == list(DEFAULT_CATEGORIES)
    assert len(d.x_train) + len(d.x_test) == 60
    assert np.bincount(d.y_train, minlength=10).min() >= 4


def test_rasteriser_matches_official_bitmaps(shared_data, need):
    """The shared stroke files' first lines are the bitmap files' first drawings: our
    rendering is within a few grey levels of Google's."""
    for cat in ("cat", "bicycle"):
        need(shared_data / "quickdraw" / "simplified" / f"{cat}.ndjson")
        need(shared_data / "quickdraw" / "numpy_bitmap" / f"{cat}.npy")
    errors = []
    for cat in ("cat", "bicycle"):
        bitmaps = np.load(shared_data / "quickdraw" / "numpy_bitmap" / f"{cat}.npy")
        lines = (shared_data / "quickdraw" / "simplified" / f"{cat}.ndjson").read_text()
        for i, line in enumerate(lines.splitlines()[:25]):
            ours = rasterize_strokes(json.loads(line)["drawing"]).astype(float).ravel()
            errors.append(np.abs(ours - bitmaps[i]).mean())
    assert np.mean(errors) < 2.0 and max(errors) < 8.0  # measured: 1.4 and 5.0
