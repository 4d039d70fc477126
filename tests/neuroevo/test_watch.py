"""The live window: it never changes the simulation, keys work, screenshots show the world.

Real pyglet windows under Xvfb (started by tests/gui.py when DISPLAY is unset) or pyglet's
EGL headless mode; keys are real pyglet key events dispatched to the window."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from common.config import build
from evo.backends import SerialBackend
from evo.config import EvolveConfig
from evo.run import EvolutionRun
from tests.conftest import REPO, assert_user_error, run_cli
from tests.gui import gui  # noqa: F401 - the session fixture

SMALL = {"population": 10, "generations": 1, "seed": 3,
         "cars": {"world": {"max_time": 5.0, "stall_time": 2.0}},
         "walkers": {"world": {"max_time": 2.0}}}
CLI_SMALL = ["--population", "6", "--set", "cars.world.max_time=1.0", "--set",
             "cars.world.stall_time=0", "--seed", "1", "--quiet"]


def small_cfg(task="cars", **over):
    return build(EvolveConfig, {**SMALL, "task": task, **over}, "test: ")


def make_watch(task, **kw):
    from neuroevo.watch import Watch

    kw.setdefault("fps", None)
    return Watch(task, offscreen=True, **kw)


def press(watch, *symbols):
    """Real key presses through pyglet's event dispatch (handled at the next poll)."""
    for s in symbols:
        watch.window.dispatch_event("on_key_press", s, 0)


def test_importing_the_command_and_watch_does_not_import_pyglet():
    code = ("import sys, neuroevo.cli, neuroevo.commands.evolve, neuroevo.watch, evo.run; "
            "neuroevo.cli.build_parser(); "
            "sys.exit(1 if 'pyglet' in sys.modules else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("task,over", [
    ("cars", {}), ("walkers", {}),
    # walkers whose bodies evolve: each its own body
    ("walkers", {"walkers": {"body": "evolve", "world": {"max_time": 2.0}}}),
    # two differing episodes per genome, shown one after the other
    ("cars", {"episodes": 2, "cars": {"world": {**SMALL["cars"]["world"], "start_jitter": 2.0}}}),
    # three training tracks, played in one pass
    ("cars", {"episodes": 3, "cars": {"world": SMALL["cars"]["world"],
                                      "tracks": ["oval", "procedural:3:1", "sbends"]}}),
])
def test_a_window_run_gives_the_headless_fitness(gui, tmp_path, task, over):  # noqa: F811
    from neuroevo.watch import WindowBackend

    cfg = small_cfg(task, **over)
    headless = EvolutionRun(cfg, tmp_path / "headless")
    assert headless.run() == "completed"
    windowed = EvolutionRun(cfg, tmp_path / "window")
    watch = make_watch(windowed.task, speed=8)
    try:
        assert windowed.run(WindowBackend(windowed, watch)) == "completed"
        assert watch.frame > 5  # it drew while simulating
    finally:
        watch.close()
    assert json.dumps(windowed.rows, sort_keys=True) == \
        json.dumps(headless.rows, sort_keys=True)  # exact: the window only reads the world
    assert (tmp_path / "window" / "fitness.csv").read_text() == \
        (tmp_path / "headless" / "fitness.csv").read_text()


