"""The schema of ``neuroevo reinforce`` configs (``configs/reinforce-cars.yaml``, ...).

The task sections (``cars``, ``walkers``, ``gym``) and the ``policy`` network are the ones
``neuroevo evolve`` reads, so one task is described the same way for both commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from evo.rollout import PolicyConfig
from evo.tasks import TASKS, TaskSections, task_class

ALGORITHMS = ("ppo", "reinforce")


@dataclass(frozen=True)
class PGConfig:
    """How the policy learns from its rollouts."""

    # ppo: the clipped surrogate, several minibatch epochs per batch; reinforce: REINFORCE
    # with the critic as baseline (Monte-Carlo returns, one gradient step per batch)
    algorithm: str = "ppo"
    agents: int = 8  # agents acting at once (cars: on each training track)
    steps: int = 2048  # agent-steps per iteration, at least (whole episodes)
    gamma: float = 0.99  # discount
    lam: float = 0.95  # GAE lambda (reinforce: 1)
    lr: float = 3e-4  # Adam's learning rate
    anneal_lr: bool = True  # the learning rate falls linearly to 0 over total_steps
    epochs: int = 10  # passes over each batch (ppo)
    minibatch: int = 64  # samples per gradient step (ppo)
    clip: float = 0.2  # PPO's ratio clipping
    ent_coef: float = 0.0  # weight of the entropy bonus
    vf_coef: float = 0.5  # weight of the value loss
    max_grad_norm: float = 0.5  # clip the gradient's global norm to this (0: off)
    target_kl: float = 0.0  # stop an update's epochs once the KL passes 1.5x this (0: off)
    normalize_advantages: bool = True  # per minibatch
    reward_scale: float = 1.0  # rewards are multiplied by this for learning
    init_log_std: float = -0.5  # Gaussian policies: the first log standard deviation
    # cars and walkers: the policy and critic see observations through their running mean
    # and variance (fixed within an iteration; best.npz has it folded into its first layer,
    # so a replay sees what training saw).  Gym tasks: gym.obs_norm
    obs_norm: bool = False
    # rewards are divided by the running std of the discounted return (after reward_scale)
    norm_reward: bool = False
    # walkers: worlds side by side each round, `agents` walkers in each, each on the
    # training terrain its episode seed picks (walkers.terrains)
    worlds: int = 1
    # after each iteration the greedy policy walks (drives) episodes with the seeds 0..N-1,
    # one agent each, scored as evolution scores a genome; best.npz is the best of these
    # (0: best.npz is the policy of the iteration whose own noisy episodes scored best)
    eval_episodes: int = 0
    eval_every: int = 1  # evaluate the greedy policy every N iterations (and the last)
    value_hidden: list[int] = field(default_factory=lambda: [64, 64])  # the critic's widths
    # the precision of the update's forward and backward passes: float32 halves their time;
    # the parameters, Adam's moments and the rollouts stay float64 either way
    update_dtype: str = "float32"

    def validate(self):
        bad = []
        if self.algorithm not in ALGORITHMS:
            bad.append(("algorithm", f"must be one of {', '.join(ALGORITHMS)}"))
        for name in ("agents", "steps", "epochs", "minibatch", "worlds",
                     "eval_every"):
            if getattr(self, name) < 1:
                bad.append((name, "must be >= 1"))
        if not 0 <= self.gamma <= 1:
            bad.append(("gamma", "must be in [0, 1]"))
        if not 0 <= self.lam <= 1:
            bad.append(("lam", "must be in [0, 1]"))
        if not self.lr > 0:
            bad.append(("lr", "must be > 0"))
        if not self.clip > 0:
            bad.append(("clip", "must be > 0"))
        for name in ("ent_coef", "vf_coef", "max_grad_norm", "target_kl"):
            if getattr(self, name) < 0:
                bad.append((name, "must be >= 0"))
        if not self.reward_scale > 0:
            bad.append(("reward_scale", "must be > 0"))
        if self.eval_episodes < 0:
            bad.append(("eval_episodes", "must be >= 0"))
        if self.update_dtype not in ("float32", "float64"):
            bad.append(("update_dtype", "must be float32 or float64"))
        if any(h < 1 for h in self.value_hidden):
            bad.append(("value_hidden", "every width must be >= 1"))
        return bad


@dataclass(frozen=True)
class ReinforceConfig(TaskSections):
    """``neuroevo reinforce``: task (and its sections, :class:`evo.tasks.TaskSections`),
    length, the learner and the policy network."""

    total_steps: int = 1_000_000  # train until this many agent-steps (environment steps)
    seed: int = 0  # seeds the networks, the action noise and every episode
    pg: PGConfig = field(default_factory=PGConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)

    def validate(self):
        bad = self.task_problems()
        if self.total_steps < 1:
            bad.append(("total_steps", "must be >= 1"))
        if self.policy.recurrent:  # PPO would need backpropagation through time
            bad.append(("policy.recurrent", "applies to evolution only (neuroevo evolve): "
                        "policy gradients have no recurrent policies yet; set it to 0"))
        if self.policy.graph:  # a node graph is evolved (strategy neat), not trained
            bad.append(("policy.graph", "applies to evolution only (strategy neat): "
                        "policy gradients train the layered network; leave it empty"))
        if self.walkers.body != "fixed":  # PPO trains the network of one fixed body
            bad.append(("walkers.body", "evolve applies to evolution only (neuroevo "
                        "evolve); policy gradients train the network of a fixed body"))
        world = self.task in TASKS
        if not world and self.pg.obs_norm:
            bad.append(("pg.obs_norm", "applies to cars and walkers; gym tasks normalise "
                        "observations with gym.obs_norm"))
        if not (world and not task_class(self.task).shared_world) and self.pg.worlds != 1:
            bad.append(("pg.worlds", "applies to walkers (cars drive every training track "
                        "at once)"))
        if not world and self.pg.eval_episodes:
            bad.append(("pg.eval_episodes", "applies to cars and walkers"))
        for key, off in (("stall_steps", 0), ("reward_min", None)):
            if getattr(self.gym, key) != off:  # rollouts here play whole, true episodes
                bad.append((f"gym.{key}", "applies to evolution only (neuroevo evolve)"))
        return bad
