"""Our worlds as Gymnasium environments (``pip install -e '.[gym]'``).

Importing this module registers

- ``neuroevo/Cars-v0``: one car on a track (:class:`CarsEnv`); keyword arguments ``track``
  (a track file, a shipped track's name or ``procedural:SEED[:DIFFICULTY]``), ``sensors``
  (``n_rays``, ``fov``, ``range``: :class:`~sims.sensors.SensorParams`) and ``world`` (the
  other :class:`~sims.car_world.CarWorldConfig` settings, e.g. ``max_time``, ``laps``,
  ``start_jitter``);
- ``neuroevo/Walker-v0``: one creature (:class:`WalkerEnv`); keyword arguments
  ``creature`` (a creature file or a shipped creature's name) and ``world``
  (:class:`~sims.walker_world.WalkerWorldConfig` settings),

each with the usual ``reset(seed=...)`` / ``step`` contract, ``render_mode="rgb_array"``,
and a vectorised version over the batched world::

    import gymnasium, sims.gym
    env = gymnasium.make("neuroevo/Cars-v0", track="procedural:3")
    vec = gymnasium.make_vec("neuroevo/Cars-v0", num_envs=8,
                             vectorization_mode="vector_entry_point")

Observations, actions and rewards are the worlds' own (see :mod:`sims.car_world` and
:mod:`sims.walker_world`), observations as float32.  A car that touches a wall, or a walker
that falls, is terminated; both are truncated at the world's ``max_time``.

The vector versions step N agents of one world together, so sub-environment ``i`` gives
exactly what a single environment gives for the same actions.  They do not reset
sub-environments on their own (``autoreset_mode`` is ``DISABLED``): the batched world
has one clock, so ``reset()`` resets all of them, and a finished sub-environment keeps its
last observation and a reward of 0 until then.  The seed of ``reset(seed=s)`` is drawn from
once for the whole world: with ``start_jitter`` (cars) sub-environment ``i`` starts as
member ``i`` of that draw, and on rough ground (walkers) every sub-environment walks the
ground of ``s``.
"""

from __future__ import annotations

from dataclasses import fields

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from sims.car_world import CarWorld, CarWorldConfig
from sims.sensors import SensorParams
from sims.walker import load_creature
from sims.walker_world import WalkerWorld, WalkerWorldConfig

CARS_ID = "neuroevo/Cars-v0"
WALKER_ID = "neuroevo/Walker-v0"
FRAME = 480  # px, the side of an rgb_array frame


# -- building the worlds from keyword arguments ---------------------------------------------
def car_world_config(sensors=None, world=None) -> CarWorldConfig:
    """A :class:`CarWorldConfig` from plain keyword dictionaries (or the dataclasses)."""
    if isinstance(world, CarWorldConfig):
        cfg = world
    else:
        cfg = CarWorldConfig(**_known(CarWorldConfig, dict(world or {}), "world"))
    if sensors is not None:
        sp = sensors if isinstance(sensors, SensorParams) else \
            SensorParams(**_known(SensorParams, dict(sensors), "sensors"))
        cfg = CarWorldConfig(**{**{f.name: getattr(cfg, f.name) for f in fields(cfg)},
                                "sensors": sp})
    return cfg


def walker_world_config(world=None) -> WalkerWorldConfig:
    if isinstance(world, WalkerWorldConfig):
        return world
    return WalkerWorldConfig(**_known(WalkerWorldConfig, dict(world or {}), "world"))


def _known(cls, kw: dict, what: str) -> dict:
    names = {f.name for f in fields(cls)}
    bad = sorted(set(kw) - names)
    if bad:
        raise TypeError(f"{what}: unknown setting {bad[0]!r} (known: {', '.join(sorted(names))})")
    return kw


def car_spaces(world: CarWorld) -> tuple[spaces.Box, spaces.Box]:
    r, car = world.n_rays, world.params
    # rays / range in [0, 1]; forward speed / max_speed in [-max_reverse / max_speed, 1]
    low = np.r_[np.zeros(r), -car.max_reverse / car.max_speed].astype(np.float32)
    high = np.ones(r + 1, np.float32)
    return (spaces.Box(low, high, dtype=np.float32),
            spaces.Box(-1.0, 1.0, (world.act_dim,), np.float32))