def test_keys_pause_resume_speed_replay_and_fast_forward_leave_fitness_unchanged(
        gui, tmp_path):  # noqa: F811
    from pyglet.window import key

    from neuroevo.watch import WindowBackend

    cfg = small_cfg("cars")
    run = EvolutionRun(cfg, tmp_path / "run")
    thetas = run.strategy.ask(np.random.default_rng(0))
    expected = SerialBackend(run.spec).evaluate(thetas, 11)
    watch = make_watch(run.task, speed=1, shots_dir=tmp_path)
    watch.best_ever = (thetas[4], 0.5)
    log = []  # (frame, world time, mode, paused) after each frame

    def script(w):
        log.append((w.frame, w._world.time, w.mode, w.paused, w.speed))
        if w.frame == 3:
            press(w, key.SPACE)  # pause
        elif w.frame == 8:
            press(w, key.SPACE, key.PLUS, key.PLUS)  # resume at x4
        elif w.frame == 12:
            press(w, key.S)  # screenshot to shots_dir
        elif w.frame == 14:
            press(w, key.R)  # replay the best-ever genome...
        elif w.frame == 20:
            press(w, key.R)  # ...and back
        elif w.frame == 24:
            press(w, key.MINUS)
        elif w.frame == 26:
            press(w, key.F)  # fast-forward to the end of the generation

    watch.frame_hooks.append(script)
    try:
        got = WindowBackend(run, watch).evaluate(thetas, 11)
    finally:
        watch.close()
    for k in expected:
        np.testing.assert_array_equal(got[k], expected[k], err_msg=k)

    frames = {f: (t, mode, paused, speed) for f, t, mode, paused, speed in log}
    # a press is handled at the next frame's poll: paused for frames 4 to 8, time stands still
    assert frames[4][2] and frames[8][2] and not frames[9][2] and not frames[3][2]
    assert frames[2][0] < frames[3][0] == frames[4][0] == frames[8][0] < frames[9][0]
    # x4 after resuming: four physics steps per frame
    assert frames[9][3] == 4.0
    assert frames[10][0] - frames[9][0] == pytest.approx(4 * run.task.world(1).dt)
    # R: a one-car replay, then back to the generation where it left off
    assert frames[15][1] == "replay" and frames[21][1] == "evolve"
    assert frames[15][0] < frames[14][0]  # the replay world starts at t = 0
    assert frames[21][0] == pytest.approx(frames[14][0] + 4 * run.task.world(1).dt)
    assert frames[25][3] == 2.0
    # F: the rest of the episode in a few frames, not (max_time / dt) / speed
    assert max(frames) < 26 + 20
    assert len(list(tmp_path.glob("screenshot-*.png"))) == 1


def test_evolved_walkers_are_shown_and_replayed_with_their_own_bodies(
        gui, tmp_path):  # noqa: F811
    from pyglet.window import key

    from neuroevo.watch import WindowBackend

    cfg = small_cfg("walkers", walkers={"body": "evolve", "world": {"max_time": 1.0}})
    run = EvolutionRun(cfg, tmp_path / "run")
    thetas = run.strategy.ask(np.random.default_rng(0))
    expected = SerialBackend(run.spec).evaluate(thetas, 11)
    watch = make_watch(run.task, speed=4)
    watch.best_ever = (thetas[4], 0.5)
    seen = {}

    def script(w):
        if w.frame == 2:
            seen["evolve"] = w._world.body_sizes
            press(w, key.R)  # replay the best-ever genome: its body too
        elif w.frame == 5:
            seen["replay"] = (w.mode, w._world.body_sizes)
            press(w, key.R)

    watch.frame_hooks.append(script)
    try:
        got = WindowBackend(run, watch).evaluate(thetas, 11)
    finally:
        watch.close()
    np.testing.assert_array_equal(got["fitness"], expected["fitness"])
    d = run.net.num_params
    sizes = np.array([[b.size for b in run.task.body(g).bodies] for g in thetas[:, d:]])
    assert len(np.unique(sizes.round(9), axis=0)) == len(thetas)  # ten different bodies
    np.testing.assert_array_equal(seen["evolve"], sizes)
    assert seen["replay"][0] == "replay"
    np.testing.assert_array_equal(seen["replay"][1], sizes[4:5])


