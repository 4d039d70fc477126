"""The pymunk side of a :class:`~sims.car_world.CarWorld`: the walls as pymunk capsules, and
the two ways a world asks pymunk about its cars.

- :class:`WallProbe` (``engine="numpy"``): one space per track with its walls and one car
  box, moved onto each car that :class:`sims.contact.WallContacts` finds near a wall;
  pymunk's collision of that box with the wall capsules decides the contact.
- :class:`PymunkCars` (``engine="pymunk"``, the reference): every car a pymunk body, spread
  over spaces of at most ``cars_per_space`` cars of one track (each with a copy of its
  track's walls, which keeps the broad phase linear); a step writes the velocities, steps
  every space and reads the poses back through ``pymunk.batch``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pymunk
import pymunk.batch as pb

from sims.car import CAR_CATEGORY, CAR_TYPE, WALL_CATEGORY, WALL_TYPE, CarParams, make_car
from sims.contact import core_segments
from sims.track_geometry import Track

_GET = pb.BodyFields.POSITION | pb.BodyFields.ANGLE
_SET = pb.BodyFields.VELOCITY | pb.BodyFields.ANGULAR_VELOCITY

ContactCallback = Callable[[pymunk.Arbiter, pymunk.Space, object], None]


def wall_space(track: Track, on_contact: ContactCallback) -> pymunk.Space:
    """A space with the track's walls and barriers: capsules around
    :func:`sims.contact.core_segments`, the segments the numpy contact screen reads;
    `on_contact` is called when a car first touches a wall."""
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
    space.on_collision(CAR_TYPE, WALL_TYPE, begin=on_contact)
    return space


def _no_contact(arbiter: pymunk.Arbiter, space: pymunk.Space, data: object) -> None:
    """The probe's spaces are only queried, never stepped: no contact ever arrives."""


class WallProbe:
    """``engine="numpy"``: which of the cars near a wall touch one, decided by pymunk."""

    def __init__(self, tracks: Sequence[Track], params: CarParams) -> None:
        self.spaces = [wall_space(t, _no_contact) for t in tracks]  # one per track
        self._body, self._shape = make_car(params, (0.0, 0.0), 0.0)

    def touching(self, cars: np.ndarray, idx: np.ndarray | None, position: np.ndarray,
                 heading: np.ndarray, group: np.ndarray | None) -> list[int]:
        """The cars of `cars` whose box touches a wall at its pose: `cars` index the cars of
        `idx` (None: all cars); position (N, 2), heading (N,) and group (N,) (None: one
        track) are every car's.  Returns world indices, in the order of `cars`."""
        hits = []
        body, shape = self._body, self._shape
        for j in cars.tolist():
            i = j if idx is None else int(idx[j])
            body.position = (float(position[i, 0]), float(position[i, 1]))
            body.angle = float(heading[i])
            shape.cache_bb()
            space = self.spaces[0 if group is None else group[i]]
            if space.shape_query(shape):  # the walls car i's box touches
                hits.append(i)
        return hits


class PymunkCars:
    """``engine="pymunk"``: every car a pymunk body; the reference the numpy engine matches
    bit for bit."""

    def __init__(self, tracks: Sequence[Track], groups: Sequence[slice], params: CarParams,
                 cars_per_space: int) -> None:
        self.tracks, self.params = list(tracks), params
        self.slices, self.space_track = [], []  # spaces never mix tracks
        for g, grp in enumerate(groups):
            for i in range(grp.start, grp.stop, cars_per_space):
                self.slices.append(slice(i, min(i + cars_per_space, grp.stop)))
                self.space_track.append(g)
        self._get_buf = [pb.Buffer() for _ in self.slices]
        self._set_buf = [pb.Buffer() for _ in self.slices]
        self.spaces: list[pymunk.Space] = []
        self.bodies: list[pymunk.Body] = []
        self.shapes: list[pymunk.Shape] = []
        self._shape_index: dict[pymunk.Shape, int] = {}
        self._hits: list[int] = []

    def _on_wall_contact(self, arbiter: pymunk.Arbiter, space: pymunk.Space,
                         data: object) -> None:
        """pymunk callback, only when a car first touches a wall: note the car."""
        self._hits.append(self._shape_index[arbiter.shapes[0]])

    def reset(self, position: np.ndarray, heading: np.ndarray) -> None:
        """Fresh spaces with every car at position (N, 2), heading (N,), at rest."""
        self.spaces, self.bodies, self.shapes = [], [], []
        self._shape_index, self._hits = {}, []
        for sl, g in zip(self.slices, self.space_track):
            space = wall_space(self.tracks[g], self._on_wall_contact)
            for i in range(sl.start, sl.stop):
                body, shape = make_car(self.params, tuple(position[i]), float(heading[i]))
                space.add(body, shape)
                self._shape_index[shape] = i
                self.bodies.append(body)
                self.shapes.append(shape)
            self.spaces.append(space)
        self._set_arr = []
        for space, buf in zip(self.spaces, self._set_buf):
            arr = np.zeros((len(space.bodies) + 1, 3))  # + the space's static body
            buf.set_float_buf(arr)  # the buffer keeps pointing at arr, written in place
            self._set_arr.append(arr)

    def step(self, vel: np.ndarray, yaw: np.ndarray, dt: float, position: np.ndarray,
             heading: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """Write velocities (N,) complex and yaw rates (N,) into pymunk, step every space,
        read back the poses.  Returns the position (N, 2) and heading (N,) (fresh arrays
        with one space, else `position` and `heading` written in place) and the cars that
        touched a wall during the step."""
        single = len(self.spaces) == 1
        vel2 = vel.view(np.float64).reshape(-1, 2)  # (N, 2)
        for k, (space, sl) in enumerate(zip(self.spaces, self.slices)):
            n = sl.stop - sl.start
            arr = self._set_arr[k]  # (n + 1, 3), registered with the set buffer at reset
            arr[:n, :2] = vel2 if single else vel2[sl]
            arr[:n, 2] = yaw if single else yaw[sl]
            pb.set_space_bodies(space, _SET, self._set_buf[k])
            space.step(dt)
            get = self._get_buf[k]
            get.clear()
            pb.get_space_bodies(space, _GET, get)
            state = np.frombuffer(get.float_buf()).reshape(-1, 3)[:n]  # (n, 3) x, y, angle
            if single:
                position = state[:, :2].copy()
                heading = state[:, 2].copy()
            else:
                position[sl] = state[:, :2]
                heading[sl] = state[:, 2]
        hits, self._hits = self._hits, []
        return position, heading, hits

    def leave(self, cars: Sequence[int]) -> None:
        """Stop crashed cars and take their shapes out of the physics."""
        for i in cars:
            body, shape = self.bodies[i], self.shapes[i]
            body.velocity = (0.0, 0.0)
            body.angular_velocity = 0.0
            body.space.remove(shape)

    def place(self, position: np.ndarray, heading: np.ndarray, vel: np.ndarray,
              crashed: np.ndarray) -> None:
        """Put the crashed cars' shapes back, then every body at position (N, 2), heading
        (N,) with velocity (N,) complex."""
        for i in np.flatnonzero(crashed):
            self.bodies[i].space.add(self.shapes[i])  # crashed cars left the physics
        for i, body in enumerate(self.bodies):
            body.position = tuple(position[i])
            body.angle = float(heading[i])
            body.velocity = (vel[i].real, vel[i].imag)
            body.space.reindex_shapes_for_body(body)
