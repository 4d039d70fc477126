"""Benchmark: car-steps per second of CarWorld, with references measured in the same run.

    .venv/bin/python bench/bench_car_world.py [--cars 50 200] [--repeats 7] [--steps 300]

For each car count it times, on the default track with 5 rays:
  * world   - CarWorld.step: car dynamics, pymunk step, batched numpy ray sensors, progress;
  * physics - the same world's pymunk part only (batch write of velocities, space.step,
              batch read of poses and contacts): the floor a step cannot go below;
  * pyrays  - the same cars' 5 rays done the slow way, one pymunk segment_query_first per ray,
              plus the physics part (what the numpy sensors replace).
Prints medians over repeats and the ratios world/physics and world/pyrays as a markdown table.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time

import numpy as np
import pymunk

from sims.car import WALL_CATEGORY
from sims.car_world import CarWorld, CarWorldConfig
from sims.track import load_track


def driver(obs: np.ndarray, throttle: np.ndarray, n_rays: int) -> np.ndarray:
    """Steer toward the longer side ray; per-car throttle spreads the cars along the track."""
    steer = 2.0 * (obs[:, n_rays - 1] - obs[:, 0]) + 1.0 * (obs[:, n_rays - 2] - obs[:, 1])
    return np.stack([throttle, np.clip(steer, -1.0, 1.0)], axis=1)


def time_world(world: CarWorld, steps: int, state: dict) -> float:
    """Seconds for `steps` world steps (resetting when every car is done)."""
    throttle = np.linspace(0.35, 0.7, world.n_agents)
    obs = state.get("obs")
    if obs is None:
        obs = world.reset(seed=0)
    t0 = time.perf_counter()
    for _ in range(steps):
        obs, *_ = world.step(driver(obs, throttle, world.n_rays))
        if world.done.all():
            obs = world.reset(seed=0)
    elapsed = time.perf_counter() - t0
    state["obs"] = obs
    return elapsed


def time_physics(world: CarWorld, steps: int) -> float:
    """Seconds for `steps` of the world's pymunk part alone, cars driving at 10 m/s."""
    n = world.n_agents
    yaw = np.full(n, 0.02)
    t0 = time.perf_counter()
    for _ in range(steps):
        c, s = np.cos(world.heading), np.sin(world.heading)
        world._physics(np.stack([c, s], axis=1) * 10.0, yaw)
    return time.perf_counter() - t0


def pymunk_rays(world: CarWorld) -> np.ndarray:
    """(N, R) distances with one pymunk segment_query_first per ray (the slow reference)."""
    walls = pymunk.ShapeFilter(mask=WALL_CATEGORY)
    rng = world.sensor.range
    out = np.full((world.n_agents, world.n_rays), rng)
    space_of = {}
    for k, sl in enumerate(world._slices):
        for i in range(sl.start, sl.stop):
            space_of[i] = world.spaces[k]
    for i in range(world.n_agents):
        x, y = world.position[i]
        for r, a in enumerate(world.sensor.angles):
            ang = world.heading[i] + a
            end = (x + rng * np.cos(ang), y + rng * np.sin(ang))
            hit = space_of[i].segment_query_first((x, y), end, 0.0, walls)
            if hit is not None:
                out[i, r] = hit.alpha * rng
    return out


def time_pyrays(world: CarWorld, steps: int) -> float:
    """Seconds for `steps` of physics plus pymunk ray queries."""
    n = world.n_agents
    yaw = np.full(n, 0.02)
    t0 = time.perf_counter()
    for _ in range(steps):
        c, s = np.cos(world.heading), np.sin(world.heading)
        world._physics(np.stack([c, s], axis=1) * 10.0, yaw)
        pymunk_rays(world)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cars", type=int, nargs="+", default=[50, 200])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--track", default="default")
    args = ap.parse_args()
    track = load_track(args.track)
    rows = []
    for n in args.cars:
        cfg = CarWorldConfig(max_time=120.0)
        world = CarWorld(track, n, cfg)
        ref = CarWorld(track, n, cfg)
        state: dict = {}
        time_world(world, 50, state)  # warm up
        w_t, p_t, q_t = [], [], []
        for _ in range(args.repeats):  # interleaved, so load changes hit all three alike
            w_t.append(time_world(world, args.steps, state))
            ref.reset(seed=0)
            p_t.append(time_physics(ref, args.steps))
            ref.reset(seed=0)
            q_t.append(time_pyrays(ref, max(args.steps // 10, 10)) * 10)
        w, p, q = (n * args.steps / statistics.median(t) for t in (w_t, p_t, q_t))
        rows.append((n, w, p, q))
        print(f"cars={n}: world {w:,.0f}  physics-only {p:,.0f}  pymunk-rays {q:,.0f} car-steps/s")
    print()
    print(f"`python {' '.join(sys.argv)}` ({platform.python_version()}, numpy {np.__version__}, "
          f"pymunk {pymunk.version}); track '{track.name}', {world.n_rays} rays, median of "
          f"{args.repeats} x {args.steps} steps")
    print()
    print("| cars | world (car-steps/s) | physics only | world / physics | "
          "pymunk ray queries | world / pymunk rays |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n, w, p, q in rows:
        print(f"| {n} | {w:,.0f} | {p:,.0f} | {w / p:.2f} | {q:,.0f} | {w / q:.1f}x |")


if __name__ == "__main__":
    main()
