"""Benchmark: car-steps per second of CarWorld, with references measured in the same run.

    .venv/bin/python bench/bench_car_world.py [--cars 50 200] [--repeats 7] [--steps 300]

For each car count it times, on the default track with 5 rays:
  * world   - CarWorld.step: car dynamics, pymunk step, batched numpy ray sensors, progress;
  * physics - the same world's pymunk part only (batch write of velocities, space.step,
              batch read of poses and contacts): the floor a step cannot go below;
  * pyrays  - the same cars' 5 rays done the slow way, one pymunk segment_query_first per ray,
              plus the physics part (what the numpy sensors replace).
Prints medians over repeats and the ratios world/physics and world/pyrays as a markdown table.

    .venv/bin/python bench/bench_car_world.py --multi [--cars 100] [--tracks default ...]

Several tracks at once: N cars on each of K tracks (default: the default track and
procedural:100..102) stepped as one several-track world, against the same K worlds stepped
one after the other, and against N cars on the first track alone; prints the medians and
their ratios to one track. Then the same for whole evaluations (`evo.tasks.CarTask`, policy
network included): a population of N hand-made "steer toward the longer side ray" networks
(throttles 0.35-0.7, weights jittered) driving one episode on each track, together
(`evaluate_episodes`, what the backends run) or one episode after another (`evaluate`).

    .venv/bin/python bench/bench_car_world.py --evolved [--cars 50 200]

Evolved sensors (`cars.sensors: evolve`, each car its own rays): the fixed fan against
per-car rays from sensor genes 0 (the same rays through the per-car path, tables for 75 m)
and from random genes (sd 1), interleaved; and the fixed fan on a 75-m table, which
separates the cost of the longer table from that of the per-car arrays.
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
    n_each = [g.stop - g.start for g in world.groups]
    throttle = np.concatenate([np.linspace(0.35, 0.7, n) for n in n_each])
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


def driver_population(net, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, D) genomes of the 5-ray, 8-tanh policy that steer like `driver`."""
    (w1, b1), (w2, b2) = net.layer_slices()
    theta = np.zeros(net.num_params)
    w = np.zeros((6, 8))
    w[[4, 0, 3, 1], 0] = [0.4, -0.4, 0.2, -0.2]  # h0 ~ 0.2 (2 (o4 - o0) + (o3 - o1))
    theta[w1] = w.ravel()
    theta[b1.start + 1] = 1.0  # h1 = tanh(1)
    out = np.zeros((8, 2))
    out[0, 1] = 5.0  # steer ~ tanh(5 h0)
    theta[w2] = out.ravel()
    pop = np.repeat(theta[None], n, axis=0) + rng.normal(0, 0.02, (n, net.num_params))
    throttle = np.linspace(0.35, 0.7, n)
    pop[:, w2.start + 1 * 2 + 0] = np.arctanh(throttle) / np.tanh(1.0)  # h1 -> throttle
    return pop


def task_evaluations(args) -> None:
    """Whole evaluations of a population on K tracks: together, one by one, one track."""
    from evo.rollout import PolicyConfig
    from evo.tasks import CarsConfig, CarTask

    world = CarWorldConfig(max_time=args.episode_time, stall_time=5.0)
    task = CarTask(CarsConfig(tracks=list(args.tracks), world=world), PolicyConfig())
    one = CarTask(CarsConfig(track=args.tracks[0], world=world), PolicyConfig())
    k = len(args.tracks)
    seeds = list(range(k))  # seed s drives training track s % K: every track once
    for n in args.cars:
        pop = driver_population(task.network(), n, np.random.default_rng(0))
        runs = {"together": lambda pop=pop: task.evaluate_episodes(pop, seeds),
                "one by one": lambda pop=pop: [task.evaluate(pop, s) for s in seeds],
                "one track": lambda pop=pop: one.evaluate(pop, 0)}
        for f in runs.values():  # warm up (builds the worlds)
            f()
        times = {name: [] for name in runs}
        for _ in range(args.repeats):
            for name, f in runs.items():
                t0 = time.perf_counter()
                f()
                times[name].append(time.perf_counter() - t0)
        med = {name: statistics.median(t) for name, t in times.items()}
        res = task.evaluate_episodes(pop, seeds)
        laps = [float(np.mean(r["progress"])) for r in res]
        print(f"whole evaluations, population {n}, {args.episode_time:g}-s episodes, mean "
              f"progress per track {', '.join(f'{x:.2f}' for x in laps)} laps; median of "
              f"{args.repeats}")
        print()
        print("| evaluation | seconds | x one track |")
        print("|---|---:|---:|")
        print(f"| 1 track | {med['one track']:.3f} | 1.00 |")
        print(f"| {k} tracks, one world (batched) | {med['together']:.3f} | "
              f"{med['together'] / med['one track']:.2f} |")
        print(f"| {k} tracks, one episode after another | {med['one by one']:.3f} | "
              f"{med['one by one'] / med['one track']:.2f} |")
        print()


