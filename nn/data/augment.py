"""Data augmentation applied afresh to every batch, vectorised over the batch.

The greyscale transformations follow the original project (SebLague's
Neural-Network-Experiments, ``ImageProcessor.CreateRandomSettings``): per image a rotation
of ``N(0, 1) * 0.15`` rad, a scale of ``1 + N(0, 1) * 0.1``, a random offset that uses
(0.8 of) the room between the ink and the frame, and sparse noise (each pixel, with
probability ``min(U, U) * 0.05``, moves by ``(U - 0.5) * min(U, U)``, then clipped to
[0, 1]). Unlike the original, the offset is chosen *after* rotating and scaling, and the
scale is reduced where needed, so the ink always stays inside the frame. For CIFAR-10 the
usual horizontal flip and padded random crop are offered instead.

One affine resample serves the whole batch: every output pixel's source position is
computed for all images at once and read with a bilinear gather (outside the frame is 0);
no Python loop runs over images. Randomness comes only from the ``np.random.Generator``
passed to each call.

Typical use::

    aug = Augmenter({"enabled": True}, input_shape=(28, 28, 1))
    xb = aug(xb, rng)  # (B, 784) -> (B, 784), labels untouched and in the same order
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

import numpy as np

from nn.errors import NNError


@dataclass(frozen=True)
class AugmentConfig:
    enabled: bool = False  # master switch; augmentation is off unless asked for
    rotation: float = 0.15  # standard deviation of the rotation angle, radians
    scale: float = 0.1  # standard deviation of the scale factor around 1
    offset: float = 0.8  # fraction of the room between ink and frame used for random shifts
    noise_probability: float = 0.05  # per image, pixels get noise with prob. min(U, U) * this
    noise_strength: float = 1.0  # per image, noise amplitude is min(U, U) * this
    flip: bool = False  # random horizontal flips, probability 1/2 (CIFAR-10)
    crop_padding: int = 0  # random crop after zero-padding this many pixels per side (CIFAR-10)
    ink_threshold: float = 0.0  # pixel values above this count as ink when placing the offset

    @classmethod
    def from_dict(cls, d: dict | None) -> AugmentConfig:
        """Build from a plain dict; unknown keys and wrong types are one-line errors."""
        if d is None:
            return cls()
        if not isinstance(d, dict):
            raise NNError(f"augment: expected a mapping, got {type(d).__name__}")
        names = {f.name: f for f in fields(cls)}
        unknown = sorted(set(d) - set(names))
        if unknown:
            raise NNError(f"augment: unknown key(s) {', '.join(unknown)}; "
                          f"known: {', '.join(names)}")
        clean = {}
        for key, value in d.items():
            want = type(getattr(cls(), key))
            if want is bool:
                ok = isinstance(value, bool)
            elif want is int:
                ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
            else:
                ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
            if not ok:
                raise NNError(f"augment.{key}: expected {want.__name__}, got {value!r}")
            clean[key] = want(value)
        cfg = cls(**clean)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        for key in ("rotation", "scale", "offset", "noise_probability", "noise_strength",
                    "crop_padding"):
            if getattr(self, key) < 0:
                raise NNError(f"augment.{key} must be >= 0, got {getattr(self, key)}")
        if self.offset > 1 or self.noise_probability > 1:
            raise NNError("augment.offset and augment.noise_probability must be <= 1")

    def to_dict(self) -> dict:
        return asdict(self)


# Lague's settings for greyscale sets; flips and crops for CIFAR-10.
PRESETS: dict[str, AugmentConfig] = {
    "none": AugmentConfig(),
    "lague": AugmentConfig(enabled=True),
    "cifar": AugmentConfig(enabled=True, rotation=0.0, scale=0.0, offset=0.0,
                           noise_probability=0.0, noise_strength=0.0, flip=True, crop_padding=4),
}
DATASET_PRESETS = {"mnist": "lague", "fashion": "lague", "doodles": "lague", "cifar10": "cifar"}


def preset_for(dataset: str, enabled: bool = True) -> AugmentConfig:
    """The usual augmentation for a registry dataset name (``none`` for unknown ones)."""
    cfg = PRESETS[DATASET_PRESETS.get(dataset, "none")]
    return replace(cfg, enabled=enabled and cfg is not PRESETS["none"])


class Augmenter:
    """Random per-image transformations of a flattened image batch.

    config: an :class:`AugmentConfig`, a dict of its fields, a preset name, or None (off).
    input_shape: (H, W, C) of one image; batches are (B, H*W*C) in HWC order.
    """

    def __init__(self, config: AugmentConfig | dict | str | None = None,
                 input_shape: tuple[int, ...] = (28, 28, 1)):
        if isinstance(config, str):
            if config not in PRESETS:
                raise NNError(f"augment: unknown preset {config!r}; known: {', '.join(PRESETS)}")
            config = PRESETS[config]
        elif not isinstance(config, AugmentConfig):
            config = AugmentConfig.from_dict(config)
        config.validate()
        if len(input_shape) != 3:
            raise NNError(f"augment: needs image input (H, W, C), got shape {input_shape}")
        self.config = config
        self.input_shape = tuple(int(v) for v in input_shape)

    @property
    def enabled(self) -> bool:
        return self.config.enabled

    def __repr__(self) -> str:
        return f"Augmenter({self.config!r}, input_shape={self.input_shape})"

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Return a new, augmented ``(B, D)`` float32 batch; ``x`` itself when disabled."""
        if not self.config.enabled or len(x) == 0:
            return x
        h, w, c = self.input_shape
        if x.ndim != 2 or x.shape[1] != h * w * c:
            raise NNError(f"augment: batch shape {x.shape} does not fit images {self.input_shape}")
        cfg = self.config
        imgs = np.asarray(x, dtype=np.float32).reshape(len(x), h, w, c)
        if cfg.rotation > 0 or cfg.scale > 0 or cfg.offset > 0:
            imgs = self.affine(imgs, rng)
        if cfg.flip:
            imgs = random_flip(imgs, rng)
        if cfg.crop_padding > 0:
            imgs = random_crop(imgs, cfg.crop_padding, rng)
        if cfg.noise_probability > 0 and cfg.noise_strength > 0:
            imgs = sparse_noise(imgs, cfg.noise_probability, cfg.noise_strength, rng)
        out = imgs.reshape(len(x), -1)
        return out.copy() if np.shares_memory(out, x) else out

    def affine(self, imgs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Random rotation, scale and ink-preserving offset, one resample for the batch."""
        cfg = self.config
        b, h, w, _ = imgs.shape
        angle = rng.standard_normal(b) * cfg.rotation
        scale = np.clip(1.0 + rng.standard_normal(b) * cfg.scale, 0.25, 4.0)
        u = rng.random((b, 2))
        shift = ink_safe_shift(imgs, angle, scale, u, cfg.offset, cfg.ink_threshold)
        return affine_resample(imgs, angle, scale, shift)


def ink_bbox(imgs: np.ndarray, threshold: float = 0.0) -> np.ndarray:
    """Per-image ink bounding box ``(B, 4)`` = x0, x1, y0, y1 (inclusive pixel indices).

    Images without ink get the whole frame.
    """
    b, h, w, _ = imgs.shape
    ink = (imgs > threshold).any(axis=3)  # (B, H, W)
    cols, rows = ink.any(axis=1), ink.any(axis=2)  # (B, W), (B, H)
    empty = ~cols.any(axis=1)
    x0 = np.where(empty, 0, cols.argmax(axis=1))
    x1 = np.where(empty, w - 1, w - 1 - cols[:, ::-1].argmax(axis=1))
    y0 = np.where(empty, 0, rows.argmax(axis=1))
    y1 = np.where(empty, h - 1, h - 1 - rows[:, ::-1].argmax(axis=1))
    return np.stack([x0, x1, y0, y1], axis=1).astype(np.float64)


def ink_safe_shift(imgs: np.ndarray, angle: np.ndarray, scale: np.ndarray, u: np.ndarray,
                   offset: float, threshold: float = 0.0) -> np.ndarray:
    """Output-space shifts ``(B, 2)`` that keep the transformed ink inside the frame.

    The ink box, widened by the one-pixel reach of bilinear sampling, is rotated and scaled
    about the image centre; where it would not fit, ``scale`` is reduced *in place* until
    it does. The shift is drawn
    uniformly (``u`` in [0, 1)) over the room left, scaled towards zero by ``offset``
    and clipped back into the room, so ``offset=0`` only moves ink that would leave.
    """
    b, h, w, _ = imgs.shape
    centre = np.array([(w - 1) / 2.0, (h - 1) / 2.0])
    box = ink_bbox(imgs, threshold)
    # bilinear sampling spreads each ink pixel over +-1 pixel: keep that whole box in view
    corners_x = np.stack([box[:, 0] - 1, box[:, 1] + 1, box[:, 0] - 1, box[:, 1] + 1], 1)
    corners_y = np.stack([box[:, 2] - 1, box[:, 2] - 1, box[:, 3] + 1, box[:, 3] + 1], 1)
    dx, dy = corners_x - centre[0], corners_y - centre[1]  # (B, 4)
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    # forward map of the sampling: p_out = s * R(-a) (p_in - c) + c
    ox = (cos * dx + sin * dy)
    oy = (-sin * dx + cos * dy)
    lo = np.stack([ox.min(1), oy.min(1)], 1)  # (B, 2), relative to the centre, at scale 1
    hi = np.stack([ox.max(1), oy.max(1)], 1)
    # no output grid point outside the frame may fall inside that (open) box: it must fit
    # within [-1, size] on each axis
    room = np.array([w, h], dtype=np.float64) + 1.0
    fit = np.min(room / np.maximum((hi - lo) * scale[:, None], 1e-9), axis=1)
    scale *= np.minimum(fit, 1.0)
    lo = lo * scale[:, None] + centre
    hi = hi * scale[:, None] + centre
    tmin = -1.0 - lo
    tmax = np.maximum(tmin + room - (hi - lo), tmin)
    t = (tmin + (tmax - tmin) * u) * offset
    return np.clip(t, tmin, tmax)


def affine_resample(imgs: np.ndarray, angle: np.ndarray, scale: np.ndarray,
                    shift: np.ndarray) -> np.ndarray:
    """Rotate by ``angle``, scale by ``scale`` about the centre, then move by ``shift``.

    imgs: (B, H, W, C); angle, scale: (B,); shift: (B, 2) in output pixels (x, y).
    Output pixel p samples the input at ``R(a) / s (p - shift - c) + c`` bilinearly; the
    outside of the frame reads as 0. With angle 0, scale 1 and shift 0 this is exact identity.
    """
    b, h, w, c = imgs.shape
    centre_x, centre_y = (w - 1) / 2.0, (h - 1) / 2.0
    cos = (np.cos(angle) / scale).astype(np.float32)[:, None, None]
    sin = (np.sin(angle) / scale).astype(np.float32)[:, None, None]
    gx = np.arange(w, dtype=np.float32)[None, None, :] - np.float32(centre_x)
    gy = np.arange(h, dtype=np.float32)[None, :, None] - np.float32(centre_y)
    px = gx - shift[:, 0].astype(np.float32)[:, None, None]  # (B, 1, W)
    py = gy - shift[:, 1].astype(np.float32)[:, None, None]  # (B, H, 1)
    # +1: coordinates in the zero-padded image
    sx = cos * px - sin * py + np.float32(centre_x + 1)  # (B, H, W)
    sy = sin * px + cos * py + np.float32(centre_y + 1)
    np.clip(sx, 0, w + 1, out=sx)
    np.clip(sy, 0, h + 1, out=sy)
    # x0 <= w keeps x0 + 1 inside the padded image (at w + 1 the fraction is then 1)
    fx = np.minimum(np.floor(sx), np.float32(w))
    fy = np.minimum(np.floor(sy), np.float32(h))
    x0 = fx.astype(np.intp)
    y0 = fy.astype(np.intp)
    np.subtract(sx, fx, out=fx)  # (B, H, W) float32 fractions
    np.subtract(sy, fy, out=fy)
    padded = np.zeros((b, h + 2, w + 2, c), dtype=np.float32)
    padded[:, 1:-1, 1:-1] = imgs
    stride = w + 2
    i00 = y0 * stride + x0
    i00 += (np.arange(b, dtype=np.intp) * ((h + 2) * stride))[:, None, None]
    fx, fy = fx[..., None], fy[..., None]
    if c == 1:  # 1-D gathers are much faster than row gathers
        flat = padded.reshape(-1)

        def gather(i):
            return flat.take(i)[..., None]
    else:
        flat = padded.reshape(-1, c)

        def gather(i):
            return flat.take(i, axis=0)
    v00, v01 = gather(i00), gather(i00 + 1)
    v10, v11 = gather(i00 + stride), gather(i00 + stride + 1)
    top = v00 + (v01 - v00) * fx
    bottom = v10 + (v11 - v10) * fx
    return top + (bottom - top) * fy


def random_flip(imgs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mirror each image left-right with probability 1/2."""
    flip = rng.random(len(imgs)) < 0.5
    return np.where(flip[:, None, None, None], imgs[:, :, ::-1], imgs)


def random_crop(imgs: np.ndarray, padding: int, rng: np.random.Generator) -> np.ndarray:
    """Zero-pad by ``padding`` pixels per side, then crop a random HxW window per image."""
    b, h, w, c = imgs.shape
    padded = np.zeros((b, h + 2 * padding, w + 2 * padding, c), dtype=imgs.dtype)
    padded[:, padding:padding + h, padding:padding + w] = imgs
    dy, dx = rng.integers(0, 2 * padding + 1, size=(2, b))
    rows = dy[:, None] + np.arange(h)  # (B, H)
    cols = dx[:, None] + np.arange(w)  # (B, W)
    return padded[np.arange(b)[:, None, None], rows[:, :, None], cols[:, None, :]]


def sparse_noise(imgs: np.ndarray, probability: float, strength: float,
                 rng: np.random.Generator) -> np.ndarray:
    """Lague's noise: per image p = min(U, U) * probability and a = min(U, U) * strength;
    each value, with probability p, moves by (U - 0.5) * a; the result is clipped to [0, 1]."""
    b = len(imgs)
    p = rng.random((b, 2)).min(axis=1) * probability
    amp = rng.random((b, 2)).min(axis=1) * strength
    flat = imgs.reshape(b, -1).copy()
    hit = rng.random(flat.shape) < p[:, None]
    rows = np.nonzero(hit)[0]
    flat[hit] += ((rng.random(len(rows)) - 0.5) * amp[rows]).astype(np.float32)
    np.clip(flat, 0.0, 1.0, out=flat)
    return flat.reshape(imgs.shape)
