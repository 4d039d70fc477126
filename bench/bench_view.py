"""Frames per second of the live window with many cars (or walkers), on whatever OpenGL is
here (software llvmpipe under Xvfb on the 2-core machine).

    xvfb-run -a .venv/bin/python bench/bench_view.py            # 100 cars
    xvfb-run -a .venv/bin/python bench/bench_view.py --task walkers --agents 50
    .venv/bin/python bench/bench_view.py --evolve --generations 30   # `neuroevo evolve cars`
    .venv/bin/python bench/bench_view.py --evolve --config cars-qd --map --generations 5

Measures the viewer's real frame loop (neuroevo.watch.Watch.play without frame pacing): each frame
steps the world once (speed x1), runs the population's policy, updates every vertex array,
draws the batch and flips.  Reported: frames per second over the whole episode, and the
share of a frame spent drawing (update + draw + flip) versus simulating.  Where there is no
display the script starts Xvfb itself (or falls back to pyglet's EGL headless mode).

``--evolve``: what a user of ``neuroevo evolve TASK`` waits for instead: the shipped config
(``--generations`` of it) in the window as the command opens it (60 fps held, the default
speed, the ghost on), timed per generation: wall seconds, frames, physics steps, frames per
second, and the whole run.  ``--config NAME``: another shipped config of the task (e.g.
``cars-qd``, a quality-diversity run); ``--map``: the archive map drawn over the world from
the first frame on (the M key of a quality-diversity run), refreshed every generation.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", choices=["cars", "walkers"], default="cars")
    p.add_argument("--agents", type=int, default=100)
    p.add_argument("--frames", type=int, default=600)
    p.add_argument("--size", default="1280x720")
    p.add_argument("--evolve", action="store_true",
                   help="time the shipped config's generations in the window instead")
    p.add_argument("--generations", type=int, default=30, help="with --evolve")
    p.add_argument("--speed", type=float, default=None,
                   help="with --evolve: physics steps per frame (default: the window's)")
    p.add_argument("--config", default=None,
                   help="with --evolve: a shipped config (default: the task's own)")
    p.add_argument("--map", action="store_true",
                   help="with --evolve: draw the archive map (a quality-diversity config)")
    args = p.parse_args()
    if args.evolve:
        return evolve(args)

    from tests.gui import ensure_display

    mode = ensure_display()
    from common.config import build
    from evo.config import EvolveConfig
    from evo.rollout import episode, finish
    from evo.tasks import TaskSpec
    from neuroevo.watch import Watch

    cfg = build(EvolveConfig, {"task": args.task, "population": args.agents,
                               "cars": {"world": {"max_time": 60.0}}}, "bench: ")
    task = TaskSpec(args.task, cfg.cars, cfg.walkers, cfg.policy).build()
    net = task.network()
    rng = np.random.default_rng(0)
    # Drivers that stay on the road for a while: small random weights, full throttle bias.
    thetas = rng.normal(0, 0.3, (args.agents, net.num_params))
    w, h = (int(v) for v in args.size.split("x"))
    watch = Watch(task, size=(w, h), fps=None, offscreen=True)
    world = task.world(args.agents)

    # simulation alone, for the split
    gen = episode(world, net, thetas, seed=0)
    t0 = time.perf_counter()
    sim_steps = 0
    for _ in range(args.frames):
        try:
            next(gen)
        except StopIteration:
            break
        sim_steps += 1
    sim_s = (time.perf_counter() - t0) / max(sim_steps, 1)
    finish(gen)

    gen = episode(world, net, thetas, seed=0)
    watch.attach(world, thetas)
    t0 = time.perf_counter()
    frames = 0
    alive = []
    for _ in range(args.frames):
        watch.poll()
        try:
            next(gen)
        except StopIteration:
            break
        watch.render()
        alive.append(int((~world.done).sum()))
        frames += 1
    dt = time.perf_counter() - t0
    from pyglet import gl

    fps = frames / dt
    print(f"{args.task}: {args.agents} agents, {frames} frames at {w}x{h} "
          f"({mode}, {gl.gl_info.get_renderer()})")
    print(f"frames per second: {fps:.0f}  ({1000 / fps:.2f} ms per frame: simulation "
          f"{1000 * sim_s:.2f} ms, drawing {1000 / fps - 1000 * sim_s:.2f} ms); "
          f"agents alive: {alive[0]} at the start, {alive[-1]} at the end")
    watch.close()


def evolve(args) -> None:
    """Time ``neuroevo evolve TASK`` (the shipped config) in the paced window."""
    import tempfile

    from tests.gui import ensure_display

    mode = ensure_display()
    from common.config import load_config, named_config
    from evo.config import EvolveConfig
    from evo.run import EvolutionRun
    from neuroevo.watch import Watch, WindowBackend, keys

    cfg = load_config(EvolveConfig, named_config(args.config or args.task),
                      [f"generations={args.generations}"])
    w, h = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as out:
        run = EvolutionRun(cfg, Path(out) / "run")
        watch = Watch(run.task, size=(w, h), offscreen=True, speed=args.speed)
        ticks = []  # (time, generation under way, world time) after each frame

        def hook(wt):
            ticks.append((time.perf_counter(), run.generation, wt._world.time))
            if args.map and wt.archive_map is None:
                if wt.archive is None:
                    raise SystemExit(f"--map: {cfg.task} with this config keeps no archive")
                keys.toggle_map(wt)  # as the M key does

        watch.frame_hooks.append(hook)
        t0 = time.perf_counter()
        run.run(WindowBackend(run, watch))
        total = time.perf_counter() - t0
        from pyglet import gl

        renderer = gl.gl_info.get_renderer()
        speed = watch.speed
        watch.close()
    print(f"{args.config or args.task}: {cfg.population} agents, {run.generation} "
          f"generations at {w}x{h} ({mode}, {renderer}), speed x{speed:g}, 60 fps held"
          f"{', the archive map drawn' if args.map else ''}")
    print("generation  seconds  frames  sim s  fps")
    t = np.array([k[0] for k in ticks])
    g = np.array([k[1] for k in ticks])
    start = t0
    for gen in range(run.generation):
        sel = g == gen
        if not sel.any():
            continue
        end = t[sel][-1]
        frames = int(sel.sum())
        sim = ticks[int(np.flatnonzero(sel)[-1])][2]
        print(f"{gen + 1:>10}  {end - start:7.2f}  {frames:6d}  {sim:5.1f}  "
              f"{frames / (end - start):4.0f}")
        start = end
    print(f"whole run: {total:.1f} s, {len(ticks)} frames, {len(ticks) / total:.0f} fps; "
          f"{total / max(run.generation, 1):.1f} s per generation")


if __name__ == "__main__":
    main()