def test_t_draws_the_next_track_with_its_ghost_and_changes_no_number(gui, tmp_path):  # noqa: F811
    from pyglet.window import key

    from neuroevo.watch import WindowBackend
    from sims.car_world import CarWorld

    tracks = ["oval", "procedural:3:1", "sbends"]
    cfg = small_cfg("cars", episodes=3, cars={"world": SMALL["cars"]["world"],
                                              "tracks": tracks})
    run = EvolutionRun(cfg, tmp_path / "run")
    thetas = run.strategy.ask(np.random.default_rng(0))
    seeds = [30, 31, 32]  # consecutive: one episode on each track
    expected = SerialBackend(run.spec).evaluate(thetas, seeds)
    watch = make_watch(run.task, speed=2, ghost=True)
    watch.ghost = (thetas[2], 0.5)
    log = []  # (frame, drawn track, world time, ghost world time, title)

    def script(w):
        g = w._ghost
        log.append((w.frame, w.renderer.track, w._world.time,
                    None if g is None else g.world.time, w.title_text.label.text))
        if w.frame in (5, 9):
            press(w, key.T)

    watch.frame_hooks.append(script)
    try:
        got = WindowBackend(run, watch).evaluate(thetas, seeds)
    finally:
        watch.close()
    for k in expected:
        np.testing.assert_array_equal(got[k], expected[k], err_msg=k)
    world, order = run.task.episodes_world(len(thetas), seeds)
    assert isinstance(world, CarWorld) and len(world.tracks) == 3
    assert order == [0, 1, 2]  # groups follow the training tracks (seed 30 drives track 0)
    frames = {f: rest for f, *rest in log}
    order = world.tracks  # one group per episode
    assert frames[5][0] is order[0] and frames[6][0] is order[1] and frames[10][0] is order[2]
    assert "track 1 of 3" in frames[5][3] and "track 2 of 3" in frames[6][3]
    # the ghost joins the episode under way: its clock is the population's
    for f in (6, 8, 10, 12):
        assert frames[f][2] == pytest.approx(frames[f][1])


def test_the_view_leaves_a_track_where_every_car_is_out(gui, tmp_path):  # noqa: F811
    """Cars on three tracks in one world, all driving straight at full throttle: they crash
    track by track. Once every car on the drawn track is out while another track still
    drives, the window draws that one (and says why); the fitness is the serial backend's."""
    from neuroevo.watch import WindowBackend
    from sims.track_group import TrackGroup

    tracks = ["oval", "sbends", "procedural:3:1"]
    cfg = small_cfg("cars", episodes=3, population=4,
                    cars={"world": {"max_time": 30.0, "stall_time": 30.0},
                          "tracks": tracks})
    run = EvolutionRun(cfg, tmp_path / "run")
    thetas = np.zeros((4, run.strategy.num_params))
    thetas[:, run.net.num_params - 2] = 1.0  # the throttle's bias: straight ahead, flat out
    seeds = [30, 31, 32]
    expected = SerialBackend(run.spec).evaluate(thetas, seeds)
    world, order = run.task.episodes_world(len(thetas), seeds)
    views = [TrackGroup(world, g) for g in range(3)]
    watch = make_watch(run.task, speed=4)
    log = []  # (frame, shown track, its cars all out, cars out per track, flash text)

    def script(w):
        log.append((w.frame, w.shown, [bool(np.all(v.done)) for v in views],
                    w.flash_text.label.text))

    watch.frame_hooks.append(script)
    watch.shown = 1  # the sbends: its cars are out first
    try:
        got = WindowBackend(run, watch).evaluate(thetas, seeds)
    finally:
        watch.close()
    for k in expected:
        np.testing.assert_array_equal(got[k], expected[k], err_msg=k)
    out_at = [next(f for f, _, out, _ in log if out[g]) for g in range(3)]
    assert len(set(out_at)) == 3, out_at  # the tracks' cars crash at different times
    switched = [(f, shown) for (f, shown, *_), (_, before, *_) in zip(log[1:], log) if
                shown != before]
    assert [shown for _, shown in switched] == [2, 0], (switched, out_at)  # (no key pressed)
    for frame, shown, out, _ in log:
        if out[shown]:  # the drawn track is out only once every track is
            assert all(out), (frame, shown, out)
    assert any("is out: track" in flash for *_, flash in log)


