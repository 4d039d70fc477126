"""The live window shows evolution in minutes: faster than real time by default, a ghost of
the best genome so far driving each episode again (which never changes fitness), and lap
times in the panel (the leader's lap clock, the best lap, a lap-time graph).

Real windows (tests/gui.py: Xvfb or pyglet's EGL headless mode); state and pixels are read
back from them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from common.config import build
from evo.config import EvolveConfig
from evo.run import EvolutionRun
from tests.gui import gui  # noqa: F401 - the session fixture
from tests.neuroevo.test_watch import draw_frame, make_watch, panel_labels, press

NAN = float("nan")


def cfg(task="cars", **over):
    base = {"task": task, "population": 10, "generations": 1, "seed": 3,
            "cars": {"world": {"max_time": 5.0, "stall_time": 2.0}},
            "walkers": {"world": {"max_time": 2.0}}}
    return build(EvolveConfig, {**base, **over}, "test: ")


def test_the_default_speed_is_faster_than_real_time(gui, tmp_path):  # noqa: F811
    """A generation of N physics steps took N frames (x1, real time at 60 fps): generation 1
    of `neuroevo evolve cars` played for 28 s, generation 2 for 60 s."""
    from neuroevo.cli import build_parser
    from neuroevo.watch import WindowBackend
    from neuroevo.window_options import open_watch

    # the shipped world (60 s episodes), few cars that stall quickly
    run = EvolutionRun(cfg(cars={"world": {"max_time": 60.0, "stall_time": 4.0}}),
                       tmp_path / "run")
    args = build_parser().parse_args(["evolve", "cars", "--screenshot", str(tmp_path / "x.png"),
                                      "--frames", "100000"])
    watch = open_watch(run.task, args, "test", tmp_path, "evolving")  # the command's window
    steps = []
    watch.frame_hooks.append(lambda w: steps.append(round(w._world.time / w._world.dt)))
    from pyglet.window import key

    try:
        assert run.run(WindowBackend(run, watch)) == "completed"
        n = steps[-1]  # physics steps of the generation
        assert n > 100
        assert watch.speed >= 4
        assert watch.frame < n / 2, (watch.frame, n)
        # a whole 60 s episode plays in a few seconds at 60 frames per second
        assert 3600 / watch.speed / 60 <= 8.0
        # and +/- still change it
        s = watch.speed
        press(watch, key.PLUS)
        watch.poll()
        assert watch.speed > s
        press(watch, key.MINUS, key.MINUS)
        watch.poll()
        assert watch.speed < s
    finally:
        watch.close()


class FakeClock:
    """Seconds that move only when the test moves them, or when the window sleeps."""

    def __init__(self, t: float = 100.0):
        self.t = t
        self.sleeps: list[tuple[int, float]] = []  # (frame, seconds slept)
        self.watch = None

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append((self.watch.frame if self.watch else 0, seconds))
        self.t += seconds


def test_a_late_frame_takes_more_steps_to_keep_the_pace(gui, tmp_path):  # noqa: F811
    from neuroevo.watch import CATCH_UP

    run = EvolutionRun(cfg(), tmp_path / "run")
    clock = FakeClock()
    fps = 64.0  # frame times in whole 64ths of a second: exact in binary
    watch = make_watch(run.task, fps=fps, speed=4, clock=clock, sleep=clock.sleep)
    try:
        assert watch._catch_up() == 1.0  # the first frame: nothing to catch up
        clock.t += 2 / fps  # this frame came 2 frames late
        assert watch._catch_up() == 2.0
        clock.t += 1 / fps  # on time
        assert watch._catch_up() == 1.0
        clock.t += 0.5 / fps  # early: never fewer steps than the speed's
        assert watch._catch_up() == 1.0
        clock.t += 3.5 / fps
        assert watch._catch_up() == 3.5
        clock.t += 10.0  # a stall: capped
        assert watch._catch_up() == CATCH_UP
        watch.fps = None  # no frame rate to hold: steps per frame are exact
        clock.t += 1.0
        assert watch._catch_up() == 1.0
        assert clock.sleeps == []  # none of this waited
    finally:
        watch.close()


def test_frames_are_paced_by_the_clock_and_a_stall_is_not_made_up(gui, tmp_path):  # noqa: F811
    """At ``fps`` every frame waits out the rest of its 1/fps; after a frame that took 1 s
    the window does not rush 64 frames to make up for it: at most 0.25 s of frames (16 at
    64 fps) come without a wait, then the pace is one frame a 1/64 s again."""
    from neuroevo.watch import WindowBackend

    run = EvolutionRun(cfg(), tmp_path / "run")
    clock = FakeClock()
    fps = 64.0
    watch = make_watch(run.task, fps=fps, speed=1, clock=clock, sleep=clock.sleep)
    clock.watch = watch
    stall = 10

    def slow_frame(w):
        if w.frame == stall:
            clock.t += 1.0  # drawing this frame took a second

    watch.frame_hooks.append(slow_frame)
    try:
        assert run.run(WindowBackend(run, watch)) == "completed"
        slept = dict(clock.sleeps)
        assert watch.frame > stall + 40
        assert len(slept) == len(clock.sleeps)  # at most one wait a frame
        # before the stall: every frame waits exactly one frame time (drawing takes no
        # time on this clock)
        assert [slept.get(f) for f in range(1, stall)] == [1 / fps] * (stall - 1)
        # the stalled frame and the 16 after it (0.25 s of frames) do not wait
        skipped = range(stall, stall + 18)
        assert all(f not in slept for f in skipped), sorted(slept)
        # then the pace is back: one frame time each
        assert all(slept.get(f) == 1 / fps for f in range(stall + 18, watch.frame)), slept
    finally:
        watch.close()


def test_the_ghost_drives_the_same_episode_and_never_changes_fitness(gui, tmp_path):  # noqa: F811
    """Three generations with the ghost on (generations 2 and 3 have one), with a replay, a
    pause and fast-forward on the way: fitness.csv is the headless run's.  The ghost is the
    best genome so far, stepped in lockstep with the population's world, and it drives
    exactly as that genome's elite copy in the population does."""
    from pyglet.window import key

    from neuroevo.watch import WindowBackend

    c = cfg(generations=3, population=12)
    headless = EvolutionRun(c, tmp_path / "headless")
    assert headless.run() == "completed"
    run = EvolutionRun(c, tmp_path / "window")
    watch = make_watch(run.task, speed=4)
    seen = []  # (generation, ghost or None, elite copy's position, ghost's position)
    best_at_start = {}

    def hook(w):
        g = run.generation + 1
        if g not in best_at_start:
            best_at_start[g] = None if not np.isfinite(run.strategy.best_fitness) else \
                run.strategy.best_params.copy()
        if w.mode != "evolve":
            return
        ghost = w._ghost
        if ghost is None:
            seen.append((g, None, None, None))
            return
        assert ghost.world is not w._world and ghost.world.n_agents == 1
        if ghost.gen is not None:  # lockstep while it drives
            assert ghost.world.time == pytest.approx(w._world.time)
        else:  # it crashed or finished: it stays where it stopped
            assert ghost.world.done[0] and ghost.world.time <= w._world.time
        np.testing.assert_array_equal(w.ghost[0], best_at_start[g])
        copies = np.flatnonzero((w._thetas == w.ghost[0]).all(axis=1))
        pos = w._world.position[copies[0]].copy() if len(copies) else None
        seen.append((g, True, pos, ghost.world.position[0].copy()))
        if g == 3 and len([s for s in seen if s[0] == 3]) == 3:
            press(w, key.R)  # replay the best (no ghost there)...
        if g == 3 and len([s for s in seen if s[0] == 3]) == 5:
            press(w, key.SPACE)
        if g == 3 and len([s for s in seen if s[0] == 3]) == 7:
            press(w, key.SPACE, key.F)  # ...resume and fast-forward, ghost in step

    watch.frame_hooks.append(hook)
    replayed = []
    watch.frame_hooks.append(lambda w: w.mode == "replay" and replayed.append(w._ghost))
    try:
        assert run.run(WindowBackend(run, watch)) == "completed"
    finally:
        watch.close()
    assert json.dumps(run.rows, sort_keys=True) == json.dumps(headless.rows, sort_keys=True)
    assert (tmp_path / "window" / "fitness.csv").read_text() == \
        (tmp_path / "headless" / "fitness.csv").read_text()
    assert replayed and all(g is None for g in replayed)
    by_gen = {g: [s for s in seen if s[0] == g] for g in (1, 2, 3)}
    assert by_gen[1] and all(s[1] is None for s in by_gen[1])  # no best genome yet
    for g in (2, 3):
        assert by_gen[g] and all(s[1] for s in by_gen[g])
        # the GA keeps its elite: the ghost's genome is in the population and drives as it
        elite = [(p, q) for _, _, p, q in by_gen[g] if p is not None]
        assert elite
        for p, q in elite:
            np.testing.assert_allclose(q, p, atol=1e-9)


