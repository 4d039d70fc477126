"""Policy x world -> fitness: the bridge between nn, sims and evo.

A *task* says which world to build, how big the policy network is, and how an episode's
``info`` becomes fitness.  A rollout runs one world with a chunk of the population as its
agents; each physics step computes every agent's action with one
batched call (``Network.member_policy``, the one-sample case of ``forward_population``).
A recurrent policy (``PolicyConfig.recurrent``) keeps each agent's state from step to step
of an episode, from zeros at its start.
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
    # width of an Elman layer after the hidden layers whose state carries over between the
    # steps of an episode (a policy with memory; evolution only); 0: none
    recurrent: int = 0
    # NEAT (strategy neat sets these two): "" the layered network above; feedforward or
    # recurrent: a node graph (nn.graph) from the inputs to the outputs, hidden nodes with
    # `activation`, outputs with `output`, at most graph_hidden hidden nodes
    graph: str = ""
    graph_hidden: int = 16

    def validate(self):
        bad = []
        if self.graph not in ("", "feedforward", "recurrent"):
            bad.append(("graph", "must be empty, feedforward or recurrent (strategy neat "
                        "sets it)"))
        if self.graph_hidden < 0:
            bad.append(("graph_hidden", "must be >= 0"))
        if self.recurrent < 0:
            bad.append(("recurrent", "must be >= 0 (0: no recurrent layer)"))
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
    [-1, 1], or ``cfg.output`` (identity: logits).  A perceptron; with ``cfg.recurrent``
    an Elman layer (tanh) of that width between the hidden layers and the output, whose
    state :meth:`Network.member_policy` keeps through an episode.  With ``cfg.graph`` a node
    graph (:class:`nn.graph.Graph`, what strategy neat evolves)."""
    if cfg.graph:
        layers = [{"graph": act_dim, "hidden": cfg.graph_hidden, "activation": cfg.output,
                   "hidden_activation": cfg.activation,
                   "recurrent": cfg.graph == "recurrent"}]
        return Network(layers=layers, input_shape=(obs_dim,), loss="mse", dtype=np.float64,
                       rng=rng)
    if not cfg.recurrent:
        sizes = [obs_dim, *cfg.hidden, act_dim]
        acts = [cfg.activation] * len(cfg.hidden) + [cfg.output]
        return Network(sizes, acts, loss="mse", dtype=np.float64, rng=rng)
    layers = [{"dense": h, "activation": cfg.activation} for h in cfg.hidden]
    layers += [{"rnn": cfg.recurrent, "activation": "tanh"},
               {"dense": act_dim, "activation": cfg.output}]
    return Network(layers=layers, input_shape=(obs_dim,), loss="mse", dtype=np.float64,
                   rng=rng)


def episode(world, net: Network, thetas: np.ndarray, seed: int, first_member: int = 0):
    """Generator over one episode: resets ``world`` (one agent per row of ``thetas``, the
    population's members ``first_member`` onwards), then yields ``actions (N, act_dim)``
    after each physics step until every agent is done.
    Its return value (``StopIteration.value``) is ``(info, agent_steps)``.

    A viewer advances it a few steps per frame and draws in between; :func:`run_episode`
    runs it to the end.  Either way the simulation is the same.  A recurrent policy starts
    the episode from zero states; an agent's state lasts while it acts.
    """
    if thetas.shape[0] != world.n_agents:
        raise ValueError(f"{thetas.shape[0]} genomes for a world of {world.n_agents} agents")
    obs = world.reset(seed=seed, first_member=first_member)
    n = len(thetas)
    agent_steps = 0
    n_done = 0
    policy = net.member_policy(thetas)  # a recurrent one: every agent's state zero
    alive = None  # the agents the policy acts for (None: all)
    while True:
        done = world.terminated | world.truncated
        k = int(np.count_nonzero(done))
        if k == n:
            break
        if k != n_done:  # an agent stays done until reset: the alive set changed
            n_done = k
            acting = np.arange(n) if alive is None else alive
            policy = policy.select(np.flatnonzero(~done[acting]))  # keeps their states
            alive = np.flatnonzero(~done)
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
