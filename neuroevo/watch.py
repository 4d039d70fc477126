"""Watch evolution live: a pyglet window that draws every episode while it is simulated.

:class:`Watch` owns the window: a world renderer from :mod:`sims.view` (cars from above,
walkers from the side with a camera on the leader), and a panel with the generation, agents
alive, best and mean fitness, a fitness-history graph and the leader's network with live
activations; for cars also the leader's lap clock, the best lap so far and a lap-time graph
(or, for ``neuroevo replay``, the replay panel: the model file, its track or
creature, laps and progress or distance, time, and its network).  :class:`WindowBackend`
plugs it into :meth:`evo.run.EvolutionRun.run`: it advances the same
:func:`evo.rollout.episode` generator the serial backend runs to the end, a few physics
steps per frame, so the fitness it returns is the serial backend's, bit for bit.  The
window only reads the world between steps.

Speed: by default (:func:`auto_speed`) a whole episode, up to its time limit, plays in about
:data:`GENERATION_SECONDS` seconds (cars: x10, ten physics steps per frame at 60 fps); when
frames come slower than ``fps``, each frame takes more steps (up to :data:`CATCH_UP` times
as many) so that the simulation keeps its pace.  The ghost (cars): the best genome so far
drives the generation's episode again in a world of its own, stepped in lockstep with the
population's and drawn translucent; it never touches the population's world.

Keys (also shown in the window): space pause, F fast-forward to the next generation, R replay
the best-ever genome, T the next track (cars on several tracks), +/- simulation speed, S
screenshot, Esc quit (the run's checkpoint is written first; ``--resume`` continues it).

Nothing here imports pyglet at import time: the window modules load in :class:`Watch`.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from evo.backends import as_seeds, combine
from evo.rollout import episode
from evo.run import EvaluationAborted
from nn.members import member_activations

KEYS_HELP = ("space pause    F fast-forward    R replay best",
             "T track    +/- speed    S screenshot    Esc quit")


def keys_help(panel: str, tracks: bool) -> tuple[str, str]:
    """The key legend of a panel: only keys that do something there (R replays the best
    genome while evolving; T shows the next track where cars drive several at once; a
    replay's window takes R only after the episode, as its status line says)."""
    if panel == "replay":
        return ("space pause    F fast-forward    +/- speed", "S screenshot    Esc quit")
    if tracks:
        return KEYS_HELP
    return ("space pause    F fast-forward    R replay best",
            "+/- speed    S screenshot    Esc quit")
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)  # physics steps per frame (+/-)
GENERATION_SECONDS = 6.0  # the default speed plays an episode's whole time limit in this long
NOMINAL_FPS = 60.0  # the frame rate the default speed is computed for
CATCH_UP = 4.0  # at most this many times the speed's steps in one (late) frame
LAP_COLOR = (255, 150, 90)  # the lap-time graph
PANEL_WIDTH = 330
PANELS = ("evolve", "replay")  # what the side panel shows (Watch.set_panel)
FF_DRAW_EVERY = 0.25  # s between frames while fast-forwarding
CAPTION_STRIP = 30  # px at the top and bottom of the cars' view kept for captions


class WindowClosed(EvaluationAborted):
    """The user pressed Esc or closed the window."""


class ScreenshotTaken(EvaluationAborted):
    """``--screenshot FILE --frames N``: the picture is saved, stop."""


def auto_speed(world, seconds: float = GENERATION_SECONDS, fps: float = NOMINAL_FPS) -> float:
    """Physics steps per frame that play ``world``'s whole episode (its ``max_time``) in
    about ``seconds`` at ``fps`` frames per second: a whole number from 2 (twice real time,
    for short episodes) to 64."""
    steps = float(world.config.max_time) / float(world.dt)
    return float(np.clip(np.ceil(steps / (seconds * fps) - 1e-9), 2, SPEEDS[-1]))


def _faster(a, b):
    """Of two ``(lap time, generation)``, the faster (a NaN time: no lap; ties keep ``a``)."""
    return b if np.isfinite(b[0]) and not b[0] >= a[0] else a


def _fmt_lap(t) -> str:
    return f"{t:6.2f} s" if t is not None and np.isfinite(t) else "     - "