def test_esc_writes_a_checkpoint_and_stops_the_run(gui, tmp_path):  # noqa: F811
    from pyglet.window import key

    from neuroevo.watch import WindowBackend

    run = EvolutionRun(small_cfg("cars", generations=3), tmp_path / "run")
    watch = make_watch(run.task, speed=4)
    watch.frame_hooks.append(lambda w: w.frame == 5 and press(w, key.ESCAPE))
    try:
        status = run.run(WindowBackend(run, watch))
    finally:
        watch.close()
    assert status == "interrupted" and watch.closed
    resumed = EvolutionRun.resume(tmp_path / "run")
    assert resumed.generation == 0  # the unfinished generation is dropped


def test_ctrl_c_stops_a_watched_generation_at_once(gui, tmp_path):  # noqa: F811
    from neuroevo.watch import WindowBackend

    run = EvolutionRun(small_cfg("cars", generations=3), tmp_path / "run")
    watch = make_watch(run.task, speed=1)

    def sigint(w):  # what the run's SIGINT handler does
        if w.frame == 5:
            run.stop.request()

    watch.frame_hooks.append(sigint)
    try:
        status = run.run(WindowBackend(run, watch))
    finally:
        watch.close()
    assert status == "interrupted" and not watch.closed and watch.frame == 5
    assert run.generation == 0 and run.rows == []


def test_screenshot_shows_the_track_along_the_centerline_and_the_cars(gui, tmp_path):  # noqa: F811
    from matplotlib.image import imread

    from neuroevo.watch import ScreenshotTaken, WindowBackend
    from sims.view import cars as view

    cfg = small_cfg("cars", population=12, cars={"world": {"max_time": 5.0}})
    run = EvolutionRun(cfg, tmp_path / "run")
    shot = tmp_path / "shot.png"
    watch = make_watch(run.task, speed=2, screenshot=shot, frames=40)
    try:
        assert run.run(WindowBackend(run, watch)) == "interrupted"
        renderer = watch.renderer
        height = watch.size[1]
    finally:
        watch.close()
    assert watch.screenshot_saved == shot and issubclass(ScreenshotTaken, Exception)
    img = np.round(imread(shot)[:, :, :3] * 255).astype(int)  # (H, W, 3), top row first
    assert img.shape == (720, 1280, 3)
    world = run.task.world(12)  # as it was when the picture was taken

    def pixels(points):
        xy = np.floor(renderer.world_to_screen(points)).astype(int)
        return img[height - 1 - xy[:, 1], xy[:, 0]]

    t = world.track
    d = np.linalg.norm(t.points[:, None] - world.position[None], axis=2).min(axis=1)
    free = (d > 6.0) & (np.linalg.norm(t.points - t.points[0], axis=1) > 2.0)
    road = pixels(t.points[free])
    assert free.sum() > 100
    assert (road == view.ROAD).all(axis=1).mean() > 0.97  # the leader's rays cross a few
    alive = ~world.done
    assert alive.sum() >= 3
    allowed = {tuple(c) for c in renderer.car_colors[alive, :3]}
    allowed |= {view.LEADER, view.LEADER_OUTLINE}
    got = pixels(world.position[alive])
    assert all(tuple(c) in allowed for c in got), (got, allowed)


# -- the panel's text ----------------------------------------------------------------------
def panel_labels(watch) -> list:
    """Every label of the side panel."""
    import pyglet

    net = watch.network
    found = [watch.title_text.label, *(s.label for s in watch.lines), *net.in_labels,
             *(t.label for t in net.out_text)]
    for g in (getattr(watch, "graph", None), getattr(watch, "lap_graph", None)):
        if g is not None:
            found += [g.title, g.top.label, g.bottom.label, g.count.label]
    found += [i for i in getattr(watch, "_panel_items", []) if isinstance(i, pyglet.text.Label)]
    unique = {id(lb): lb for lb in found}
    return list(unique.values())


