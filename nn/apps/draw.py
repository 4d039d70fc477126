"""``neuroevo draw MODEL``: draw with the mouse, watch the network's ranked guesses.

The canvas (:class:`nn.apps.canvas.Canvas`) is prepared for the model by
:mod:`nn.apps.preprocess`: the MNIST recipe for digit and fashion models, Quick, Draw!'s
own renderer for doodle models, or (R) the raw canvas scaled down.  The preview beside the
canvas shows exactly what the network is given; the bars show its ranked predictions and
update as you draw.

Mouse: left button draws.  Keys: C or Backspace clear, Z undo the last stroke, R toggles
the raw canvas, Esc quits.  The buttons under the canvas do the same.
"""

from __future__ import annotations

import numpy as np

from nn.apps.app import AppBase
from nn.apps.canvas import Canvas
from nn.apps.preprocess import DrawSpec, class_scores, draw_spec, prepare, to_model_input

CANVAS_SIZE = 336
PREVIEW = 140
MAX_ROWS = 10


class DrawApp(AppBase):
    caption = "neuroevo draw"
    size = (850, 460)

    def __init__(self, net, meta: dict, name: str = "model", raw: bool = False,
                 visible: bool = True, offscreen: bool = False):
        self.spec: DrawSpec = draw_spec(meta, net.n_inputs, name)  # refuses before any window
        super().__init__(visible, offscreen)
        from nn.apps import widgets as w

        self.w = w
        self.net, self.meta = net, meta
        names = [str(n) for n in meta.get("label_names") or ()][:net.n_outputs]
        # one name (and at most one bar) per output of the network
        self.label_names = names + [str(k) for k in range(len(names), net.n_outputs)]
        self.canvas = Canvas(CANVAS_SIZE)
        self.raw = bool(raw)
        self.image = np.zeros((self.spec.height, self.spec.width), np.float32)  # top-down
        self.x = to_model_input(self.image, self.spec, net.dtype)  # (1, D) as the net sees it
        self.scores: np.ndarray | None = None  # (K,) for the current drawing
        self.probabilities = True
        self._state = None  # what the prediction was computed from
        self._drawing = False

        b, back, front = self.batch, self.back, self.front
        self.cx, self.cy = 20, 54  # canvas bottom-left in window coordinates
        dataset = meta.get("dataset") or name
        what = {"mnist": "a digit", "fashion": "a garment", "doodles": "a doodle"}.get(
            dataset, "a doodle" if self.spec.style == "doodle" else "something")
        keep = self.static  # pyglet removes objects from the batch once unreferenced
        top = self.size[1]  # the texts above the canvas, from the window's top edge
        keep.append(w.Text(b, 20, top - 28, f"{dataset}: draw {what} with the mouse", size=13,
                           bold=True, group=front, width=self.size[0] - 40))
        keep.append(w.Text(b, 20, top - 46, "C clear   Z undo   R raw canvas   Esc quit",
                           size=9, color=w.DIM, group=front, width=CANVAS_SIZE))
        keep.append(self.frame(self.cx, self.cy, CANVAS_SIZE, CANVAS_SIZE))
        self.canvas_tex = self._texture(CANVAS_SIZE, CANVAS_SIZE, self.cx, self.cy,
                                        CANVAS_SIZE, CANVAS_SIZE)
        self.canvas_tex.update(self.canvas.image)
        self.clear_button = w.Button(b, 20, 12, 100, 30, "Clear (C)", back, front)
        self.undo_button = w.Button(b, 128, 12, 100, 30, "Undo (Z)", back, front)
        self.raw_button = w.Button(b, 236, 12, 120, 30, "", back, front)

        px, py = 380, 236
        gx = 590  # the guesses' column
        column = gx - px - 12  # the middle column's width
        scale = PREVIEW / max(self.spec.height, self.spec.width)
        self.preview_rect = (px, py, self.spec.width * scale, self.spec.height * scale)
        # two caption lines above the preview: what it is, and how the drawing got there
        keep.append(w.Text(b, px, py + PREVIEW + 30, "network input", size=10, group=front,
                           width=column))
        self.preview_caption = w.Text(b, px, py + PREVIEW + 12, "", size=10, color=w.DIM,
                                      group=front, width=column)
        keep.append(self.frame(*self.preview_rect))
        self.preview = self._texture(self.spec.height, self.spec.width, px, py,
                                     self.spec.width * scale, self.spec.height * scale)
        self.preview.update(self.image)
        self.verdict = w.Text(b, px, 200, "", size=16, bold=True, group=front, width=column)
        self.verdict_note = w.Text(b, px, 178, "", size=10, color=w.DIM, group=front,
                                   width=column)
        keep.append(w.Text(b, px, 120, f"{net.describe()} network", size=9,
                           color=w.DIM, group=front, width=column))
        keep.append(w.Text(b, px, 104, f"input {self.spec.height}x{self.spec.width}, "
                           f"rows {self.spec.orientation}", size=9, color=w.DIM, group=front,
                           width=column))

        n_rows = min(MAX_ROWS, len(self.label_names))
        row_h = min(32.0, 340.0 / max(n_rows, 1))
        keep.append(w.Text(b, gx, top - 46, "the network's guesses", size=10, group=front,
                           width=self.size[0] - gx - 10))
        self.rows = w.BarRows(b, n_rows, gx, top - 56, row_h, name_width=84, bar_width=120,
                              group=back, fg_group=front, value_width=self.size[0] - gx - 214)
        self.refresh()
        self.start()

    def _texture(self, h, w, x, y, shown_w, shown_h):
        from nn.apps.app import ArrayTexture

        return ArrayTexture(h, w, x, y, shown_w, shown_h, self.batch, self.back)

    # -- state -----------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return "raw" if self.raw else self.spec.style

    def to_canvas(self, x: float, y: float) -> tuple[float, float]:
        """Window coordinates -> canvas pixels (y down)."""
        return x - self.cx, CANVAS_SIZE - (y - self.cy)

    def in_canvas(self, x: float, y: float) -> bool:
        return (self.cx <= x < self.cx + CANVAS_SIZE) and (self.cy <= y < self.cy + CANVAS_SIZE)

    def predict(self) -> None:
        """Prepare the drawing for the model and run it (only when something changed)."""
        state = (self.canvas.version, self.mode)
        if state == self._state:
            return
        self._state = state
        self.image = prepare(self.canvas.image, self.canvas.points(), self.spec, self.mode)
        self.x = to_model_input(self.image, self.spec, self.net.dtype)
        if self.canvas.empty:
            self.scores = None
        else:
            scores, self.probabilities = class_scores(self.net, self.x)
            self.scores = scores[0]
        self.canvas_tex.update(self.canvas.image)
        self.preview.update(self.image)

    def ranked(self) -> list[tuple[str, float]]:
        """``(label, score)`` best first; empty for an empty canvas."""
        if self.scores is None:
            return []
        order = np.argsort(-self.scores, kind="stable")
        return [(self.label_names[k], float(self.scores[k])) for k in order]

    # -- widgets ---------------------------------------------------------------------------
    def refresh(self) -> None:
        w = self.w
        self.predict()
        self.raw_button.set(f"Raw canvas: {'on' if self.raw else 'off'}", active=self.raw)
        how = {"raw": "raw canvas", "mnist": "MNIST recipe", "doodle": "Quick, Draw! strokes"}
        self.preview_caption.set(how[self.mode])
        ranked = self.ranked()
        if not ranked:
            self.verdict.set("draw something", w.DIM)
            self.verdict_note.set("")
            for i in range(len(self.rows)):
                self.rows.blank(i)
            return
        # each score rounded once: the verdict, its bar and the bar's text agree
        shown = [(name, *w.percent(s)) for name, s in ranked]
        top, _, pct = shown[0]
        unit = "" if self.probabilities else " (sigmoid)"
        self.verdict.set(f"{top}  {pct}{unit}", w.TEXT)
        second = shown[1] if len(shown) > 1 else None
        self.verdict_note.set(f"next: {second[0]} {second[2]}" if second else "")
        for i in range(len(self.rows)):
            name, fraction, pct = shown[i]
            self.rows.set(i, name, fraction, f"{pct:>6}", color=w.GOOD if i == 0 else w.BAR)

    # -- events ----------------------------------------------------------------------------
    def on_mouse_press(self, x, y, button, modifiers):
        mouse = self.pyglet.window.mouse
        if button != mouse.LEFT:
            return None
        if self.in_canvas(x, y):
            self._drawing = True
            self.canvas.begin(*self.to_canvas(x, y))
        elif self.clear_button.contains(x, y):
            self.canvas.clear()
        elif self.undo_button.contains(x, y):
            self.canvas.undo()
        elif self.raw_button.contains(x, y):
            self.raw = not self.raw
        return True

    def on_mouse_drag(self, x, y, dx, dy, buttons, modifiers):
        if self._drawing and buttons & self.pyglet.window.mouse.LEFT:
            self.canvas.extend(*self.to_canvas(x, y))
            return True
        return None

    def on_mouse_release(self, x, y, button, modifiers):
        self._drawing = False

    def on_key_press(self, symbol, modifiers):
        key = self.pyglet.window.key
        if symbol in (key.C, key.BACKSPACE, key.DELETE):
            self.canvas.clear()
        elif symbol == key.Z:
            self.canvas.undo()
        elif symbol == key.R:
            self.raw = not self.raw
        else:
            return None  # Esc and the rest: the window's defaults
        return True


def run_draw(net, meta: dict, name: str = "model", raw: bool = False, frames: int = 0,
             screenshot: str | None = None) -> None:
    app = DrawApp(net, meta, name, raw=raw, offscreen=screenshot is not None)
    app.run(frames, screenshot)