def test_the_ghost_is_drawn_translucent_where_its_car_is(gui, tmp_path):  # noqa: F811
    from neuroevo.watch import WindowBackend
    from sims.view.cars import GHOST, GHOST_ALPHA

    run = EvolutionRun(cfg(generations=2), tmp_path / "run")
    watch = make_watch(run.task, speed=2)
    shots = {}

    def hook(w):
        g = run.generation + 1
        if w.frame % 7 or w.mode != "evolve" or g in shots:
            return
        if g == 2 and w._ghost is not None and w._world.time < 1.0:
            return  # wait until the ghost has left the start line
        shots[g] = (draw_frame(w), w._ghost.world.car_polygons()[0].copy()
                    if w._ghost is not None else None, w._world.car_polygons().copy())

    watch.frame_hooks.append(hook)
    try:
        assert run.run(WindowBackend(run, watch)) == "completed"
        to_screen = watch.renderer.world_to_screen
        vp_w = watch.size[0] - 330
        renderer = watch.renderer
    finally:
        watch.close()
    assert set(shots) == {1, 2}
    px1, ghost1, _ = shots[1]
    assert ghost1 is None
    # generation 1: no ghost, none of its colour anywhere above the legend line
    assert not (px1[30:, :vp_w] == GHOST).all(axis=2).any()
    px2, quad, cars = shots[2]
    corners = to_screen(quad)
    (x0, y0), (x1, y1) = np.floor(corners.min(0)) - 2, np.ceil(corners.max(0)) + 2
    box = px2[int(y0):int(y1) + 1, int(x0):int(x1) + 1]
    outline = (box == GHOST).all(axis=2)
    assert outline.sum() >= 6, outline.sum()  # its opaque outline
    # inside: translucent, the car below shows through (neither the ghost's colour nor
    # what is under it)
    centre = np.floor(to_screen(quad.mean(0))).astype(int)
    got = px2[centre[1], centre[0]].astype(int)
    assert not (got == GHOST).all()
    under = {tuple(int(v) for v in c) for c in renderer.car_colors[:, :3]}
    assert tuple(got) not in under
    a = GHOST_ALPHA / 255
    blends = [np.array(GHOST) * a + np.array(u) * (1 - a) for u in under | {(72, 74, 84)}]
    from sims.view.draw import LEADER

    blends.append(np.array(GHOST) * a + np.array(LEADER) * (1 - a))
    assert min(np.abs(got - b).sum() for b in blends) <= 12, got
    # and nowhere far from it
    far = (px2[30:, :vp_w] == GHOST).all(axis=2)
    ys, xs = np.nonzero(far)
    assert ((xs >= x0) & (xs <= x1) & (ys + 30 >= y0) & (ys + 30 <= y1)).all()