def draw_frame(watch) -> np.ndarray:
    """Draw the batch as it is and read it back, row 0 at the bottom."""
    from sims.view.draw import clear

    watch.window.switch_to()
    clear(watch.window, watch.renderer.background)
    watch.batch.draw()
    px = watch.pixels()[::-1]
    watch.window.flip()
    return px


@pytest.mark.parametrize("task", ["cars", "walkers"])
def test_the_network_panel_shows_minus_signs_and_underscores(gui, tmp_path, task):  # noqa: F811
    """A pixel row of the output labels was lost: "steer -0.92" read "steer 0.92",
    "ankle_l -1.00" read "ankle l 1.00"."""
    from neuroevo.watch import PANEL_WIDTH
    from nn.members import member_activations
    from tests.sims.textcheck import assert_glyph_drawn, ink, inside, overlapping

    run = EvolutionRun(small_cfg(task), tmp_path / "run")
    watch = make_watch(run.task)  # (before anything imports pyglet: it picks EGL here)
    from sims.view.widgets import TEXT

    try:
        world = run.task.make_world(1)
        world.reset(0)
        thetas = np.zeros((1, watch.net.num_params))
        watch.attach(world, thetas)
        # a long heading and big numbers: the panel's text must still fit
        watch.heading = f"{task}: generation 1000 / 1000, episode 2 / 2 (finished)"
        watch.history = [{"best": 12345.678, "mean": -2345.678}]
        watch.best_ever = (thetas[0], 12345.678)
        watch.render()
        weights, acts = member_activations(watch.net, thetas[0], world.obs[0])
        acts[-1] = np.linspace(-0.92, -1.0, len(acts[-1]))  # every output negative
        watch.network.update(weights, acts)
        px = draw_frame(watch)
        labels = panel_labels(watch)
        out = [t.label for t in watch.network.out_text]
        fb_w, fb_h = watch.size
        mask = ink(px, (22, 24, 32))  # against the network box's fill
        for lb in out:  # (glyph metrics need the window's GL context)
            assert tuple(lb.color[:3]) == TEXT[:3]
            assert_glyph_drawn(mask, lb, "-")
            if "_" in lb.text:
                assert_glyph_drawn(mask, lb, "_")
    finally:
        watch.close()
    names = ["throttle", "steer"] if task == "cars" else ["neck", "hip_l", "knee_l",
                                                          "ankle_l", "hip_r", "knee_r",
                                                          "ankle_r"]
    # full names (none cut), negative values
    assert [lb.text.split()[0] for lb in out] == names
    assert all(lb.text.split()[1].startswith(("-0.9", "-1.0")) for lb in out)
    # nothing is cut: every text inside the panel (the network's in its box), none overlap
    panel = (fb_w - PANEL_WIDTH, 0, PANEL_WIDTH, fb_h)
    for lb in labels:
        assert inside(lb, panel), lb.text
    for lb in [*watch.network.in_labels, *out]:
        assert inside(lb, watch.network.rect), lb.text
    assert not overlapping(labels)
    assert any("12345.678" in lb.text for lb in labels)
    assert any(lb.text == watch.heading for lb in labels)


