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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pymunk
import pymunk.batch as pb

from sims.car import (
    CAR_CATEGORY,
    CAR_TYPE,
    WALL_CATEGORY,
    WALL_TYPE,
    CarParams,
    car_corners,
    car_velocities,
    make_car,
)
from sims.contact import WallContacts, core_segments
from sims.errors import SimsError
from sims.progress import ProgressTracker
from sims.sensors import RaySensor, SensorParams
from sims.track import load_track
from sims.track_geometry import Track

_GET = pb.BodyFields.POSITION | pb.BodyFields.ANGLE
_SET = pb.BodyFields.VELOCITY | pb.BodyFields.ANGULAR_VELOCITY


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


class CarWorld:
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
        self._slices, self._space_track = [], []  # spaces never mix tracks
        for g, grp in enumerate(self.groups):
            for i in range(grp.start, grp.stop, self.config.cars_per_space):
                self._slices.append(slice(i, min(i + self.config.cars_per_space, grp.stop)))
                self._space_track.append(g)
        self._get_buf = [pb.Buffer() for _ in self._slices]
        self._set_buf = [pb.Buffer() for _ in self._slices]
        self._hits: list[int] = []
        self._shape_index: dict[pymunk.Shape, int] = {}
        self.spaces: list[pymunk.Space] = []
        self.time = 0.0
        self._reset_called = False

    # ------------------------------------------------------------------ building
    def _make_space(self, track: Track) -> pymunk.Space:
        """A space with the track's walls and barriers: capsules around
        :func:`sims.contact.core_segments`, the segments the numpy contact screen reads."""
        space = pymunk.Space()
        space.gravity = (0.0, 0.0)
        wall_filter = pymunk.ShapeFilter(categories=WALL_CATEGORY, mask=CAR_CATEGORY)
        for a, b in zip(*(c.tolist() for c in core_segments(track))):
            seg = pymunk.Segment(space.static_body, a, b, track.wall_radius)
            seg.filter = wall_filter
            seg.friction = 0.0
            seg.elasticity = 0.0
            seg.collision_type = WALL_TYPE
            space.add(seg)
        space.on_collision(CAR_TYPE, WALL_TYPE, begin=self._on_wall_contact)
        return space

    def _on_wall_contact(self, arbiter: pymunk.Arbiter, space: pymunk.Space, data: object) -> None:
        """pymunk callback, only when a car first touches a wall: note the car."""
        self._hits.append(self._shape_index[arbiter.shapes[0]])

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
        if self.engine == "numpy":  # the walls, and one car box that pymunk queries
            self._bodies, self._shapes = [], []
            if not self.spaces:
                self.spaces = [self._make_space(t) for t in self.tracks]
                self._probe = make_car(self.params, (0.0, 0.0), 0.0)
            slices = []
        else:
            self.spaces = []
            slices = zip(self._slices, self._space_track)
        self._shape_index = {}
        self._hits = []
        self._bodies: list[pymunk.Body] = []
        self._shapes: list[pymunk.Shape] = []
        for sl, g in slices:
            space = self._make_space(self.tracks[g])
            for i in range(sl.start, sl.stop):
                body, shape = make_car(self.params, tuple(pos[i]), float(heading[i]))
                space.add(body, shape)
                self._shape_index[shape] = i
                self._bodies.append(body)
                self._shapes.append(shape)
            self.spaces.append(space)
        self._set_arr = []
        for space, buf in zip(self.spaces if self._bodies else (), self._set_buf):
            arr = np.zeros((len(space.bodies) + 1, 3))  # + the space's static body
            buf.set_float_buf(arr)  # the buffer keeps pointing at arr, written in place
            self._set_arr.append(arr)
        self.position = pos.astype(np.float64)  # (N, 2)
        self.heading = heading.astype(np.float64)  # (N,)
        self.velocity = np.zeros(n, dtype=np.complex128)  # (N,) vx + i vy
        self.speed = np.zeros(n)  # (N,) forward speed, m/s
        self.time = 0.0
        self.progress.reset(self.position, self.group)
        self.crashed = np.zeros(n, dtype=bool)
        self.finished = np.zeros(n, dtype=bool)
        self.stalled = np.zeros(n, dtype=bool)
        self.terminated = np.zeros(n, dtype=bool)
        self.truncated = np.zeros(n, dtype=bool)
        self.lap_time = np.full(n, np.nan)  # duration of the last completed lap
        self.best_lap_time = np.full(n, np.nan)  # the fastest completed lap of the episode
        self._end_time = np.full(n, np.inf)  # when each car became done
        self._lap_start = np.zeros(n)
        self._laps = np.zeros(n, dtype=np.int64)
        self._next_lap = np.ones(n) * self.progress.length  # best progress that completes a lap
        self._stall_best = self.progress.best.copy()
        self._stall_since = np.zeros(n)
        self._events = False
        self._reset_sums()
        self._reset_goal()
        self._set_active(np.ones(n, dtype=bool))
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
        for i in np.flatnonzero(self.crashed) if self._bodies else ():
            self._bodies[i].space.add(self._shapes[i])  # crashed cars left the physics
        n = self.n_agents
        self.crashed = np.zeros(n, dtype=bool)
        self.finished = np.zeros(n, dtype=bool)
        self.stalled = np.zeros(n, dtype=bool)
        self.terminated = np.zeros(n, dtype=bool)
        self.truncated = np.zeros(n, dtype=bool)
        self._end_time = np.full(n, np.inf)
        self._set_active(np.ones(n, dtype=bool))
        self._laps = np.zeros(n, dtype=np.int64)
        self._next_lap = np.ones(n) * self.progress.length
        self._lap_start = np.full(n, self.time)
        self.lap_time = np.full(n, np.nan)
        self.best_lap_time = np.full(n, np.nan)
        self._stall_since = np.full(n, self.time)
        self._reset_sums()
        position = np.asarray(position, dtype=np.float64).reshape(self.n_agents, 2)
        heading = np.asarray(heading, dtype=np.float64).reshape(self.n_agents)
        speed = np.zeros(self.n_agents) if speed is None else np.asarray(speed, np.float64)
        vel = np.exp(1j * heading) * speed  # (N,) complex
        for i, body in enumerate(self._bodies):
            body.position = tuple(position[i])
            body.angle = float(heading[i])
            body.velocity = (vel[i].real, vel[i].imag)
            body.space.reindex_shapes_for_body(body)
        self.position, self.heading = position.copy(), heading.copy()
        self.velocity, self.speed = vel, speed.copy()
        self.progress.reset(self.position, self.group)
        self._stall_best = self.progress.best.copy()
        self._reset_goal()
        self.obs = self._observe()
        return self.obs.copy()

    def _reset_goal(self) -> None:
        """Goal bookkeeping from the current positions (courses with a goal only)."""
        if self.has_goal:
            self.reached = np.zeros(self.n_agents, dtype=bool)
            self._goal_start = np.abs(self.position.view(np.complex128)[:, 0] - self._goal)

    def _reset_sums(self) -> None:
        """Per-car sums over the steps a car drives (behaviour statistics of `info`; a car
        drives `time_alive / dt` steps).  Each step replaces them (never in place), so
        the arrays `info` returned before stay as they were."""
        n = self.n_agents
        self._sum_speed = np.zeros(n)  # of |forward speed|, m/s
        self._sum_steer = np.zeros(n)  # of |steer| in [0, 1]
        self._sum_lateral = np.zeros(n)  # of the signed offset from the centerline, m

    def set_sensors(self, angles: np.ndarray | None, ranges: np.ndarray | None = None) -> None:
        """Each car's own rays: angles (N, R) rad from the heading and ranges (N, R) m, up to
        `max_range` (None: the config's fan for every car); used from the next reading on,
        so set them before `reset`. See :meth:`sims.sensors.RaySensor.set_layout`."""
        if angles is not None and np.shape(angles)[:1] != (self.n_agents,):
            raise SimsError(f"car world: set_sensors needs {self.n_agents} cars' rays")
        self.sensor.set_layout(angles, ranges)

    # ------------------------------------------------------------------ stepping
    @property
    def done(self) -> np.ndarray:
        """(N,) bool: terminated or truncated."""
        return self.terminated | self.truncated

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
        if self.engine == "pymunk":
            self._physics(vel, yaw)
        else:
            self._move(vel, yaw)
        self.time += self.dt
        pos = self.position.view(np.complex128)[:, 0]  # (N,) x + iy, no copy
        reward = self.progress.update(pos, None if all_active else active)
        if self.engine == "numpy":
            self._wall_contacts(all_active)
        if self.behaviour:  # five vector ops per step (inactive cars add 0: forward is 0)
            steer = np.abs(act[:, 1])
            lateral = self.progress.lateral
            if not all_active:
                steer *= active
                lateral = lateral * active
            self._sum_speed = self._sum_speed + np.abs(forward)
            self._sum_steer = self._sum_steer + steer
            self._sum_lateral = self._sum_lateral + lateral
        if self.has_goal:
            self._goal_check(pos, active)
        best = self.progress.best
        if (best >= self._next_lap).any():
            self._lap_done(active)
        if self.config.stall_time > 0:
            self._stall_check(active)
        if self.time >= self.config.max_time - 1e-9:
            self._events = True
            self.truncated = self.truncated | (active & ~self.terminated)
        self.obs = self._observe(None if all_active else active)
        if self._events:  # every change of done comes with an event
            self._events = False
            self._set_active(~(self.terminated | self.truncated))
            self._end_time = np.where(active & ~self._active, self.time, self._end_time)
        return self.obs, reward, self.terminated, self.truncated, self.info()

    def _set_active(self, active: np.ndarray) -> None:
        """Which cars still drive: (N,) bool, their indices and how many."""
        self._active = active
        self._active_idx = np.flatnonzero(active)
        self._n_active = len(self._active_idx)
        self._all_active = self._n_active == self.n_agents

    def _lap_done(self, active: np.ndarray) -> None:
        """Book-keeping when some car completes a lap."""
        self._events = True
        laps = self.progress.laps
        new_lap = (laps > self._laps) & active
        self.lap_time = np.where(new_lap, self.time - self._lap_start, self.lap_time)
        self.best_lap_time = np.where(new_lap, np.fmin(self.best_lap_time, self.lap_time),
                                      self.best_lap_time)
        self._lap_start = np.where(new_lap, self.time, self._lap_start)
        self._laps = np.where(active, laps, self._laps)
        self._next_lap = (self._laps + 1) * self.progress.length
        if self.config.laps:
            self.finished = self.finished | (active & (self._laps >= self.config.laps))
            self.terminated = self.terminated | self.finished

    def _goal_check(self, pos: np.ndarray, active: np.ndarray) -> None:
        """Finish the cars that reached their goal: pos (N,) complex."""
        d = pos - self._goal
        reached = active & ((d.real * d.real + d.imag * d.imag) <= self._goal_r2)
        if reached.any():
            self._events = True
            self.reached = self.reached | reached
            self.finished = self.finished | reached
            self.terminated = self.terminated | reached

    def _stall_check(self, active: np.ndarray) -> None:
        """Truncate cars that made too little progress for `stall_time`."""
        best = self.progress.best
        moved = best - self._stall_best >= self.config.stall_distance
        self._stall_best = np.where(moved, best, self._stall_best)
        self._stall_since = np.where(moved, self.time, self._stall_since)
        stalled = active & ~self.terminated & (
            self.time - self._stall_since > self.config.stall_time
        )
        if stalled.any():
            self._events = True
            self.stalled = self.stalled | stalled
            self.truncated = self.truncated | stalled

    def _physics(self, vel: np.ndarray, yaw: np.ndarray) -> None:
        """Write velocities (N,) complex and yaw rates (N,) into pymunk, step every space,
        read back the poses; wall contacts arrive through `_on_wall_contact`."""
        single = len(self.spaces) == 1
        vel2 = vel.view(np.float64).reshape(-1, 2)  # (N, 2)
        for k, (space, sl) in enumerate(zip(self.spaces, self._slices)):
            n = sl.stop - sl.start
            arr = self._set_arr[k]  # (n + 1, 3), registered with the set buffer at reset
            arr[:n, :2] = vel2 if single else vel2[sl]
            arr[:n, 2] = yaw if single else yaw[sl]
            pb.set_space_bodies(space, _SET, self._set_buf[k])
            space.step(self.dt)
            get = self._get_buf[k]
            get.clear()
            pb.get_space_bodies(space, _GET, get)
            state = np.frombuffer(get.float_buf()).reshape(-1, 3)[:n]  # (n, 3) x, y, angle
            if single:
                self.position = state[:, :2].copy()
                self.heading = state[:, 2].copy()
            else:
                self.position[sl] = state[:, :2]
                self.heading[sl] = state[:, 2]
        if self._hits:
            hits, self._hits = self._hits, []
            self._crash(hits)

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
        hits = []
        body, shape = self._probe
        for j in cars.tolist():
            i = j if idx is None else int(idx[j])
            body.position = (float(self.position[i, 0]), float(self.position[i, 1]))
            body.angle = float(self.heading[i])
            shape.cache_bb()
            space = self.spaces[0 if self.group is None else self.group[i]]
            if space.shape_query(shape):  # the walls car i's box touches
                hits.append(i)
        if hits:
            self._crash(hits)

    def _crash(self, cars: list[int]) -> None:
        """Stop the cars that touched a wall; take their shapes out of the physics."""
        fresh = sorted({i for i in cars if not self.crashed[i] and self._active[i]})
        if not fresh:
            return
        self._events = True
        crashed = self.crashed.copy()
        for i in fresh:
            crashed[i] = True
            if self._bodies:  # engine="pymunk"
                body, shape = self._bodies[i], self._shapes[i]
                body.velocity = (0.0, 0.0)
                body.angular_velocity = 0.0
                body.space.remove(shape)
        self.crashed = crashed
        self.terminated = self.terminated | crashed
        self.velocity = np.where(crashed, 0.0, self.velocity)
        self.speed = np.where(crashed, 0.0, self.speed)

    def info(self) -> dict[str, np.ndarray]:
        """Per-car episode statistics (arrays of length N; fresh each step)."""
        info = {
            "progress": self.progress.best * self._inv_length,  # best progress, laps
            "distance": self.progress.best,  # m of best progress along the centerline
            "laps": self._laps,  # completed laps
            "crashed": self.crashed,
            "finished": self.finished,  # completed `laps` laps
            "stalled": self.stalled,
            "time_alive": np.minimum(self._end_time, self.time),  # s until done
            "lap_time": self.lap_time,  # s of the last completed lap, NaN if none
            "best_lap_time": self.best_lap_time,  # s of the fastest completed lap, NaN if none
            "speed": self.speed,  # m/s forward
        }
        if self.behaviour:  # sums over the steps each car drove (time_alive / dt of them)
            info["sum_speed"] = self._sum_speed  # of |forward speed|, m/s
            info["sum_abs_steering"] = self._sum_steer  # of |steer|, 0..1
            info["sum_lateral"] = self._sum_lateral  # of the offset from the centerline, m
            info["final_x"] = self.position[:, 0].copy()  # m, where each car is (or stopped)
            info["final_y"] = self.position[:, 1].copy()
        if self.has_goal:  # courses with a goal
            pos = self.position.view(np.complex128)[:, 0]
            info["goal_distance"] = np.abs(pos - self._goal)  # m from the goal now
            info["goal_start"] = self._goal_start  # m from the goal at the start
            info["reached"] = self.reached  # came within the goal radius
        return info

    def lap_clock(self) -> np.ndarray:
        """(N,) s into each car's current lap (stopped when the car is done)."""
        return np.minimum(self._end_time, self.time) - self._lap_start

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