def test_no_ghost_option_and_walkers_have_none(gui, tmp_path):  # noqa: F811
    from neuroevo.cli import build_parser
    from neuroevo.watch import WindowBackend
    from neuroevo.window_options import open_watch

    args = build_parser().parse_args(["evolve", "cars", "--no-ghost", "--screenshot",
                                      str(tmp_path / "x.png"), "--speed", "16"])
    run = EvolutionRun(cfg(generations=2), tmp_path / "run")
    watch = open_watch(run.task, args, "test", tmp_path, "evolving")
    ghosts = []
    watch.frame_hooks.append(lambda w: ghosts.append(w._ghost))
    try:
        run.run(WindowBackend(run, watch))
        assert watch.speed == 16
        assert not watch.renderer.ghost.colors()[:, 3].any()  # hidden
    finally:
        watch.close()
    assert ghosts and all(g is None for g in ghosts)

    run = EvolutionRun(cfg("walkers", generations=2), tmp_path / "walk")
    watch = make_watch(run.task)
    try:
        assert run.run(WindowBackend(run, watch)) == "completed"
        assert watch.lap_graph is None and not watch.ghost_enabled
        assert not any(s.label.text.startswith("lap") for s in watch.lines)
        assert watch.speed >= 2  # faster than real time for walkers too
    finally:
        watch.close()


