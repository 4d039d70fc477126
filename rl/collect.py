"""Rollouts for policy gradients: many agents act at once, every episode runs to its end.

One *iteration* of ``neuroevo reinforce`` collects at least ``min_steps`` agent-steps of
whole episodes with the current policy (one batched forward per step for every agent
still acting), then learns from them.  No episode crosses from one iteration to the next,
so an iteration starts from fresh resets drawn from ``(seed, iteration)``: a resumed run
continues exactly as an uninterrupted one, without saving any simulator's state.

- Cars and walkers (:class:`WorldCollector`): one batched world (cars: every training
  track at once, ``agents`` cars on each) run in *rounds*; a round resets the world and
  runs until every agent is done (the world has one clock), rounds repeat until the
  iteration has its steps.
- Gymnasium (:class:`GymCollector`): ``agents`` environments, stepped through the
  environment's vector entry point where it resets sub-environments itself (CartPole),
  else one environment each in a loop; each starts new episodes until it has its share of
  the steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from rl.policy import ActorCritic


def round_seeds(seed: int, iteration: int, rnd: int, k: int) -> list[int]:
    """The episode seeds of round ``rnd`` of an iteration: ``k`` consecutive ones, so a car
    task with ``k`` training tracks (``seed % k`` picks the track) drives each once."""
    first = int(np.random.SeedSequence([seed, iteration, rnd, 4]).generate_state(1)[0]) >> 1
    return [first + e for e in range(k)]


@dataclass
class Batch:
    """Samples in step order (see :func:`rl.gae.gae` for ``lane``, ``starts``, ``end`` and
    ``boot``) and the iteration's finished episodes."""

    obs: np.ndarray
    actions: np.ndarray
    logp: np.ndarray
    rewards: np.ndarray
    values: np.ndarray
    end: np.ndarray
    boot: np.ndarray
    lane: np.ndarray
    starts: np.ndarray
    n_lanes: int
    # per finished episode: "return" and "length" in the order the episodes ended; the
    # task's columns (cars: fitness, laps, lap_time...) round by round in agent order.
    # The arrays describe the same episodes but are not paired entry by entry.
    episodes: dict[str, np.ndarray] = field(default_factory=dict)
    # the raw observations the policy acted on: (sum, sum of squares, count), for the
    # running observation normalisation
    obs_moments: tuple | None = None

    @property
    def steps(self) -> int:
        return len(self.rewards)


class Recorder:
    """Collects samples step by step and turns them into a :class:`Batch`."""

    def __init__(self, n_lanes: int, reward_scale: float = 1.0):
        self.n_lanes = n_lanes
        self.scale = reward_scale
        self.parts: dict[str, list] = {k: [] for k in
                                       ("obs", "actions", "logp", "rewards", "end", "lane")}
        self.trunc_at: list[np.ndarray] = []  # sample indices cut short by a time limit
        self.trunc_obs: list[np.ndarray] = []  # and the observations they ended in
        self.starts = [0]
        self.steps = 0
        self.ret = np.zeros(n_lanes)  # running (unscaled) returns
        self.length = np.zeros(n_lanes, np.int64)
        self.returns: list[float] = []
        self.lengths: list[int] = []

    def add(self, lanes: np.ndarray, obs: np.ndarray, actions: np.ndarray,
            logp: np.ndarray, reward: np.ndarray, term: np.ndarray, trunc: np.ndarray,
            next_obs: np.ndarray) -> np.ndarray:
        """One step of the agents ``lanes``: what they saw and did, and what came of it
        (``next_obs``: what they see now, the bootstrap state of a truncated episode).
        Returns the mask of ``lanes`` whose episode ended."""
        p = self.parts
        end = term | trunc
        p["obs"].append(obs)
        p["actions"].append(actions)
        p["logp"].append(logp)
        p["rewards"].append(reward * self.scale)
        p["end"].append(end)
        p["lane"].append(lanes)
        cut = trunc & ~term
        if cut.any():
            self.trunc_at.append(self.steps + np.flatnonzero(cut))
            self.trunc_obs.append(next_obs[cut])
        self.steps += len(lanes)
        self.starts.append(self.steps)
        self.ret[lanes] += reward
        self.length[lanes] += 1
        for i in lanes[end].tolist():
            self.returns.append(float(self.ret[i]))
            self.lengths.append(int(self.length[i]))
            self.ret[i] = 0.0
            self.length[i] = 0
        return end

    def batch(self, ac: ActorCritic, **episodes) -> Batch:
        p = {k: np.concatenate(v) for k, v in self.parts.items()}
        boot = np.zeros(self.steps)
        if self.trunc_at:
            boot[np.concatenate(self.trunc_at)] = ac.values(np.concatenate(self.trunc_obs))
        eps = {"return": np.array(self.returns), "length": np.array(self.lengths, float)}
        eps.update(episodes)
        return Batch(obs=p["obs"], actions=p["actions"], logp=p["logp"],
                     rewards=p["rewards"], values=ac.values(p["obs"]), end=p["end"],
                     boot=boot, lane=p["lane"].astype(np.int64),
                     starts=np.array(self.starts), n_lanes=self.n_lanes, episodes=eps)


