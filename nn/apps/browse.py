"""``neuroevo browse MODEL``: flip through test images with the network's verdicts.

Keys: Right/Space/N next, Left/P/Backspace previous, M next mistake, Shift+M previous
mistake, Home/End first/last, PageUp/PageDown 100 back/forward, Esc quit.  Clicking a class
in the per-class accuracy panel jumps to the next mistake on that class.

:class:`BrowseState` holds the numbers (no pyglet); :class:`BrowseApp` shows them.
"""

from __future__ import annotations

import numpy as np

from nn.apps.app import AppBase
from nn.apps.preprocess import class_scores
from nn.lague import orient_inputs

IMAGE = 280
TOP_K = 3


def score_dataset(net, meta: dict, data) -> tuple[np.ndarray, bool]:
    """``(scores (M, K), are_probabilities)`` of ``net`` on ``data``'s test split, with the
    images turned to the model's row order (imported networks read them bottom-up)."""
    x = orient_inputs(data.x_test, data.input_shape,
                      data.preprocessing.get("orientation", "top-down"),
                      (meta.get("preprocessing") or {}).get("orientation", "top-down"))
    return class_scores(net, x)


def display_images(data) -> np.ndarray:
    """``(M, H, W, C)`` test images, top row first, for display."""
    h, w, c = data.input_shape
    images = data.x_test.reshape(-1, h, w, c)
    if data.preprocessing.get("orientation", "top-down") == "bottom-up":
        images = images[:, ::-1]
    return images


class BrowseState:
    """The test set with predictions, a current index and mistake navigation."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, scores: np.ndarray,
                 label_names: list[str]):
        if not (len(images) == len(labels) == len(scores)) or len(images) == 0:
            raise ValueError(f"images ({len(images)}), labels ({len(labels)}) and scores "
                             f"({len(scores)}) must be equally many, and not none")
        self.images = images  # (M, H, W, C) top-down, [0, 1]
        self.labels = np.asarray(labels, np.int64)  # (M,)
        self.scores = np.asarray(scores)  # (M, K)
        k = self.scores.shape[1]  # the model's classes: one name (and one bar) each
        names = [str(n) for n in label_names][:k]
        self.label_names = names + [str(c) for c in range(len(names), k)]
        self.pred = self.scores.argmax(axis=1)  # (M,)
        k = len(self.label_names)
        self.mistakes = np.flatnonzero(self.pred != self.labels)  # sorted indices
        self.class_counts = np.bincount(self.labels, minlength=k)[:k]
        correct = self.labels[self.pred == self.labels]
        self.class_correct = np.bincount(correct, minlength=k)[:k]
        self.index = 0

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def accuracy(self) -> float:
        return 1.0 - len(self.mistakes) / len(self)

    @property
    def class_accuracy(self) -> np.ndarray:
        """``(K,)`` share of each class's test images classified right (nan: no images)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.class_correct / self.class_counts

    def go(self, i: int) -> None:
        self.index = int(i) % len(self)

    def step(self, n: int) -> None:
        self.go(self.index + n)

    def next_mistake(self, direction: int = 1, label: int | None = None) -> bool:
        """Move to the next (``direction`` 1) or previous (-1) misclassified image, of true
        class ``label`` if given, wrapping around.  False (and no move) if there is none."""
        cand = self.mistakes if label is None else self.mistakes[
            self.labels[self.mistakes] == label]
        if not len(cand):
            return False
        if direction >= 0:
            after = cand[cand > self.index]
            self.index = int(after[0] if len(after) else cand[0])
        else:
            before = cand[cand < self.index]
            self.index = int(before[-1] if len(before) else cand[-1])
        return True

    @property
    def correct(self) -> bool:
        return bool(self.pred[self.index] == self.labels[self.index])

    def top(self, k: int = TOP_K) -> list[tuple[int, float]]:
        s = self.scores[self.index]
        order = np.argsort(-s, kind="stable")[:k]
        return [(int(c), float(s[c])) for c in order]


