"""The cars and walkers tasks (:class:`CarTask`, :class:`WalkerTask`; the interface is
:class:`evo.task.Task`), their config sections, and :class:`TaskSpec`, which builds the task a
config names (a ``gym:ENV_ID`` one is :class:`evo.gym_task.GymTask`).

A task is plain, picklable data (its config), so a worker process or a Ray actor can
build its own copy once and reuse it for every chunk it evaluates.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from evo import kinds
from evo.gym_config import GymConfig, gym_env_id
from evo.gym_task import GymTask
from evo.rollout import PolicyConfig, episode
from evo.task import Episode, Task
from evo.task_faces import CarFace, WalkerFace
from sims import ray_layout
from sims.body import joint_tree, n_genes, scaled_creature
from sims.car_world import CarWorld, CarWorldConfig
from sims.errors import SimsError
from sims.track_group import TrackGroup
from sims.walker import CreatureSpec, creature_dict
from sims.walker_world import WalkerWorld, WalkerWorldConfig


@dataclass(frozen=True)
class CarsConfig:
    track: str = "default"  # a track file, a shipped track name, or procedural:SEED[:DIFFICULTY]
    # Training tracks: when not empty, each episode drives one of these (picked from the
    # episode's seed) instead of `track`, e.g. [procedural:1, procedural:2, ...]
    tracks: list[str] = field(default_factory=list)
    # Episodes start at one of this many evenly spaced points around the track (drawn from
    # the episode's seed; every car of the episode at the same point); 1: the start line
    start_points: int = 1
    # weight of the fitness bonus for finishing the configured laps early,
    # time_bonus * (1 - time / max_time); 0: progress alone counts
    time_bonus: float = 0.0
    # fixed: every car has the ray fan of world.sensors; evolve: the genome also holds per
    # ray an angle and a range gene, so each car evolves its own rays around that fan
    # (angles up to half-way to a neighbour's, ranges x 0.5..1.5; sims.ray_layout)
    sensors: str = "fixed"
    # laps: fitness is progress in laps (above); goal: drive to the goal of a course (a
    # track file with `goal`, e.g. maze): fitness 1 - distance to the goal at the end /
    # distance at the start, 1 once reached (every track driven must have a goal)
    objective: str = "laps"
    world: CarWorldConfig = field(default_factory=CarWorldConfig)

    def validate(self):
        bad = [("start_points", "must be >= 1")] if self.start_points < 1 else []
        if self.objective not in OBJECTIVES:
            bad.append(("objective", f"must be one of {', '.join(OBJECTIVES)}"))
        if self.time_bonus < 0:
            bad.append(("time_bonus", "must be >= 0"))
        if self.sensors not in SENSOR_MODES:
            bad.append(("sensors", f"must be one of {', '.join(SENSOR_MODES)} (the ray fan "
                        f"itself is cars.world.sensors)"))
        elif self.sensors == "evolve" and not self.world.sensors.fov > 0:
            bad.append(("sensors", "evolve moves rays within the fan: it needs "
                        "cars.world.sensors.fov > 0"))
        return bad


SENSOR_MODES = ("fixed", "evolve")  # cars.sensors
OBJECTIVES = ("laps", "goal")  # cars.objective
BODY_MODES = ("fixed", "evolve")  # walkers.body


@dataclass(frozen=True)
class WalkersConfig:
    creature: str = "biped"  # a creature file or a shipped creature name
    # Training terrains: when not empty, each episode walks one of these (picked from the
    # episode's seed, like cars.tracks) instead of world.terrain, e.g. [procedural:1:0.5, ...];
    # procedural:*:D is a fresh terrain of difficulty D for every episode (FRESH_TERRAINS)
    terrains: list[str] = field(default_factory=list)
    # m taken off the distance of a walker that falls (0: a fall just ends its episode)
    fall_penalty: float = 0.0
    # m added per second a walker stays up (0: distance alone counts)
    alive_bonus: float = 0.0
    # m/s: distance beyond target_speed x world.max_time earns nothing, so a gait that lasts
    # beats a faster one that risks a fall (0: no cap)
    target_speed: float = 0.0
    # fixed: every walker has the creature's body; evolve: the genome also holds body genes
    # (per body a length and a width scale, per joint a motor strength scale; sims.body)
    body: str = "fixed"
    world: WalkerWorldConfig = field(default_factory=WalkerWorldConfig)

    def validate(self):
        bad = []
        if self.body not in BODY_MODES:
            bad.append(("body", f"must be one of {', '.join(BODY_MODES)}"))
        if self.fall_penalty < 0:
            bad.append(("fall_penalty", "must be >= 0"))
        if self.alive_bonus < 0:
            bad.append(("alive_bonus", "must be >= 0"))
        if self.target_speed < 0:
            bad.append(("target_speed", "must be >= 0 (0: no cap)"))
        return bad


class CarTask(CarFace, Task):
    """Drive laps: fitness is progress along the track in laps (1.0 = one lap), plus a
    bonus of up to ``time_bonus`` (default 0) for finishing the configured laps early.
    With ``objective: goal``, drive to a course's goal: fitness ``1 - d_end / d_start``
    (Euclidean distances to the goal at the episode's end and start), 1 once reached.

    With ``sensors: evolve`` a genome is ``[network weights | sensor genes]``
    (``sims.ray_layout``: per ray an angle, then per ray a range; all 0 is the fixed fan
    of ``world.sensors``), and each car of an episode reads with its genome's rays."""

    name = kinds.CARS
    columns = ("laps", "progress", "crashed", "time_alive", "lap_time")
    sources = {"lap_time": "best_lap_time"}  # the fastest lap of the episode, NaN if none
    section = "cars"
    config_class = CarsConfig

    def __init__(self, cfg: CarsConfig, policy: PolicyConfig,
                 layout: tuple[np.ndarray, np.ndarray] | None = None):
        """``layout``: every car reads with these rays, ``(angles (R,), ranges (R,))``,
        instead of the fan of ``cfg.world.sensors`` (a replay of evolved sensors;
        ``cfg.sensors`` must then be fixed)."""
        super().__init__(policy)
        self.cfg = cfg
        params = cfg.world.sensors
        self.n_sensor_genes = 0
        self.layout = None
        if cfg.sensors == "evolve":
            if layout is not None:
                raise ValueError("a CarTask given its ray layout has fixed sensors")
            self.n_sensor_genes = ray_layout.n_genes(params)
        elif layout is not None:
            self.layout = tuple(np.asarray(a, np.float64).reshape(params.n_rays)
                                for a in layout)
        # the sensor tables cover every range a gene can give (None: the fan's range)
        self._max_range = (ray_layout.max_range(params)
                           if self.n_sensor_genes or layout is not None else None)
        from sims.track import load_track

        self.track = load_track(cfg.track)
        # every training track is loaded now, so a bad one is reported before any work
        self._tracks = {spec: load_track(spec) for spec in cfg.tracks}
        self._moved = {}  # (training track or None, start point) -> Track
        if cfg.objective == "goal":
            for t in (self.track, *self._tracks.values()):
                if t.goal is None:
                    raise SimsError(f"cars.objective goal: track '{t.name}' ({t.source}) "
                                    f"has no goal (a course file's 'goal: [x, y]', e.g. maze)")
            self.columns = (*CarTask.columns, "goal_distance", "reached")
        self._multi: dict[tuple, CarWorld] = {}  # the last several-track world (one kept)

    @property
    def half_width(self) -> float:
        """m, half the widest track driven (the range of the mean_lateral descriptor)."""
        return max(t.width for t in (self.track, *self._tracks.values())) / 2

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) m over every track driven (the final_x/final_y
        descriptors' ranges)."""
        b = np.array([t.bounds() for t in (self.track, *self._tracks.values())])
        return (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()),
                float(b[:, 3].max()))

    def variant(self, seed):
        """``(training track or None for `track`, start point)``, or None: the usual world."""
        cfg = self.cfg
        if seed is None or (not cfg.tracks and cfg.start_points == 1):
            return None
        n_tracks = max(len(cfg.tracks), 1)
        track = cfg.tracks[seed % n_tracks] if cfg.tracks else None
        return track, (seed // n_tracks) % cfg.start_points

    def make_world(self, n_agents, variant=None):
        return self._layout(CarWorld(self._track(variant), n_agents, self.cfg.world,
                                     max_range=self._max_range,
                                     behaviour=self.describer is not None))

    def _layout(self, world: CarWorld) -> CarWorld:
        """``world`` with every car reading with the task's fixed ray layout, if it has one."""
        if self.layout is not None:
            n = world.n_agents
            world.set_sensors(*(np.tile(a, (n, 1)) for a in self.layout))
        return world

    def _track(self, variant):
        """The (possibly moved-start) track of a :meth:`variant`."""
        spec, start = (None, 0) if variant is None else variant
        track = self.track if spec is None else self._tracks[spec]
        if start:  # one moved-start track per (track, start), shared by its worlds
            key = (spec, start)
            if key not in self._moved:
                self._moved[key] = track.starting_at(
                    start * track.n_samples // self.cfg.start_points)
            track = self._moved[key]
        return track

    def episodes(self, thetas, seeds, first_member=0):
        """Several episodes at the cost of about one: the genomes drive every episode's track
        (and start) in one world, one step advancing all ``len(seeds) x n`` cars, one
        :class:`sims.track_group.TrackGroup` view per episode; the results are split back per
        episode and equal those of one episode at a time bit for bit (every car computes
        exactly what it would in a world of its own track)."""
        seeds = [int(s) for s in seeds]
        if len(seeds) == 1:
            yield from super().episodes(thetas, seeds, first_member)
            return
        world, order = self.episodes_world(len(thetas), seeds)
        k = len(seeds)
        weights = self.prepare(world, np.tile(thetas, (k, 1)))  # each car's rays, if evolved
        in_order = [seeds[i] for i in order]  # group g drives in_order[g]
        gen = episode(world, self.network(), weights, in_order, [first_member] * k)
        yield Episode(world, weights, in_order, gen,
                      lambda value: self.split(world, value[0], order),
                      [TrackGroup(world, g) for g in range(k)])

    def episodes_world(self, n: int, seeds: list[int]) -> tuple[CarWorld, list[int]]:
        """The one world in which ``n`` genomes drive every episode of ``seeds``, and
        ``order``: group ``g`` of the world (``world.groups[g]``, ``n`` cars on one track)
        drives the episode ``seeds[order[g]]``, so the world is reset with
        ``[seeds[i] for i in order]``.  The groups follow the training tracks' order, not
        the seeds', so a generation whose episodes drive the same tracks in another order
        reuses the world (built once per mix of tracks; the last one is kept)."""
        variants = [self.variant(int(s)) for s in seeds]
        rank = {spec: i for i, spec in enumerate(self.cfg.tracks)}
        order = sorted(range(len(seeds)), key=lambda i: (
            -1 if variants[i] is None else rank.get(variants[i][0], -1),
            0 if variants[i] is None else variants[i][1], i))
        key = (tuple(variants[i] for i in order), n)
        if key not in self._multi:
            self._multi.clear()  # the stacked sensor tables are large: keep only the last
            self._multi[key] = self._layout(CarWorld(
                [self._track(v) for v in key[0]], [n] * len(seeds), self.cfg.world,
                max_range=self._max_range, behaviour=self.describer is not None))
        return self._multi[key], order

    def split(self, world: CarWorld, info, order: list[int]) -> list[dict[str, np.ndarray]]:
        """An :meth:`episodes_world` episode's ``info`` -> one :meth:`result` per episode,
        in the order of the seeds (``order`` as :meth:`episodes_world` gave it)."""
        out = [None] * len(order)
        for grp, i in zip(world.groups, order):
            part = {name: value[grp] for name, value in info.items()}
            # a car steps until it is done: time_alive is its step count times dt
            steps = int(np.rint(part["time_alive"] / world.dt).sum())
            out[i] = self.result(part, steps)
        return out

    gene_kind = "sensor"

    @property
    def extra_genes(self):
        return self.n_sensor_genes

    def prepare(self, world, genomes):
        if not self.n_sensor_genes:  # fixed sensors: a genome is the weights
            return genomes
        weights, genes = self._split(genomes)
        world.set_sensors(*ray_layout.layout(self.cfg.world.sensors, genes))
        return weights

    def genome_meta(self, genome):
        """With ``sensors: evolve``: ``{"sensors": {"genes": [...], "angles": [...],
        "ranges": [...]}}``, the genome's rays (rad from the heading, ray 0 the rightmost;
        m)."""
        if not self.n_sensor_genes:
            return {}
        genes = self._split(np.asarray(genome, np.float64))[1]
        angles, ranges = ray_layout.layout(self.cfg.world.sensors, genes)
        return {"sensors": {"genes": genes.tolist(), "angles": angles.tolist(),
                            "ranges": ranges.tolist()}}

    def fitness(self, info):
        if self.cfg.objective == "goal":
            close = 1.0 - np.asarray(info["goal_distance"], np.float64) / np.maximum(
                np.asarray(info["goal_start"], np.float64), 1e-9)
            return np.where(info["reached"], 1.0, close)
        bonus = np.where(info["finished"], 1.0 - info["time_alive"] / self.cfg.world.max_time, 0)
        bonus *= self.cfg.time_bonus
        return np.asarray(info["progress"], np.float64) + bonus


FRESH_TERRAINS = 1000  # the first seed of walkers.terrains' procedural:* terrains: the
# shipped training (1-16) and held-out (100-104) terrains lie below it


def fresh_terrain(spec: str, seed: int) -> str:
    """``procedural:*[:D]`` with the terrain seed ``seed``; any other spec as it is."""
    head, _, rest = spec.partition(":")
    if head != "procedural" or not rest.startswith("*"):
        return spec
    return f"procedural:{seed}{rest[1:]}"


class WalkerTask(WalkerFace, Task):
    """Walk right: fitness is the distance (m) the torso travelled (at most
    ``target_speed`` x ``world.max_time`` where that is set), less ``fall_penalty`` if it
    fell, plus ``alive_bonus`` per second it stayed up.

    With ``body: evolve`` a genome is ``[network weights | body genes]`` (``sims.body``:
    per body a length and a width scale, per joint a motor strength scale; all 0 is the
    creature as its file says), and each walker of an episode gets its genome's body."""

    name = kinds.WALKERS
    columns = ("distance", "fallen", "time_alive")
    section = "walkers"
    config_class = WalkersConfig
    BODY_CACHE = 4096  # bodies remembered by their genes (a GA's elites come back)

    def __init__(self, cfg: WalkersConfig, policy: PolicyConfig,
                 creature: CreatureSpec | None = None):
        """``creature``: this body instead of ``cfg.creature`` (a replay of an evolved
        body; ``cfg.body`` must then be fixed)."""
        super().__init__(policy)
        self.cfg = cfg
        from sims.terrain import parse_terrain
        from sims.walker import load_creature

        self.creature = creature if creature is not None else load_creature(cfg.creature)
        self.n_body_genes = 0
        if cfg.body == "evolve":
            if creature is not None:
                raise ValueError("a WalkerTask given its creature has a fixed body")
            joint_tree(self.creature)  # a creature that is no tree: SimsError, one line
            self.n_body_genes = n_genes(self.creature)
        self._bodies: dict[bytes, CreatureSpec] = {}
        for spec in cfg.terrains:  # a bad training terrain is reported before any work
            named = fresh_terrain(spec, FRESH_TERRAINS)
            try:
                parse_terrain(named)
                replace(cfg.world, terrain=named)  # and one the world refuses (roughness)
            except SimsError as e:
                raise SimsError(str(e).replace(named, spec)) from None
        # fresh terrains: a world per episode, so keep only the last few
        self.world_cache = 8 if any(fresh_terrain(t, 0) != t for t in cfg.terrains) else None

    def variant(self, seed):
        """The training terrain of an episode, or None (``world.terrain``): entry
        ``seed % n`` of ``terrains``; a ``procedural:*`` entry with the terrain seed
        ``FRESH_TERRAINS + (seed // n) % 10**9``, so consecutive episode seeds walk the
        entries in turn, each time on new ground."""
        if seed is None or not self.cfg.terrains:
            return None
        n = len(self.cfg.terrains)
        return fresh_terrain(self.cfg.terrains[seed % n], FRESH_TERRAINS + (seed // n) % 10**9)

    def make_world(self, n_agents, variant=None):
        world_cfg = self.cfg.world if variant is None else replace(self.cfg.world,
                                                                   terrain=variant)
        return WalkerWorld(self.creature, n_agents, world_cfg)

    gene_kind = "body"

    @property
    def extra_genes(self):
        return self.n_body_genes

    def body(self, genes: np.ndarray) -> CreatureSpec:
        """The creature resized by body ``genes (n_body_genes,)`` (remembered)."""
        genes = np.ascontiguousarray(genes, np.float64)
        key = genes.tobytes()
        spec = self._bodies.get(key)
        if spec is None:
            if len(self._bodies) >= self.BODY_CACHE:
                self._bodies.clear()
            spec = self._bodies[key] = scaled_creature(self.creature, genes)
        return spec

    def prepare(self, world, genomes):
        weights, genes = self._split(genomes)
        if self.n_body_genes:
            world.set_bodies([self.body(g) for g in genes])
        return weights

    def genome_meta(self, genome):
        """With ``body: evolve``: ``{"body": {"genes": [...], "creature": mapping}}``, the
        genome's body as a creature file's mapping (``sims.walker.creature_dict``)."""
        if not self.n_body_genes:
            return {}
        genes = self._split(np.asarray(genome, np.float64))[1]
        return {"body": {"genes": genes.tolist(),
                         "creature": creature_dict(self.body(genes))}}

    def fitness(self, info):
        distance = np.asarray(info["distance"], np.float64)
        if self.cfg.target_speed > 0:
            distance = np.minimum(distance, self.cfg.target_speed * self.cfg.world.max_time)
        fit = distance - self.cfg.fall_penalty * np.asarray(info["fallen"], np.float64)
        return fit + self.cfg.alive_bonus * np.asarray(info["time_alive"], np.float64)


@dataclass(frozen=True)
class TaskSpec:
    """Everything a worker needs to rebuild the task (picklable)."""

    name: str
    cars: CarsConfig
    walkers: WalkersConfig
    policy: PolicyConfig
    gym: GymConfig = field(default_factory=GymConfig)  # gym:ENV_ID tasks
    population: int = 0  # the run's population (a gym vector environment's layout)
    descriptors: tuple[str, ...] = ()  # behaviour descriptors every result carries (QD)

    def build(self) -> Task:
        task = self._build()
        if self.descriptors:
            task.set_descriptors(self.descriptors)
        return task

    def _build(self) -> Task:
        cls = task_class(self.name)
        if cls is GymTask:
            return GymTask(gym_env_id(self.name), self.gym, self.policy, self.population)
        return cls(self.task_config, self.policy)

    @property
    def task_config(self):
        """The config section of this task (saved with its models)."""
        return getattr(self, task_class(self.name).section)


@dataclass(frozen=True)
class TaskSections:
    """The part of a config that ``evolve`` and ``reinforce`` share: the task it names and
    the sections of the worlds (``cars``, ``walkers``, ``gym``).  Their configs
    (:class:`evo.config.EvolveConfig`, :class:`rl.config.ReinforceConfig`) extend it."""

    task: str = "cars"  # cars, walkers, or gym:ENV_ID (a Gymnasium environment)
    cars: CarsConfig = field(default_factory=CarsConfig)
    walkers: WalkersConfig = field(default_factory=WalkersConfig)
    gym: GymConfig = field(default_factory=GymConfig)

    def task_problems(self) -> list[tuple[str, str]]:
        """``[(key, what is wrong)]`` of the task's name (empty: a known task)."""
        if self.task in TASKS or gym_env_id(self.task):
            return []
        return [("task", f"must be one of {', '.join(TASKS)} or gym:ENV_ID")]

    def task_spec(self, policy: PolicyConfig, population: int = 0,
                  descriptors: tuple[str, ...] = ()) -> TaskSpec:
        """The :class:`TaskSpec` of this config's task with ``policy``."""
        return TaskSpec(self.task, self.cars, self.walkers, policy, self.gym, population,
                        tuple(descriptors))


# -- the registry: task names -> their classes ---------------------------------------------
KINDS: dict[str, type[Task]] = {CarTask.name: CarTask, WalkerTask.name: WalkerTask}
TASKS = kinds.WORLD_TASKS  # and gym:ENV_ID (evo.gym_config)
if tuple(KINDS) != TASKS:  # (a task added to one and not the other)
    raise ImportError(f"evo.kinds names {TASKS}, the registry {tuple(KINDS)}")


def task_class(name: str) -> type[Task]:
    """The task class a config's ``task`` names: one of :data:`KINDS`, or
    :class:`evo.gym_task.GymTask` for ``gym:ENV_ID``; ``ValueError`` for another name."""
    if name in KINDS:
        return KINDS[name]
    if gym_env_id(str(name)) is not None:
        return GymTask
    raise ValueError(f"unknown task {name!r} (known: {', '.join(TASKS)}, gym:ENV_ID)")
