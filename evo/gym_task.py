"""Evolve any Gymnasium environment: ``neuroevo evolve gym:ENV_ID``.

The policy network is sized from the environment's spaces: a flattened ``Box`` observation
in; one output per ``Discrete`` action (the largest wins) or per ``Box`` action dimension
(the tanh output squashed into the action's bounds).  Observations are normalised with the
running mean and variance of every observation the rollouts have seen (:class:`ObsNorm`).

A chunk of the population runs all its episodes at once: every step is one batched policy
forward for every genome still running and one step of the environments, through the
environment's vector entry point (``gymnasium.make_vec``) where it has one, else one
environment per genome and episode stepped in a loop.  Fitness is the episode's return.

Determinism, whatever the backend and its chunks: in the loop, the environment of member
``m`` in an episode with seed ``s`` is reset with :func:`member_seed` ``(s, m)``; a vector
environment is always laid out for the whole population (``episodes x population``
sub-environments, reset with one seed derived from the episode seeds) and a chunk drives
its own members' sub-environments, so each member sees the same start whichever chunk it
is in.  The normaliser a generation uses is fixed before it starts (it travels with the
genomes, see :meth:`GymTask.genomes`) and is updated afterwards from per-genome sums, in
population order.
"""

from __future__ import annotations

import os

import numpy as np

from common.config import did_you_mean
from common.errors import UserError
from common.resources import pip_install
from evo import descriptors
from evo.gym_config import GymConfig
from evo.rollout import PolicyConfig
from evo.task import Task

STD_FLOOR = 1e-6  # an observation whose std is below this is constant: the policy sees 0


class GymError(UserError):
    """A gym task that cannot run: the extra missing, an unknown environment, unsupported
    spaces (one line, exit status 2)."""


def import_gymnasium():
    """The ``gymnasium`` module, or one line naming the extra to install."""
    try:
        import gymnasium
    except ImportError:
        raise GymError(f"gym: tasks need Gymnasium, which is not installed: "
                       f"{pip_install('gym')}") from None
    return gymnasium


def env_spec(env_id: str):
    """Gymnasium's registered spec of ``env_id``; an unknown id is one line with a
    suggestion."""
    gym = import_gymnasium()
    if env_id.startswith("neuroevo/"):  # our own worlds (sims.gym registers them)
        import sims.gym  # noqa: F401
    if not env_id:
        raise GymError("gym: give an environment id, e.g. gym:CartPole-v1")
    try:
        return gym.spec(env_id)
    except gym.error.Error:
        known = sorted(gym.registry)
        raise GymError(f"gym:{env_id}: no such Gymnasium environment"
                       f"{did_you_mean(env_id, known)}") from None


def make_env(env_id: str, **kwargs):
    """``gymnasium.make(env_id)`` without the checking wrappers; an environment whose own
    dependencies are missing (Box2D, pygame) is one line naming the extra."""
    gym = import_gymnasium()
    spec = env_spec(env_id)
    if kwargs.get("render_mode") == "rgb_array":
        # frames are drawn off screen: SDL (pygame, under Box2D and classic-control
        # renderers) needs no video device, and without one it would print a line of its own
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    try:
        env = gym.make(env_id, disable_env_checker=True, **kwargs)
    except gym.error.DependencyNotInstalled as e:
        raise GymError(f"gym:{env_id}: {str(e).splitlines()[0]} ({pip_install('gym')})") from None
    # our own step limit replaces TimeLimit; keep extra wrappers a spec asks for
    return env if spec.additional_wrappers else env.unwrapped


def member_seed(episode_seed: int, member: int) -> int:
    """The reset seed of population member ``member``'s environment in an episode."""
    return int(np.random.SeedSequence([int(episode_seed), int(member)]).generate_state(1)[0])