# -- lap times ----------------------------------------------------------------------------
def lap_line(watch) -> str:
    lines = [s.label.text for s in watch.lines if s.label.text.startswith("lap")]
    assert len(lines) == 1, [s.label.text for s in watch.lines]
    return lines[0]


def test_the_panel_shows_the_leaders_lap_clock_the_best_lap_and_a_lap_graph(
        gui, tmp_path):  # noqa: F811
    from neuroevo.watch import LAP_COLOR, PANEL_WIDTH
    from tests.sims.textcheck import inside, overlapping

    run = EvolutionRun(cfg(), tmp_path / "run")
    watch = make_watch(run.task, speed=3)
    try:
        world = run.task.make_world(4)
        thetas = np.zeros((4, watch.net.num_params))
        thetas[:, -2] = 1.0  # full throttle bias: they drive off the line
        rows = [{"best": 0.3, "mean": 0.1, "best_lap_time": NAN},
                {"best": 1.0, "mean": 0.2, "best_lap_time": 41.25},
                {"best": 0.9, "mean": 0.3, "best_lap_time": NAN},
                {"best": 1.0, "mean": 0.4, "best_lap_time": 39.5},
                {"best": 1.0, "mean": 0.5, "best_lap_time": 40.0}]
        watch.history = rows
        world.reset(0)
        for _ in range(90):
            world.step(np.tile([1.0, 0.0], (4, 1)))
        watch.attach(world, thetas)
        watch.render()
        clock = world.lap_clock()
        assert clock[watch.leader] == pytest.approx(1.5)
        text = lap_line(watch)
        assert text.split()[:4] == ["lap", "now", f"{clock[watch.leader]:.2f}", "s"]
        assert text.split()[4:] == ["best", "39.50", "s", "(gen", "4)"]
        assert watch.best_lap == (39.5, 4)
        # one point per generation with a lap, at its generation
        np.testing.assert_array_equal(watch.lap_graph.points[0],
                                      [[2, 41.25], [4, 39.5], [5, 40.0]])
        assert watch.lap_graph.count.label.text == "3 of 5 gens"
        assert watch.lap_graph.top.label.text == "41.2 s"
        assert watch.lap_graph.bottom.label.text == "39.5 s"
        px = draw_frame(watch)
        x, y, w, h = watch.lap_graph.rect
        drawn = (px[y:y + h, x:x + w] == LAP_COLOR).all(axis=2)
        assert drawn.sum() > 20
        # the panel's text fits and nothing overlaps
        labels = panel_labels(watch)
        panel = (watch.size[0] - PANEL_WIDTH, 0, PANEL_WIDTH, watch.size[1])
        assert all(inside(lb, panel) for lb in labels)
        assert not overlapping(labels)

        # no lap yet: dashes, and the graph says so
        watch.history = rows[:1]
        watch.attach(world, thetas)
        watch.render()
        assert lap_line(watch).split()[3:] == ["s", "best", "-"]
        assert len(watch.lap_graph.points[0]) == 0
        assert watch.lap_graph.count.label.text == "no lap in 1 generation"
        assert watch.lap_graph.lines.count == 0
    finally:
        watch.close()


def test_a_lap_in_this_episode_is_the_best_lap_at_once(gui, tmp_path):  # noqa: F811
    run = EvolutionRun(cfg(), tmp_path / "run")
    watch = make_watch(run.task)
    try:
        world = run.task.make_world(2)
        world.reset(0)
        watch.history = [{"best": 1.0, "mean": 0.5, "best_lap_time": 41.0}]
        watch.attach(world, np.zeros((2, watch.net.num_params)))
        world.best_lap_time[1] = 38.25  # (only the panel reads it)
        watch.render()
        assert lap_line(watch).split()[4:] == ["best", "38.25", "s", "(gen", "2)"]
        assert watch.best_lap == (38.25, 2)
        # it stays the best lap, also when the generation's row has a slower one
        world.best_lap_time[1] = 45.0
        watch.render()
        assert lap_line(watch).split()[4:] == ["best", "38.25", "s", "(gen", "2)"]
        watch.history = [*watch.history, {"best": 1.0, "mean": 0.5, "best_lap_time": 40.0}]
        watch.attach(world, np.zeros((2, watch.net.num_params)))
        assert watch.best_lap == (38.25, 2)
        watch.history = [{"best": 1.0, "mean": 0.5, "best_lap_time": 37.0}]  # (a resume)
        watch.attach(world, np.zeros((2, watch.net.num_params)))
        assert watch.best_lap == (37.0, 1)
    finally:
        watch.close()