class BrowseApp(AppBase):
    caption = "neuroevo browse"
    size = (900, 540)

    def __init__(self, state: BrowseState, title: str = "test set", probabilities=True,
                 visible: bool = True, offscreen: bool = False):
        super().__init__(visible, offscreen)
        from nn.apps import widgets as w

        self.w, self.state, self.probabilities = w, state, probabilities
        b, back, front, keep = self.batch, self.back, self.front, self.static
        h, wd, _ = state.images.shape[1:]
        width = self.size[0] - 48
        keep.append(w.Text(b, 24, 510, f"{title}: {len(state)} images, accuracy "
                           f"{w.percent(state.accuracy, 2)[1]}, {len(state.mistakes)} "
                           "mistakes", size=13, bold=True, group=front, width=width))
        keep.append(w.Text(b, 24, 490, "Left/Right flip   M next mistake   Shift+M previous "
                           "mistake   Home/End   PgUp/PgDn 100   click a class: its next "
                           "mistake   Esc quit", size=9, color=w.DIM, group=front,
                           width=width))
        scale = IMAGE / max(h, wd)
        ix, iy = 30, 180
        keep.append(self.frame(ix, iy, wd * scale, h * scale))
        from nn.apps.app import ArrayTexture

        self.image = ArrayTexture(h, wd, ix, iy, wd * scale, h * scale, b, back)
        self.position = w.Text(b, ix, 150, "", size=11, group=front, width=340)
        self.truth = w.Text(b, ix, 128, "", size=11, group=front, width=340)
        self.verdict = w.Text(b, ix, 106, "", size=12, bold=True, group=front, width=340)
        k = len(state.label_names)  # the model's classes
        self.top_rows = w.BarRows(b, min(TOP_K, k), ix, 92, 22, name_width=90,
                                  bar_width=120, group=back, fg_group=front)
        self.top_legend = w.Legend(b, ix, 8, [(w.GOOD, "the true class"),
                                              (w.BAR, "other classes")], group=front)

        row_h = min(30.0, 420.0 / max(k, 1))
        px = 400
        header = w.Text(b, px, 460, "per-class accuracy (test)", size=11, group=front)
        keep.append(header)
        self.class_legend = w.Legend(
            b, header.label.right + 16, 460,
            [(w.GOOD, f"at or above the overall {w.percent(state.accuracy)[1]}"),
             (w.BAD, "below it")], group=front)
        self.class_rows = w.BarRows(b, k, px, 450, row_h, name_width=110, bar_width=220,
                                    font_size=10 if k <= 20 else 8, group=back,
                                    fg_group=front, value_width=self.size[0] - px - 336)
        acc = state.class_accuracy
        for c in range(k):
            a = acc[c]
            if np.isnan(a):
                fraction, text = 0.0, "-"
            else:
                fraction, pct = w.percent(a)
                text = f"{pct:>6}  of {state.class_counts[c]}"
            self.class_rows.set(c, state.label_names[c], fraction, text,
                                color=w.GOOD if a >= state.accuracy else w.BAD)
        self._shown = None
        self.refresh()
        self.start()

    def refresh(self) -> None:
        w, s = self.w, self.state
        i = s.index
        if self._shown == i:
            return
        self._shown = i
        self.image.update(s.images[i])
        names = s.label_names
        true, pred = int(s.labels[i]), int(s.pred[i])
        conf = float(s.scores[i, pred])
        self.position.set(f"image {i + 1} / {len(s)}"
                          + ("" if s.correct else "   (a mistake)"))
        self.truth.set(f"true: {names[true]}")
        unit = "" if self.probabilities else " sigmoid"
        self.verdict.set(f"predicted: {names[pred]}  ({w.percent(conf)[1]}{unit})",
                         w.GOOD if s.correct else w.BAD)
        for r, (c, score) in enumerate(s.top(len(self.top_rows))):
            fraction, pct = w.percent(score)  # rounded once: the bar shows what the text says
            self.top_rows.set(r, names[c], fraction, f"{pct:>6}",
                              color=w.GOOD if c == true else w.BAR)
        for c in range(len(self.class_rows)):
            self.class_rows.names[c].set(names[c], w.HIGHLIGHT if c == true else w.TEXT)

    def on_key_press(self, symbol, modifiers):
        key, s = self.pyglet.window.key, self.state
        if symbol in (key.RIGHT, key.SPACE, key.N):
            s.step(1)
        elif symbol in (key.LEFT, key.P, key.BACKSPACE):
            s.step(-1)
        elif symbol == key.M:
            s.next_mistake(-1 if modifiers & key.MOD_SHIFT else 1)
        elif symbol == key.HOME:
            s.go(0)
        elif symbol == key.END:
            s.go(len(s) - 1)
        elif symbol == key.PAGEDOWN:
            s.step(100)
        elif symbol == key.PAGEUP:
            s.step(-100)
        else:
            return None
        return True

    def on_mouse_press(self, x, y, button, modifiers):
        row = self.class_rows.row_at(x, y)
        if row is not None:
            self.state.next_mistake(1, label=row)
            return True
        return None


def run_browse(state: BrowseState, title: str, probabilities: bool = True, frames: int = 0,
               screenshot: str | None = None) -> None:
    BrowseApp(state, title, probabilities,
              offscreen=screenshot is not None).run(frames, screenshot)
