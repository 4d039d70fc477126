"""What a drawing looks like to a network: pure numpy, no pyglet.

A user's drawing is a ``Canvas`` (see :mod:`nn.apps.canvas`): a top-down greyscale image in
[0, 1] with white ink on black, plus the strokes that made it.  It reaches a model in one
of three ways (:data:`MODES`):

- ``"mnist"``: the classic MNIST recipe (LeCun et al.): crop to the ink, scale the longer
  side into a 20x20 box (keeping the aspect ratio, antialiased by area averaging) and
  paste it into a 28x28 image so that its centre of mass lies at the centre.  Other image
  sizes scale the box by 20/28.
- ``"doodle"``: the strokes are rendered by :func:`nn.data.strokes.rasterize_strokes`, the
  renderer of the Quick, Draw! data set, so user drawings meet a doodle model exactly as
  its training data did.
- ``"raw"``: the whole canvas, area-averaged down to the model's size, ink where it was
  drawn: what a network sees without the recipe, and why augmentation matters.

:func:`draw_spec` reads a model's metadata (``input_shape``, ``preprocessing``,
``dataset``) and refuses models that cannot take a drawing (colour or non-image inputs).
:func:`to_model_input` turns the prepared top-down image into the ``(1, D)`` row the
network takes, flipped for models that expect bottom-up rows (imported networks of the
original project; see :func:`nn.lague.orient_inputs`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nn.errors import NNError
from nn.lague import guess_input_shape, orient_inputs

MODES = ("mnist", "doodle", "raw")
MNIST_SIZE = 28  # the MNIST image side
MNIST_BOX = 20  # MNIST digits are scaled to fit a 20x20 box inside 28x28
INK_THRESHOLD = 1e-3  # a canvas pixel above this counts as ink


class DrawingNotSupported(NNError):
    """The model does not take a greyscale image (colour images, plain features)."""


@dataclass(frozen=True)
class DrawSpec:
    """How drawings must be prepared for one model."""

    height: int  # model image rows
    width: int  # model image columns
    style: str  # default mode: "mnist" or "doodle"
    orientation: str  # "top-down" (ours) or "bottom-up" (imported networks)
    invert: bool  # the model was trained on black ink on white

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (self.height, self.width, 1)


def draw_spec(meta: dict, n_inputs: int, where: str = "model") -> DrawSpec:
    """Read a model's metadata; :class:`DrawingNotSupported` for models that cannot draw."""
    shape = [int(s) for s in meta.get("input_shape") or [n_inputs]]
    if len(shape) == 1:  # flat input (an imported network, say): guess an image shape
        shape = guess_input_shape(shape[0])
    if len(shape) == 3 and shape[2] == 3:
        raise DrawingNotSupported(
            f"{where}: drawing is not supported for colour models (input {shape[0]}x{shape[1]}"
            f"x3); try: neuroevo browse {where}")
    if len(shape) != 3 or shape[2] != 1:
        dims = "x".join(map(str, shape))
        raise DrawingNotSupported(
            f"{where}: drawing needs a greyscale image model, but this one takes {dims} "
            f"inputs" + ("; try: neuroevo playground" if shape == [2] else ""))
    prep = meta.get("preprocessing") or {}
    doodle = meta.get("dataset") == "doodles" or "quickdraw" in str(prep.get("source", ""))
    style = "doodle" if doodle and shape[0] == shape[1] else "mnist"
    orientation = str(prep.get("orientation", "top-down"))
    invert = str(prep.get("ink", "white-on-black")) == "black-on-white"
    return DrawSpec(shape[0], shape[1], style, orientation, invert)


# -- resampling ---------------------------------------------------------------------------
def _area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """``(n_out, n_in)`` weights: output pixel j averages the input pixels it covers."""
    scale = n_in / n_out
    lo = np.arange(n_out)[:, None] * scale  # output pixel j spans [lo, hi) in input units
    hi = lo + scale
    left = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(hi, left + 1) - np.maximum(lo, left), 0.0, None)
    return overlap / scale