def test_with_several_episodes_the_panel_says_which_numbers_are_means(
        gui, tmp_path):  # noqa: F811
    """A row's best and lap time are means over a genome's episodes (tracks), a lap in the
    window is one track's: the lap line shows only the laps driven here, marked as one
    track's, the lap graph and the last/best-ever lines say "mean of 10", and "now" is one
    episode's."""
    from neuroevo.watch import PANEL_WIDTH
    from tests.sims.textcheck import inside, overlapping

    run = EvolutionRun(cfg(), tmp_path / "run")
    watch = make_watch(run.task)
    try:
        world = run.task.make_world(2)
        world.reset(0)
        watch.episodes = 10
        watch.history = [{"best": 2.8, "mean": 0.5, "best_lap_time": 56.83}]
        watch.best_ever = (np.zeros(watch.net.num_params), 2.823)
        thetas = np.zeros((2, watch.net.num_params))
        watch.attach(world, thetas)
        watch.render()
        assert lap_line(watch).split()[4:] == ["best", "-"]  # 56.83 is no lap of one track
        world.best_lap_time[1] = 33.62
        watch.render()
        assert lap_line(watch).split()[4:] == ["best", "33.62", "s", "(gen", "2,", "one",
                                               "track)"]
        texts = [t.label.text for t in watch.lines]
        assert texts[1].startswith("now ") and texts[1].endswith("(1 episode)")
        assert texts[2].startswith("last ") and texts[2].endswith("(mean of 10)")
        assert texts[3] == "best ever  2.823  (mean of 10)"
        assert watch.lap_graph.title.text == "lap, mean of 10 (best car)"
        labels = panel_labels(watch)
        panel = (watch.size[0] - PANEL_WIDTH, 0, PANEL_WIDTH, watch.size[1])
        assert all(inside(lb, panel) for lb in labels)
        assert not overlapping(labels)
        watch.episodes = 1  # one track: the rows' laps are laps like the window's
        watch.attach(world, thetas)
        watch.render()
        assert watch.lap_graph.title.text == "lap time (best car)"
        assert lap_line(watch).split()[4:] == ["best", "33.62", "s", "(gen", "2)"]
        assert watch.lines[3].label.text == "best ever  2.823"
    finally:
        watch.close()


def test_a_watched_run_graphs_the_lap_of_every_generation_with_one(gui, tmp_path):  # noqa: F811
    """The shipped cars config on one track (the default; seed 0) laps within five
    generations: the window's run, its ghost on from generation 2, records it (the headless run's
    fitness.csv) and its lap graph has those points."""
    from common.config import load_config, named_config
    from neuroevo.watch import WindowBackend

    c = load_config(EvolveConfig, named_config("cars"),
                    ["generations=5", "cars.tracks=[]", "episodes=1", "cars.world.max_time=60"])
    run = EvolutionRun(c, tmp_path / "run")
    watch = make_watch(run.task, speed=64)
    lines = []  # (lap clock of the leader, lap line)
    watch.frame_hooks.append(lambda w: w.frame % 25 == 0 and lines.append(
        (w._world.lap_clock()[w.leader], lap_line(w))))
    try:
        assert run.run(WindowBackend(run, watch)) == "completed"
        watch.attach(watch._world, watch._thetas)  # what linger shows after the last one
        points = watch.lap_graph.points[0]
    finally:
        watch.close()
    headless = EvolutionRun(c, tmp_path / "headless")
    assert headless.run() == "completed"
    assert (tmp_path / "run" / "fitness.csv").read_text() == \
        (tmp_path / "headless" / "fitness.csv").read_text()
    laps = [(r["generation"], r["best_lap_time"]) for r in run.rows]
    with_lap = [(g, t) for g, t in laps if np.isfinite(t)]
    assert 1 <= len(with_lap) < len(laps)
    np.testing.assert_array_equal(points, with_lap)
    # the best lap: the best cars' or a faster one another car drove
    best, gen = watch.best_lap
    assert best <= min(t for _, t in with_lap) and gen in [g for g, _ in with_lap]
    for clock, text in lines:
        assert text.split()[2] == f"{clock:.2f}"


