"""N sensor-equipped cars on one track, stepped together (Gymnasium-like, batched).

    world = CarWorld(load_track("default"), n_agents=50)
    obs = world.reset(seed=0)                      # (N, obs_dim)
    obs, reward, terminated, truncated, info = world.step(actions)   # actions (N, 2)

Observation of car i: `obs[i, :R]` ray distances to the walls divided by the ray range (1 =
nothing in range), ray 0 the rightmost, ray R-1 the leftmost; `obs[i, R]` forward speed
divided by `max_speed` (negative when reversing). Action: `[throttle, steer]` in [-1, 1];
throttle < 0 brakes, then reverses; steer > 0 turns left. Reward: metres of new best progress
along the centerline this step. A car that touches a wall is stopped and terminated; all cars
are truncated at `max_time` (and, if `stall_time` > 0, when they gain less than
`stall_distance` of progress in that long). On a course with a goal (a track with
`goal`, :func:`sims.track_geometry.with_course`) a car whose centre comes within the goal
radius has reached it: it is finished and terminated. Once a car is done its observation is
frozen and its reward is 0; `terminated`/`truncated` stay True until `reset`.

Cars never collide with each other, and a wall contact ends a car's drive, so between the
walls a car moves exactly as pymunk would move it (``p += v dt``, ``angle += w dt``): the
world integrates every car in numpy and asks pymunk only about the few cars that
:class:`sims.contact.WallContacts` finds near a wall (pymunk's collision of the car's box
with the wall capsules decides the contact).  ``engine="pymunk"`` steps every car through
pymunk instead (the reference the tests compare with, bit for bit): the cars are then
spread over several pymunk spaces of at most `cars_per_space` cars (with a copy of the
walls each), which keeps the broad phase linear.

Where the rest lives: the end rules, the per-car episode state and ``info`` in
:mod:`sims.car_episode` (mixed into :class:`CarWorld`); the wall capsules and both ways of
asking pymunk in :mod:`sims.car_physics`; one track's cars of a several-track world, seen
as a world for drawing, in :mod:`sims.track_group`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pymunk

from sims.car import CarParams, car_corners, car_velocities
from sims.car_episode import EpisodeRules
from sims.car_physics import PymunkCars, WallProbe
from sims.contact import WallContacts
from sims.errors import SimsError
from sims.progress import ProgressTracker
from sims.sensors import RaySensor, SensorParams
from sims.track import load_track
from sims.track_geometry import Track


@dataclass(frozen=True)
class CarWorldConfig:
    """Settings of a car world (SI units)."""

    dt: float = 1.0 / 60.0  # s, fixed physics step
    max_time: float = 60.0  # s, every car is truncated after this long
    laps: int = 0  # a car that completes this many laps is terminated (0: no limit)
    stall_time: float = 0.0  # s, truncate a car that gains < stall_distance in this long (0: off)
    stall_distance: float = 5.0  # m
    start_jitter: float = 0.0  # m lateral, and (x 0.05 rad) heading, random start offsets
    cars_per_space: int = 50  # cars per pymunk space
    car: CarParams = field(default_factory=CarParams)
    sensors: SensorParams = field(default_factory=SensorParams)

    def __post_init__(self) -> None:
        if not self.dt > 0 or not self.max_time > 0:
            raise SimsError("car world: dt and max_time must be > 0")
        if self.laps < 0 or self.cars_per_space < 1 or self.stall_time < 0:
            raise SimsError("car world: laps, stall_time must be >= 0, cars_per_space >= 1")


class CarWorld(EpisodeRules):
    """N cars on one track. See the module docstring for the contract."""

    act_dim = 2

    def __init__(
        self, track: Track | str | Path | Sequence[Track | str | Path],
        n_agents: int | Sequence[int], config: CarWorldConfig | None = None,
        max_range: float | None = None, behaviour: bool = False, engine: str = "numpy",
    ) -> None:
        """`track`: a Track, or a spec for :func:`~sims.track.load_track`.

        Several tracks at once: `track` a list of K tracks and `n_agents` a list of K car
        counts; cars 0..n_0-1 drive track 0, the next n_1 track 1, and so on (`group` says
        which car is on which). Each car's numbers are exactly those it would have in a
        world of its own track, but one step advances all of them with one set of numpy
        calls (the tracks' sensor tables, segments and centerlines are stacked; every pymunk
        space holds one track's walls). `world.track` is then the first track.
        `max_range`: the longest ray :meth:`set_sensors` may give a car (default the fan's).
        `behaviour`: `info` also sums, per car, its |speed|, |steer| and offset from the
        centerline over the steps it drives (`sum_speed`, `sum_abs_steering`,
        `sum_lateral`: what behaviour descriptors average; five vector ops a step).
        `engine`: "numpy" (cars move in numpy, pymunk decides wall contacts) or "pymunk"
        (every car stepped by pymunk: the reference, with the same numbers)."""
        if engine not in ("numpy", "pymunk"):
            raise SimsError(f"car world: engine must be numpy or pymunk, got {engine!r}")
        self.engine = engine
        several = isinstance(track, (list, tuple))
        tracks = list(track) if several else [track]
        counts = [int(c) for c in n_agents] if several else [int(n_agents)]
        if len(counts) != len(tracks) or not tracks:
            raise SimsError("car world: give one car count per track")
        if min(counts) < 1:
            raise SimsError(f"car world: n_agents must be >= 1, got {n_agents}")
        self.tracks = [t if isinstance(t, Track) else load_track(t) for t in tracks]
        self.track = self.tracks[0]
        self.config = config or CarWorldConfig()
        self.params = self.config.car
        self.n_agents = sum(counts)
        self.n_rays = self.config.sensors.n_rays
        self.obs_dim = self.n_rays + 1
        self.dt = float(self.config.dt)
        self.behaviour = bool(behaviour)
        self.sensor = RaySensor(self.tracks, self.config.sensors, max_range=max_range)
        self.progress = ProgressTracker(self.tracks, self.params.max_speed * self.dt)
        self.contacts = (WallContacts(self.tracks, self.params.length, self.params.width)
                         if engine == "numpy" else None)
        bounds = np.cumsum([0] + counts)
        self.groups = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]  # cars per track
        # (N,) each car's track, None with one track (the single-track code path)
        self.group = (np.repeat(np.arange(len(counts)), counts) if several else None)
        self._inv_length = (1.0 / self.track.length if not several else
                            np.repeat([1.0 / t.length for t in self.tracks], counts))
        # courses with a goal: each car's goal (x + iy) and squared radius (-1: no goal)
        self.has_goal = any(t.goal is not None for t in self.tracks)
        if self.has_goal:
            self._goal = np.repeat([complex(*t.goal) if t.goal is not None else 0j
                                    for t in self.tracks], counts)  # (N,)
            self._goal_r2 = np.repeat([t.goal_radius ** 2 if t.goal is not None else -1.0
                                       for t in self.tracks], counts)  # (N,)
        # the pymunk side (sims.car_physics): the numpy engine's probe is built at the
        # first reset, the reference engine's cars at every reset
        self._probe: WallProbe | None = None
        self._pymunk = (PymunkCars(self.tracks, self.groups, self.params,
                                   self.config.cars_per_space) if engine == "pymunk" else None)
        self.time = 0.0
        self._reset_called = False

    def reset(self, seed: int | np.random.Generator | None | Sequence = None,
              first_member: int | Sequence[int] = 0) -> np.ndarray:
        """Put all cars on the start line; returns observations (N, obs_dim).

        With ``start_jitter``, car i starts as member ``first_member + i`` of the episode
        ``seed`` would: member m takes draw m of the seed's stream, so a population split
        into chunks (one world each) starts exactly as it would in one world.  With several
        tracks, ``seed`` and ``first_member`` may be lists (one per track): each track's
        cars then start as they would in a world of that track alone.
        """
        k = len(self.groups)
        seeds = list(seed) if isinstance(seed, (list, tuple)) else [seed] * k
        firsts = (list(first_member) if isinstance(first_member, (list, tuple))
                  else [first_member] * k)
        if len(seeds) != k or len(firsts) != k:
            raise ValueError(f"reset: give one seed and first member per track ({k})")
        n = self.n_agents
        jitter = self.config.start_jitter
        pos = np.empty((n, 2))
        heading = np.empty(n)
        for grp, track, sd, first in zip(self.groups, self.tracks, seeds, firsts):
            rng = sd if isinstance(sd, np.random.Generator) else np.random.default_rng(sd)
            m = grp.stop - grp.start
            u = rng.uniform(-1.0, 1.0, (first + m, 2))[first:]  # (m, 2)
            lateral = u[:, 0] * jitter
            heading[grp] = track.start_heading + u[:, 1] * jitter * 0.05
            pos[grp] = track.start_position[None, :] + lateral[:, None] * track.normals[0]
        if self._pymunk is not None:
            self._pymunk.reset(pos, heading)
        elif self._probe is None:  # the walls, and one car box that pymunk queries
            self._probe = WallProbe(self.tracks, self.params)
        self.position = pos.astype(np.float64)  # (N, 2)
        self.heading = heading.astype(np.float64)  # (N,)
        self.velocity = np.zeros(n, dtype=np.complex128)  # (N,) vx + i vy
        self.speed = np.zeros(n)  # (N,) forward speed, m/s
        self.time = 0.0
        self.progress.reset(self.position, self.group)
        self._start_episode()
        self.obs = self._observe()
        self._reset_called = True
        return self.obs.copy()

    def place(
        self, position: np.ndarray, heading: np.ndarray, speed: np.ndarray | None = None
    ) -> np.ndarray:
        """Move cars to positions (N, 2) with headings (N,) and forward speeds (N,) m/s.

        For tests and demos: every car becomes active again, progress restarts from the new
        positions and the clock keeps running. Returns the new observations.
        """
        if not self._reset_called:
            raise RuntimeError("call reset() before place()")
        position = np.asarray(position, dtype=np.float64).reshape(self.n_agents, 2)
        heading = np.asarray(heading, dtype=np.float64).reshape(self.n_agents)
        speed = np.zeros(self.n_agents) if speed is None else np.asarray(speed, np.float64)
        vel = np.exp(1j * heading) * speed  # (N,) complex
        if self._pymunk is not None:
            self._pymunk.place(position, heading, vel, self.crashed)
        self.position, self.heading = position.copy(), heading.copy()
        self.velocity, self.speed = vel, speed.copy()
        self.progress.reset(self.position, self.group)
        self._start_episode()
        self.obs = self._observe()
        return self.obs.copy()

    def set_sensors(self, angles: np.ndarray | None, ranges: np.ndarray | None = None) -> None:
        """Each car's own rays: angles (N, R) rad from the heading and ranges (N, R) m, up to
        `max_range` (None: the config's fan for every car); used from the next reading on,
        so set them before `reset`. See :meth:`sims.sensors.RaySensor.set_layout`."""
        if angles is not None and np.shape(angles)[:1] != (self.n_agents,):
            raise SimsError(f"car world: set_sensors needs {self.n_agents} cars' rays")
        self.sensor.set_layout(angles, ranges)

    # ------------------------------------------------------------------ stepping
    def _observe(self, active: np.ndarray | None = None) -> np.ndarray:
        """Observations (N, obs_dim).  With `active` (N,) bool, only those cars are sensed
        (when they are a minority, which keeps a late episode with few cars cheap); the
        others keep their last observation."""
        if active is None or 2 * self._n_active >= self.n_agents:
            dist = self.sensor.read(
                self.position, self.heading, self.progress.nearest, self.progress.lateral,
                self.group,
            )  # (R, N)
            self._own_reading = False
            obs = np.empty((self.n_agents, self.obs_dim))
            np.multiply(dist.T, self.sensor.inv_range, out=obs[:, : self.n_rays])
            np.multiply(self.speed, 1.0 / self.params.max_speed, out=obs[:, self.n_rays])
            return obs if active is None else np.where(active[:, None], obs, self.obs)
        idx = self._active_idx  # the cars of `active`
        sensor = self.sensor
        # renderers see the full last reading: scatter the active cars into it, in arrays
        # copied from the sensor's once (they may be shared with it before)
        full = sensor.last_origin, sensor.last_angle, sensor.last_distance
        if not self._own_reading:
            full = tuple(a.copy() for a in full)
            self._own_reading = True
        dist = sensor.read(
            self.position[idx], self.heading[idx], self.progress.nearest[idx],
            self.progress.lateral[idx], None if self.group is None else self.group[idx], idx,
        )  # (R, n_active)
        full[0][idx], full[1][:, idx], full[2][:, idx] = (
            sensor.last_origin, sensor.last_angle, dist)
        sensor.last_origin, sensor.last_angle, sensor.last_distance = full
        obs = self.obs.copy()
        inv = sensor.inv_range  # a number, or (N, R) with per-car rays
        obs[idx, : self.n_rays] = dist.T * (inv if sensor.layout is None else inv[idx])
        obs[idx, self.n_rays] = self.speed[idx] * (1.0 / self.params.max_speed)
        return obs

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Advance every car one `dt`; actions (N, 2) = [throttle, steer] in [-1, 1].

        Returns obs (N, obs_dim), reward (N,), terminated (N,), truncated (N,), info. The
        returned arrays are fresh each step (the world never writes into them later).
        """
        if not self._reset_called:
            raise RuntimeError("call reset() before step()")
        act = np.asarray(actions, dtype=np.float64)
        if act.shape != (self.n_agents, 2):
            raise ValueError(f"actions must have shape ({self.n_agents}, 2), got {act.shape}")
        act = np.minimum(np.maximum(act, -1.0), 1.0)  # NaN stays NaN
        if np.isnan(act.sum()):
            raise ValueError("actions contain NaN")
        all_active = self._all_active
        active = self._active
        vel, yaw, forward = car_velocities(
            np.exp(1j * self.heading), self.velocity, act[:, 0], act[:, 1], self.params, self.dt
        )
        if not all_active:
            vel *= active
            yaw *= active
            forward *= active
        self.velocity = vel
        self.speed = forward
        if self._pymunk is not None:
            self._pymunk_step(vel, yaw)
        else:
            self._move(vel, yaw)
        self.time += self.dt
        pos = self.position.view(np.complex128)[:, 0]  # (N,) x + iy, no copy
        reward = self.progress.update(pos, None if all_active else active)
        if self._pymunk is None:
            self._wall_contacts(all_active)
        if self.behaviour:  # inactive cars add 0 (their forward speed is 0)
            self._add_behaviour(act[:, 1], forward, active, all_active)
        self._apply_rules(pos, active)
        self.obs = self._observe(None if all_active else active)
        self._settle(active)
        return self.obs, reward, self.terminated, self.truncated, self.info()

    def _pymunk_step(self, vel: np.ndarray, yaw: np.ndarray) -> None:
        """``engine="pymunk"``: every car one step through its pymunk space; a car that
        touched a wall crashes and leaves it."""
        self.position, self.heading, hits = self._pymunk.step(
            vel, yaw, self.dt, self.position, self.heading)
        self._pymunk.leave(self._crash(hits))

    def _move(self, vel: np.ndarray, yaw: np.ndarray) -> None:
        """Every car one step along its velocity (N,) complex and yaw rate (N,), as pymunk
        integrates a body that touches nothing: ``p + v dt``, ``angle + w dt``."""
        self.position = self.position + vel.view(np.float64).reshape(-1, 2) * self.dt
        self.heading = self.heading + yaw * self.dt

    def _wall_contacts(self, all_active: bool) -> None:
        """Crash the active cars that touch a wall at their new poses: numpy lists the cars
        near a wall and the walls near each, pymunk's collision of the car's box with those
        wall capsules decides."""
        idx = None if all_active else self._active_idx
        pos, heading = self.position, self.heading
        nearest, lateral, group = self.progress.nearest, self.progress.lateral, self.group
        if idx is not None:
            pos, heading, nearest, lateral = pos[idx], heading[idx], nearest[idx], lateral[idx]
            group = None if group is None else group[idx]
        cars = self.contacts.candidates(pos, heading, nearest, lateral, group)
        hits = self._probe.touching(cars, idx, self.position, self.heading, self.group)
        if hits:
            self._crash(hits)

    @property
    def spaces(self) -> list[pymunk.Space]:
        """The pymunk spaces: one per track holding its walls (``engine="numpy"``, from the
        first reset on), or the reference engine's spaces of cars and walls."""
        if self._pymunk is not None:
            return self._pymunk.spaces
        return [] if self._probe is None else self._probe.spaces

    # ------------------------------------------------------------------ for renderers
    def car_polygons(self) -> np.ndarray:
        """(N, 4, 2) car outlines."""
        return car_corners(self.position, self.heading, self.params)

    def ray_endpoints(self) -> np.ndarray:
        """(N, R, 2) end points of the rays of the last observation."""
        return self.sensor.ray_endpoints()

    def ray_ranges(self) -> np.ndarray:
        """(N, R) each car's ray ranges, m."""
        return self.sensor.ranges(self.n_agents)

    def wall_polylines(self) -> list[np.ndarray]:
        """The wall faces as closed polylines (for drawing)."""
        return self.track.wall_polylines()