class ObsNorm:
    """Running mean and variance of observations (Chan et al.'s parallel update)."""

    def __init__(self, dim: int):
        self.count = 0.0
        self.mean = np.zeros(dim)
        self.m2 = np.zeros(dim)

    def update(self, total: np.ndarray, total_sq: np.ndarray, count: float) -> None:
        """Merge a batch given by its sum ``(dim,)``, sum of squares and count."""
        if count <= 0:
            return
        bmean = total / count
        bm2 = np.maximum(total_sq - total * bmean, 0.0)
        n = self.count + count
        delta = bmean - self.mean
        self.mean = self.mean + delta * (count / n)
        self.m2 = self.m2 + bm2 + delta * delta * (self.count * count / n)
        self.count = n

    def scale(self) -> np.ndarray:
        """``1 / std`` per observation (1 before any data, 0 for a constant one)."""
        if self.count < 2:
            return np.ones_like(self.mean)
        std = np.sqrt(self.m2 / self.count)
        return np.where(std < STD_FLOOR, 0.0, 1.0 / np.maximum(std, STD_FLOOR))

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"count": np.array(self.count), "mean": self.mean.copy(), "m2": self.m2.copy()}

    def load_state_dict(self, state) -> None:
        self.count = float(state["count"])
        self.mean = np.array(state["mean"], np.float64)
        self.m2 = np.array(state["m2"], np.float64)


class GymPolicy:
    """A policy network and its observation normalisation acting in a Gymnasium action
    space: ``act(obs (M, obs_dim)) -> M actions``, row i with genome ``thetas[i]`` and its
    normaliser ``mean[i]``, ``scale[i]`` (one batched forward for all rows).  A recurrent
    policy keeps each row's state from call to call: one episode per row from zeros, or
    :meth:`reset` before the next."""

    def __init__(self, task: GymTask, thetas: np.ndarray, mean: np.ndarray,
                 scale: np.ndarray):
        self.task = task
        self.thetas, self.mean, self.scale = thetas, mean, scale  # (M, D), (M, obs) x 2
        self._fwd = task.network().member_policy(thetas)
        self._x = np.empty(mean.shape)

    def reset(self) -> None:
        """Zero the recurrent state of every row (a new episode)."""
        self._fwd.reset()

    def normalised(self, obs: np.ndarray) -> np.ndarray:
        """What the network sees: ``(obs - mean) * scale``, clipped to +-obs_clip."""
        x = np.subtract(obs, self.mean, out=self._x)
        x *= self.scale
        clip = self.task.cfg.obs_clip
        if clip > 0:
            np.clip(x, -clip, clip, out=x)
        return x

    def outputs(self, obs: np.ndarray) -> np.ndarray:
        """Raw network outputs ``(M, act_dim)`` for the observations ``obs (M, obs_dim)``."""
        return self._fwd(self.normalised(obs))

    def act(self, obs: np.ndarray) -> np.ndarray:
        return self.task.to_actions(self.outputs(obs))


