"""The replay window of a gym model: the environment's own ``rgb_array`` frames on the left,
the usual panel on the right (the model, the episode's step and return, the run's fitness
history when ``fitness.csv`` lies beside the model, and the network with live
activations).

Keys: space pause, R restart the episode, +/- speed, S screenshot, Esc quit.  With
``--screenshot FILE`` it renders ``--frames`` frames (off screen where there is no
display), saves them and closes.  Nothing here imports pyglet at import time.
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

import numpy as np

from nn.members import member_activations

KEYS_HELP = ("space pause    R restart    +/- speed", "S screenshot    Esc quit")
PANEL_WIDTH = 330
SIZE = (1280, 720)
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


class ViewClosed(Exception):
    """Esc, the window's close button, or the screenshot taken."""


def open_view(task, theta, mean, scale, meta, args):
    """A :class:`GymView`, or None after one line on stderr where no window can be made
    (``--screenshot`` then is a user error)."""
    from common.config import ConfigError
    from common.window import NoDisplay

    try:
        return GymView(task, theta, mean, scale, meta, model=Path(args.model),
                       screenshot=args.screenshot, frames=args.frames,
                       speed=args.speed if args.speed is not None else 1.0)
    except NoDisplay as e:
        if args.screenshot is not None:
            raise ConfigError(f"--screenshot {args.screenshot}: {e}") from None
        print(f"neuroevo: {e.reason}: replaying headless", file=sys.stderr)
        return None


def read_history(model: Path) -> tuple[list[dict], str]:
    """The run beside ``model``: ``(rows of best and mean, "generation")`` from an evolve
    run's ``fitness.csv``, or ``(rows, "iteration")`` from a reinforce run's
    ``returns.csv`` (the best and mean return of each iteration's episodes); no rows
    where there is neither."""
    for name, per, best, mean in (("fitness.csv", "generation", "best", "mean"),
                                  ("returns.csv", "iteration", "return_best", "return_mean")):
        path = model.parent / name
        if not path.is_file():
            continue
        try:
            with open(path, newline="") as f:
                return ([{"best": float(r[best]), "mean": float(r[mean])}
                         for r in csv.DictReader(f)], per)
        except (OSError, ValueError, KeyError):
            return [], per
    return [], "generation"


def origin(meta: dict) -> str:
    """Where a policy file's fitness comes from: its generation (evolve) or iteration
    (reinforce, with the algorithm)."""
    if meta.get("generation") is not None:
        return f"generation {meta['generation']}"
    if meta.get("iteration") is not None:
        return f"{meta.get('trained_by') or 'reinforce'} iteration {meta['iteration']}"
    return "saved"