class WorldCollector:
    """Rounds of a car or walker world (see the module docstring).

    Walkers: ``worlds`` worlds side by side each round (``agents`` walkers in each), each
    on the training terrain its episode seed picks, so one iteration sees several
    terrains; the per-step reward is the metres moved plus ``alive_bonus * dt`` while up,
    and ``-fall_penalty`` on the step a walker falls: an episode's return is the task's
    fitness."""

    def __init__(self, task, agents: int, reward_scale: float = 1.0, worlds: int = 1):
        self.task = task
        self.agents = int(agents)
        self.reward_scale = reward_scale
        self.k = task.round_episodes(worlds)
        self.n = self.agents * self.k
        self.alive_bonus, self.fall_penalty = task.reward_terms()
        self._worlds: dict[tuple, object] = {}  # (slot, terrain) -> walker world

    def _worlds_of(self, seeds: list[int]):
        """The round's worlds and how to reset each: ``(worlds, resets, order)``."""
        if self.k == 1:
            return [self.task.world(self.agents, seeds[0])], [{"seed": seeds[0]}], None
        if not self.task.shared_world:  # a world per slot: two on one terrain are two
            worlds = []
            for slot, s in enumerate(seeds):
                key = (slot, self.task.variant(s))
                if key not in self._worlds:
                    self._worlds[key] = self.task.make_world(self.agents, key[1])
                worlds.append(self._worlds[key])
            return worlds, [{"seed": s} for s in seeds], None
        world, order = self.task.episodes_world(self.agents, seeds)
        return [world], [{"seed": [seeds[i] for i in order],
                          "first_member": [0] * self.k}], order

    def collect(self, ac: ActorCritic, min_steps: int, seed: int, iteration: int,
                rng: np.random.Generator, norm=None, player=None) -> Batch:
        """``norm``: ``(mean, scale, clip)`` of the observation normalisation (fixed for
        the iteration; clip 0: none).  ``player``: ``f(gen, world, order, seeds)`` runs
        each round's generator (:meth:`round`) to its end, e.g. a window drawing it (the
        first world of several); default: at once."""
        rec = Recorder(self.n, self.reward_scale)
        dim = ac.obs_dim
        moments = [np.zeros(dim), np.zeros(dim), 0.0]
        results = []
        rnd = 0
        while rec.steps < min_steps:
            seeds = round_seeds(seed, iteration, rnd, self.k)
            worlds, resets, order = self._worlds_of(seeds)
            gen = self.round(ac, worlds, resets, rec, rng, norm, moments)
            if player is None:
                for _ in gen:
                    pass
            else:
                player(gen, worlds[0], order, resets[0]["seed"])
            if order is None:
                results.extend(self.task.result(w.info(), 0) for w in worlds)
            else:
                results.extend(self.task.split(worlds[0], worlds[0].info(), order))
            rnd += 1
        cols = {c: np.concatenate([r[c] for r in results]) for c in self.task.columns}
        cols["fitness"] = np.concatenate([r["fitness"] for r in results])
        batch = rec.batch(ac, **cols)
        batch.obs_moments = tuple(moments)
        return batch

    def round(self, ac: ActorCritic, worlds: list, resets: list[dict], rec: Recorder,
              rng: np.random.Generator, norm=None, moments=None):
        """Generator over one round: resets ``worlds``, then yields the actions (of the
        first world) after each physics step until every agent is done, recording the
        samples in ``rec`` (and the moments of the raw observations acted on in
        ``moments``)."""
        mean, scale, clip = norm if norm is not None else (0.0, 1.0, 0.0)
        plain = norm is None

        def normalised(o, seen=False):
            if seen and moments is not None:
                moments[0] += o.sum(axis=0)
                moments[1] += (o * o).sum(axis=0)
                moments[2] += len(o)
            if plain:
                return o
            x = (o - mean) * scale
            return np.clip(x, -clip, clip) if clip > 0 else x

        m = worlds[0].n_agents
        one = len(worlds) == 1
        parts = [w.reset(**r) for w, r in zip(worlds, resets)]
        obs = parts[0] if one else np.concatenate(parts)
        full = np.zeros((self.n, worlds[0].act_dim))
        dt = worlds[0].dt
        while True:
            if one:
                done = worlds[0].terminated | worlds[0].truncated
            else:
                done = np.concatenate([w.terminated | w.truncated for w in worlds])
            idx = np.flatnonzero(~done)
            if not len(idx):
                return
            x = normalised(obs[idx], seen=True)
            a, logp = ac.act(x, rng)
            full[...] = 0.0
            full[idx] = ac.env_actions(a)
            if one:
                obs, rew, term, trunc, _ = worlds[0].step(full)
            else:
                steps = [w.step(full[i * m:(i + 1) * m]) for i, w in enumerate(worlds)]
                obs, rew, term, trunc = (np.concatenate([s[j] for s in steps])
                                         for j in range(4))
            r, te = rew[idx], term[idx]
            if self.alive_bonus or self.fall_penalty:
                r = r + self.alive_bonus * dt - self.fall_penalty * te
            rec.add(idx, x, a, logp, r, te, trunc[idx], normalised(obs[idx]))
            yield full[:m]


