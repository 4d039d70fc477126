"""One kind of top-down car: its parameters, its pymunk body, and its batched dynamics.

The dynamics are a kinematic bicycle model with grip, written for all cars at once in numpy:
throttle accelerates along the heading (linear drag caps the speed at `max_speed`), negative
throttle brakes harder than the engine pulls and then reverses (up to `max_reverse`), sideways
velocity decays quickly (tyres grip, no ice), and steering
sets the yaw rate from the wheelbase, limited by the lateral acceleration the tyres can hold.
pymunk then moves the bodies with those velocities and resolves wall contacts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pymunk

from sims.errors import SimsError

CAR_CATEGORY = 0b01  # ShapeFilter category bits of car shapes
WALL_CATEGORY = 0b10  # ... and of wall shapes
CAR_GROUP = 1  # shapes in one non-zero group never collide: cars pass through each other
CAR_TYPE = 1  # collision types, for the crash callback
WALL_TYPE = 2


@dataclass(frozen=True)
class CarParams:
    """Physical constants of the car (SI units)."""

    length: float = 4.0  # m
    width: float = 2.0  # m
    mass: float = 1200.0  # kg
    max_speed: float = 30.0  # m/s, reached at full throttle
    max_reverse: float = 5.0  # m/s
    accel: float = 8.0  # m/s^2, engine at full throttle from rest
    brake: float = 15.0  # m/s^2, at throttle -1 (braking, then reversing)
    max_steer: float = 0.6  # rad, front wheel angle at full lock
    wheelbase: float = 2.6  # m
    max_lateral_accel: float = 12.0  # m/s^2, tyre grip limit that caps the yaw rate
    lateral_grip: float = 20.0  # 1/s, decay rate of sideways velocity

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if not np.isfinite(value) or value <= 0:
                raise SimsError(f"car: '{name}' must be a finite number > 0, got {value!r}")


def car_velocities(
    heading_unit: np.ndarray,
    velocity: np.ndarray,
    throttle: np.ndarray,
    steer: np.ndarray,
    params: CarParams,
    dt: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """New velocities for N cars after one step of driver input.

    Plane vectors are complex numbers (x + iy): heading_unit (N,) = exp(i heading);
    velocity (N,) m/s; throttle, steer (N,) in [-1, 1] (steer > 0 turns left,
    counter-clockwise). Returns velocity (N,) complex, yaw rate (N,) rad/s and forward speed
    (N,) m/s.
    """
    local = velocity * heading_unit.conj()  # (N,) forward + i * sideways, in the car frame
    forward = local.real.copy()
    drive = throttle * np.where(throttle < 0, params.brake, params.accel)
    drive -= forward * (params.accel / params.max_speed)  # linear drag: top speed at full throttle
    forward += dt * drive
    np.maximum(forward, -params.max_reverse, out=forward)
    np.minimum(forward, params.max_speed, out=forward)
    local.real = forward
    local.imag *= np.exp(-params.lateral_grip * dt)  # tyres grip: sideways speed decays
    yaw = np.tan(steer * params.max_steer)
    yaw *= forward * (1.0 / params.wheelbase)  # kinematic bicycle
    limit = params.max_lateral_accel / np.maximum(np.abs(forward), 1e-3)
    np.minimum(yaw, limit, out=yaw)
    np.maximum(yaw, -limit, out=yaw)
    return local * heading_unit, yaw, forward


def make_car(params: CarParams, position: tuple[float, float], heading: float) -> tuple[
    pymunk.Body, pymunk.Poly
]:
    """A dynamic car body with a box shape that only collides with walls."""
    moment = pymunk.moment_for_box(params.mass, (params.length, params.width))
    body = pymunk.Body(params.mass, moment)
    body.position = position
    body.angle = heading
    shape = pymunk.Poly.create_box(body, (params.length, params.width), radius=0.02)
    shape.filter = pymunk.ShapeFilter(
        group=CAR_GROUP, categories=CAR_CATEGORY, mask=WALL_CATEGORY
    )
    shape.friction = 0.0
    shape.elasticity = 0.0
    shape.collision_type = CAR_TYPE
    return body, shape


def car_corners(position: np.ndarray, heading: np.ndarray, params: CarParams) -> np.ndarray:
    """(N, 4, 2) corners of each car's box (for drawing), counter-clockwise from rear-right."""
    hl, hw = params.length / 2, params.width / 2
    local = np.array([[-hl, -hw], [hl, -hw], [hl, hw], [-hl, hw]])  # (4, 2)
    c, s = np.cos(heading)[:, None], np.sin(heading)[:, None]  # (N, 1)
    x = position[:, None, 0] + local[None, :, 0] * c - local[None, :, 1] * s
    y = position[:, None, 1] + local[None, :, 0] * s + local[None, :, 1] * c
    return np.stack([x, y], axis=-1)