def walker_spaces(world: WalkerWorld) -> tuple[spaces.Box, spaces.Box]:
    low = np.full(world.obs_dim, -np.inf, np.float32)
    high = np.full(world.obs_dim, np.inf, np.float32)
    low[0], high[0] = -np.pi, np.pi  # torso angle
    feet = len(world.spec.feet)
    low[world.obs_dim - feet:], high[world.obs_dim - feet:] = 0, 1  # foot contacts
    return (spaces.Box(low, high, dtype=np.float32),
            spaces.Box(-1.0, 1.0, (world.act_dim,), np.float32))


# -- frames ------------------------------------------------------------------------------
class _Canvas:
    """An off-screen matplotlib figure that draws a world into an ``(H, W, 3)`` uint8
    frame (no display needed)."""

    def __init__(self):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.fig = Figure(figsize=(FRAME / 80, FRAME / 80), dpi=80)
        self.canvas = FigureCanvasAgg(self.fig)
        self.ax = self.fig.add_axes((0, 0, 1, 1))

    def frame(self) -> np.ndarray:
        self.canvas.draw()
        return np.asarray(self.canvas.buffer_rgba())[:, :, :3].copy()


def draw_cars(canvas: _Canvas, world: CarWorld, cars) -> np.ndarray:
    ax = canvas.ax
    ax.clear()
    ax.set_axis_off()
    ax.set_aspect("equal")
    for line in world.wall_polylines():
        ax.plot(line[:, 0], line[:, 1], color="0.2", lw=1)
    ends = world.ray_endpoints()  # (N, R, 2)
    polys = world.car_polygons()  # (N, 4, 2)
    for i in cars:
        for end in ends[i]:
            ax.plot([world.position[i, 0], end[0]], [world.position[i, 1], end[1]],
                    color="tab:orange", lw=0.6, alpha=0.6)
        color = "tab:red" if world.crashed[i] else "tab:blue"
        ax.fill(polys[i, :, 0], polys[i, :, 1], color=color)
    return canvas.frame()


def draw_walkers(canvas: _Canvas, world: WalkerWorld, walkers) -> np.ndarray:
    ax = canvas.ax
    ax.clear()
    ax.set_axis_off()
    ax.set_aspect("equal")
    polys = world.body_polygons()  # (N, B, 4, 2)
    x = float(np.mean(world.state[list(walkers), world.spec.torso, 0]))
    ax.set_xlim(x - 4, x + 4)
    ax.set_ylim(-1, 4)
    ax.plot(world.ground[:, 0], world.ground[:, 1], color="0.2", lw=2)
    for i in walkers:
        for body in polys[i]:
            ax.fill(body[:, 0], body[:, 1], color="tab:red" if world.fallen[i] else "tab:blue",
                    alpha=0.8)
    return canvas.frame()