class _Ghost:
    """The ghost's own one-car world and its episode generator (None once it ended)."""

    __slots__ = ("world", "gen")

    def __init__(self, world, gen):
        self.world, self.gen = world, gen


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

        self._draw, self._widgets, self._key = draw, widgets, key
        self.task = task
        self.net = net if net is not None else task.network()
        self.fps = fps
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
        self._ghost: _Ghost | None = None  # the ghost driving now
        self._ghost_worlds: dict = {}  # episode variant -> a one-car world of its own
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
        # the pacing's clock (s) and wait: the frame rate, catching up, fast-forward's
        # frames and flash messages read only these
        self.clock, self.sleep = clock, sleep
        self._last_tick = None  # when the last frame advanced the simulation
        self._next_frame = self.clock()
        self._fps_times: list[float] = []
        self._flash_until = 0.0
        self._capture_path: Path | None = None
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
        if task.name == "cars":
            from sims.view.cars import CarRenderer as Renderer

            # the track is fitted between the caption strips (the flash line at the top,
            # the ghost's caption at the bottom), so no text is drawn across it
            track_vp = (0, CAPTION_STRIP, world_vp[2], fb_h - 2 * CAPTION_STRIP)
        else:
            from sims.view.walkers import WalkerRenderer as Renderer

            track_vp = world_vp
        self.renderer = Renderer(self.window, self.batch, track_vp, order=0)
        world1 = task.world(1)
        self.noun = "cars" if task.name == "cars" else "walkers"
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
        draw, widgets = self._draw, self._widgets
        for item in self._panel_items:
            item.delete()
        self._panel_items = items = []
        self.panel = panel
        fb_w, fb_h = self.size
        px, W = fb_w - PANEL_WIDTH, PANEL_WIDTH
        x0, inner = px + 12, PANEL_WIDTH - 24
        batch, text = self.batch, draw.Layer(self.window, 40)

        def lbl(*args, **kw):
            made = draw.label(*args, **kw)
            items.append(made)
            return made

        items.append(widgets.Box(batch, draw.Layer(self.window, 20), (px, 0, W, fb_h),
                                 fill=(16, 18, 24), outline=None))
        self.title_text = draw.TextSetter(lbl("", x0, fb_h - 28, batch, text, size=14,
                                              bold=True), width=inner, min_size=7)
        laps = panel == "evolve" and self.task.name == "cars"  # lap line and lap graph
        n_lines = 6 if panel == "replay" or laps else 5
        self.lines = [draw.TextSetter(lbl("", x0, fb_h - 54 - 19 * i, batch, text, size=10,
                                          font="DejaVu Sans Mono"), width=inner, min_size=7)
                      for i in range(n_lines)]
        top = fb_h - 54 - 19 * n_lines - 24
        self.graph = self.lap_graph = self.species_graph = None
        if panel == "evolve":
            graph_h = 110
            if laps:  # fitness and lap times side by side, one point per generation
                gw = (inner - 12) // 2
                self.graph = widgets.HistoryGraph(
                    self.window, batch, 21, (x0, top - graph_h, gw, graph_h),
                    "fitness: best, mean")
                self.lap_graph = widgets.HistoryGraph(
                    self.window, batch, 21, (x0 + inner - gw, top - graph_h, gw, graph_h),
                    "lap time (best car)" if self._episodes == 1 else
                    f"lap, mean of {self._episodes} (best car)", markers=True,
                    missing="no lap")
                items.append(self.lap_graph)
            else:
                self.graph = widgets.HistoryGraph(
                    self.window, batch, 21, (x0, top - graph_h, inner, graph_h),
                    "fitness by generation: best (yellow), mean (cyan)")
            items.append(self.graph)
            top -= graph_h + 28
            if self.species is not None:  # neat: species sizes, stacked
                species_h = 80
                self.species_graph = widgets.HistoryGraph(
                    self.window, batch, 21, (x0, top - species_h, inner, species_h),
                    "species sizes (stacked, one line per species)")
                items.append(self.species_graph)
                top -= species_h + 28
        net_rect = (x0, 56, inner, top - 56)
        world1 = self._world1
        note = self.renderer.input_note(world1)  # walkers: what neck' means
        self.network_title = lbl(
            ("leader's network (live)" if panel == "evolve" else "network (live)")
            + (f"; {note}" if note else ""), x0 + 4, top + 4, batch, text, size=9,
            color=widgets.MUTED, width=inner - 4)
        self.network = widgets.NetworkDiagram(
            self.window, batch, 25, net_rect, self.net.sizes,
            self.renderer.input_names(world1), self.renderer.output_names(world1))
        items.append(self.network)
        self.keys_help = [lbl(line, x0, 34 - 16 * i, batch, text, size=9,
                              color=(190, 200, 120), width=inner)
                          for i, line in enumerate(keys_help(panel, self.several_tracks))]
        if self._world is not None:
            self.attach(self._world, self._thetas)

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
        return self._several_tracks or (self.task.name == "cars" and self._episodes > 1)

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

    def on_key_press(self, symbol, modifiers):
        key = self._key
        if symbol == key.SPACE:
            self.paused = not self.paused
        elif symbol == key.F:
            self.fast = not self.fast
            self.paused = False
        elif symbol == key.R:
            self.replay_requested = True
        elif symbol == key.T:
            self.next_view = True
        elif symbol in (key.PLUS, key.EQUAL, key.NUM_ADD):  # the next speed of the ladder
            self._speed = min([v for v in SPEEDS if v > self._speed + 1e-9] or [SPEEDS[-1]])
        elif symbol in (key.MINUS, key.UNDERSCORE, key.NUM_SUBTRACT):
            self._speed = max([v for v in SPEEDS if v < self._speed - 1e-9] or [SPEEDS[0]])
        elif symbol == key.S:
            self._capture_path = self._next_shot_name()
        elif symbol == key.M:
            self.toggle_map()
        elif symbol in (key.ESCAPE, key.Q):
            self.closed = True
        else:
            return None
        return True  # handled: keeps pyglet's default Esc handler from closing the window

    def on_close(self):
        self.closed = True
        return True

    # -- the archive map (quality diversity) ---------------------------------------------------
    def toggle_map(self) -> None:
        """M: show or hide the archive's map over the world (the elites' fitness over the
        first two descriptors); a click on a filled cell replays its elite."""
        if self.archive_map is not None:
            self.archive_map.delete()
            self.archive_map = None
            return
        if self.archive is None:
            self.flash("no archive: this run has no qd.descriptors (docs/qd.md)")
            return
        spec = self.archive.spec
        fb_w, fb_h = self.size
        world_w = fb_w - PANEL_WIDTH
        side = min(world_w - 80, fb_h - 120)
        rect = ((world_w - side) / 2, (fb_h - side) / 2 - 10, side, side)
        shape = (spec.cells[0], spec.cells[1] if len(spec.cells) > 1 else 1)
        self.archive_map = self._widgets.GridMap(
            self.window, self.batch, 30, rect, shape, "",
            spec.names[0], spec.names[1] if len(spec.names) > 1 else "")
        self.refresh_map()

    def refresh_map(self) -> None:
        if self.archive_map is None:
            return
        a = self.archive
        best = f", best {a.best:.3g}" if len(a) else ""
        self.archive_map.set(a.map2d()[0], f"archive: {len(a)} of {a.spec.size} cells"
                             f"{best}; click a cell to replay its elite")

    def on_mouse_press(self, x, y, button, modifiers):
        if self.archive_map is None:
            return None
        scale = self.size[0] / max(self.window.width, 1)  # window -> framebuffer pixels
        cell = self.archive_map.cell_at(x * scale, y * scale)
        if cell is None:
            return None
        if self.mode == "replay":
            self.flash("a replay is playing: R ends it")
            return True
        index = int(self.archive.map2d()[1][cell])
        where = ",".join(map(str, cell))
        if index < 0:
            self.flash(f"cell {where} is empty")
            return True
        self.replay_cell = index
        self.replay_requested = True
        self.toggle_map()  # out of the way of the replay
        return True

    def _next_shot_name(self) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for k in range(1000):
            path = self.shots_dir / f"screenshot-{stamp}{f'-{k}' if k else ''}.png"
            if not path.exists():
                return path
        return path

    def flash(self, message: str, seconds: float = 2.5) -> None:
        self.flash_text(message)
        self._flash_until = self.clock() + seconds

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
        self.refresh_map()
        if self.graph is not None:
            self.graph.set([([r["best"] for r in self.history], (250, 210, 60)),
                            ([r["mean"] for r in self.history], (90, 200, 255))])
        laps = np.array([r.get("best_lap_time", np.nan) for r in self.history], np.float64)
        done = np.flatnonzero(np.isfinite(laps))
        best = ((float(laps[done].min()), int(done[np.argmin(laps[done])]) + 1)
                if len(done) else (float("nan"), 0))
        # several episodes a row: its lap time is a mean over tracks, not one lap like
        # those driven here, so the lap line shows only the laps driven here
        self.best_lap = (_faster(best, self._lap_record) if self._episodes == 1
                         else self._lap_record)
        if self.lap_graph is not None:
            self.lap_graph.set([(laps, LAP_COLOR)], unit=" s")
        if self.species_graph is not None:
            self.species_graph.set(species_series(self.species or []))
        self._acc = 0.0
        self._last_tick = None

    def play(self, gen, world, thetas, *, nested_replay: bool = True, seed=None):
        """Advance the episode generator ``gen`` over ``world`` to its end, drawing as it
        goes; returns the generator's value ``(info, agent_steps)``.  With
        ``nested_replay``, R interrupts to replay the best-ever genome, then carries on.
        ``seed``: the episode's seed, which the ghost (when :attr:`ghost` is set) drives
        too, one physics step for each of ``gen``'s.

        Several episodes in one world (cars on several tracks): ``world`` a list of
        :class:`sims.car_world.TrackGroup` views of the world ``gen`` steps and ``seed``
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
                self._last_tick = None
            else:
                steps = 0
                if not self.paused:
                    self._acc += self.speed * self._catch_up()
                    steps = int(self._acc)
                    self._acc -= steps
                else:
                    self._last_tick = None
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
            self._ghost = self._start_ghost(seed, self._steps)
        self.attach(world, thetas)

    def _catch_up(self) -> float:
        """How many frames' worth of steps this frame takes: 1 while frames come at
        ``fps``, more (up to :data:`CATCH_UP`) when they come late, so the simulation keeps
        its pace on a slow renderer.  Always 1 without ``fps`` or with ``--screenshot``
        (frames then count steps exactly)."""
        now = self.clock()
        last, self._last_tick = self._last_tick, now
        if not self.fps or self.screenshot is not None or last is None:
            return 1.0
        return float(min(max((now - last) * self.fps, 1.0), CATCH_UP))

    def _step(self, gen) -> None:
        """One physics step of ``gen`` (StopIteration at its end), and one of the ghost's."""
        next(gen)
        self._steps += 1
        ghost = self._ghost
        if ghost is not None and ghost.gen is not None:
            try:
                next(ghost.gen)
            except StopIteration:
                ghost.gen = None  # it crashed or finished: it stays where it is

    def _start_ghost(self, seed, steps: int = 0) -> _Ghost:
        """The ghost for the episode ``seed``: the best genome so far in a one-car world of
        its own (the same track and start), reset and stepped once, as the population's
        world is when drawing starts, then ``steps`` more (to join an episode under way)."""
        variant = self.task.variant(seed)
        world = self._ghost_worlds.get(variant)
        if world is None:
            world = self._ghost_worlds[variant] = self.task.make_world(1, variant)
        # the network's weights (walkers with evolved bodies: the body is set up too)
        params = self.task.prepare(world, np.asarray(self.ghost[0], np.float64)[None, :])
        gen = episode(world, self.net, params, seed)
        ghost = _Ghost(world, gen)
        try:
            for _ in range(steps + 1):
                next(gen)
        except StopIteration:
            ghost.gen = None
        return ghost

    def _fast_forward(self, gen):
        """Simulate without drawing (a frame every ``FF_DRAW_EVERY`` s to stay responsive)
        until the episode ends, F is pressed again or another key needs the loop."""
        t_next = self.clock() + FF_DRAW_EVERY
        while True:
            try:
                self._step(gen)
            except StopIteration as stop:
                self.fast = False
                return stop
            if self.clock() >= t_next:
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
        # panel text
        self.title_text(self.heading + (f", track {self.shown % self.n_views + 1} of "
                                        f"{self.n_views}" if self.n_views > 1 else ""))
        if self.panel == "replay":
            lines = self._replay_lines(world, info)
        else:
            lines = self._evolve_lines(world, fitness, n_alive, info, leader)
        for setter, text in zip(self.lines, lines):
            setter(text)
        if self._flash_until and self.clock() > self._flash_until:
            self.flash_text("")
            self._flash_until = 0.0

    def _evolve_lines(self, world, fitness, n_alive: int, info, leader: int) -> list[str]:
        unit = "" if self.task.name == "cars" else " m"
        # with several episodes a genome, "now" is one episode's fitness and the rest are
        # means over the episodes: a car can be ahead now of the best-ever mean
        k = self._episodes
        one, mean_of = ("", "") if k == 1 else (" (1 episode)", f" (mean of {k})")
        w = 7 if k == 1 else 0  # the numbers' width: aligned, or compact beside a note
        lines = [f"{self.noun} alive {n_alive:>4} / {world.n_agents}",
                 f"now   best {fitness.max():{w}.3f}{unit}  mean {fitness.mean():{w}.3f}{unit}"
                 f"{one}"]
        if self.history:
            last = self.history[-1]
            lines.append(f"last  best {last['best']:{w}.3f}{unit}  mean "
                         f"{last['mean']:{w}.3f}{unit}{mean_of}")
        else:
            lines.append("last  (no generation finished yet)")
        if self.best_ever is not None:
            lines.append(f"best ever  {self.best_ever[1]:.3f}{unit}{mean_of and ' ' + mean_of}")
        else:
            lines.append("best ever  -")
        if self.lap_graph is not None:
            lines.append(self._lap_line(world, info, leader))
        lines.append(self._status_line(world))
        return lines

    def _lap_line(self, world, info, leader: int) -> str:
        """The leader's lap clock and the fastest lap so far: of the finished generations
        (``best_lap_time`` of their rows) or driven by any car in this window, the first
        the moment it is done."""
        self.lap_now = float(world.lap_clock()[leader])
        live = np.asarray(info["best_lap_time"], np.float64)
        if self.mode != "replay" and np.isfinite(live).any():  # (a replay is no new lap)
            gen = self.generation if self.generation is not None else len(self.history) + 1
            self._lap_record = _faster(self._lap_record, (float(np.nanmin(live)), gen))
            self.best_lap = _faster(self.best_lap, self._lap_record)
        best, gen = self.best_lap
        where = (f" (gen {gen}{', one track' if self._episodes > 1 else ''})"
                 if np.isfinite(best) else "")
        return f"lap  now {_fmt_lap(self.lap_now)}  best {_fmt_lap(best)}{where}"

    def _replay_lines(self, world, info) -> list[str]:
        """The replay panel: one agent (the first) of ``world``."""
        lines = [f"model    {self.model_name or '-'}"]
        limit = world.config.max_time
        if self.task.name == "cars":
            lines.append(f"track    {world.track.name}")
            laps, progress = int(info["laps"][0]), float(info["progress"][0])
            goal = f" of {world.config.laps}" if world.config.laps else ""
            lines.append(f"laps     {laps}{goal} done, progress {progress:.3f}")
            if "reached" in info:  # a course with a goal
                lines.append(f"goal     {float(info['goal_distance'][0]):.1f} m away"
                             f"{', reached' if info['reached'][0] else ''}")
            state = ("finished" if info["finished"][0] else "crashed" if info["crashed"][0]
                     else "stalled" if info["stalled"][0] else "time up" if world.done[0]
                     else "driving")
            unit = "" if "reached" in info else " laps"  # a goal's fitness has no unit
        else:
            lines.append(f"creature {world.spec.name}")
            lines.append(f"distance {float(info['distance'][0]):.2f} m")
            state = ("fallen" if info["fallen"][0] else "time up" if world.done[0]
                     else "walking")
            unit = " m"
        lines.append(f"time     {float(info['time_alive'][0]):.1f} s of {limit:g} s, {state}")
        saved = self.best_ever[1] if self.best_ever is not None else float("nan")
        lines.append(f"fitness  {saved:.3f}{unit} when saved" if np.isfinite(saved)
                     else "fitness  - (not saved with the model)")
        lines.append(self._status_line(world, clock=False))
        return lines

    def _status_line(self, world, clock: bool = True) -> str:
        fps = ""
        if len(self._fps_times) > 1:
            span = self._fps_times[-1] - self._fps_times[0]
            if span > 0:
                fps = f"  {(len(self._fps_times) - 1) / span:4.0f} fps"
        t = f"t {world.time:5.1f} s  " if clock else ""
        if self.mode == "replay":
            state = "REPLAY (R: back)"
        elif self.mode == "done":
            state = "FINISHED (R: replay)"
        elif self.fast:
            state = "FAST-FORWARD"
        elif self.paused:
            state = "PAUSED"
        else:
            state = f"speed x{self.speed:g}"
        return f"{t}{state}{fps}"

    def render(self) -> None:
        """Draw one frame (saving a screenshot if one is due), show it, keep the frame rate."""
        self._update_scene()
        win = self.window
        win.switch_to()
        self._draw.clear(win, self.renderer.background)
        self.batch.draw()
        self.frame += 1
        if self._capture_path is not None:
            path, self._capture_path = self._capture_path, None
            self.save(path)
            self.flash(f"saved {path}")
        due = self.screenshot is not None and self.screenshot_saved is None \
            and self.frame >= self.frames
        if due:
            self.save(self.screenshot)
            self.screenshot_saved = self.screenshot
        win.flip()
        now = self.clock()
        self._fps_times = (self._fps_times + [now])[-30:]
        for hook in list(self.frame_hooks):
            hook(self)
        if due:
            raise ScreenshotTaken(str(self.screenshot))
        if self.fps and self.screenshot is None:
            self._next_frame = max(self._next_frame + 1.0 / self.fps, now - 0.25)
            delay = self._next_frame - self.clock()
            if delay > 0:
                self.sleep(delay)

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
        self._draw.clear(self.window, self.renderer.background)
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