class GymTask(Task):
    """Maximise an environment's return.  ``population``: the run's population size (how
    a vector environment is laid out; 0: the chunk's own size)."""

    columns = ("steps",)  # the episode length of the best genome
    section = "gym"
    config_class = GymConfig
    world_task = False
    agents = "episodes"
    behaviours = descriptors.GYM

    def __init__(self, env_id: str, cfg: GymConfig, policy: PolicyConfig,
                 population: int = 0):
        super().__init__(policy)
        self.name = f"gym:{env_id}"
        self.env_id = env_id
        self.cfg = cfg
        self.population = int(population)
        gym = import_gymnasium()
        self.spec = env_spec(env_id)
        probe = make_env(env_id)
        self.observation_space = probe.observation_space
        self.action_space = probe.action_space
        spaces = gym.spaces
        if not isinstance(self.observation_space, spaces.Box):
            raise GymError(f"gym:{env_id}: observations of type "
                           f"{type(self.observation_space).__name__} are not supported "
                           f"(a Box is)")
        self.obs_dim = int(np.prod(self.observation_space.shape))
        space = self.action_space
        if isinstance(space, spaces.Discrete):
            self.discrete = True
            self.act_dim = int(space.n)
        elif isinstance(space, spaces.Box):
            self.discrete = False
            self.act_dim = int(np.prod(space.shape))
            low = space.low.reshape(-1).astype(np.float64)
            high = space.high.reshape(-1).astype(np.float64)
            self._bounded = np.isfinite(low) & np.isfinite(high)
            self._low = np.where(self._bounded, low, 0.0)
            self._half = np.where(self._bounded, (high - low) / 2, 1.0)
        else:
            raise GymError(f"gym:{env_id}: actions of type {type(space).__name__} are not "
                           f"supported (Discrete and Box are)")
        self.max_steps = cfg.max_steps or self.spec.max_episode_steps or 0
        if not self.max_steps:
            raise GymError(f"gym:{env_id}: the environment has no step limit: set "
                           f"gym.max_steps")
        self.vectorized = cfg.vectorize == "auto" and self.spec.vector_entry_point is not None
        self._envs = [probe]  # single environments (the loop), built as needed
        self._vec = None  # (num_envs, vector environment)
        self.norm = ObsNorm(self.obs_dim)
        # the normaliser the best genome so far was evaluated with (saved with the model)
        self.best_obs_mean = np.zeros(self.obs_dim)
        self.best_obs_scale = np.ones(self.obs_dim)

    @property
    def dims(self) -> tuple[int, int]:
        return self.obs_dim, self.act_dim

    def fitness(self, info):
        """Fitness is the episode's return."""
        return np.asarray(info["return"], np.float64)

    def evaluate(self, thetas, seed, first_member=0):
        """One episode: :meth:`evaluate_episodes` with one seed."""
        return self.evaluate_episodes(thetas, [seed], first_member)[0]

    # -- actions -----------------------------------------------------------------------
    def to_actions(self, out: np.ndarray) -> np.ndarray:
        """Network outputs ``(M, act_dim)`` in [-1, 1] -> M actions of the action space."""
        if self.discrete:
            return np.argmax(out, axis=1) + int(self.action_space.start)
        a = np.where(self._bounded, self._low + (out + 1.0) * self._half, out)
        return a.reshape((len(out), *self.action_space.shape)).astype(self.action_space.dtype)

    # -- normalisation, between the generation loop and the backends -------------------
    def obs_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """The ``(mean, scale)`` the policy uses now (identity without obs_norm)."""
        if not self.cfg.obs_norm:
            return np.zeros(self.obs_dim), np.ones(self.obs_dim)
        return self.norm.mean.copy(), self.norm.scale()

    def genomes(self, params: np.ndarray) -> np.ndarray:
        """What the backends evaluate: each genome with the generation's normaliser
        appended, ``(P, D + 2 * obs_dim)``."""
        mean, scale = self.obs_stats()
        p = len(params)
        return np.hstack([params, np.broadcast_to(mean, (p, self.obs_dim)),
                          np.broadcast_to(scale, (p, self.obs_dim))])

    def learn(self, result: dict[str, np.ndarray], improved: bool) -> None:
        """After a generation: remember the normaliser the best genome was evaluated with
        (``improved``), then merge the generation's observations into the statistics."""
        if improved:
            self.best_obs_mean, self.best_obs_scale = self.obs_stats()
        if self.cfg.obs_norm:
            self.norm.update(result["obs_sum"].sum(axis=0), result["obs_sumsq"].sum(axis=0),
                             float(result["obs_count"].sum()))

    def state_dict(self) -> dict[str, np.ndarray]:
        state = {f"obs_norm/{k}": v for k, v in self.norm.state_dict().items()}
        state.update(best_obs_mean=self.best_obs_mean, best_obs_scale=self.best_obs_scale)
        return state

    def load_state_dict(self, state) -> None:
        self.norm.load_state_dict({k[len("obs_norm/"):]: v for k, v in state.items()
                                   if k.startswith("obs_norm/")})
        self.best_obs_mean = np.array(state["best_obs_mean"], np.float64)
        self.best_obs_scale = np.array(state["best_obs_scale"], np.float64)

    def model_meta(self) -> dict:
        """What ``best.npz`` keeps besides the weights: the normaliser of the best genome."""
        return {"obs_mean": self.best_obs_mean.tolist(),
                "obs_scale": self.best_obs_scale.tolist(),
                "obs_clip": self.cfg.obs_clip, "max_steps": self.max_steps}

    # -- rollouts ----------------------------------------------------------------------
    def _split(self, thetas: np.ndarray):
        d, o = self.network().num_params, self.obs_dim
        if thetas.shape[1] != d + 2 * o:
            raise ValueError(f"expected genomes with their normaliser, shape (n, {d + 2 * o}),"
                             f" got {thetas.shape}")
        return thetas[:, :d], thetas[:, d:d + o], thetas[:, d + o:]

    def episodes(self, thetas, seeds, first_member=0):
        """Not here: a gym task steps Gymnasium's environments, not a world of ours
        (:meth:`evaluate_episodes` runs them; ``neuroevo.gym_watch`` shows them)."""
        raise NotImplementedError("a gym task's episodes run in evaluate_episodes")

    def evaluate_episodes(self, thetas, seeds, first_member=0):
        """Every episode of ``seeds`` for the genomes ``thetas`` (from :meth:`genomes`), the
        population's members ``first_member`` onwards, all at once."""
        seeds = [int(s) for s in seeds]
        n, k = len(thetas), len(seeds)
        params, mean, scale = self._split(np.asarray(thetas, np.float64))
        policy = GymPolicy(self, np.tile(params, (k, 1)), np.tile(mean, (k, 1)),
                           np.tile(scale, (k, 1)))
        if self.vectorized:
            size = max(self.population, first_member + n)
            rows = (np.arange(k)[:, None] * size + first_member + np.arange(n)).reshape(-1)
            ret, steps, s, q = self.rollout_vector(policy, size * k, rows,
                                                   vector_seed(seeds, size), training=True)
        else:
            env_seeds = [member_seed(sd, first_member + j) for sd in seeds for j in range(n)]
            ret, steps, s, q = self.rollout_loop(policy, env_seeds, training=True)
        out = []
        for e in range(k):
            part = slice(e * n, (e + 1) * n)
            out.append({"fitness": ret[part], "steps": steps[part].astype(np.float64),
                        "obs_sum": s[part], "obs_sumsq": q[part],
                        "obs_count": steps[part].astype(np.float64),
                        "agent_steps": np.array(int(steps[part].sum()))})
            if self.describer is not None:
                out[-1].update(self.describer.values(out[-1]))
        return out

    def envs(self, m: int) -> list:
        """``m`` single environments (built once, reused)."""
        while len(self._envs) < m:
            self._envs.append(make_env(self.env_id))
        return self._envs[:m]

    def rollout_loop(self, policy: GymPolicy, env_seeds: list[int], training: bool = False):
        """One episode in each of ``len(env_seeds)`` single environments, stepped in a loop,
        row i of ``policy`` acting in environment i: ``(return, steps, obs_sum,
        obs_sumsq)`` per row (``training``: with the config's stall rule and reward
        floor)."""
        m = len(env_seeds)
        envs = self.envs(m)
        obs = np.empty((m, self.obs_dim))
        for i, (env, sd) in enumerate(zip(envs, env_seeds)):
            obs[i] = np.asarray(env.reset(seed=sd)[0], np.float64).reshape(-1)
        reward = np.zeros(m)
        ended = np.zeros(m, bool)

        def step(alive, actions):
            for i in np.flatnonzero(alive).tolist():
                o, r, term, trunc, _ = envs[i].step(actions[i])
                obs[i] = np.asarray(o, np.float64).reshape(-1)
                reward[i] = r
                ended[i] = term or trunc
            return reward, ended

        return self._run(policy, obs, step, training)

    def vector_env(self, num_envs: int):
        """The vector environment of ``num_envs`` sub-environments (built once per size)."""
        if self._vec is None or self._vec[0] != num_envs:
            gym = import_gymnasium()
            # the environment's own limit becomes ours (a cap of its vector version too)
            limited = self.cfg.max_steps and self.spec.max_episode_steps is not None
            kw = {"max_episode_steps": self.cfg.max_steps} if limited else {}
            env = gym.make_vec(self.env_id, num_envs=num_envs,
                               vectorization_mode="vector_entry_point", **kw)
            if self._vec is not None:
                self._vec[1].close()
            self._vec = (num_envs, env)
        return self._vec[1]

    def rollout_vector(self, policy: GymPolicy, num_envs: int, rows: np.ndarray, seed: int,
                       training: bool = False):
        """One episode in the sub-environments ``rows`` of a vector environment of
        ``num_envs`` (reset with ``seed``), row i of ``policy`` acting in sub-environment
        ``rows[i]``; the others are stepped with a fixed action and ignored, and so is a
        sub-environment once its episode ended (its automatic reset included)."""
        env = self.vector_env(num_envs)
        if len(rows) and rows[-1] - rows[0] + 1 == len(rows):  # a range: a view, not a copy
            rows = slice(int(rows[0]), int(rows[-1]) + 1)
        all_obs, _ = env.reset(seed=seed)
        obs = np.asarray(all_obs, np.float64).reshape(num_envs, -1)[rows]
        full = np.zeros((num_envs, *self.action_space.shape), self.action_space.dtype)
        if self.discrete:
            full += self.action_space.start

        def step(alive, actions):
            full[rows] = actions
            o, r, term, trunc, _ = env.step(full)
            obs[:] = np.asarray(o, np.float64).reshape(num_envs, -1)[rows]
            return np.asarray(r, np.float64)[rows], (term | trunc)[rows]

        return self._run(policy, obs, step, training)

    def _run(self, policy: GymPolicy, obs: np.ndarray, step, training: bool = False):
        """The episode loop of both ways of stepping: one batched forward for every row,
        then ``step(alive, actions) -> (reward, ended)`` per row (read only where
        ``alive``); ``obs (M, obs_dim)`` is updated in place by ``step``.  A row's numbers
        stop at the end of its episode.  ``training``: rewards are raised to
        ``gym.reward_min``, and a row whose return has not reached a new high for
        ``gym.stall_steps`` steps ends there."""
        m = len(obs)
        ret = np.zeros(m)
        steps = np.zeros(m, np.int64)
        s = np.zeros((m, self.obs_dim))
        q = np.zeros((m, self.obs_dim))
        done = np.zeros(m, bool)
        floor = self.cfg.reward_min if training else None
        stall = self.cfg.stall_steps if training else 0
        high = np.full(m, -np.inf)  # each row's highest return so far
        since = np.zeros(m, np.int64)  # steps since it was reached
        for _ in range(self.max_steps):
            alive = ~done
            live = alive[:, None]
            np.add(s, obs, out=s, where=live)
            np.add(q, obs * obs, out=q, where=live)
            rew, end = step(alive, policy.act(obs))
            if floor is not None:
                rew = np.maximum(rew, floor)
            np.add(ret, rew, out=ret, where=alive)
            steps += alive
            done |= end & alive
            if stall:
                up = ret > high
                high = np.where(up, ret, high)
                since = np.where(up, 0, since + 1)
                done |= alive & (since >= stall)
            if done.all():
                break
        return ret, steps, s, q


def evaluate_policy(task: GymTask, theta: np.ndarray, mean: np.ndarray, scale: np.ndarray,
                    episodes: int, seed: int = 0) -> np.ndarray:
    """The returns ``(episodes,)`` of the policy ``theta`` (with its normaliser ``mean``,
    ``scale``), episode i reset with seed ``seed + i``, all episodes stepped together."""
    policy = GymPolicy(task, np.tile(theta, (episodes, 1)), np.tile(mean, (episodes, 1)),
                       np.tile(scale, (episodes, 1)))
    ret, _, _, _ = task.rollout_loop(policy, [seed + i for i in range(episodes)])
    return ret


def vector_seed(seeds: list[int], size: int) -> int:
    """The reset seed of a vector environment laid out for ``size`` members per episode."""
    return int(np.random.SeedSequence([*seeds, size]).generate_state(1)[0])


def spaces_summary(task: GymTask) -> str:
    """``"8 observations -> 4 discrete actions"`` for messages."""
    kind = "discrete actions" if task.discrete else "continuous actions"
    return f"{task.obs_dim} observations -> {task.act_dim} {kind}"