@pytest.mark.parametrize("task", ["cars", "walkers"])
def test_replay_shows_the_replay_panel(gui, tmp_path, monkeypatch, task):  # noqa: F811
    """``neuroevo replay MODEL`` showed the evolution panel ("last (no generation finished
    yet)", an empty fitness graph); it shows the model, its track or creature, progress and
    time instead."""
    from neuroevo.cli import build_parser
    from neuroevo.commands.evolve import replay
    from neuroevo.watch import PANEL_WIDTH, Watch
    from tests.sims.textcheck import inside, overlapping

    run = EvolutionRun(small_cfg(task), tmp_path / "run")
    assert run.run() == "completed"
    model = tmp_path / "run" / "best.npz"
    seen = {}
    close = Watch.close

    def close_and_look(watch):
        labels = panel_labels(watch)
        seen.update(texts=[lb.text for lb in labels], graph=getattr(watch, "graph", "?"),
                    lines=[s.label.text for s in watch.lines],
                    time=20 * watch._world.config.dt, limit=watch._world.config.max_time,
                    fits=all(inside(lb, (watch.size[0] - PANEL_WIDTH, 0, PANEL_WIDTH,
                                         watch.size[1])) for lb in labels),
                    overlaps=overlapping(labels), title=watch.title_text.label.text)
        close(watch)

    monkeypatch.setattr(Watch, "close", close_and_look)
    shot = tmp_path / "replay.png"
    args = build_parser().parse_args(["replay", str(model), "--screenshot", str(shot),
                                      "--frames", "20"])
    assert replay(args) == 0
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    texts, lines = seen["texts"], seen["lines"]
    assert not any("generation" in t for t in texts), texts  # no generation panel...
    assert seen["graph"] is None  # ...and no (empty) fitness graph
    assert seen["title"] == "replay: best.npz"
    assert lines[0].split() == ["model", "best.npz"]
    if task == "cars":
        assert lines[1].split() == ["track", run.task.track.name]
        assert lines[2].startswith("laps") and "progress 0." in lines[2]
    else:
        assert lines[1].split() == ["creature", "biped"]
        assert lines[2].startswith("distance") and lines[2].endswith(" m")
    when = [ln for ln in lines if ln.startswith("time")]
    assert len(when) == 1  # at frame 20: 20 physics steps
    assert when[0].startswith(f"time     {seen['time']:.1f} s of {seen['limit']:g} s, ")
    assert seen["fits"] and not seen["overlaps"]


# -- the command line --------------------------------------------------------------------
def test_evolve_and_replay_screenshots_from_the_command_line(gui, tmp_path):  # noqa: F811
    shot = tmp_path / "evolve.png"
    out = tmp_path / "run"
    proc = run_cli("evolve", "cars", *CLI_SMALL, "--generations", "2", "--out", str(out),
                   "--screenshot", str(shot), "--frames", "75")
    assert proc.returncode == 0, proc.stderr
    assert f"screenshot: {shot}" in proc.stdout
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "best.npz").is_file()  # generation 1 (60 steps) ended before frame 75

    model = str(out / "best.npz")
    headless = run_cli("replay", model, "--headless", "--json")
    assert headless.returncode == 0, headless.stderr
    shot2 = tmp_path / "replay.png"
    window = run_cli("replay", model, "--json", "--screenshot", str(shot2), "--frames", "20")
    assert window.returncode == 0, window.stderr
    assert json.loads(window.stdout) == json.loads(headless.stdout)
    assert shot2.is_file()


def test_without_a_display_evolve_says_so_in_one_line_and_runs_headless(tmp_path):
    # (the gui fixture sets NEUROEVO_HEADLESS=1 in this process: not for this child)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "NEUROEVO_HEADLESS")}
    proc = subprocess.run([sys.executable, "-m", "neuroevo", "evolve", "cars", "--population", "4",
                           "--generations", "1", "--set", "cars.world.max_time=1.0",
                           "--out", str(tmp_path / "run")],
                          capture_output=True, text=True, cwd=REPO, timeout=120,
                          env={**env, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("neuroevo:")]
    assert len(lines) == 1 and "no display" in lines[0] and "headless" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "run" / "fitness.png").is_file()


@pytest.mark.parametrize("args,fragment", [
    (["--frames", "10"], "--frames N needs --screenshot"),
    (["--screenshot", "x.png", "--frames", "0"], "--frames must be >= 1"),
    (["--screenshot", "x.jpg"], "must end in .png"),
    (["--speed", "0"], "--speed must be > 0"),
    (["--speed", "100"], "<= 64"),
])
def test_bad_window_options_are_user_errors(args, fragment):
    assert_user_error(run_cli("evolve", "cars", "--headless", *args), fragment)


