"""``neuroevo playground``: the poisonous-fruit demo of the original video.

The fruit set is plotted (spot size right, spike length up) over a background coloured by
the network's decision, computed with numpy on a grid and uploaded as one texture.  Change
weights and biases by hand (sliders, or Up/Down to pick one and Left/Right to nudge it), or
switch "learn" on and watch gradient descent move the boundary while the cost falls.

Keys: L learn on/off, S one learning step, H / Shift+H more / fewer hidden neurons,
A next hidden activation, C linear / curved set, R new random weights, [ and ] halve /
double the learning rate, Up/Down select a parameter, Left/Right nudge it (Shift: x5),
Esc quit.  The buttons do the same (Shift-click goes backwards).

:class:`Playground` is the model (no pyglet); :class:`PlaygroundApp` the window.
"""

from __future__ import annotations

import numpy as np

from nn.apps.app import AppBase
from nn.data.fruit import load_fruit
from nn.network import Network
from nn.optim import Adam
from nn.train import loss_and_accuracy, one_hot

ACTIVATIONS = ("sigmoid", "tanh", "relu", "silu")
HIDDEN_SIZES = (0, 1, 2, 3, 4, 6, 8, 12, 16)  # 0: no hidden layer, a straight boundary
INPUT_NAMES = ("spot", "spike")
OUTPUT_NAMES = ("safe", "poison")
SAFE = np.array([70, 130, 215], np.float32)  # region and point colours
POISON = np.array([225, 85, 70], np.float32)


class Playground:
    """A 2-H-2 network on the fruit set, trained a few mini-batches at a time."""

    def __init__(self, curved: bool = False, hidden: int = 3, activation: str = "sigmoid",
                 seed: int = 0, lr: float = 0.03, batch_size: int = 32):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}")
        if hidden < 0:
            raise ValueError("hidden must be >= 0")
        self.seed = int(seed)
        self.lr = float(lr)
        self.batch_size = int(batch_size)
        self.hidden = int(hidden)
        self.activation = activation
        self.curved = bool(curved)
        self.version = 0  # grows with every change of data or parameters
        self._inits = 0
        self.rng = np.random.default_rng(np.random.SeedSequence([self.seed, 1]))
        self.data = load_fruit(curved=self.curved, seed=self.seed)
        self.build()

    # -- set-up ------------------------------------------------------------------------
    @property
    def sizes(self) -> list[int]:
        return [2, self.hidden, 2] if self.hidden else [2, 2]

    def build(self) -> None:
        """A fresh network (new random weights) of the current shape; history restarts."""
        acts = [self.activation, "softmax"] if self.hidden else ["softmax"]
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 2, self._inits]))
        self._inits += 1
        self.net = Network(self.sizes, acts, loss="cross_entropy", dtype=np.float32, rng=rng)
        self._new_optimizer()
        self.epoch = 0.0
        self.history: list[float] = [self.cost()]
        self.version += 1

    def _new_optimizer(self) -> None:
        self.optimizer = Adam(lr=self.lr, batch_size=self.batch_size)
        self._order = np.zeros(0, np.int64)

    def set_curved(self, curved: bool) -> None:
        if curved != self.curved:
            self.curved = bool(curved)
            self.data = load_fruit(curved=self.curved, seed=self.seed)
            self._order = np.zeros(0, np.int64)
            self.history = [self.cost()]
            self.version += 1

    def set_hidden(self, hidden: int) -> None:
        self.hidden = max(0, int(hidden))
        self.build()

    def set_activation(self, activation: str) -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}")
        self.activation = activation
        self.build()

    def set_lr(self, lr: float) -> None:
        self.lr = float(min(max(lr, 1e-4), 10.0))
        self.optimizer.lr = self.lr

    # -- parameters ----------------------------------------------------------------------
    def param_names(self) -> list[str]:
        """A readable name for every entry of ``theta``, in order."""
        layers = [list(INPUT_NAMES)]
        if self.hidden:
            layers.append([f"h{i + 1}" for i in range(self.hidden)])
        layers.append(list(OUTPUT_NAMES))
        names = []
        for src, dst in zip(layers[:-1], layers[1:]):
            names += [f"w {s}\u2192{d}" for s in src for d in dst]  # W is (n_in, n_out)
            names += [f"b {d}" for d in dst]
        return names

    @property
    def params(self) -> np.ndarray:
        return self.net.theta

    def set_param(self, i: int, value: float) -> None:
        self.net.theta[i] = value
        self.version += 1

    # -- learning --------------------------------------------------------------------------
    def learn(self, batches: int = 1) -> float:
        """``batches`` mini-batch gradient steps (Adam, cross-entropy); returns the cost."""
        x, y = self.data.x_train, self.data.y_train
        net, n = self.net, len(self.data.x_train)
        for _ in range(batches):
            if len(self._order) < self.batch_size:
                self._order = np.concatenate([self._order, self.rng.permutation(n)])
            idx, self._order = self._order[:self.batch_size], self._order[self.batch_size:]
            net.loss_and_backward(x[idx], one_hot(y[idx], 2, net.dtype))
            self.optimizer.step(net.theta, net.grad)
            self.epoch += len(idx) / n
        if not np.all(np.isfinite(net.theta)):  # a silly learning rate: start again
            self.build()
        self.version += 1
        cost = self.cost()
        self.history.append(cost)
        if len(self.history) > 4000:  # keep the start, thin out the rest
            self.history = self.history[:1] + self.history[2::2]
        return cost

    def cost(self) -> float:
        return float(loss_and_accuracy(self.net, self.data.x_train, self.data.y_train)[0])

    def accuracy(self, split: str = "train") -> float:
        x = self.data.x_train if split == "train" else self.data.x_test
        y = self.data.y_train if split == "train" else self.data.y_test
        return float(np.mean(self.net.predict(x) == y))

    def decision(self, size: int = 220) -> np.ndarray:
        """``(size, size)`` probability of "poisonous" over the unit square; row 0 is the
        top (spike length 1), column 0 the left (spot size 0)."""
        c = (np.arange(size) + 0.5) / size
        spot, spike = np.meshgrid(c, c[::-1])
        grid = np.stack([spot.ravel(), spike.ravel()], axis=1).astype(np.float32)
        return self.net.predict_proba(grid)[:, 1].reshape(size, size)