class TrackGroup:
    """One track's cars of a several-track :class:`CarWorld` (``world.groups[g]``), seen as
    a world of their own, for drawing: the attributes a renderer reads (track, cars, rays,
    episode statistics), sliced to the group.  It never steps: the whole world does."""

    def __init__(self, world: CarWorld, g: int) -> None:
        self.world, self.index = world, int(g)
        self.cars = world.groups[self.index]
        self.track = world.tracks[self.index]
        self.n_agents = self.cars.stop - self.cars.start
        self.n_rays, self.obs_dim, self.act_dim = world.n_rays, world.obs_dim, world.act_dim
        self.dt, self.config, self.params = world.dt, world.config, world.params
        self.sensor = world.sensor

    time = property(lambda self: self.world.time)
    obs = property(lambda self: self.world.obs[self.cars])
    position = property(lambda self: self.world.position[self.cars])
    heading = property(lambda self: self.world.heading[self.cars])
    done = property(lambda self: self.world.done[self.cars])
    finished = property(lambda self: self.world.finished[self.cars])
    crashed = property(lambda self: self.world.crashed[self.cars])

    def info(self) -> dict[str, np.ndarray]:
        return {name: value[self.cars] for name, value in self.world.info().items()}

    def lap_clock(self) -> np.ndarray:
        return self.world.lap_clock()[self.cars]

    def car_polygons(self) -> np.ndarray:
        return car_corners(self.position, self.heading, self.params)

    def ray_endpoints(self) -> np.ndarray:
        return self.world.ray_endpoints()[self.cars]

    def ray_ranges(self) -> np.ndarray:
        return self.world.ray_ranges()[self.cars]

    def wall_polylines(self) -> list[np.ndarray]:
        return self.track.wall_polylines()
