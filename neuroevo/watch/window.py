"""The live window itself: :class:`Watch` opens it, plays an episode generator in it a few
physics steps a frame (:meth:`Watch.play`), and draws the world and the side panel.

What it is made of lives beside it: the pacing (:mod:`neuroevo.watch.pacing`), the ghost
(:mod:`neuroevo.watch.ghost`), the panel and its text (:mod:`neuroevo.watch.panel`) and the
keys (:mod:`neuroevo.watch.keys`).  pyglet is imported only when a :class:`Watch` opens.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from evo.rollout import episode
from evo.run import EvaluationAborted
from neuroevo.watch import keys
from neuroevo.watch import panel as panel_module
from neuroevo.watch.ghost import Ghost, GhostGarage
from neuroevo.watch.pacing import FF_DRAW_EVERY, Pacer, auto_speed
from neuroevo.watch.panel import PANEL_WIDTH, PANELS
from nn.members import member_activations

CAPTION_STRIP = 30  # px at the top and bottom of the cars' view kept for captions


class WindowClosed(EvaluationAborted):
    """The user pressed Esc or closed the window."""


class ScreenshotTaken(EvaluationAborted):
    """``--screenshot FILE --frames N``: the picture is saved, stop."""


class Watch:
    """The window, its renderer and panel, and the keyboard state.

    ``task``: an :class:`evo.task.Task` (its ``name`` picks the renderer).  ``fps``: frames
    per second to hold (``None``: as fast as possible, and no catching up).  ``speed``:
    physics steps per frame to start with (1 at 60 fps is real time; ``None``:
    :func:`auto_speed`).  ``ghost``: show the best genome so far as a ghost car (cars; see
    :attr:`ghost`).  ``screenshot``/``frames``: save a PNG after
    that many frames, then raise :class:`ScreenshotTaken`.  ``offscreen``: allow an EGL
    surface where no display exists (for pictures).  ``panel``: what the side panel shows
    (see :meth:`set_panel`); ``model``: the replayed model's file name.  ``clock`` (seconds)
    and ``sleep``: what the pacing reads and waits with (a test drives its own).  Raises
    :class:`common.window.NoDisplay` when no window can be made."""

    panel_width = PANEL_WIDTH

    def __init__(self, task, *, title: str = "neuroevo", size=(1280, 720),
                 fps: float | None = 60.0, speed: float | None = None, screenshot=None,
                 frames: int | None = None, offscreen: bool = False,
                 shots_dir: str | Path = ".", net=None, panel: str = "evolve",
                 model: str | None = None, ghost: bool = True, clock=time.perf_counter,
                 sleep=time.sleep):
        from common.window import open_window

        if panel not in PANELS:
            raise ValueError(f"panel must be one of {', '.join(PANELS)}, got {panel!r}")
        w, h = size
        if w < 800 or h < 520:
            raise ValueError(f"window size {w}x{h}: at least 800x520 is needed")
        self.window = open_window(w, h, title, offscreen=offscreen or screenshot is not None)
        import pyglet
        from pyglet.window import key

        from sims.view import draw, widgets

        self.drawing, self.widgets, self._key = draw, widgets, key
        self.task = task
        self.net = net if net is not None else task.network()
        self.pacer = Pacer(fps, clock, sleep)
        self.screenshot = Path(screenshot) if screenshot is not None else None
        self.frames = int(frames) if frames is not None else 120
        self.shots_dir = Path(shots_dir)
        self.screenshot_saved: Path | None = None
        self.paused = False
        self.fast = False
        self.replay_requested = False
        self.closed = False
        self.frame = 0  # frames drawn
        self.on_quit = None  # called once before WindowClosed is raised (e.g. checkpoint)
        self.frame_hooks: list = []  # f(watch) after each frame is shown (scripts, tests)
        self.interrupted = None  # () -> bool: stop now (Ctrl-C in the terminal)
        self.heading = title
        self.history: list[dict] = []
        # NEAT: the species sizes by generation, rows (generation, species, size), or None;
        # set before set_panel("evolve"), it adds the stacked species graph to the panel
        self.species: list | None = None
        self.best_ever = None  # (params (D,), fitness) or None
        # the ghost's genome: (params (D,), fitness) or None; set by WindowBackend when
        # ``ghost_enabled`` and the renderer can draw one
        self.ghost_enabled = bool(ghost)
        self.ghost = None
        self._ghost: Ghost | None = None  # the ghost driving now
        self._garage = GhostGarage(task, self.net)
        self.leader = 0
        self.generation = None  # the generation under way, from 1 (set by WindowBackend)
        self.lap_now = float("nan")  # the leader's lap clock, s (cars)
        # (s, generation from 1): the fastest lap so far, of the history's rows
        # (best_lap_time) or driven in this window by any car; NaN before the first lap
        self.best_lap = (float("nan"), 0)
        self._lap_record = (float("nan"), 0)  # the fastest lap driven in this window
        # episodes a history row averages (evolve's ``episodes``: cars on several tracks);
        # with more than one, a row's best and lap time are means over them, and the panel
        # says so (and no longer mixes them with one track's laps)
        self._episodes = 1
        self._several_tracks = False  # cars on several tracks at once (PPO's rounds)
        self.replay_seed = 0
        # several tracks in one world: which one is drawn (T: the next), and how many
        self.shown = 0
        self.n_views = 1
        self.next_view = False
        self._steps = 0  # physics steps of the episode being drawn
        self.mode = "evolve"  # or "replay", "done"
        self._acc = 0.0
        self._flash_until = 0.0
        self.capture_next: Path | None = None  # S: a screenshot of the next frame
        self._world = None
        self._thetas = None
        self._replay_world = None
        # quality diversity: the run's evo.archive.GridArchive (set by WindowBackend), its
        # map over the world while shown (M), and the cell whose elite R replays next
        self.archive = None
        self.archive_map = None
        self.replay_cell: int | None = None

        self.batch = pyglet.graphics.Batch()
        fb_w, fb_h = self.window.get_framebuffer_size()
        self.size = (fb_w, fb_h)
        world_vp = (0, 0, fb_w - PANEL_WIDTH, fb_h)
        # a track is fitted between the caption strips (the flash line at the top, the
        # ghost's caption at the bottom), so no text is drawn across it
        track_vp = ((0, CAPTION_STRIP, world_vp[2], fb_h - 2 * CAPTION_STRIP) if task.laps
                    else world_vp)
        self.renderer = task.renderer()(self.window, self.batch, track_vp, order=0)
        world1 = task.world(1)
        self._speed = float(speed) if speed is not None else auto_speed(world1)
        if not self._speed > 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.ghost_enabled = self.ghost_enabled and hasattr(self.renderer, "update_ghost")

        self.flash_text = draw.TextSetter(
            draw.label("", 12, fb_h - 22, self.batch, draw.Layer(self.window, 41), size=11,
                       color=(255, 255, 255)), width=world_vp[2] - 24)
        self.ghost_text = draw.TextSetter(  # what the ghost is, while one drives
            draw.label("", 12, 10, self.batch, draw.Layer(self.window, 41), size=10,
                       color=(235, 120, 255)), width=world_vp[2] - 24)
        self._world1 = world1
        self._panel_items: list = []  # what the panel draws (deleted when it is rebuilt)
        self.panel = ""
        self.model_name = model
        self.set_panel(panel, model)
        self.window.push_handlers(on_key_press=self.on_key_press, on_close=self.on_close,
                                  on_mouse_press=self.on_mouse_press)

    # -- the panel ---------------------------------------------------------------------------
    def set_panel(self, panel: str, model: str | None = None) -> None:
        """Build the side panel for ``panel``: ``"evolve"`` (generation, agents alive, best
        and mean fitness, the fitness history graph and the leader's network) or
        ``"replay"`` (one saved policy: the model file ``model``, its track or creature,
        progress and laps or distance, time, and its network; no fitness graph)."""
        if panel not in PANELS:
            raise ValueError(f"panel must be one of {', '.join(PANELS)}, got {panel!r}")
        if model is not None:
            self.model_name = model
        panel_module.build(self, panel)

    @property
    def episodes(self) -> int:
        """Episodes each history row averages (see ``__init__``); setting it relabels the
        panel."""
        return self._episodes

    @episodes.setter
    def episodes(self, value: int) -> None:
        if int(value) != self._episodes:
            self._episodes = int(value)
            self.set_panel(self.panel)

    @property
    def several_tracks(self) -> bool:
        """Whether cars drive several tracks at once (T shows the next): with
        :attr:`episodes` > 1, or set by the caller; setting it relabels the panel."""
        return self._several_tracks or (self.task.laps and self._episodes > 1)

    @several_tracks.setter
    def several_tracks(self, value: bool) -> None:
        if bool(value) != self._several_tracks:
            self._several_tracks = bool(value)
            self.set_panel(self.panel)

    # -- keys ------------------------------------------------------------------------------
    @property
    def speed(self) -> float:
        """Physics steps per frame (at ``fps``: times real time / 60 * fps)."""
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        self._speed = float(value)

    @property
    def fps(self) -> float | None:
        """Frames per second the window holds (None: as fast as it can)."""
        return self.pacer.fps

    @fps.setter
    def fps(self, value: float | None) -> None:
        self.pacer.fps = value

    def on_key_press(self, symbol, modifiers):
        return keys.press(self, symbol, self._key)

    def on_close(self):
        self.closed = True
        return True

    def on_mouse_press(self, x, y, button, modifiers):
        return keys.click(self, x, y)

    def flash(self, message: str, seconds: float = 2.5) -> None:
        self.flash_text(message)
        self._flash_until = self.pacer.clock() + seconds

    # -- the loop ----------------------------------------------------------------------------
    def poll(self) -> None:
        """Handle pending window events; raises :class:`WindowClosed` after Esc."""
        self.window.dispatch_events()
        if self.interrupted is not None and self.interrupted():
            raise EvaluationAborted("interrupted")
        if self.closed:
            if self.on_quit is not None:
                callback, self.on_quit = self.on_quit, None
                callback()
            raise WindowClosed("window closed")

    def attach(self, world, thetas) -> None:
        """Draw ``world`` (whose agents are the rows of ``thetas``) from now on."""
        self._world, self._thetas = world, np.asarray(thetas)
        self.renderer.attach(world)
        keys.refresh_map(self)
        panel_module.show_history(self)
        self._acc = 0.0
        self.pacer.restart()

    def play(self, gen, world, thetas, *, nested_replay: bool = True, seed=None):
        """Advance the episode generator ``gen`` over ``world`` to its end, drawing as it
        goes; returns the generator's value ``(info, agent_steps)``.  With
        ``nested_replay``, R interrupts to replay the best-ever genome, then carries on.
        ``seed``: the episode's seed, which the ghost (when :attr:`ghost` is set) drives
        too, one physics step for each of ``gen``'s.

        Several episodes in one world (cars on several tracks): ``world`` a list of
        :class:`sims.track_group.TrackGroup` views of the world ``gen`` steps and ``seed``
        the list of their episodes' seeds; one view is drawn (:attr:`shown`, T the next)."""
        try:  # the world resets on the first step: take it before anything is drawn
            next(gen)
        except StopIteration as stop:
            return stop.value
        views = world if isinstance(world, list) else None
        seeds = seed if views is not None else [seed]
        self.n_views = len(views) if views is not None else 1
        self._steps = 0
        drawn = views[self.shown % self.n_views] if views else world
        self._show(drawn, thetas, seeds[self.shown % self.n_views])
        while True:
            self.poll()
            if self.next_view:
                self.next_view = False
                if views is not None:
                    self.shown = (self.shown + 1) % self.n_views
                    drawn = views[self.shown]
                    self._show(drawn, thetas, seeds[self.shown])
            if self.replay_requested:
                self.replay_requested = False
                if self.mode == "replay":  # R again: back to what was interrupted
                    return None
                if nested_replay:
                    self.replay_best()
                    self.attach(drawn, thetas)
            if self.fast:
                done = self._fast_forward(gen)
                self.pacer.restart()
            else:
                steps = 0
                if not self.paused:
                    self._acc += self.speed * self._catch_up()
                    steps = int(self._acc)
                    self._acc -= steps
                else:
                    self.pacer.restart()
                done = None
                for _ in range(steps):
                    try:
                        self._step(gen)
                    except StopIteration as stop:
                        done = stop
                        break
            if views is not None and done is None:
                live = self._live_view(views)
                if live is not None:  # every car here is out: show a track still driving
                    self.flash(f"every car on track {self.shown + 1} is out: track "
                               f"{live + 1} still drives (T: next)", 4.0)
                    self.shown = live
                    drawn = views[live]
                    self._show(drawn, thetas, seeds[live])
            self.render()
            if done is not None:
                return done.value

    def _live_view(self, views) -> int | None:
        """The track to draw instead of the shown one once every car on it is done, the
        next one where cars still drive; None while the shown one has some (or none has)."""
        if not bool(np.all(views[self.shown].done)):
            return None
        for k in range(1, len(views)):
            j = (self.shown + k) % len(views)
            if not bool(np.all(views[j].done)):
                return j
        return None

    def _show(self, world, thetas, seed) -> None:
        """Draw ``world`` from now on, with the ghost on its episode ``seed`` (caught up
        with the steps already taken)."""
        self._ghost = None
        if seed is not None and self.ghost is not None and self.ghost_enabled:
            self._ghost = self._garage.start(self.ghost[0], seed, self._steps)
        self.attach(world, thetas)

    def _catch_up(self) -> float:
        """Frames' worth of steps this frame takes (:meth:`Pacer.catch_up`; exact with
        ``--screenshot``: frames then count steps)."""
        return self.pacer.catch_up(exact=self.screenshot is not None)

    def _step(self, gen) -> None:
        """One physics step of ``gen`` (StopIteration at its end), and one of the ghost's."""
        next(gen)
        self._steps += 1
        if self._ghost is not None:
            self._ghost.step()

    def _fast_forward(self, gen):
        """Simulate without drawing (a frame every ``FF_DRAW_EVERY`` s to stay responsive)
        until the episode ends, F is pressed again or another key needs the loop."""
        t_next = self.pacer.deadline(FF_DRAW_EVERY)
        while True:
            try:
                self._step(gen)
            except StopIteration as stop:
                self.fast = False
                return stop
            if self.pacer.past(t_next):
                return None

    def replay_best(self) -> None:
        """Replay the best-ever genome (one agent) until it is done or R is pressed; after
        a click on the archive map, that cell's elite instead."""
        cell, self.replay_cell = self.replay_cell, None
        if cell is not None:
            a = self.archive
            params, fitness = a.genomes[cell].copy(), float(a.fitness[cell])
            where = ",".join(str(int(c)) for c in np.unravel_index(cell, a.spec.cells))
            what = f"cell {where}"
        elif self.best_ever is None:
            self.flash("no best-ever genome yet: wait for the first generation")
            return
        else:
            params, fitness = self.best_ever
            what = "best ever"
        if self._replay_world is None:
            self._replay_world = self.task.make_world(1)
        world = self._replay_world
        thetas = self.task.prepare(world, np.asarray(params, np.float64)[None, :])
        gen = episode(world, self.net, thetas, self.replay_seed)
        saved = self.mode, self.heading, self.fast, self._ghost, self.n_views, self._steps
        self.mode, self.fast, self._ghost = "replay", False, None
        self.heading = f"replay: {what} ({fitness:.3f})"
        try:
            self.play(gen, world, thetas, nested_replay=False)
        finally:
            self.mode, self.heading, self.fast, self._ghost, self.n_views, self._steps = saved
            self.replay_requested = False

    # -- drawing -----------------------------------------------------------------------------
    def _update_scene(self) -> None:
        world, thetas = self._world, self._thetas
        info = world.info()
        fitness = self.task.fitness(info)
        done = world.done
        alive = ~done
        n_alive = int(alive.sum())
        if n_alive:
            leader = int(np.argmax(np.where(alive, fitness, -np.inf)))
        else:
            leader = int(np.argmax(fitness))
        self.renderer.focus(world, leader)
        self.renderer.update(world, fitness, leader)
        self.leader = leader
        ghost = self._ghost
        if self.ghost_enabled:
            self.renderer.update_ghost(ghost.world if ghost is not None else None)
        if ghost is not None and self.ghost is not None:
            self.ghost_text(f"ghost: the best so far ({self.ghost[1]:.3f}) drives this "
                            f"episode again")
        else:
            self.ghost_text("")
        weights, acts = member_activations(self.net, thetas[leader], world.obs[leader])
        self.network.update(weights, acts)
        panel_module.show_text(self, world, fitness, n_alive, info, leader)

    def render(self) -> None:
        """Draw one frame (saving a screenshot if one is due), show it, keep the frame rate."""
        self._update_scene()
        win = self.window
        win.switch_to()
        self.drawing.clear(win, self.renderer.background)
        self.batch.draw()
        self.frame += 1
        if self.capture_next is not None:
            path, self.capture_next = self.capture_next, None
            self.save(path)
            self.flash(f"saved {path}")
        due = self.screenshot is not None and self.screenshot_saved is None \
            and self.frame >= self.frames
        if due:
            self.save(self.screenshot)
            self.screenshot_saved = self.screenshot
        win.flip()
        shown_at = self.pacer.shown()
        for hook in list(self.frame_hooks):
            hook(self)
        if due:
            raise ScreenshotTaken(str(self.screenshot))
        if self.screenshot is None:
            self.pacer.wait(shown_at)

    def pixels(self) -> np.ndarray:
        """The frame being drawn as ``(H, W, 3)`` RGB, top row first."""
        from common.window import read_pixels

        return read_pixels(self.window)

    def save(self, path) -> Path:
        """Save the back buffer (call between drawing and ``flip``) as a PNG."""
        from common.window import save_png

        return save_png(path, self.pixels())

    def capture(self, path) -> Path:
        """Draw the current state once and save it (e.g. a run ended before ``--frames``)."""
        if self._world is None:  # nothing was simulated: the best genome at the start line
            world = self.task.make_world(1)
            params = self.best_ever[0] if self.best_ever is not None else \
                self.task.initial_genome(np.zeros(self.net.num_params))
            thetas = self.task.prepare(world, np.asarray(params, np.float64)[None, :])
            world.reset(self.replay_seed)
            self.attach(world, thetas)
        self._update_scene()
        self.window.switch_to()
        self.drawing.clear(self.window, self.renderer.background)
        self.batch.draw()
        saved = self.save(path)
        self.window.flip()
        self.screenshot_saved = saved
        return saved

    def linger(self) -> None:
        """After the last generation: keep the window until Esc; R replays the best."""
        self.mode = "done"
        self.heading = f"{self.heading} (finished)"
        if self._world is not None:  # the graphs get the last generation too
            self.attach(self._world, self._thetas)
        try:
            while True:
                self.poll()
                if self.replay_requested:
                    self.replay_requested = False
                    world, thetas = self._world, self._thetas
                    self.replay_best()
                    if world is not None:
                        self.attach(world, thetas)
                self.render()
        except WindowClosed:
            return

    def close(self) -> None:
        try:
            self.window.close()
        except Exception:  # noqa: BLE001 - closing twice or a gone display: nothing to do
            pass
