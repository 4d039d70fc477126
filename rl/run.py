"""The iteration loop of ``neuroevo reinforce``: collect, learn, record, checkpoint.

Every iteration collects whole episodes with the current policy (:mod:`rl.collect`), takes
its gradient steps (:mod:`rl.ppo`), appends a row to ``returns.csv`` and ends with an atomic
checkpoint (the parameters, Adam's moments, the observation normaliser, the rows, the best
policy so far, the config).  Every draw derives from ``(seed, iteration)``, so a resumed run
gives the same numbers as an uninterrupted one.

``best.npz`` is the actor (the greedy policy: mean actions, or the argmax) of the iteration
whose episodes scored best on average (laps for cars, metres for walkers, the return for
gym tasks), or with ``pg.eval_episodes`` the greedy policy that scored best in its own
evaluation episodes (scored as evolution scores a genome), in the format ``neuroevo
evolve`` writes: ``neuroevo replay`` plays it.  With ``pg.obs_norm`` (cars, walkers) the
observation normalisation is folded into its first layer, so it takes raw observations.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from common.config import ConfigError, build, resumed_config, to_yaml
from common.files import atomic_write_text, read_run_checkpoint, write_csv, write_npz
from common.interrupt import StopRequest, TimeLimit
from evo.gym_config import gym_env_id
from evo.policy_file import save_policy
from rl.collect import make_collector
from rl.config import ReinforceConfig
from rl.gae import running_returns
from rl.policy import ActorCritic, fold_obs_norm
from rl.ppo import STATS, make_optimizer, update

CHECKPOINT = "reinforce-checkpoint.npz"
CHECKPOINT_VERSION = 1
TABLE = "returns.csv"


class Reporter:
    """Hooks called by :class:`ReinforceRun`; no-ops by default."""

    def start(self, run: ReinforceRun) -> None: ...

    def post_iteration(self, run: ReinforceRun, row: dict) -> None: ...

    def end(self, run: ReinforceRun, status: str) -> None: ...


class ProgressReporter(Reporter):
    """A tqdm bar over environment steps with the latest mean return."""

    def start(self, run):
        from tqdm import tqdm

        self.bar = tqdm(total=run.cfg.total_steps, initial=min(run.env_steps,
                        run.cfg.total_steps), unit="step", unit_scale=True,
                        desc=f"{run.cfg.pg.algorithm} {run.cfg.task}", mininterval=0.2)

    def post_iteration(self, run, row):
        extra = {"return": f"{row['return_mean']:.2f}"}
        if "laps_mean" in row:
            extra["laps"] = f"{row['laps_mean']:.2f}"
        self.bar.set_postfix(extra, refresh=False)
        self.bar.update(min(run.env_steps, run.cfg.total_steps) - self.bar.n)

    def end(self, run, status):
        self.bar.close()


def rng_for(seed: int, iteration: int, purpose: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, iteration, purpose]))


class ReinforceRun:
    """``out``: the run folder (None: :meth:`step` writes no files, for comparisons)."""

    def __init__(self, cfg: ReinforceConfig, out: str | Path | None, reporters=()):
        self.cfg = cfg
        self.out = None if out is None else Path(out)
        self.reporters = list(reporters)
        self.spec = cfg.task_spec(cfg.policy, cfg.pg.agents)
        self.task = self.spec.build()  # also validates tracks, creatures, the environment
        self.gym = gym_env_id(cfg.task) is not None
        obs_dim, act_dim = self.task.dims
        discrete = bool(getattr(self.task, "discrete", False))
        self.ac = ActorCritic(obs_dim, act_dim, discrete, cfg.policy, cfg.pg.value_hidden,
                              cfg.pg.init_log_std,
                              np.random.default_rng(np.random.SeedSequence([cfg.seed, 7])),
                              update_dtype=cfg.pg.update_dtype)
        self.opt = make_optimizer(cfg.pg)
        self.collector = make_collector(self.task, cfg.pg.agents, cfg.pg.reward_scale,
                                        cfg.pg.worlds)
        from evo.gym_task import ObsNorm

        self.norm = ObsNorm(obs_dim) if self.gym or cfg.pg.obs_norm else None
        # the running variance of the discounted return (pg.norm_reward)
        self.ret_norm = ObsNorm(1) if cfg.pg.norm_reward else None
        # the score of an iteration's episodes (what best.npz maximises)
        self.score_name = self.task.score
        extra = self.task.score_columns
        if cfg.pg.eval_episodes:  # the greedy policy's fitness in its evaluation episodes
            extra = (*extra, "greedy_fitness")
        self.columns = ("iteration", "env_steps", "seconds", "episodes", "return_mean",
                        "return_best", *extra, "best_ever", *STATS, "explained_variance")
        self.rows: list[dict] = []
        self.iteration = 0
        self.env_steps = 0
        self.seconds = 0.0
        self.best_score = -math.inf
        self.best_theta = self.ac.actor.get_params()
        self.best_obs = self.obs_stats()
        # the observation normalisation the actor learnt with in the last iteration
        self.trained_obs = self.best_obs
        self.stop = StopRequest()
        # --time-limit: past it, stop after the iteration in progress (status "time")
        self.time_limit = TimeLimit()
        # f(gen, world, order, seeds): runs each round of a car or walker world (a window
        # drawing it); None: at once
        self.player = None

    # -- observation normalisation (gym tasks) -----------------------------------------------
    def obs_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, scale)`` the policy sees observations through this iteration."""
        n = self.ac.obs_dim
        on = self.cfg.gym.obs_norm if self.gym else self.cfg.pg.obs_norm
        if self.norm is None or not on:
            return np.zeros(n), np.ones(n)
        return self.norm.mean.copy(), self.norm.scale()

    def greedy_params(self, params: np.ndarray, mean: np.ndarray,
                      scale: np.ndarray) -> np.ndarray:
        """The actor ``params`` as a policy of raw observations (cars, walkers with
        ``pg.obs_norm``: the normalisation ``(mean, scale)`` folded into the first layer);
        gym policies keep theirs beside the network."""
        if self.gym or not self.cfg.pg.obs_norm:
            return params
        net = self.ac.policy_network(params)
        fold_obs_norm(net, mean, scale)
        return net.get_params()

    def greedy_fitness(self, params: np.ndarray) -> float:
        """The mean fitness of the policy ``params`` (raw observations) over the episodes
        with seeds ``0 .. pg.eval_episodes - 1``, one agent each, as evolution scores a
        genome (``neuroevo replay`` of it on an episode's world gives the same numbers)."""
        res = self.task.evaluate_episodes(params[None, :],
                                          list(range(self.cfg.pg.eval_episodes)))
        return float(np.mean([r["fitness"][0] for r in res]))

    def scale_rewards(self, batch) -> None:
        """``pg.norm_reward``: merge the batch's discounted returns into the running
        variance, then divide its rewards by the running std."""
        if self.ret_norm is None:
            return
        g = running_returns(batch.rewards, batch.end, batch.lane, batch.starts,
                            batch.n_lanes, self.cfg.pg.gamma)
        self.ret_norm.update(np.array([g.sum()]), np.array([(g * g).sum()]), float(len(g)))
        var = float(self.ret_norm.m2[0] / max(self.ret_norm.count, 1.0))
        batch.rewards = batch.rewards / math.sqrt(var + 1e-8)

    # -- checkpoints -------------------------------------------------------------------------
    def save_checkpoint(self) -> None:
        meta = {"version": CHECKPOINT_VERSION, "iteration": self.iteration,
                "env_steps": self.env_steps, "seconds": self.seconds,
                "best_score": self.best_score, "columns": list(self.columns),
                "config": to_yaml(self.cfg)}
        arrays = {"theta": self.ac.theta, "best_theta": self.best_theta,
                  "best_obs_mean": self.best_obs[0], "best_obs_scale": self.best_obs[1]}
        arrays.update({f"adam/{k}": v for k, v in self.opt.state_dict().items()})
        if self.norm is not None:
            arrays.update({f"obs_norm/{k}": v for k, v in self.norm.state_dict().items()})
        if self.ret_norm is not None:
            arrays.update({f"ret_norm/{k}": v for k, v in self.ret_norm.state_dict().items()})
        arrays["rows"] = np.array([[r[c] for c in self.columns] for r in self.rows],
                                  np.float64).reshape(len(self.rows), len(self.columns))
        write_npz(self.out / CHECKPOINT, arrays, meta)

    @classmethod
    def resume(cls, out: str | Path, total_steps: int | None = None, reporters=(),
               task: str | None = None) -> ReinforceRun:
        """The run in ``out`` as its checkpoint left it; ``total_steps``: a new length."""
        out = Path(out)
        path = out / CHECKPOINT
        if not path.is_file():
            raise ConfigError(f"--resume {out}: no run of neuroevo reinforce to resume there "
                              f"(no {CHECKPOINT})")
        arrays, meta = read_run_checkpoint(path, "reinforce", (CHECKPOINT_VERSION,),
                                           ConfigError, required=("theta", "rows"))
        raw = resumed_config(meta, out, task, "reinforce", "learns")
        if total_steps is not None:
            raw["total_steps"] = total_steps
        cfg = build(ReinforceConfig, raw, f"{path}: ")
        run = cls(cfg, out, reporters)
        if tuple(meta["columns"]) != run.columns or arrays["theta"].shape != run.ac.theta.shape:
            raise ConfigError(f"{path}: the checkpoint does not match this task's networks")
        run.ac.theta[...] = arrays["theta"]
        run.opt.load_state_dict({k[5:]: v for k, v in arrays.items() if k.startswith("adam/")})
        for name, norm in (("obs_norm", run.norm), ("ret_norm", run.ret_norm)):
            if norm is None:
                continue
            state = {k[len(name) + 1:]: v for k, v in arrays.items()
                     if k.startswith(name + "/")}
            if not state:
                raise ConfigError(f"{path}: the checkpoint has no {name} state")
            norm.load_state_dict(state)
        run.best_theta = np.array(arrays["best_theta"], np.float64)
        run.best_obs = (np.array(arrays["best_obs_mean"], np.float64),
                        np.array(arrays["best_obs_scale"], np.float64))
        run.iteration = int(meta["iteration"])
        run.env_steps = int(meta["env_steps"])
        run.seconds = float(meta["seconds"])
        run.best_score = float(meta["best_score"])
        run.rows = [{c: (int(v) if c in ("iteration", "env_steps", "episodes") else float(v))
                     for c, v in zip(run.columns, r)} for r in arrays["rows"]]
        return run

    # -- outputs ----------------------------------------------------------------------------
    def write_table(self) -> None:
        write_csv(self.out / TABLE, self.columns, self.rows)

    def save_best(self) -> None:
        net = self.ac.policy_network(self.best_theta)
        meta = {}
        if self.gym:
            meta = {"obs_mean": self.best_obs[0].tolist(), "obs_scale": self.best_obs[1].tolist(),
                    "obs_clip": self.cfg.gym.obs_clip, "max_steps": self.task.max_steps}
        save_policy(self.out / "best.npz", net, task=self.cfg.task,
                    task_config=self.spec.task_config, policy=self.ac.policy_cfg,
                    fitness=self.best_score, extra=meta, iteration=self.iteration,
                    trained_by=self.cfg.pg.algorithm)

    # -- the loop ---------------------------------------------------------------------------
    def run(self) -> str:
        """Run to ``cfg.total_steps``; returns "completed", "time" (stopped by
        :attr:`time_limit`, counted from here, after a checkpointed iteration, with steps
        left) or "interrupted"."""
        self.out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.out / "config.yaml", to_yaml(self.cfg))
        self.write_table()
        if self.iteration:
            self.save_best()
        if not (self.out / CHECKPOINT).is_file():
            self.save_checkpoint()
        status = "interrupted"
        try:
            for r in self.reporters:
                r.start(self)
            with self.stop:
                status = "completed"
                self.time_limit.start()
                while self.env_steps < self.cfg.total_steps:
                    row = self.step()
                    for r in self.reporters:
                        r.post_iteration(self, row)
                    if self.stop:
                        status = "interrupted"
                        break
                    if self.env_steps < self.cfg.total_steps and self.time_limit.reached():
                        status = "time"
                        break
        finally:
            for r in self.reporters:
                r.end(self, status)
        if self.rows:
            self.plot()
        return status

    def step(self) -> dict:
        """One iteration: collect, learn, record, checkpoint.  Returns its row."""
        cfg, it = self.cfg, self.iteration
        t0 = time.perf_counter()
        pg = cfg.pg
        if pg.anneal_lr:
            self.opt.lr = pg.lr * max(1.0 - self.env_steps / cfg.total_steps, 0.0)
            self.opt.lr = max(self.opt.lr, 1e-12)
        mean, scale = self.obs_stats()
        if self.gym:
            norm = (mean, scale, cfg.gym.obs_clip)
        else:  # no clipping: best.npz folds the normalisation into its first layer
            norm = (mean, scale, 0.0) if pg.obs_norm else None
        # the last iteration collects what is left of total_steps (whole episodes still)
        want = min(pg.steps, cfg.total_steps - self.env_steps)
        batch = self.collector.collect(self.ac, want, cfg.seed, it,
                                       rng_for(cfg.seed, it, 6), norm, self.player)
        acted = self.ac.actor.get_params()  # the policy these episodes show
        self.scale_rewards(batch)
        self.trained_obs = (mean, scale)
        stats = update(self.ac, self.opt, batch, pg, rng_for(cfg.seed, it, 8))
        eps = batch.episodes
        last = self.env_steps + batch.steps >= cfg.total_steps
        greedy = math.nan
        if pg.eval_episodes and ((it + 1) % pg.eval_every == 0 or last):
            # the policy after this update, greedy (with the norm it was trained with)
            candidate = self.greedy_params(self.ac.actor.get_params(), mean, scale)
            score_mean = greedy = self.greedy_fitness(candidate)
        elif pg.eval_episodes:
            candidate, score_mean = None, -math.inf
        else:
            candidate = self.greedy_params(acted, mean, scale)
            score = eps["fitness" if "fitness" in eps else "return"]
            score_mean = float(np.mean(score)) if len(score) else -math.inf
        if self.norm is not None and batch.obs_moments is not None:
            self.norm.update(*batch.obs_moments)
        if score_mean > self.best_score:
            self.best_score = score_mean
            self.best_theta = candidate
            self.best_obs = (mean, scale)
        self.seconds += time.perf_counter() - t0
        self.env_steps += batch.steps
        self.iteration = it + 1
        ret = eps["return"]
        row = {"iteration": it + 1, "env_steps": self.env_steps, "seconds": self.seconds,
               "episodes": len(ret), "return_mean": float(np.mean(ret)),
               "return_best": float(np.max(ret)), "best_ever": self.best_score}
        row.update(self.task.score_row(eps))
        if pg.eval_episodes:
            row["greedy_fitness"] = greedy
        row.update({k: stats[k] for k in (*STATS, "explained_variance")})
        self.rows.append(row)
        if self.out is not None:
            self.write_table()
            self.save_best()
            self.save_checkpoint()  # last: the checkpoint commits the iteration
        return row

    def figure(self):
        """Mean and best episode score against environment steps."""
        from matplotlib.figure import Figure

        from common.plots import legend_outside

        x = [r["env_steps"] for r in self.rows]
        fig = Figure(figsize=(8, 4), layout="constrained")
        ax = fig.subplots()
        name = self.task.score
        ax.plot(x, [r[f"{name}_mean"] for r in self.rows], "-", label="mean")
        ax.plot(x, [r[f"{name}_best"] for r in self.rows], "--", label="best episode")
        ax.set_ylabel(self.task.score_label)
        ax.set_xlabel("environment steps")
        ax.set_title(f"{self.cfg.task}: {self.cfg.pg.algorithm}, {self.cfg.pg.agents} agents")
        ax.grid(alpha=0.3)
        legend_outside(fig, ax)
        return fig

    def plot(self) -> None:
        from common.plots import save_figure

        save_figure(self.figure(), self.out / "returns.png")