def resize_area(img: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resample a 2-D image to ``(height, width)`` by area averaging (an antialiased box
    filter downwards; blocky upwards).  Returns float32."""
    img = np.asarray(img, np.float32)
    if img.shape == (height, width):
        return img.copy()
    rows = _area_matrix(img.shape[0], height).astype(np.float32)
    cols = _area_matrix(img.shape[1], width).astype(np.float32)
    return rows @ img @ cols.T


def ink_bbox(img: np.ndarray, threshold: float = INK_THRESHOLD):
    """``(top, bottom, left, right)`` (exclusive ends) of the pixels above ``threshold``,
    or None for an empty image."""
    mask = img > threshold
    rows = np.flatnonzero(mask.any(axis=1))
    if not len(rows):
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    """``(row, col)`` of the intensity-weighted centre, in pixel-centre coordinates."""
    total = float(img.sum())
    if total <= 0:
        return (img.shape[0] - 1) / 2.0, (img.shape[1] - 1) / 2.0
    r = float(img.sum(axis=1) @ np.arange(img.shape[0])) / total
    c = float(img.sum(axis=0) @ np.arange(img.shape[1])) / total
    return r, c


def paste(dst: np.ndarray, src: np.ndarray, top: int, left: int) -> np.ndarray:
    """Copy ``src`` into ``dst`` with its top-left corner at ``(top, left)``, clipped."""
    h, w = src.shape
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + h, dst.shape[0]), min(left + w, dst.shape[1])
    if r0 < r1 and c0 < c1:
        dst[r0:r1, c0:c1] = src[r0 - top:r1 - top, c0 - left:c1 - left]
    return dst


def mnist_style(img: np.ndarray, height: int = MNIST_SIZE, width: int = MNIST_SIZE,
                box: int | None = None) -> np.ndarray:
    """The MNIST recipe: crop to the ink, fit the longer side into a ``box``-pixel square
    (20 for 28x28) keeping the aspect ratio, and centre by mass in ``(height, width)``.

    ``img`` is a 2-D top-down image in [0, 1]; returns float32 ``(height, width)``.
    """
    out = np.zeros((height, width), np.float32)
    bbox = ink_bbox(img)
    if bbox is None:
        return out
    if box is None:
        box = max(1, int(round(min(height, width) * MNIST_BOX / MNIST_SIZE)))
    top, bottom, left, right = bbox
    crop = np.asarray(img, np.float32)[top:bottom, left:right]
    h, w = crop.shape
    scale = box / max(h, w)
    new_h, new_w = max(1, int(round(h * scale))), max(1, int(round(w * scale)))
    small = np.clip(resize_area(crop, new_h, new_w), 0.0, 1.0)
    cr, cc = centre_of_mass(small)
    # integer shift that puts the centre of mass on the image centre, as MNIST did
    top = int(round((height - 1) / 2.0 - cr))
    left = int(round((width - 1) / 2.0 - cc))
    return paste(out, small, top, left)


def raw_canvas(img: np.ndarray, height: int = MNIST_SIZE,
               width: int = MNIST_SIZE) -> np.ndarray:
    """The whole canvas area-averaged to ``(height, width)``: ink stays where it was drawn."""
    return np.clip(resize_area(img, height, width), 0.0, 1.0)


def doodle_style(strokes: Sequence[np.ndarray], size: int) -> np.ndarray:
    """Strokes ((n, 2) points, y down, any coordinates) rendered as Quick, Draw! renders
    its bitmaps: :func:`nn.data.strokes.rasterize_strokes` scaled to [0, 1]."""
    from nn.data.strokes import rasterize_strokes

    strokes = [s for s in strokes if len(s)]
    if not strokes:
        return np.zeros((size, size), np.float32)
    img = rasterize_strokes(strokes, size, normalize=True, layout="points")
    return img.astype(np.float32) / np.float32(255.0)


def prepare(canvas_image: np.ndarray, strokes: Sequence[np.ndarray], spec: DrawSpec,
            mode: str) -> np.ndarray:
    """The model-sized top-down image ``(H, W)`` in [0, 1] for one drawing and mode."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "raw":
        img = raw_canvas(canvas_image, spec.height, spec.width)
    elif mode == "doodle" and spec.height == spec.width:
        img = doodle_style(strokes, spec.height)
    else:
        img = mnist_style(canvas_image, spec.height, spec.width)
    return 1.0 - img if spec.invert else img


def to_model_input(image: np.ndarray, spec: DrawSpec, dtype=np.float32) -> np.ndarray:
    """A prepared top-down image -> the ``(1, H*W)`` row the model takes (flipped to
    bottom-up rows for models that expect them)."""
    x = np.asarray(image, dtype).reshape(1, -1)
    return orient_inputs(x, spec.input_shape, "top-down", spec.orientation)


def class_scores(net, x: np.ndarray) -> tuple[np.ndarray, bool]:
    """``(scores (B, K), are_probabilities)``: softmax outputs as they are; sigmoid outputs
    as they are (each in [0, 1], not summing to 1); any other output through a softmax."""
    out = net.predict_proba(x).astype(np.float64)
    last = net.activations[-1]
    if last == "softmax":
        return out, True
    if last == "sigmoid":
        return out, False
    e = np.exp(out - out.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True), True
