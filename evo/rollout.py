"""Policy x world -> fitness: the bridge between nn, sims and evo.

A *task* says which world to build, how big the policy network is, and how an episode's
``info`` becomes fitness.  A rollout runs one world with a chunk of the population as its
agents; each physics step computes every agent's action with one
batched call (``Network.member_policy``, the one-sample case of ``forward_population``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nn.network import Network


@dataclass(frozen=True)
class PolicyConfig:
    hidden: list[int] = field(default_factory=lambda: [8])  # hidden layer widths
    activation: str = "tanh"  # hidden activation: tanh, relu, sigmoid, silu, identity
    # output activation: tanh (actions in [-1, 1]), or identity (unbounded outputs: the
    # logits of discrete actions, as `neuroevo reinforce` uses for a categorical policy)
    output: str = "tanh"

    def validate(self):
        bad = []
        if any(h < 1 for h in self.hidden):
            bad.append(("hidden", "every width must be >= 1"))
        if self.activation not in ("tanh", "relu", "sigmoid", "silu", "identity"):
            bad.append(("activation", "must be one of tanh, relu, sigmoid, silu, identity"))
        if self.output not in ("tanh", "identity"):
            bad.append(("output", "must be tanh or identity"))
        return bad


def make_policy(obs_dim: int, act_dim: int, cfg: PolicyConfig,
                rng: np.random.Generator | None = None) -> Network:
    """The policy network: observations in, actions out (float64): tanh outputs in
    [-1, 1], or ``cfg.output`` (identity: logits)."""
    sizes = [obs_dim, *cfg.hidden, act_dim]
    acts = [cfg.activation] * len(cfg.hidden) + [cfg.output]
    return Network(sizes, acts, loss="mse", dtype=np.float64, rng=rng)


def episode(world, net: Network, thetas: np.ndarray, seed: int, first_member: int = 0):
    """Generator over one episode: resets ``world`` (one agent per row of ``thetas``, the
    population's members ``first_member`` onwards), then yields ``actions (N, act_dim)``
    after each physics step until every agent is done.
    Its return value (``StopIteration.value``) is ``(info, agent_steps)``.

    A viewer advances it a few steps per frame and draws in between; :func:`run_episode`
    runs it to the end.  Either way the simulation is the same.
    """
    if thetas.shape[0] != world.n_agents:
        raise ValueError(f"{thetas.shape[0]} genomes for a world of {world.n_agents} agents")
    obs = world.reset(seed=seed, first_member=first_member)
    n = len(thetas)
    agent_steps = 0
    n_done = -1
    while True:
        done = world.terminated | world.truncated
        k = int(np.count_nonzero(done))
        if k == n:
            break
        if k != n_done:  # an agent stays done until reset: the alive set changed
            n_done = k
            alive = None if k == 0 else np.flatnonzero(~done)
            policy = net.member_policy(thetas if alive is None else thetas[alive])
        agent_steps += n - k
        if alive is None:
            actions = policy(obs)  # (N, act_dim)
        else:  # finished agents' actions are ignored: compute only the others'
            actions = np.zeros((n, world.act_dim))
            actions[alive] = policy(obs[alive])
        obs, _, _, _, _ = world.step(actions)
        yield actions
    return world.info(), agent_steps


def finish(gen):
    """Run an :func:`episode` generator (or what is left of it) to its end; returns its value
    ``(info, agent_steps)``."""
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


def run_episode(world, net: Network, thetas: np.ndarray, seed: int,
                first_member: int = 0) -> tuple[dict[str, np.ndarray], int]:
    """Run :func:`episode` to the end: ``(info, agent_steps)``."""
    return finish(episode(world, net, thetas, seed, first_member))