def test_the_archive_map_shows_the_elites_and_a_click_replays_one(gui, tmp_path):  # noqa: F811
    """M draws a QD run's archive over the world (filled cells in the ramp's colours, empty
    ones dark); a click on a filled cell replays that elite, which drives exactly the
    episode it was filed with (one episode, no start jitter, the same track)."""
    from pyglet.window import key

    from neuroevo.watch import WindowBackend
    from sims.view.widgets import GridMap

    run = EvolutionRun(cfg(population=6, generations=2, strategy={"name": "map-elites"},
                           qd={"descriptors": ["mean_speed", "mean_abs_steering"],
                               "cells": [6, 5]}), tmp_path / "run")
    run.run()  # headless: the archive to show
    watch = make_watch(run.task)
    try:
        WindowBackend(run, watch)
        press(watch, key.M)
        watch.poll()
        grid = watch.archive_map
        assert isinstance(grid, GridMap)
        values, index = run.archive.map2d()
        np.testing.assert_array_equal(np.isfinite(grid.values), index >= 0)
        px = draw_frame(watch)
        x, y, w, h = grid.rect
        scale = watch.size[0] / watch.window.width

        def centre(i, j):
            return int(x + (i + 0.5) * w / 6), int(y + (j + 0.5) * h / 5)

        filled = list(zip(*np.nonzero(index >= 0)))
        empty = list(zip(*np.nonzero(index < 0)))
        assert filled and empty
        for i, j in empty[:3]:
            cx, cy = centre(i, j)
            assert tuple(px[cy, cx, :3]) == GridMap.EMPTY
        best = np.unravel_index(np.nanargmax(values), values.shape)
        cx, cy = centre(*best)
        assert tuple(px[cy, cx, :3]) == (70, 210, 90)  # the top of the ramp: green
        # a click on an empty cell only says so; on a filled one, its elite replays
        ex, ey = centre(*empty[0])
        watch.window.dispatch_event("on_mouse_press", ex / scale, ey / scale, 1, 0)
        watch.poll()
        assert watch.replay_cell is None and not watch.replay_requested
        i, j = filled[0]
        cell = int(index[i, j])
        watch.window.dispatch_event("on_mouse_press", *(v / scale for v in centre(i, j)), 1, 0)
        watch.poll()
        assert watch.replay_cell == cell and watch.replay_requested
        assert watch.archive_map is None  # hidden for the replay
        seen = []
        watch.frame_hooks.append(lambda wt: seen.append(
            (wt.heading, float(wt._world.info()["progress"][0]))))
        watch.replay_requested = False  # as the loops do before they replay
        watch.replay_best()
        assert seen and seen[-1][0].startswith(f"replay: cell {i},{j} (")
        assert seen[-1][1] == run.archive.fitness[cell]
        watch.archive = None  # a run without descriptors: M says why there is no map
        press(watch, key.M)
        watch.poll()
        assert watch.archive_map is None and "no archive" in watch.flash_text.label.text
    finally:
        watch.close()


@pytest.mark.parametrize("track", ["oval", "sbends", "technical", "procedural:3:0.9",
                                   "procedural:8:1", "procedural:10:0.3"])
def test_the_ghost_caption_and_the_flash_line_are_off_the_track(gui, tmp_path,  # noqa: F811
                                                                 track):
    run = EvolutionRun(cfg(cars={"track": track, "world": {"max_time": 5.0}}),
                       tmp_path / "run")
    watch = make_watch(run.task, ghost=True)
    try:
        world = run.task.make_world(2)
        world.reset(0)
        watch.attach(world, np.zeros((2, watch.net.num_params)))
        watch.render()
        watch.ghost_text("ghost: the best so far (2.823) drives this episode again")
        watch.flash("every car on track 3 is out: track 4 still drives (T: next)")
        walls = np.vstack([watch.renderer.world_to_screen(p)
                           for p in world.wall_polylines()])  # (K, 2) pixels
        ghost, flash = watch.ghost_text.label, watch.flash_text.label
        assert ghost.text.startswith("ghost:") and flash.text.startswith("every car")
        below = ghost.y + ghost.content_height  # the caption's top edge
        above = flash.y  # the flash line's baseline, drawn upwards from here
        assert walls[:, 1].min() > below, (walls[:, 1].min(), below)
        assert walls[:, 1].max() < above, (walls[:, 1].max(), above)
    finally:
        watch.close()
