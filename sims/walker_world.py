"""N walking creatures on the same ground, stepped together (Gymnasium-like, batched).

    world = WalkerWorld(load_creature("biped"), n_agents=50)
    obs = world.reset(seed=0)                                    # (N, obs_dim)
    obs, reward, terminated, truncated, info = world.step(actions)   # actions (N, J)

Observation of walker i (J joints, F feet): torso angle (rad, wrapped to [-pi, pi), 0 =
rest pose), torso angular velocity / 10, torso velocity x and y / 5 (m/s), torso height
above the ground under it / its rest height; then J joint angles scaled to [-1, 1] by their
limits, J joint speeds / their max speed, F foot contacts (0 or 1), and, with
`ground_sensors` K > 0, the ground's height at K points ahead of the torso (every
`sensor_spacing` m) relative to the ground under it, in units of the spacing (a slope).
Action: J motor targets in [-1, 1]; 0 holds the rest pose, +1 / -1 drive a joint to its
upper / lower limit (each motor turns at a rate proportional to the angle error, capped by
the joint's max speed and max torque).
Reward: metres the torso moved in +x this step; info["distance"] is the total. A walker
whose `fall` body touches the ground is terminated (its motors then go slack at rate 0);
all walkers are truncated at `max_time`.

Walkers never touch each other (one ShapeFilter group), so they all start at the same spot.
By default every walker has the world's creature; ``set_bodies([spec_0, ..., spec_{N-1}])``
gives walker i a body of its own (the same bodies and joints, other sizes, masses, anchors
and motor strengths: ``sims.body``) from the next ``reset`` on.
The per-step cost is a few numpy ops plus one call per motor to set its rate (pymunk has no
batch setter for constraints); body states and contacts are read with `pymunk.batch`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pymunk
import pymunk.batch as pb

from sims.body import same_topology
from sims.errors import SimsError
from sims.terrain import height_at, parse_terrain, rough_profile, terrain_profile
from sims.walker import (
    GROUND_CATEGORY,
    WALKER_CATEGORY,
    CreatureSpec,
    build_creature,
    load_creature,
)

_GET = (
    pb.BodyFields.POSITION
    | pb.BodyFields.ANGLE
    | pb.BodyFields.VELOCITY
    | pb.BodyFields.ANGULAR_VELOCITY
)
_ARB = pb.ArbiterFields.BODY_A_ID | pb.ArbiterFields.BODY_B_ID | pb.ArbiterFields.CONTACT_COUNT
GROUND_RADIUS = 0.05  # m, ground segments are this thick below y = ground height
HASH_CELL = 1.0  # m, the cell of the broad phase's spatial hash


@dataclass(frozen=True)
class WalkerWorldConfig:
    """Settings of a walker world (SI units)."""

    dt: float = 1.0 / 60.0  # s, fixed physics step
    max_time: float = 20.0  # s, every walker is truncated after this long
    gravity: float = 9.81  # m/s^2
    motor_gain: float = 10.0  # 1/s, motor rate = gain * (target - angle)
    motor_scale: float = 1.0  # multiplies every joint's max torque (0: limp)
    # the ground: flat, or procedural:SEED[:DIFFICULTY] (bumps, slopes and steps; see
    # sims.terrain), the same ground for every episode
    terrain: str = "flat"
    # m, height scale of gently rough ground drawn from each episode's seed (flat terrain
    # only; 0: level)
    ground_roughness: float = 0.0
    ground_length: float = 300.0  # m of ground ahead of the start
    iterations: int = 10  # pymunk solver iterations
    # heights of the ground seen ahead: this many points every `sensor_spacing` m in front
    # of the torso, each relative to the ground under the torso (0: blind to the ground)
    ground_sensors: int = 0
    sensor_spacing: float = 0.3  # m

    def __post_init__(self) -> None:
        if self.ground_sensors < 0 or not self.sensor_spacing > 0:
            raise SimsError("walker world: ground_sensors >= 0, sensor_spacing > 0")
        if not self.dt > 0 or not self.max_time > 0 or self.iterations < 1:
            raise SimsError("walker world: dt, max_time and iterations must be > 0")
        if self.motor_scale < 0 or self.ground_roughness < 0 or self.motor_gain <= 0:
            raise SimsError("walker world: motor_scale, ground_roughness >= 0, motor_gain > 0")
        if parse_terrain(self.terrain) is not None and self.ground_roughness > 0:
            raise SimsError("walker world: ground_roughness applies to flat terrain only "
                            f"(terrain is {self.terrain})")


class WalkerWorld:
    """N copies of one creature. See the module docstring for the contract."""

    def __init__(
        self,
        creature: CreatureSpec | str | Path,
        n_agents: int,
        config: WalkerWorldConfig | None = None,
    ) -> None:
        """`creature`: a CreatureSpec, a creature file or a shipped creature's name."""
        if n_agents < 1:
            raise SimsError(f"walker world: n_agents must be >= 1, got {n_agents}")
        self.spec = creature if isinstance(creature, CreatureSpec) else load_creature(creature)
        self.config = config or WalkerWorldConfig()
        self.n_agents = int(n_agents)
        spec = self.spec
        self.n_bodies = spec.n_bodies
        self.n_joints = spec.n_joints
        self.act_dim = spec.n_joints
        self.obs_dim = 5 + 2 * spec.n_joints + len(spec.feet) + self.config.ground_sensors
        # (K,) m ahead of the torso where the ground is sensed
        self._ahead = self.config.sensor_spacing * np.arange(1, self.config.ground_sensors + 1)
        self.dt = float(self.config.dt)
        self._ja = np.array([j.a for j in spec.joints])  # (J,)
        self._jb = np.array([j.b for j in spec.joints])
        angles = np.array([b.angle for b in spec.bodies])
        self._rest = angles[self._jb] - angles[self._ja]  # (J,) relative angle at rest
        self._lo = np.array([j.limits[0] for j in spec.joints])  # (J,) <= 0
        self._hi = np.array([j.limits[1] for j in spec.joints])  # (J,) >= 0
        self._max_speed = np.array([j.max_speed for j in spec.joints])
        # angle -> [-1, 1] scale on each side of the rest pose (a limit of 0 maps to 0)
        self._inv_hi = np.where(self._hi > 0, 1.0 / np.maximum(self._hi, 1e-12), 0.0)
        self._inv_lo = np.where(self._lo < 0, -1.0 / np.minimum(self._lo, -1e-12), 0.0)
        self._feet = np.array(spec.feet)
        self._fall = np.array(spec.fall)
        self._torso_rest_y = spec.bodies[spec.torso].position[1]  # m, or (N,) per walker
        self._sizes = np.array([b.size for b in spec.bodies])[None]  # (1, B, 2) or (N, B, 2)
        self._bodies: tuple[CreatureSpec, ...] | None = None  # per walker (set_bodies)
        self._next_bodies: tuple[CreatureSpec, ...] | None = None
        self._get_buf = pb.Buffer()
        self._arb_buf = pb.Buffer()
        self._reset_called = False
        self.space: pymunk.Space | None = None
        self.ground = np.zeros((0, 2))

    def set_bodies(self, bodies: Sequence[CreatureSpec] | None) -> None:
        """From the next :meth:`reset` on, walker i has the body ``bodies[i]`` (``None``:
        every walker the world's creature, as at the start).  Each must have the world
        creature's bodies, joints (with their limits and max speeds), torso, fall and feet
        bodies and friction; sizes, positions, masses, anchors and torques may differ."""
        if bodies is None:
            self._next_bodies = None
            return
        bodies = tuple(bodies)
        if len(bodies) != self.n_agents:
            raise ValueError(f"{len(bodies)} bodies for a world of {self.n_agents} walkers")
        for b in bodies:
            why = None if b is self.spec else same_topology(self.spec, b)
            if why is not None:
                raise SimsError(f"walker world: creature '{b.name}' ({b.source}) cannot "
                                f"walk among '{self.spec.name}' ({self.spec.source}): {why}")
        self._next_bodies = bodies

    @property
    def creatures(self) -> tuple[CreatureSpec, ...]:
        """(N,) the body of each walker this episode."""
        return self._bodies if self._bodies is not None else (self.spec,) * self.n_agents

    def reset(self, seed: int | np.random.Generator | None = None,
              first_member: int = 0) -> np.ndarray:
        """Build the ground and N creatures in their rest pose; returns obs (N, obs_dim).
        Every creature starts alike, so ``first_member`` (a chunk's place in its
        population, as for cars) changes nothing."""
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        cfg = self.config
        space = pymunk.Space()
        space.gravity = (0.0, -cfg.gravity)
        space.iterations = cfg.iterations
        if cfg.ground_roughness > 0:
            self.ground = rough_profile(rng, cfg.ground_roughness, cfg.ground_length)
        else:
            self.ground = terrain_profile(cfg.terrain, cfg.ground_length)
        # Every walker starts in the same place and they pass through each other, so the
        # broad phase sees all their shapes overlap; chipmunk's spatial hash sorts them
        # faster than its default tree (1.3-1.5x a whole episode of 50 bipeds; bench/
        # bench_walker_world.py --index): cells about a body long, room for every shape
        n_shapes = self.n_agents * self.spec.n_bodies + len(self.ground)
        space.use_spatial_hash(HASH_CELL, max(1000, 10 * n_shapes))
        ground_filter = pymunk.ShapeFilter(categories=GROUND_CATEGORY, mask=WALKER_CATEGORY)
        pts = (self.ground - [0.0, GROUND_RADIUS]).tolist()
        for i in range(len(pts) - 1):
            seg = pymunk.Segment(space.static_body, pts[i], pts[i + 1], GROUND_RADIUS)
            seg.set_neighbors(pts[max(i - 1, 0)], pts[min(i + 2, len(pts) - 1)])
            seg.friction = self.spec.friction
            seg.filter = ground_filter
            space.add(seg)
        self._motors: list[pymunk.SimpleMotor] = []
        bodies: list[pymunk.Body] = []
        own = self._bodies = self._next_bodies
        spec = self.spec
        if own is None:
            self._torso_rest_y = spec.bodies[spec.torso].position[1]
            self._sizes = np.array([b.size for b in spec.bodies])[None]
        else:
            self._torso_rest_y = np.array([c.bodies[spec.torso].position[1] for c in own])
            self._sizes = np.array([[b.size for b in c.bodies] for c in own])
        for i in range(self.n_agents):
            b, _, m = build_creature(space, spec if own is None else own[i], (0.0, 0.0),
                                     cfg.motor_scale)
            bodies.extend(b)
            self._motors.extend(m)
        self.space = space
        ids = np.array([b.id for b in bodies], dtype=np.uintp)  # (N * B,)
        self._id_order = np.argsort(ids)
        self._id_sorted = ids[self._id_order]
        self._set_rate = pymunk._chipmunk.lib.cpSimpleMotorSetRate
        self._motor_ptrs = [m._constraint for m in self._motors]
        n = self.n_agents
        self.time = 0.0
        self.terminated = np.zeros(n, dtype=bool)
        self.truncated = np.zeros(n, dtype=bool)
        self.fallen = np.zeros(n, dtype=bool)
        self._end_time = np.full(n, np.inf)
        self._read_state()
        self._x0 = self.torso_x.copy()
        self.contacts = np.zeros((n, self.n_bodies), dtype=bool)
        self.obs = self._observe()
        # behaviour sums over the steps each walker is up (statistics of `info`)
        self._steps = np.zeros(n)
        self._sum_feet = np.zeros((n, len(self._feet)))  # steps each foot touched the ground
        self._sum_angle = np.zeros(n)  # of the torso angle from rest (obs[:, 0]), rad
        self._reset_called = True
        return self.obs.copy()

    # ------------------------------------------------------------------ stepping
    @property
    def done(self) -> np.ndarray:
        """(N,) bool: terminated or truncated."""
        return self.terminated | self.truncated

    def _read_state(self) -> None:
        buf = self._get_buf
        buf.clear()
        pb.get_space_bodies(self.space, _GET, buf)
        nb = self.n_agents * self.n_bodies
        state = np.frombuffer(buf.float_buf()).reshape(-1, 6)[:nb]
        self.state = state.reshape(self.n_agents, self.n_bodies, 6).copy()  # (N, B, 6)
        self.torso_x = self.state[:, self.spec.torso, 0]

    def _read_contacts(self) -> np.ndarray:
        """(N, B) bool: which bodies touch the ground."""
        buf = self._arb_buf
        buf.clear()
        pb.get_space_arbiters(self.space, _ARB, buf)
        arb = np.frombuffer(buf.int_buf(), dtype=np.uintp).reshape(-1, 3)  # a, b, n_contacts
        ids = arb[arb[:, 2] > 0, :2].ravel()  # cached arbiters of shapes apart have 0 contacts
        contact = np.zeros(self.n_agents * self.n_bodies, dtype=bool)
        if len(ids):
            pos = np.minimum(np.searchsorted(self._id_sorted, ids), len(self._id_sorted) - 1)
            known = self._id_sorted[pos] == ids
            contact[self._id_order[pos[known]]] = True
        return contact.reshape(self.n_agents, self.n_bodies)

    def joint_angles(self) -> tuple[np.ndarray, np.ndarray]:
        """Joint angles from the rest pose and joint speeds, (N, J) each."""
        ang = self.state[:, :, 2]
        vel = self.state[:, :, 5]
        rel = ang[:, self._jb] - ang[:, self._ja] - self._rest
        return rel, vel[:, self._jb] - vel[:, self._ja]

    def _observe(self) -> np.ndarray:
        torso = self.state[:, self.spec.torso]  # (N, 6)
        angle, speed = self.joint_angles()
        obs = np.empty((self.n_agents, self.obs_dim))
        j, f = self.n_joints, len(self._feet)
        obs[:, 0] = (torso[:, 2] - self.spec.bodies[self.spec.torso].angle + np.pi) % (
            2 * np.pi
        ) - np.pi
        obs[:, 1] = torso[:, 5] * 0.1
        obs[:, 2:4] = torso[:, 3:5] * 0.2
        under = height_at(self.ground, torso[:, 0])  # (N,) m
        obs[:, 4] = (torso[:, 1] - under) * (1.0 / self._torso_rest_y)  # above the ground
        obs[:, 5 : 5 + j] = angle * np.where(angle > 0, self._inv_hi, self._inv_lo)
        obs[:, 5 + j : 5 + 2 * j] = speed / self._max_speed
        obs[:, 5 + 2 * j : 5 + 2 * j + f] = self.contacts[:, self._feet]
        if len(self._ahead):  # (N, K) ground height ahead, in units of the sensor spacing
            ahead = height_at(self.ground, torso[:, 0:1] + self._ahead)
            obs[:, 5 + 2 * j + f:] = (ahead - under[:, None]) * (1.0 / self.config.sensor_spacing)
        return obs

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Advance every walker one `dt`; actions (N, J) motor targets in [-1, 1]."""
        if not self._reset_called:
            raise RuntimeError("call reset() before step()")
        act = np.asarray(actions, dtype=np.float64)
        if act.shape != (self.n_agents, self.n_joints):
            raise ValueError(
                f"actions must have shape ({self.n_agents}, {self.n_joints}), got {act.shape}"
            )
        act = np.minimum(np.maximum(act, -1.0), 1.0)
        if np.isnan(act.sum()):
            raise ValueError("actions contain NaN")
        active = ~(self.terminated | self.truncated)  # (N,)
        target = np.where(act > 0, act * self._hi, -act * self._lo)  # (N, J) rad
        angle, _ = self.joint_angles()
        rate = (target - angle) * self.config.motor_gain
        np.minimum(rate, self._max_speed, out=rate)
        np.maximum(rate, -self._max_speed, out=rate)
        rate *= active[:, None]
        rate *= -1.0  # chipmunk's SimpleMotor drives w_a - w_b (not w_b - w_a) to its rate
        set_rate = self._set_rate
        for ptr, r in zip(self._motor_ptrs, rate.ravel().tolist()):
            set_rate(ptr, r)
        x_before = self.torso_x
        self.space.step(self.dt)
        self.time += self.dt
        self._read_state()
        self.contacts = self._read_contacts()
        fell = active & self.contacts[:, self._fall].any(axis=1)
        self.fallen = self.fallen | fell
        self.terminated = self.terminated | fell
        if self.time >= self.config.max_time - 1e-9:
            self.truncated = self.truncated | (active & ~self.terminated)
        now_done = active & (self.terminated | self.truncated)
        self._end_time = np.where(now_done, self.time, self._end_time)
        reward = (self.torso_x - x_before) * active
        # frozen once done: fitness is where the torso was when the walker fell
        self.torso_x = np.where(active, self.torso_x, x_before)
        self.obs = np.where(active[:, None], self._observe(), self.obs)
        self._steps += active
        self._sum_feet += self.contacts[:, self._feet] * active[:, None]
        self._sum_angle += self.obs[:, 0] * active
        return self.obs, reward, self.terminated, self.truncated, self.info()

    def info(self) -> dict[str, np.ndarray]:
        """Per-walker statistics (arrays of length N)."""
        up = np.maximum(self._steps, 1.0)
        feet = self._sum_feet / up[:, None]
        return {
            "distance": self.torso_x - self._x0,  # m the torso travelled in +x
            "fallen": self.fallen,
            "time_alive": np.minimum(self._end_time, self.time),  # s
            "torso_height": self.state[:, self.spec.torso, 1].copy(),  # m
            # means over the steps each walker was up (0 before its first step)
            "mean_torso_angle": self._sum_angle / up,  # rad from the rest pose
            # foot_contact_F: share of them foot F (the creature's `feet`) touched the ground
            **{f"foot_contact_{f}": feet[:, f] for f in range(feet.shape[1])},
        }

    # ------------------------------------------------------------------ for renderers
    def body_poses(self) -> np.ndarray:
        """(N, B, 3) x, y, angle of every body (boxes of size `body_sizes`)."""
        return self.state[:, :, :3].copy()

    @property
    def body_sizes(self) -> np.ndarray:
        """(N, B, 2) width and height of each walker's boxes."""
        return np.broadcast_to(self._sizes, (self.n_agents, self.n_bodies, 2)).copy()

    def body_polygons(self) -> np.ndarray:
        """(N, B, 4, 2) corners of every body (each walker's own sizes)."""
        half = self._sizes / 2  # (1 or N, B, 2)
        local = np.stack(
            [-half, half * [1, -1], half, half * [-1, 1]], axis=-2
        )  # (1 or N, B, 4, 2)
        x, y, a = self.state[..., 0:1], self.state[..., 1:2], self.state[..., 2:3]
        c, s = np.cos(a), np.sin(a)  # (N, B, 1)
        px = x + local[..., 0] * c - local[..., 1] * s
        py = y + local[..., 0] * s + local[..., 1] * c
        return np.stack([px, py], axis=-1)