def disc_offsets(radius: float, inner: float = -1.0) -> np.ndarray:
    """``(n, 2)`` integer (row, col) offsets with ``inner < distance <= radius``."""
    r = int(np.ceil(radius))
    dy, dx = np.mgrid[-r:r + 1, -r:r + 1]
    d = np.hypot(dy, dx)
    keep = (d <= radius) & (d > inner)
    return np.stack([dy[keep], dx[keep]], axis=1)


def decision_colours(prob: np.ndarray) -> np.ndarray:
    """``(g, g)`` probabilities of "poisonous" -> ``(g, g, 3)`` uint8 region colours, darker
    where the network is unsure (near the boundary)."""
    p = prob[:, :, None]
    col = SAFE * (1.0 - p) + POISON * p
    col *= 0.45 + 0.25 * np.abs(2.0 * p - 1.0)
    return col.astype(np.uint8)


class PointLayer:
    """The fruit as a transparent ``(size, size, 4)`` overlay: a dark-edged dot per fruit in
    its class colour, misclassified ones ringed in yellow.  Pixel indices are computed once
    per data set, so a redraw is a few fancy-indexed assignments."""

    RING = (255, 230, 60, 255)
    EDGE = (20, 20, 24, 255)
    FILL = ((150, 200, 255, 255), (255, 165, 140, 255))

    def __init__(self, points: np.ndarray, labels: np.ndarray, size: int):
        self.size, self.labels = size, np.asarray(labels)
        rows = ((1.0 - points[:, 1]) * (size - 1)).round().astype(np.int64)
        cols = (points[:, 0] * (size - 1)).round().astype(np.int64)

        def indices(offsets):  # flat pixel indices and the point each belongs to
            r = rows[:, None] + offsets[None, :, 0]
            c = cols[:, None] + offsets[None, :, 1]
            owner = np.broadcast_to(np.arange(len(rows))[:, None], r.shape)
            ok = (r >= 0) & (r < size) & (c >= 0) & (c < size)
            return (r * size + c)[ok], owner[ok]

        self.ring = indices(disc_offsets(6.0, 3.9))
        self.edge = indices(disc_offsets(4.2, 2.9))
        self.fill = indices(disc_offsets(3.0))

    def render(self, wrong: np.ndarray) -> np.ndarray:
        img = np.zeros((self.size * self.size, 4), np.uint8)
        idx, owner = self.ring
        img[idx[wrong[owner]]] = self.RING
        img[self.edge[0]] = self.EDGE
        idx, owner = self.fill
        for k, colour in enumerate(self.FILL):
            img[idx[self.labels[owner] == k]] = colour
        return img.reshape(self.size, self.size, 4)