class WindowBackend:
    """A backend for :meth:`evo.run.EvolutionRun.run` that draws each generation in
    ``watch``; returns exactly what ``SerialBackend(run.spec).evaluate`` returns."""

    workers = 1

    def __init__(self, run, watch: Watch):
        self.run = run
        self.watch = watch
        self.task = run.task
        watch.archive = run.archive  # a QD run's archive: M shows its map
        watch.episodes = run.cfg.episodes  # a row's numbers are means over this many
        history = getattr(run.strategy, "history", None)  # neat: species sizes
        if history is not None and watch.panel == "evolve":
            watch.species = history  # the strategy's own list: it grows as the run goes
            watch.set_panel("evolve")
        if run.archive is not None:
            watch.flash("M: the archive map (click a cell to replay its elite)", 6.0)
        watch.on_quit = self._checkpoint
        # Ctrl-C: the run's SIGINT handler sets ``_stop``; a watched generation can last
        # minutes, so stop at once (the unfinished generation is dropped, exit status 130)
        watch.interrupted = lambda: bool(run.stop)

    def _checkpoint(self) -> None:
        # Between generations the strategy's state is the last finished generation's:
        # this writes the same checkpoint ``run`` already has (or the first, at generation 0).
        self.run.save_checkpoint()

    def evaluate(self, thetas, seed):
        run, watch, task = self.run, self.watch, self.task
        watch.history = run.rows
        if np.isfinite(run.strategy.best_fitness):
            watch.best_ever = (run.strategy.best_params.copy(), run.strategy.best_fitness)
            watch.ghost = watch.best_ever if watch.ghost_enabled else None
        watch.generation = run.generation + 1
        heading = f"{task.name}: generation {run.generation + 1} / {run.cfg.generations}"
        seeds = as_seeds(seed)
        if len(seeds) > 1 and hasattr(task, "episodes_world"):
            # every episode's track in one world, in one pass; one track drawn (T: next)
            from sims.car_world import TrackGroup

            world, order = task.episodes_world(len(thetas), seeds)
            k = len(seeds)
            watch.heading = heading
            in_order = [seeds[i] for i in order]  # the groups' episodes
            weights = task.prepare(world, np.tile(thetas, (k, 1)))  # cars: evolved rays
            gen = episode(world, task.network(), weights, in_order, [0] * k)
            views = [TrackGroup(world, g) for g in range(k)]
            info, _ = watch.play(gen, views, weights[: len(thetas)], seed=in_order)
            return combine(task.split(world, info, order))
        results = []
        for k, s in enumerate(seeds):
            watch.heading = heading + (f", episode {k + 1} / {len(seeds)}"
                                       if len(seeds) > 1 else "")
            world = task.world(len(thetas), s)
            # walkers: each genome's body, cars: its rays, if evolved
            weights = task.prepare(world, thetas)
            gen = episode(world, task.network(), weights, s)
            info, steps = watch.play(gen, world, weights, seed=s)
            results.append(task.result(info, steps))
        return combine(results)

    def close(self) -> None:
        pass  # the window belongs to the caller (it may linger after the run)