def multi_track(args) -> None:
    """N cars on each of K tracks: one several-track world, K worlds, one track."""
    tracks = [load_track(t) for t in args.tracks]
    cfg = CarWorldConfig(max_time=120.0)
    for n in args.cars:
        multi = CarWorld(tracks, [n] * len(tracks), cfg)
        separate = [CarWorld(t, n, cfg) for t in tracks]
        one = CarWorld(tracks[0], n, cfg)
        states = [{} for _ in range(len(tracks) + 2)]
        time_world(multi, 50, states[0])  # warm up
        for w, st in zip(separate + [one], states[1:]):
            time_world(w, 50, st)
        m_t, s_t, o_t = [], [], []
        for _ in range(args.repeats):  # interleaved
            m_t.append(time_world(multi, args.steps, states[0]))
            s_t.append(sum(time_world(w, args.steps, st)
                           for w, st in zip(separate, states[1:])))
            o_t.append(time_world(one, args.steps, states[-1]))
        m, sep, o = (statistics.median(t) / args.steps * 1e3 for t in (m_t, s_t, o_t))
        k = len(tracks)
        print(f"`python {' '.join(sys.argv)}` ({platform.python_version()}, numpy "
              f"{np.__version__}, pymunk {pymunk.version}); {n} cars per track, tracks "
              f"{', '.join(args.tracks)}; median of {args.repeats} x {args.steps} steps")
        print()
        print("| world | ms per step | car-steps/s | x one track |")
        print("|---|---:|---:|---:|")
        print(f"| {n} cars, 1 track | {o:.3f} | {n / o * 1e3:,.0f} | 1.00 |")
        print(f"| {n} cars x {k} tracks, one world | {m:.3f} | {k * n / m * 1e3:,.0f} | "
              f"{m / o:.2f} |")
        print(f"| {n} cars x {k} tracks, {k} worlds in turn | {sep:.3f} | "
              f"{k * n / sep * 1e3:,.0f} | {sep / o:.2f} |")
        print()
    task_evaluations(args)


def time_physics(world: CarWorld, steps: int) -> float:
    """Seconds for `steps` of the world's pymunk part alone, cars driving at 10 m/s."""
    n = world.n_agents
    yaw = np.full(n, 0.02)
    t0 = time.perf_counter()
    for _ in range(steps):
        c, s = np.cos(world.heading), np.sin(world.heading)
        world._pymunk_step(np.stack([c, s], axis=1) * 10.0, yaw)
    return time.perf_counter() - t0


def pymunk_rays(world: CarWorld) -> np.ndarray:
    """(N, R) distances with one pymunk segment_query_first per ray (the slow reference)."""
    walls = pymunk.ShapeFilter(mask=WALL_CATEGORY)
    rng = world.sensor.range
    out = np.full((world.n_agents, world.n_rays), rng)
    space_of = {}
    for k, sl in enumerate(world._pymunk.slices):
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
        world._pymunk_step(np.stack([c, s], axis=1) * 10.0, yaw)
        pymunk_rays(world)
    return time.perf_counter() - t0


def evolved_sensors(args) -> None:
    from sims import ray_layout

    track = load_track(args.track)
    fan = CarWorldConfig().sensors
    top = ray_layout.max_range(fan)
    print("| cars | fixed fan | genes 0 (per car) | random genes (per car) | fixed fan, "
          f"{top:g}-m table |")
    print("|---:|---:|---:|---:|---:|")
    for n in args.cars:
        worlds = {"fixed": CarWorld(track, n), "genes0": CarWorld(track, n, max_range=top),
                  "random": CarWorld(track, n, max_range=top),
                  "table": CarWorld(track, n, max_range=top)}
        n_genes = ray_layout.n_genes(fan)
        worlds["genes0"].set_sensors(*ray_layout.layout(fan, np.zeros((n, n_genes))))
        genes = np.random.default_rng(0).normal(0, 1, (n, n_genes))
        worlds["random"].set_sensors(*ray_layout.layout(fan, genes))
        times = {k: [] for k in worlds}
        states = {k: {} for k in worlds}
        for k, w in worlds.items():
            time_world(w, 50, states[k])  # warm up
        for _ in range(args.repeats):  # interleaved, so load changes hit all alike
            for k, w in worlds.items():
                times[k].append(time_world(w, args.steps, states[k]))
        rate = {k: n * args.steps / statistics.median(t) for k, t in times.items()}
        print(f"| {n} | {rate['fixed']:,.0f} | {rate['genes0']:,.0f} | {rate['random']:,.0f} "
              f"| {rate['table']:,.0f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cars", type=int, nargs="+", default=[50, 200])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--track", default="default")
    ap.add_argument("--multi", action="store_true", help="several tracks at once (see above)")
    ap.add_argument("--evolved", action="store_true", help="evolved sensors (see above)")
    ap.add_argument("--episode-time", type=float, default=30.0, help="--multi: s per episode")
    ap.add_argument("--tracks", nargs="+", default=["default", "procedural:100",
                                                    "procedural:101", "procedural:102"])
    args = ap.parse_args()
    if args.evolved:
        return evolved_sensors(args)
    if args.multi:
        if args.cars == [50, 200]:
            args.cars = [100]
        return multi_track(args)
    track = load_track(args.track)
    rows = []
    for n in args.cars:
        cfg = CarWorldConfig(max_time=120.0)
        world = CarWorld(track, n, cfg)
        ref = CarWorld(track, n, cfg, engine="pymunk")  # its pymunk part alone, timed
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