def render_history(history: list[float], width: int, height: int) -> np.ndarray:
    """The cost curve as a small ``(height, width, 3)`` uint8 image (0 at the bottom)."""
    img = np.full((height, width, 3), 34, np.uint8)
    if len(history) < 2:
        return img
    h = np.asarray(history, np.float64)
    if len(h) > width:  # the whole run, one sample per column
        h = h[np.linspace(0, len(h) - 1, width).round().astype(np.int64)]
    top = max(float(np.max(h)), 1e-9)
    xs = np.linspace(0, width - 1, len(h)).round().astype(np.int64)
    ys = ((1.0 - np.clip(h / top, 0, 1)) * (height - 3) + 1).round().astype(np.int64)
    xi = np.arange(width)
    yi = np.interp(xi, xs, ys).round().astype(np.int64)  # one point per column
    for dy in (0, 1):
        img[np.clip(yi + dy, 0, height - 1), xi] = (250, 200, 80)
    return img


PLOT = 440  # plot side, window pixels
GRID = 147  # decision samples per side (the GPU interpolates)
ROWS = 12  # parameter rows shown
TEXT_EVERY = 4  # while learning, refresh the text every few frames


class PlaygroundApp(AppBase):
    caption = "neuroevo playground"
    size = (1000, 660)

    def __init__(self, pg: Playground, learn: bool = False, batches_per_frame: int = 5,
                 visible: bool = True, offscreen: bool = False):
        super().__init__(visible, offscreen)
        from nn.apps import widgets as w
        from nn.apps.app import ArrayTexture

        self.w, self.pg = w, pg
        self.learning = bool(learn)
        self.batches_per_frame = int(batches_per_frame)
        self.selected = 0
        self.first_row = 0
        self._dragging: int | None = None
        self._shown = None
        b, back, front, keep = self.batch, self.back, self.front, self.static

        self.px, self.py = 74, 150  # plot bottom-left
        keep.append(self.frame(self.px, self.py, PLOT, PLOT))
        self.plot = ArrayTexture(GRID, GRID, self.px, self.py, PLOT, PLOT, b, back,
                                 smooth=True)
        self.dots = ArrayTexture(PLOT, PLOT, self.px, self.py, PLOT, PLOT, b, front)
        self._points: tuple | None = None  # (data, PointLayer, last wrong mask)
        for f in (0.0, 0.5, 1.0):
            keep.append(w.Text(b, self.px + f * PLOT, self.py - 16, f"{f:g}", size=9,
                               color=w.DIM, anchor_x="center", group=front))
            keep.append(w.Text(b, self.px - 8, self.py + f * PLOT, f"{f:g}", size=9,
                               color=w.DIM, anchor_x="right", anchor_y="center", group=front))
        keep.append(w.Text(b, self.px + PLOT / 2, self.py - 36, "spot size \u2192", size=10,
                           anchor_x="center", group=front))
        spike = w.Text(b, self.px - 36, self.py + PLOT / 2, "spike length \u2192", size=10,
                       anchor_x="center", anchor_y="center", group=front)
        spike.label.rotation = -90
        keep.append(spike)
        self.title = w.Text(b, 24, 628, "", size=14, bold=True, group=front, width=520)
        keep.append(w.Text(b, self.px, 92, "blue: safe   red: poisonous   yellow ring: "
                           "misclassified", size=9, color=w.DIM, group=front, width=PLOT))

        # buttons under the plot
        self.buttons = {}
        for i, (name, width) in enumerate((("learn", 110), ("set", 120), ("hidden", 110),
                                           ("activation", 140), ("reset", 100))):
            x = 24 + sum((110, 120, 110, 140, 100)[:i]) + 8 * i
            self.buttons[name] = w.Button(b, x, 42, width, 30, "", back, front)

        # the right panel
        rx = 560
        self.rx = rx
        self.panel_width = pw = self.size[0] - rx - 16  # every text of the panel fits in it
        self.net_text = w.Text(b, rx, 604, "", size=11, group=front, width=pw)
        self.cost_text = w.Text(b, rx, 572, "", size=16, bold=True, group=front, width=pw)
        self.acc_text = w.Text(b, rx, 548, "", size=11, group=front, width=pw)
        self.learn_text = w.Text(b, rx, 528, "", size=10, color=w.DIM, group=front,
                                 width=pw)
        self.curve = ArrayTexture(60, 400, rx, 444, 400, 60, b, back)
        keep.append(w.Text(b, rx, 508, "cost over time", size=8, color=w.DIM,
                           group=front))
        keep.append(w.Text(b, rx, 420, "weights and biases (Up/Down pick, Left/Right nudge, "
                           "or drag)", size=9, color=w.DIM, group=front, width=pw))
        self.row_h = 24
        self.row_top = 410
        self.names, self.sliders, self.values = [], [], []
        for r in range(ROWS):
            y = self.row_top - (r + 1) * self.row_h
            self.names.append(w.Text(b, rx, y + self.row_h / 2, "", size=10,
                                     anchor_y="center", group=front, width=104))
            self.sliders.append(w.Slider(b, rx + 110, y + 4, 220, self.row_h - 8, -6.0, 6.0,
                                         group=back, fg_group=front))
            self.values.append(w.Text(b, rx + 345, y + self.row_h / 2, "", size=10,
                                      anchor_y="center", group=front, width=pw - 345))
        self.more = w.Text(b, rx, self.row_top - ROWS * self.row_h - 14, "", size=8,
                           color=w.DIM, group=front, width=pw)
        keep.append(w.Text(b, 24, 24, "L learn   S step   H/Shift+H hidden   A activation   "
                           "C set   R reset   [ ] rate", size=9, color=w.DIM, group=front,
                           width=self.size[0] - 48))
        keep.append(w.Text(b, 24, 9, "Up/Down pick a parameter   Left/Right nudge (Shift x5)"
                           "   Esc quit", size=9, color=w.DIM, group=front,
                           width=self.size[0] - 48))
        self.refresh()
        self.start()

    # -- state changes (shared by keys and buttons) ----------------------------------------
    def toggle_learning(self) -> None:
        self.learning = not self.learning

    def cycle_hidden(self, step: int = 1) -> None:
        sizes = HIDDEN_SIZES
        now = min(range(len(sizes)), key=lambda i: abs(sizes[i] - self.pg.hidden))
        self.pg.set_hidden(sizes[(now + step) % len(sizes)])
        self.selected = min(self.selected, self.pg.net.num_params - 1)

    def cycle_activation(self, step: int = 1) -> None:
        i = ACTIVATIONS.index(self.pg.activation)
        self.pg.set_activation(ACTIVATIONS[(i + step) % len(ACTIVATIONS)])

    def nudge(self, amount: float) -> None:
        self.pg.set_param(self.selected, float(self.pg.params[self.selected]) + amount)

    def select(self, i: int) -> None:
        self.selected = int(i) % self.pg.net.num_params

    def update(self, dt: float) -> None:
        if self.learning:
            self.pg.learn(self.batches_per_frame)

    # -- drawing ---------------------------------------------------------------------------
    def _refresh_plot(self) -> None:
        pg = self.pg
        self.decision_image = decision_colours(pg.decision(GRID))  # (GRID, GRID, 3)
        self.plot.update(self.decision_image)
        data = pg.data
        wrong = pg.net.predict(data.x_train) != data.y_train
        if self._points is None or self._points[0] is not data:
            self._points = (data, PointLayer(data.x_train, data.y_train, PLOT), None)
        if self._points[2] is None or not np.array_equal(self._points[2], wrong):
            self.dots.update(self._points[1].render(wrong))
            self._points = self._points[:2] + (wrong,)
        self.curve.update(render_history(pg.history, 400, 60))

    def refresh(self) -> None:
        pg = self.pg
        state = (pg.version, self.selected, self.learning)
        if state == self._shown:
            return
        changed = self._shown is None or self._shown[0] != pg.version
        if changed:
            self._refresh_plot()
        if self.learning and self._shown is not None and self.frames % TEXT_EVERY:
            return  # the plot moves every frame; the numbers a few times a second
        self._shown = state
        hidden = (f"{pg.hidden} {pg.activation} hidden neurons" if pg.hidden
                  else "no hidden layer (a straight boundary)")
        self.title.set(f"poisonous fruit: {'curved' if pg.curved else 'linear'} set")
        self.net_text.set(f"network {'-'.join(map(str, pg.sizes))}: {hidden}, "
                          f"{pg.net.num_params} parameters")
        self.cost_text.set(f"cost {pg.history[-1]:.4f}")
        self.acc_text.set(f"accuracy: train {pg.accuracy('train') * 100:.1f}%   "
                          f"test {pg.accuracy('test') * 100:.1f}%")
        self.learn_text.set(f"learning {'ON' if self.learning else 'off'}   epoch "
                            f"{pg.epoch:.1f}   rate {pg.lr:g} (Adam, batch {pg.batch_size})")
        self.buttons["learn"].set(f"Learn: {'on' if self.learning else 'off'} (L)",
                                  self.learning)
        self.buttons["set"].set(f"Set: {'curved' if pg.curved else 'linear'} (C)")
        self.buttons["hidden"].set(f"Hidden: {pg.hidden} (H)")
        self.buttons["activation"].set(f"Act: {pg.activation} (A)")
        self.buttons["reset"].set("Reset (R)")
        self._refresh_sliders()

    def _refresh_sliders(self) -> None:
        w, pg = self.w, self.pg
        names, theta = pg.param_names(), pg.params
        n = len(names)
        if self.selected < self.first_row:
            self.first_row = self.selected
        elif self.selected >= self.first_row + ROWS:
            self.first_row = self.selected - ROWS + 1
        self.first_row = max(0, min(self.first_row, max(0, n - ROWS)))
        for r in range(ROWS):
            i = self.first_row + r
            visible = i < n
            self.sliders[r].show(visible)
            if not visible:
                self.names[r].set("")
                self.values[r].set("")
                continue
            sel = i == self.selected
            self.names[r].set(names[i], w.HIGHLIGHT if sel else w.TEXT)
            self.sliders[r].set(float(theta[i]), selected=sel)
            self.values[r].set(f"{theta[i]:+.2f}")
        hidden_rows = n - ROWS
        self.more.set(f"parameters {self.first_row + 1}-{min(n, self.first_row + ROWS)} "
                      f"of {n}" if hidden_rows > 0 else "")

    # -- events ----------------------------------------------------------------------------
    def on_key_press(self, symbol, modifiers):
        key = self.pyglet.window.key
        shift = bool(modifiers & key.MOD_SHIFT)
        pg = self.pg
        if symbol == key.L:
            self.toggle_learning()
        elif symbol == key.S:
            pg.learn(self.batches_per_frame)
        elif symbol == key.H:
            self.cycle_hidden(-1 if shift else 1)
        elif symbol == key.A:
            self.cycle_activation(-1 if shift else 1)
        elif symbol == key.C:
            pg.set_curved(not pg.curved)
        elif symbol == key.R:
            pg.build()
        elif symbol == key.BRACKETLEFT:
            pg.set_lr(pg.lr / 2)
        elif symbol == key.BRACKETRIGHT:
            pg.set_lr(pg.lr * 2)
        elif symbol == key.UP:
            self.select(self.selected - 1)
        elif symbol == key.DOWN:
            self.select(self.selected + 1)
        elif symbol in (key.LEFT, key.RIGHT):
            self.nudge((0.5 if shift else 0.1) * (1 if symbol == key.RIGHT else -1))
        else:
            return None
        self._shown = None  # learning rate and other text may have changed
        return True

    def _slider_at(self, x, y) -> int | None:
        for r, s in enumerate(self.sliders):
            if self.first_row + r < self.pg.net.num_params and s.contains(x, y):
                return r
        return None

    def on_mouse_press(self, x, y, button, modifiers):
        shift = bool(modifiers & self.pyglet.window.key.MOD_SHIFT)
        step = -1 if shift else 1
        actions = {"learn": self.toggle_learning, "set": lambda: self.pg.set_curved(
            not self.pg.curved), "hidden": lambda: self.cycle_hidden(step),
            "activation": lambda: self.cycle_activation(step), "reset": self.pg.build}
        for name, button_ in self.buttons.items():
            if button_.contains(x, y):
                actions[name]()
                self._shown = None
                return True
        r = self._slider_at(x, y)
        if r is not None:
            self._dragging = r
            self.select(self.first_row + r)
            self.pg.set_param(self.selected, self.sliders[r].value_at(x))
            return True
        return None

    def on_mouse_drag(self, x, y, dx, dy, buttons, modifiers):
        if self._dragging is not None:
            self.pg.set_param(self.selected, self.sliders[self._dragging].value_at(x))
            return True
        return None

    def on_mouse_release(self, x, y, button, modifiers):
        self._dragging = None


def run_playground(curved: bool = False, hidden: int = 3, activation: str = "sigmoid",
                   seed: int = 0, lr: float = 0.03, learn: bool = False, frames: int = 0,
                   screenshot: str | None = None) -> Playground:
    pg = Playground(curved=curved, hidden=hidden, activation=activation, seed=seed, lr=lr)
    app = PlaygroundApp(pg, learn=learn, offscreen=screenshot is not None)
    app.run(frames, screenshot)
    return pg
