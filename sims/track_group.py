"""One track's cars of a several-track :class:`~sims.car_world.CarWorld`, seen as a world of
their own, for drawing (a renderer and the evolution window read it as they read a world)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sims.car import car_corners

if TYPE_CHECKING:  # the view only reads a world; it never builds one
    from sims.car_world import CarWorld


class TrackGroup:
    """One track's cars of a several-track :class:`~sims.car_world.CarWorld`
    (``world.groups[g]``), seen as a world of their own, for drawing: the attributes a
    renderer reads (track, cars, rays, episode statistics), sliced to the group.  It never
    steps: the whole world does."""

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
