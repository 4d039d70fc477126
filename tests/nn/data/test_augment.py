"""Augmentation properties: identity, determinism, ink kept in frame, labels untouched."""

from __future__ import annotations

import numpy as np
import pytest

from nn.data.augment import (
    AugmentConfig,
    Augmenter,
    affine_resample,
    ink_bbox,
    ink_safe_shift,
    preset_for,
    random_crop,
)
from nn.errors import NNError

ZERO = {"enabled": True, "rotation": 0.0, "scale": 0.0, "offset": 0.0,
        "noise_probability": 0.0, "noise_strength": 0.0}


def blobs(n: int = 64, side: int = 28, seed: int = 0) -> np.ndarray:
    """Greyscale images (n, side*side) with a random ink rectangle, some at the edges."""
    rng = np.random.default_rng(seed)
    imgs = np.zeros((n, side, side), np.float32)
    for i in range(n):
        h, w = rng.integers(3, side // 2, 2)
        y, x = rng.integers(0, side - h + 1), rng.integers(0, side - w + 1)
        imgs[i, y:y + h, x:x + w] = rng.random((h, w)) * 0.8 + 0.2
    return imgs.reshape(n, -1)


def test_disabled_returns_input():
    x = blobs(4)
    assert Augmenter(None, (28, 28, 1))(x, np.random.default_rng(0)) is x
    assert not Augmenter({"enabled": False}).enabled


def test_zero_transform_is_identity():
    x = blobs(16)
    out = Augmenter(ZERO, (28, 28, 1))(x, np.random.default_rng(0))
    assert out is not x and np.array_equal(out, x)
    # and the resampler itself is exact at angle 0, scale 1, shift 0
    imgs = x.reshape(-1, 28, 28, 1)
    same = affine_resample(imgs, np.zeros(16), np.ones(16), np.zeros((16, 2)))
    assert np.array_equal(same, imgs)


def test_deterministic_with_seed_and_input_untouched():
    x = blobs(32)
    x0 = x.copy()
    aug = Augmenter("lague", (28, 28, 1))
    a = aug(x, np.random.default_rng(7))
    b = aug(x, np.random.default_rng(7))
    c = aug(x, np.random.default_rng(8))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.array_equal(x, x0)
    assert a.dtype == np.float32 and a.shape == x.shape
    assert a.min() >= 0.0 and a.max() <= 1.0


def test_each_row_stays_its_own_image():
    """Labels are untouched, so row i must still be image i (mild transform, no noise)."""
    x = blobs(40, seed=3)
    aug = Augmenter({**ZERO, "rotation": 0.05, "scale": 0.03}, (28, 28, 1))
    out = aug(x, np.random.default_rng(1))
    d = ((out[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    assert np.array_equal(d.argmin(axis=1), np.arange(40))


def _ink_lost(x: np.ndarray, angle, scale, shift) -> np.ndarray:
    """Fraction of ink that a 28x28 frame loses compared with an unbounded canvas."""
    n = len(x)
    imgs = x.reshape(n, 28, 28, 1)
    big = np.zeros((n, 84, 84, 1), np.float32)
    big[:, 28:56, 28:56] = imgs
    small = affine_resample(imgs, angle, scale, shift).sum(axis=(1, 2, 3))
    large = affine_resample(big, angle, scale, shift).sum(axis=(1, 2, 3))
    return (large - small) / large


@pytest.mark.parametrize("rotation,scale_sd", [(0.15, 0.1), (0.6, 0.4), (3.0, 0.0)])
def test_ink_stays_in_frame(rotation, scale_sd):
    x = blobs(200, seed=5)
    rng = np.random.default_rng(2)
    angle = rng.standard_normal(200) * rotation
    scale = np.clip(1 + rng.standard_normal(200) * scale_sd, 0.25, 4.0)
    shift = ink_safe_shift(x.reshape(-1, 28, 28, 1), angle, scale, rng.random((200, 2)), 1.0)
    assert np.abs(_ink_lost(x, angle, scale, shift)).max() < 1e-4


def test_pure_offset_moves_ink_but_keeps_all_of_it():
    x = blobs(100, seed=9)
    aug = Augmenter({**ZERO, "offset": 1.0}, (28, 28, 1))
    out = aug(x, np.random.default_rng(0))
    np.testing.assert_allclose(out.sum(1), x.sum(1), rtol=1e-5)
    assert (np.abs(out - x).sum(1) > 1e-3).mean() > 0.5  # most images moved


def test_ink_bbox():
    img = np.zeros((2, 28, 28, 1), np.float32)
    img[0, 5:9, 10:20] = 1
    box = ink_bbox(img)
    assert box[0].tolist() == [10, 19, 5, 8]
    assert box[1].tolist() == [0, 27, 0, 27]  # empty image: whole frame


def test_noise_is_sparse_and_bounded():
    x = blobs(50)
    aug = Augmenter({**ZERO, "noise_probability": 0.05, "noise_strength": 1.0}, (28, 28, 1))
    out = aug(x, np.random.default_rng(4))
    changed = (out != x).mean()
    assert 0 < changed < 0.05 and out.min() >= 0 and out.max() <= 1


def test_cifar_flip_and_crop():
    rng = np.random.default_rng(0)
    x = rng.random((64, 32 * 32 * 3)).astype(np.float32)
    imgs = x.reshape(64, 32, 32, 3)
    flip = Augmenter({**ZERO, "flip": True}, (32, 32, 3))(x, np.random.default_rng(1))
    f = flip.reshape(64, 32, 32, 3)
    same = np.all(f == imgs, axis=(1, 2, 3))
    mirrored = np.all(f == imgs[:, :, ::-1], axis=(1, 2, 3))
    assert np.all(same | mirrored) and 10 < mirrored.sum() < 54
    crop = random_crop(imgs, 4, np.random.default_rng(2))
    assert crop.shape == imgs.shape
    for i in range(8):  # every crop is the image shifted by at most 4 pixels, zero-filled
        hits = 0
        for dy in range(-4, 5):
            for dx in range(-4, 5):
                shifted = np.zeros_like(imgs[i])
                ys, xs = slice(max(dy, 0), 32 + min(dy, 0)), slice(max(dx, 0), 32 + min(dx, 0))
                yd, xd = slice(max(-dy, 0), 32 + min(-dy, 0)), slice(max(-dx, 0), 32 + min(-dx, 0))
                shifted[yd, xd] = imgs[i][ys, xs]
                hits += np.array_equal(crop[i], shifted)
        assert hits == 1
    out = Augmenter("cifar", (32, 32, 3))(x, np.random.default_rng(3))
    assert out.shape == x.shape and out.dtype == np.float32


def test_colour_affine_keeps_channels_together():
    rng = np.random.default_rng(0)
    grey = blobs(8).reshape(8, 28, 28, 1)
    rgb = np.concatenate([grey, grey * 0.5, grey * 0.25], axis=3).reshape(8, -1)
    out = Augmenter({**ZERO, "rotation": 0.3, "offset": 0.5}, (28, 28, 3))(rgb, rng)
    o = out.reshape(8, 28, 28, 3)
    np.testing.assert_allclose(o[..., 1], o[..., 0] * 0.5, atol=1e-6)
    np.testing.assert_allclose(o[..., 2], o[..., 0] * 0.25, atol=1e-6)


def test_config_from_dict_is_strict():
    cfg = AugmentConfig.from_dict({"enabled": True, "rotation": 0, "crop_padding": 2})
    assert cfg.rotation == 0.0 and isinstance(cfg.rotation, float) and cfg.crop_padding == 2
    with pytest.raises(NNError, match="unknown key"):
        AugmentConfig.from_dict({"rotate": 0.1})
    with pytest.raises(NNError, match="expected bool"):
        AugmentConfig.from_dict({"enabled": "yes"})
    with pytest.raises(NNError, match="expected int"):
        AugmentConfig.from_dict({"crop_padding": 1.5})
    with pytest.raises(NNError, match=">= 0"):
        AugmentConfig.from_dict({"scale": -0.1})
    with pytest.raises(NNError, match="preset"):
        Augmenter("wild")
    with pytest.raises(NNError, match="does not fit"):
        Augmenter("lague", (28, 28, 1))(np.zeros((2, 10), np.float32), np.random.default_rng())
    assert AugmentConfig.from_dict(cfg.to_dict()) == cfg


def test_presets():
    assert preset_for("mnist").enabled and preset_for("mnist").rotation == 0.15
    assert preset_for("cifar10").flip and preset_for("cifar10").rotation == 0
    assert not preset_for("fruit").enabled
    assert not preset_for("doodles", enabled=False).enabled