class GymCollector:
    """``agents`` Gymnasium environments (see the module docstring).  ``norm``:
    ``(mean, scale, clip)`` of the observation normalisation, fixed for the iteration."""

    def __init__(self, task, agents: int, reward_scale: float = 1.0):
        self.task = task
        self.n = int(agents)
        self.reward_scale = reward_scale
        self.vector = False
        if task.vectorized:
            from gymnasium.vector import AutoresetMode

            env = task.vector_env(self.n)
            self.vector = env.metadata.get("autoreset_mode") == AutoresetMode.NEXT_STEP

    def _actions(self, ac: ActorCritic, a: np.ndarray) -> np.ndarray:
        """What the policy sampled -> the action space's actions."""
        if self.task.discrete:
            return a + int(self.task.action_space.start)
        return self.task.to_actions(ac.env_actions(a))

    def collect(self, ac: ActorCritic, min_steps: int, seed: int, iteration: int,
                rng: np.random.Generator, norm=None, player=None) -> Batch:
        per_lane = math.ceil(min_steps / self.n)
        mean, scale, clip = norm if norm is not None else (0.0, 1.0, 0.0)

        moments = [np.zeros(self.task.obs_dim), np.zeros(self.task.obs_dim), 0.0]

        def normalised(o, seen=False):
            if seen:  # observations the policy acts on: their moments
                moments[0] += o.sum(axis=0)
                moments[1] += (o * o).sum(axis=0)
                moments[2] += len(o)
            x = (o - mean) * scale
            return np.clip(x, -clip, clip) if clip > 0 else x

        rec = Recorder(self.n, self.reward_scale)
        count = np.zeros(self.n, np.int64)
        active = np.ones(self.n, bool)
        base = int(np.random.SeedSequence([seed, iteration, 5]).generate_state(1)[0])
        if self.vector:
            self._vector(ac, rng, rec, count, active, per_lane, base, normalised)
        else:
            self._loop(ac, rng, rec, count, active, per_lane, base, normalised)
        batch = rec.batch(ac)
        batch.obs_moments = tuple(moments)
        return batch

    def _loop(self, ac, rng, rec, count, active, per_lane, base, normalised):
        task = self.task
        envs = task.envs(self.n)
        episode = np.zeros(self.n, np.int64)  # episodes started per lane
        length = np.zeros(self.n, np.int64)
        obs = np.empty((self.n, task.obs_dim))

        def reset(i):
            sd = int(np.random.SeedSequence([base, i, int(episode[i])]).generate_state(1)[0])
            obs[i] = np.asarray(envs[i].reset(seed=sd)[0], np.float64).reshape(-1)
            episode[i] += 1
            length[i] = 0

        for i in range(self.n):
            reset(i)
        while active.any():
            idx = np.flatnonzero(active)
            x = normalised(obs[idx], seen=True)
            a, logp = ac.act(x, rng)
            acts = self._actions(ac, a)
            rew = np.empty(len(idx))
            term = np.empty(len(idx), bool)
            trunc = np.empty(len(idx), bool)
            for j, i in enumerate(idx.tolist()):
                o, r, te, tr, _ = envs[i].step(acts[j])
                obs[i] = np.asarray(o, np.float64).reshape(-1)
                length[i] += 1
                rew[j], term[j] = r, te
                trunc[j] = tr or length[i] >= task.max_steps
            ended = rec.add(idx, x, a, logp, rew, term, trunc, normalised(obs[idx]))
            count[idx] += 1
            for i in idx[ended].tolist():
                if count[i] >= per_lane:
                    active[i] = False
                else:
                    reset(i)

    def _vector(self, ac, rng, rec, count, active, per_lane, base, normalised):
        """Through a vector environment that resets a finished sub-environment on the next
        step (that step's action is ignored and it yields the new first observation)."""
        task = self.task
        env = task.vector_env(self.n)
        o, _ = env.reset(seed=base)
        obs = np.asarray(o, np.float64).reshape(self.n, -1)
        resetting = np.zeros(self.n, bool)
        full = np.zeros((self.n, *task.action_space.shape), task.action_space.dtype)
        if task.discrete:
            full += task.action_space.start
        while active.any():
            idx = np.flatnonzero(active & ~resetting)
            x = normalised(obs[idx], seen=True)
            a, logp = ac.act(x, rng)
            full[idx] = self._actions(ac, a)
            o, r, te, tr, _ = env.step(full)
            obs = np.asarray(o, np.float64).reshape(self.n, -1)
            resetting[:] = False
            ended = rec.add(idx, x, a, logp, np.asarray(r, np.float64)[idx],
                            np.asarray(te)[idx], np.asarray(tr)[idx], normalised(obs[idx]))
            count[idx] += 1
            done = idx[ended]
            resetting[done] = True
            active[done[count[done] >= per_lane]] = False


def make_collector(task, agents: int, reward_scale: float = 1.0, worlds: int = 1):
    if task.world_task:
        return WorldCollector(task, agents, reward_scale, worlds)
    return GymCollector(task, agents, reward_scale)