def test_the_key_legend_lists_only_keys_that_act_there(gui, tmp_path):  # noqa: F811
    def legend(w):
        return "    ".join(lb.text for lb in w.keys_help)

    cars = EvolutionRun(small_cfg("cars"), tmp_path / "cars")
    watch = make_watch(cars.task)
    try:
        assert "R replay best" in legend(watch) and "T track" not in legend(watch)
        watch.episodes = 3  # several tracks at once: T shows the next
        assert "T track" in legend(watch) and "R replay best" in legend(watch)
        watch.set_panel("replay", "best.npz")  # R acts once the episode is over
        assert " R " not in f" {legend(watch)} " and "T track" not in legend(watch)
        assert "Esc quit" in legend(watch) and "space pause" in legend(watch)
    finally:
        watch.close()
    walkers = EvolutionRun(small_cfg("walkers"), tmp_path / "walkers")
    watch = make_watch(walkers.task)
    try:
        assert "T track" not in legend(watch) and "R replay best" in legend(watch)
        watch.set_panel("replay", "best.npz")
        assert "R " not in legend(watch) and "T " not in legend(watch)
    finally:
        watch.close()


def test_the_walkers_network_panel_says_what_a_primed_input_is(gui, tmp_path):  # noqa: F811
    from neuroevo.watch import PANEL_WIDTH
    from tests.sims.textcheck import inside, overlapping

    run = EvolutionRun(small_cfg("walkers"), tmp_path / "walkers")
    watch = make_watch(run.task)
    try:
        names = watch.renderer.input_names(watch._world1)
        assert any(n.endswith("'") for n in names)  # the joints' speeds
        assert watch.network_title.text == "leader's network (live); x' = joint x's speed"
        assert watch.network_title.font_size >= 8
        watch.set_panel("replay", "best.npz")
        assert watch.network_title.text == "network (live); x' = joint x's speed"
        labels = panel_labels(watch)
        panel = (watch.size[0] - PANEL_WIDTH, 0, PANEL_WIDTH, watch.size[1])
        assert all(inside(lb, panel) for lb in labels) and not overlapping(labels)
    finally:
        watch.close()
    cars = EvolutionRun(small_cfg("cars"), tmp_path / "cars")
    watch = make_watch(cars.task)
    try:
        assert watch.network_title.text == "leader's network (live)"
    finally:
        watch.close()


def test_ctrl_c_in_the_window_left_open_after_a_complete_run_only_closes_it(
        gui, tmp_path):  # noqa: F811
    import signal

    if gui != "x":
        pytest.skip("needs an X display (the window stays open after the run)")
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "neuroevo", "evolve", "cars", "--generations", "1",
         "--population", "4", "--set", "cars.world.max_time=1.0", "--speed", "64", "--quiet",
         "--out", str(out)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
        # Ctrl-C raises KeyboardInterrupt in the child even where the test runner was started
        # in the background, which leaves SIGINT ignored in its children
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    import queue
    import threading

    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(ln) for ln in proc.stderr] + [lines.put("")],
                     daemon=True).start()
    err = []
    try:
        while True:  # until the line the command prints as the window starts lingering
            line = lines.get(timeout=120)
            err.append(line)
            if not line or "the window stays open" in line:
                break
    except queue.Empty:
        pass
    if not err or "the window stays open" not in err[-1]:
        proc.kill()
        pytest.fail("no line as the window stayed open: " + "".join(err))
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("Ctrl-C did not close the window within 60 s")
    rest_out = proc.stdout.read()
    while True:
        line = lines.get(timeout=60)
        if not line:
            break
        err.append(line)
    assert proc.returncode == 0, "".join(err)
    text = "".join(err)
    assert "--resume" not in text and "interrupted" not in text and "Traceback" not in text
    assert "generations: 1" in rest_out