class GymView:
    """``heading``: the panel's title (default "replay: MODEL"); ``history``: the graph's
    ``(rows, "generation" or "iteration")`` (default: the run beside ``model``,
    :func:`read_history`).  :meth:`show` puts another genome in (the live evolution
    window, :mod:`neuroevo.gym_watch`)."""

    def __init__(self, task, theta, mean, scale, meta, *, model: Path, screenshot=None,
                 frames=None, speed: float = 1.0, heading: str | None = None,
                 history: tuple[list[dict], str] | None = None, title: str | None = None):
        from common.window import open_window

        self.window = open_window(*SIZE, title or f"neuroevo: replay {model.name}",
                                  offscreen=screenshot is not None)
        import pyglet
        from pyglet.window import key

        from evo.gym_task import GymPolicy, make_env
        from sims.view import draw, widgets

        self._pyglet, self._key, self._draw = pyglet, key, draw
        self.task, self.meta, self.model = task, meta, model
        self.heading = heading or f"replay: {model.name}"
        self._history = history if history is not None else read_history(model)
        self.policy = GymPolicy(task, theta[None, :], mean[None, :], scale[None, :])
        self.theta = theta
        self.interrupted = None  # a callable: true once the run was asked to stop (Ctrl-C)
        self.on_quit = None
        self.env = make_env(task.env_id, render_mode="rgb_array")
        self.screenshot = Path(screenshot) if screenshot is not None else None
        self.frames = 120 if frames is None else int(frames)
        self.screenshot_saved: Path | None = None
        self.speed = float(speed)
        self.fps = float(self.env.metadata.get("render_fps") or 50)
        self.paused = self.restart = self.closed = False
        self.shot_requested = False
        self.frame = 0
        self.batch = pyglet.graphics.Batch()
        fb_w, fb_h = self.window.get_framebuffer_size()
        self.size = (fb_w, fb_h)
        self.view_w = fb_w - PANEL_WIDTH
        self._texture = None
        self._sprite = None
        self._image_group = pyglet.graphics.Group(order=0)
        self._build_panel(draw, widgets)
        self.window.push_handlers(on_key_press=self._on_key, on_close=self._on_close)

    # -- panel -------------------------------------------------------------------------
    def _build_panel(self, draw, widgets) -> None:
        fb_w, fb_h = self.size
        px, inner = fb_w - PANEL_WIDTH, PANEL_WIDTH - 24
        x0 = px + 12
        batch, text = self.batch, draw.Layer(self.window, 40)
        keep = self._items = []  # the batch holds its items weakly: keep them here
        keep.append(widgets.Box(batch, draw.Layer(self.window, 20), (px, 0, PANEL_WIDTH, fb_h),
                    fill=(16, 18, 24), outline=None))
        self.heading_text = draw.TextSetter(
            draw.label("", x0, fb_h - 28, batch, text, size=14, bold=True), width=inner,
            min_size=7)
        self.heading_text(self.heading)
        self.lines = [draw.TextSetter(draw.label("", x0, fb_h - 54 - 19 * i, batch, text,
                                                 size=10, font="DejaVu Sans Mono"),
                                      width=inner, min_size=7) for i in range(5)]
        top = fb_h - 54 - 19 * 5 - 24
        history, per = self._history
        graph_h = 110
        what = "fitness" if per == "generation" else "return"
        graph = widgets.HistoryGraph(self.window, batch, 21, (x0, top - graph_h, inner, graph_h),
                                     f"{what} by {per}: best (yellow), mean (cyan)", per=per)
        self.graph = graph
        graph.set([([r["best"] for r in history], (250, 210, 60)),
                   ([r["mean"] for r in history], (90, 200, 230))])
        keep.append(graph)
        top -= graph_h + 28
        keep.append(draw.label("network (live)", x0 + 4, top + 4, batch, text, size=9,
                               color=widgets.MUTED, width=inner - 4))
        net = self.task.network()
        outputs = [f"a{i}" for i in range(self.task.act_dim)]
        self.network = widgets.NetworkDiagram(self.window, batch, 25, (x0, 56, inner, top - 56),
                                              net.sizes, [], outputs)
        for i, line in enumerate(KEYS_HELP):
            keep.append(draw.label(line, x0, 34 - 16 * i, batch, text, size=9,
                                   color=(190, 200, 120), width=inner))

    # -- keys --------------------------------------------------------------------------
    def _on_key(self, symbol, modifiers):
        key = self._key
        if symbol == key.ESCAPE:
            self.closed = True
        elif symbol == key.SPACE:
            self.paused = not self.paused
        elif symbol == key.R:
            self.restart = True
        elif symbol == key.S:
            self.shot_requested = True
        elif symbol in (key.PLUS, key.EQUAL, key.NUM_ADD, key.MINUS, key.NUM_SUBTRACT):
            up = symbol in (key.PLUS, key.EQUAL, key.NUM_ADD)
            i = min(range(len(SPEEDS)), key=lambda k: abs(SPEEDS[k] - self.speed))
            self.speed = SPEEDS[min(max(i + (1 if up else -1), 0), len(SPEEDS) - 1)]
        return True  # Esc does not close the window behind our back

    def _on_close(self):
        self.closed = True
        return True

    def show(self, theta, mean, scale, meta: dict, history: list[dict] | None = None,
             heading: str | None = None) -> None:
        """Play another genome from now on (its weights, normaliser and policy-file
        metadata: fitness, generation); ``history``: the graph's rows (best, mean);
        ``heading``: the panel's title."""
        from evo.gym_task import GymPolicy

        self.policy = GymPolicy(self.task, theta[None, :], mean[None, :], scale[None, :])
        self.theta, self.meta = theta, meta
        if history is not None:
            self.graph.set([([r["best"] for r in history], (250, 210, 60)),
                            ([r["mean"] for r in history], (90, 200, 230))])
        if heading is not None:
            self.heading = heading
            self.heading_text(heading)

    def play_episode(self, seed: int) -> None:
        """One episode (reset with ``seed``), drawn; :class:`ViewClosed` after Esc, a stop
        asked (``interrupted``) or the screenshot taken."""
        while True:
            self._episode(seed)
            if not self.restart:
                return
            self.restart = False

    def capture(self, path) -> None:
        """Save the window as it is now as ``path`` (a PNG): ``--screenshot`` of a run
        that ended before ``--frames`` frames."""
        from common.window import read_pixels, save_png

        self.screenshot_saved = save_png(Path(path), read_pixels(self.window))

    def linger(self) -> None:
        """After the run: episodes of the genome shown last until Esc (R: again)."""
        self.play(seed=0)

    # -- the loop ----------------------------------------------------------------------
    def play(self, seed: int = 0) -> None:
        """Show episodes of the model (reset with ``seed``) until Esc, or until the
        screenshot is taken.  The episode that ends stays on screen; R plays it again."""
        try:
            while True:
                self._episode(seed)
                while not self.restart:  # finished: keep the last frame up
                    self._frame(None)
                self.restart = False
        except ViewClosed:
            return

    def _episode(self, seed: int) -> None:
        task = self.task
        obs, _ = self.env.reset(seed=seed)
        self.policy.reset()  # a recurrent policy starts each episode from zeros
        self.obs = np.asarray(obs, np.float64).reshape(-1)
        self.ret, self.t, self.done = 0.0, 0, False
        acc = 0.0
        while not self.done:
            if self.restart:
                return
            steps = 0
            if not self.paused:
                acc += self.speed
                steps, acc = int(acc), acc - int(acc)
            for _ in range(steps):
                action = self.policy.act(self.obs[None, :])[0]
                obs, r, term, trunc, _ = self.env.step(action)
                self.obs = np.asarray(obs, np.float64).reshape(-1)
                self.ret += float(r)
                self.t += 1
                if term or trunc or self.t >= task.max_steps:
                    self.done = True
                    break
            self._frame(self.env.render())

    def _frame(self, rgb) -> None:
        """Poll the keys, draw one frame (the environment's picture ``rgb``, or the last
        one), show it and keep the frame rate."""
        self.window.dispatch_events()
        if self.closed or (self.interrupted is not None and self.interrupted()):
            raise ViewClosed
        if rgb is not None:
            self._show_image(np.asarray(rgb, np.uint8))
        self._update_panel()
        win = self.window
        win.switch_to()
        self._draw.clear(win, (12, 12, 16))
        self.batch.draw()
        self.frame += 1
        from common.window import read_pixels, save_png

        if self.shot_requested:
            self.shot_requested = False
            save_png(Path(f"replay-{self.frame:05d}.png"), read_pixels(win))
        due = self.screenshot is not None and self.frame >= self.frames
        if due:
            self.screenshot_saved = save_png(self.screenshot, read_pixels(win))
        win.flip()
        if due:
            raise ViewClosed
        if self.screenshot is None:
            time.sleep(1.0 / self.fps)

    def _show_image(self, rgb: np.ndarray) -> None:
        pyglet = self._pyglet
        h, w = rgb.shape[:2]
        image = pyglet.image.ImageData(w, h, "RGB", np.ascontiguousarray(rgb).tobytes(),
                                       pitch=-w * 3)  # rows top first
        if self._texture is None or (self._texture.width, self._texture.height) != (w, h):
            self._texture = pyglet.image.Texture.create(w, h)
            if self._sprite is not None:
                self._sprite.delete()
            self._sprite = pyglet.sprite.Sprite(self._texture, batch=self.batch,
                                                group=self._image_group)
            s = min(self.view_w / w, self.size[1] / h)
            self._sprite.scale = s
            self._sprite.position = ((self.view_w - w * s) / 2, (self.size[1] - h * s) / 2, 0)
        self._texture.blit_into(image, 0, 0, 0)

    def _update_panel(self) -> None:
        fit = self.meta.get("fitness")
        state = "finished" if self.done else ("paused" if self.paused else
                                              f"speed x{self.speed:g}")
        texts = [self.task.env_id, f"step   {self.t}", f"return {self.ret:.2f}",
                 f"fitness {fit:.2f} ({origin(self.meta)})" if fit is not None else "",
                 state]
        for setter, text in zip(self.lines, texts):
            setter(text)
        x = self.policy.normalised(self.obs[None, :])[0]
        weights, acts = member_activations(self.task.network(), self.theta, x)
        self.network.update(weights, acts)

    def close(self) -> None:
        try:
            self.env.close()
            self.window.close()
        except Exception:  # noqa: BLE001 - closing twice or a gone display: nothing to do
            pass
