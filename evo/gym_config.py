"""The ``gym`` section of ``neuroevo evolve gym:ENV_ID`` configs (no Gymnasium needed here:
the schema loads, and a bad config is reported, before the extra is looked for)."""

from __future__ import annotations

import math
from dataclasses import dataclass

GYM_PREFIX = "gym:"
VECTORIZE = ("auto", "loop")


@dataclass(frozen=True)
class GymConfig:
    # Observation normalisation: the policy sees (obs - mean) / std, clipped to +-obs_clip,
    # with the running mean and variance of every observation the rollouts have seen
    # (updated after each generation; saved in the checkpoint and with the model)
    obs_norm: bool = True
    obs_clip: float = 5.0  # clip normalised observations to this (0: no clipping)
    max_steps: int = 0  # steps per episode; 0: the environment's own limit
    # auto: the population steps through the environment's vector entry point
    # (gymnasium.make_vec) where it has one, else one environment per genome stepped in a
    # loop; loop: always the loop.  Policy forwards are batched over the population either way
    vectorize: str = "auto"
    # Training only (evolution's fitness; replays and evaluations play whole episodes with
    # the true reward):
    # end an episode once its return has not reached a new high for this many steps, so
    # genomes that stand still cost little (0: never)
    stall_steps: int = 0
    # raise every step's reward to at least this (null: no floor); e.g. -10 makes
    # BipedalWalker's -100 for a fall cost a tenth, so falling forward beats standing still
    reward_min: float | None = None

    def validate(self):
        bad = []
        if self.obs_clip < 0:
            bad.append(("obs_clip", "must be >= 0"))
        if self.max_steps < 0:
            bad.append(("max_steps", "must be >= 0"))
        if self.stall_steps < 0:
            bad.append(("stall_steps", "must be >= 0"))
        if self.reward_min is not None and not math.isfinite(self.reward_min):
            bad.append(("reward_min", "must be a finite number or null"))
        if self.vectorize not in VECTORIZE:
            bad.append(("vectorize", f"must be one of {', '.join(VECTORIZE)}"))
        return bad


def gym_env_id(task: str) -> str | None:
    """``"gym:CartPole-v1"`` -> ``"CartPole-v1"``; None for a task that is not a gym task."""
    return task[len(GYM_PREFIX):] if task.startswith(GYM_PREFIX) else None