def test_the_network_panel_draws_a_neat_graphs_hidden_column(gui, tmp_path):  # noqa: F811
    """A node graph's leader: inputs, its hidden nodes, outputs; the column of hidden nodes
    comes and goes with the leader, the links follow it, and the colours are the signals
    the graph's own forward computes."""
    from nn.members import member_activations

    run = EvolutionRun(small_cfg("cars", strategy={"name": "neat"}), tmp_path / "run")
    watch = make_watch(run.task)
    try:
        net = watch.net
        layer = net.layers[0]
        world = run.task.make_world(1)
        world.reset(0)
        W, b, depth = (a[0].copy() for a in layer.split(net.theta[None]))
        W[:layer.n_in, layer.n_out:layer.n_out + 3] = 0.5  # three hidden nodes
        W[layer.n_in + layer.n_out:layer.n_in + layer.n_out + 3, :layer.n_out] = -0.7
        depth[layer.n_out:layer.n_out + 3] = 1
        depth[:layer.n_out] = 2
        theta = layer.pack(W, b, depth)
        watch.attach(world, theta[None])
        weights, acts = member_activations(net, theta, world.obs[0])
        watch.network.update(weights, acts)
        draw_frame(watch)
        n_in, n_out = layer.n_in, layer.n_out
        assert watch.network.sizes == [n_in, 3, n_out]
        assert watch.network.links.count == 2 * (n_in * 3 + 3 * n_out)
        assert watch.network.nodes.count == (n_in + 3 + n_out) * 3 * watch.network.sides
        out = net.member_policy(theta[None])(world.obs[:1])[0]
        assert [t.label.text.split()[1] for t in watch.network.out_text] == \
            [f"{v:+.2f}" for v in out]
        # the minimal graph again: two columns
        weights, acts = member_activations(net, net.theta, world.obs[0])
        watch.network.update(weights, acts)
        draw_frame(watch)
        assert watch.network.sizes == [n_in, n_out]
        assert watch.network.links.count == 2 * n_in * n_out
    finally:
        watch.close()


def test_a_neat_run_adds_the_stacked_species_graph(gui, tmp_path):  # noqa: F811
    """The species sizes of a NEAT run as a stacked plot in the evolve panel: one line per
    species at the running total of the sizes (the last line is the population), a zero
    line under them; the panel's texts stay inside it and apart."""
    from neuroevo.watch import PANEL_WIDTH, WindowBackend
    from tests.sims.textcheck import inside, overlapping

    cfg = small_cfg("cars", population=8, generations=3,
                    strategy={"name": "neat", "neat": {"compatibility_threshold": 1.0}},
                    cars={"world": {"max_time": 1.0}})
    run = EvolutionRun(cfg, tmp_path / "run")
    run.run()  # headless: three generations of species
    watch = make_watch(run.task)
    try:
        backend = WindowBackend(run, watch)
        assert backend.watch.species is run.strategy.history
        world = run.task.make_world(1)
        world.reset(0)
        watch.attach(world, run.strategy.best_params[None])
        draw_frame(watch)
        graph = watch.species_graph
        pts = graph.points
        sizes = {}
        for g, key, n in run.strategy.history:
            sizes.setdefault(key, {})[g] = n
        np.testing.assert_array_equal(pts[0], [[g, 0.0] for g in (1, 2, 3)])
        total = np.zeros(3)
        for key, line in zip(sorted(sizes), pts[1:]):
            alive = sorted(sizes[key])
            total[np.array(alive) - 1] += [sizes[key][g] for g in alive]
            np.testing.assert_array_equal(line[:, 0], alive)
            np.testing.assert_array_equal(line[:, 1], total[np.array(alive) - 1])
        assert (total == 8).all()  # the top line is the whole population
        labels = [*panel_labels(watch), graph.title, graph.top.label, graph.bottom.label,
                  graph.count.label]
        fb_w, fb_h = watch.size
        for lb in labels:
            assert inside(lb, (fb_w - PANEL_WIDTH, 0, PANEL_WIDTH, fb_h)), lb.text
        assert not overlapping(labels)
    finally:
        watch.close()