SPECIES_COLORS = ((250, 210, 60), (90, 200, 255), (240, 120, 90), (150, 220, 120),
                  (200, 140, 250), (250, 160, 200), (120, 230, 220), (230, 230, 230))


def species_series(history) -> list:
    """NEAT's species sizes, rows ``(generation, species, size)``, as the lines of a
    stacked plot: per species (in order of founding) the running total of the sizes up
    to it, by generation, NaN where it does not exist; first a zero line (the scale's
    floor)."""
    h = np.asarray(history, np.int64).reshape(-1, 3)
    if not len(h):
        return []
    gens, keys = np.unique(h[:, 0]), np.unique(h[:, 1])
    sizes = np.zeros((len(keys), int(gens.max())))
    sizes[np.searchsorted(keys, h[:, 1]), h[:, 0] - 1] = h[:, 2]
    tops = np.cumsum(sizes, axis=0)
    tops[sizes == 0] = np.nan
    return [(np.zeros(len(tops[0])), (90, 90, 100)),
            *((t, SPECIES_COLORS[i % len(SPECIES_COLORS)]) for i, t in enumerate(tops))]


class WindowPlayer:
    """The ``player`` of a :class:`rl.run.ReinforceRun`: draws each round of a policy-gradient
    iteration as it is simulated (the same round the headless run computes, bit for bit).
    The panel's history is the run's iterations: best and mean laps (metres for walkers)
    of their episodes and the fastest lap; the ghost is the best greedy policy so far."""

    def __init__(self, run, watch: Watch):
        self.run = run
        self.watch = watch
        watch.on_quit = run.save_checkpoint  # the last finished iteration's state
        watch.interrupted = lambda: bool(run.stop)

    def __call__(self, gen, world, order, seeds) -> None:
        run, watch = self.run, self.watch
        score = "laps" if run.cfg.task == "cars" else "distance"
        watch.history = [{"generation": r["iteration"], "best": r[f"{score}_best"],
                          "mean": r[f"{score}_mean"],
                          "best_lap_time": r.get("lap_time", float("nan"))}
                         for r in run.rows]
        if run.rows:
            watch.best_ever = (run.best_theta.copy(), run.best_score)
            watch.ghost = watch.best_ever if watch.ghost_enabled else None
        watch.generation = run.iteration + 1
        watch.heading = (f"{run.cfg.task}: {run.cfg.pg.algorithm} iteration "
                         f"{run.iteration + 1}, {run.env_steps:,} / "
                         f"{run.cfg.total_steps:,} steps")
        actor = run.ac.actor.get_params()  # the greedy network's weights: its activations
        if order is None:
            watch.play(gen, world, np.tile(actor, (world.n_agents, 1)), seed=seeds)
            return
        from sims.car_world import TrackGroup

        views = [TrackGroup(world, g) for g in range(len(order))]
        watch.several_tracks = len(views) > 1  # T: the next track
        watch.play(gen, views, np.tile(actor, (views[0].n_agents, 1)), seed=list(seeds))