# -- single environments -------------------------------------------------------------------
class _WorldEnv(gymnasium.Env):
    """One agent of a batched world."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 60}

    def __init__(self, world, obs_space, act_space, render_mode=None):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} "
                             f"or None, got {render_mode!r}")
        self.world = world
        self.observation_space, self.action_space = obs_space, act_space
        self.render_mode = render_mode
        self._canvas = None

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        obs = self.world.reset(seed=self.np_random)
        return obs[0].astype(np.float32), self._info()

    def step(self, action):
        act = np.asarray(action, np.float64).reshape(1, -1)
        obs, reward, term, trunc, _ = self.world.step(act)
        return (obs[0].astype(np.float32), float(reward[0]), bool(term[0]), bool(trunc[0]),
                self._info())

    def _info(self) -> dict:
        """The world's statistics of the agent as Python scalars (None for a NaN, e.g. no
        lap time yet)."""
        info = {k: v[0].item() for k, v in self.world.info().items()}
        return {k: None if isinstance(v, float) and v != v else v for k, v in info.items()}

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        if self._canvas is None:
            self._canvas = _Canvas()
        return self._draw(self._canvas, [0])

    def close(self):
        self._canvas = None


class CarsEnv(_WorldEnv):
    """One car on a track: ``neuroevo/Cars-v0``."""

    def __init__(self, track="default", sensors=None, world=None, render_mode=None):
        w = CarWorld(track, 1, car_world_config(sensors, world))
        super().__init__(w, *car_spaces(w), render_mode)

    def _draw(self, canvas, rows):
        return draw_cars(canvas, self.world, rows)


class WalkerEnv(_WorldEnv):
    """One creature on the ground: ``neuroevo/Walker-v0``."""

    def __init__(self, creature="biped", world=None, render_mode=None):
        w = WalkerWorld(load_creature(creature), 1, walker_world_config(world))
        super().__init__(w, *walker_spaces(w), render_mode)

    def _draw(self, canvas, rows):
        return draw_walkers(canvas, self.world, rows)


# -- vector environments -------------------------------------------------------------------
class _WorldVectorEnv(VectorEnv):
    """N agents of one batched world as N sub-environments (see the module docstring)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 60,
                "autoreset_mode": AutoresetMode.DISABLED}

    def __init__(self, world, obs_space, act_space, render_mode=None):
        self.world = world
        self.num_envs = world.n_agents
        self.single_observation_space, self.single_action_space = obs_space, act_space
        self.observation_space = batch_space(obs_space, self.num_envs)
        self.action_space = batch_space(act_space, self.num_envs)
        self.render_mode = render_mode
        self._canvas = None

    def reset(self, *, seed=None, options=None):
        mask = (options or {}).get("reset_mask")
        if mask is not None and not np.all(mask):
            raise ValueError("this vector environment resets all its sub-environments "
                             "together (one batched world): reset_mask must be all True")
        super().reset(seed=seed)
        obs = self.world.reset(seed=self.np_random)
        return obs.astype(np.float32), self._info()

    def step(self, actions):
        act = np.asarray(actions, np.float64).reshape(self.num_envs, -1)
        obs, reward, term, trunc, _ = self.world.step(act)
        return (obs.astype(np.float32), np.asarray(reward, np.float64).copy(), term.copy(),
                trunc.copy(), self._info())

    def _info(self) -> dict:
        info = {}
        for k, v in self.world.info().items():
            info[k] = np.array(v, copy=True)
            info[f"_{k}"] = np.ones(self.num_envs, bool)
        return info

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        if self._canvas is None:
            self._canvas = _Canvas()
        return self._draw(self._canvas, range(self.num_envs))

    def close_extras(self, **kwargs):
        self._canvas = None


class CarsVectorEnv(_WorldVectorEnv):
    """``num_envs`` cars in one :class:`CarWorld` (``gymnasium.make_vec("neuroevo/Cars-v0",
    num_envs=N, vectorization_mode="vector_entry_point")``)."""

    def __init__(self, num_envs=1, track="default", sensors=None, world=None,
                 render_mode=None):
        w = CarWorld(track, num_envs, car_world_config(sensors, world))
        super().__init__(w, *car_spaces(w), render_mode)

    def _draw(self, canvas, rows):
        return draw_cars(canvas, self.world, rows)


class WalkerVectorEnv(_WorldVectorEnv):
    """``num_envs`` creatures in one :class:`WalkerWorld`."""

    def __init__(self, num_envs=1, creature="biped", world=None, render_mode=None):
        w = WalkerWorld(load_creature(creature), num_envs, walker_world_config(world))
        super().__init__(w, *walker_spaces(w), render_mode)

    def _draw(self, canvas, rows):
        return draw_walkers(canvas, self.world, rows)


def register() -> None:
    """Register ``neuroevo/Cars-v0`` and ``neuroevo/Walker-v0`` (done on import)."""
    if CARS_ID not in gymnasium.registry:
        gymnasium.register(CARS_ID, entry_point=f"{__name__}:CarsEnv",
                           vector_entry_point=f"{__name__}:CarsVectorEnv")
    if WALKER_ID not in gymnasium.registry:
        gymnasium.register(WALKER_ID, entry_point=f"{__name__}:WalkerEnv",
                           vector_entry_point=f"{__name__}:WalkerVectorEnv")


register()
