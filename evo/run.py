"""The generation loop: ask, evaluate, tell, record, checkpoint.

Every generation ends with an atomic checkpoint (strategy state with its hall of fame, the
generation number, the rows of ``fitness.csv`` so far, the resolved config).  Randomness is
derived from ``(seed, generation)`` by ``np.random.SeedSequence``, so a resumed run, or a
run with another number of workers, gives the same numbers as an uninterrupted one.

Generation numbers: people count generations from 1, and so does everything a run writes
or prints (the ``generation`` column of ``fitness.csv`` and ``timing.csv``, ``fitness.png``,
the messages of ``neuroevo evolve``).  Internally ``EvolutionRun.generation`` is the number
of finished generations, so the generation being evaluated has the 0-based index
``g = run.generation`` (the one the seeds are derived from) and is shown as ``g + 1``; the
last row's ``generation`` equals ``run.generation``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from common.config import ConfigError, build, parse_yaml, resumed_config, to_yaml
from common.files import atomic_write_text, read_run_checkpoint, write_csv, write_npz
from common.interrupt import StopRequest, TimeLimit
from evo.archive import GridArchive, GridSpec, archive_figure, write_archive
from evo.backends import make_backend
from evo.config import EvolveConfig, QDConfig, effective
from evo.descriptors import columns as descriptor_columns
from evo.policy_file import save_policy
from evo.registry import STRATEGIES
from evo.tasks import TASKS, TaskSpec

CHECKPOINT = "checkpoint.npz"
# 2: the rows' generation numbers count from 1 (version 1 stored them from 0; such a
# checkpoint is still read, its numbers moved up by one)
CHECKPOINT_VERSION = 2
READABLE_VERSIONS = (1, 2)
TIMING_COLUMNS = ("generation", "seconds", "agent_steps", "agent_steps_per_second")
# qd.csv, one row per generation of a run with qd.descriptors: filled cells, their share,
# the QD-score (evo.archive) and the best elite's fitness
QD_COLUMNS = ("generation", "cells", "coverage", "qd_score", "best")


class EvaluationAborted(Exception):
    """Raised by a backend (e.g. a window closed mid-generation) to stop the run; the
    unfinished generation is dropped, the last checkpoint stays."""


class Reporter:
    """Hooks called by :class:`EvolutionRun`; every method is a no-op by default."""

    def start(self, run: EvolutionRun) -> None: ...

    def start_generation(self, run: EvolutionRun, generation: int) -> None:
        """Before a generation is evaluated; ``generation`` is its 0-based index (equal to
        ``run.generation``): it is shown to people as ``generation + 1``."""

    def post_evaluate(self, run: EvolutionRun, row: dict, result: dict) -> None: ...

    def end(self, run: EvolutionRun, status: str) -> None: ...


class ProgressReporter(Reporter):
    """A tqdm bar over generations with the best and mean fitness."""

    def start(self, run):
        from tqdm import tqdm

        self.bar = tqdm(total=run.cfg.generations, initial=run.generation, unit="gen",
                        desc=f"evolving {run.cfg.task}", mininterval=0.2)

    def post_evaluate(self, run, row, result):
        extra = {"best": f"{row['best']:.3f}", "mean": f"{row['mean']:.3f}"}
        if "best_laps" in row:
            extra["laps"] = int(row["best_laps"])
        self.bar.set_postfix(extra, refresh=False)
        self.bar.update(1)

    def end(self, run, status):
        self.bar.close()


def episode_seed(seed: int, generation: int) -> int:
    return int(np.random.SeedSequence([seed, generation, 2]).generate_state(1)[0])


def generation_seeds(seed: int, generation: int, episodes: int = 1) -> list[int]:
    """The seeds of a generation's ``episodes`` episodes (one episode: just
    ``episode_seed(seed, generation)``).  Several episodes get consecutive seeds from a
    random first one, so a task that picks its variant as ``seed % n`` (cars: the training
    track) gives a generation's episodes distinct variants, all ``n`` of them when
    ``episodes`` is ``n``, starting at a different one each generation."""
    if episodes == 1:
        return [episode_seed(seed, generation)]
    first = episode_seed(seed, generation * episodes) >> 1  # room for + e below 2**32
    return [first + e for e in range(episodes)]


def recheck_seeds(seed: int, generation: int, episodes: int) -> list[int]:
    """The seeds of a generation's recheck episodes (``recheck_episodes``): consecutive, like
    :func:`generation_seeds`, from a stream of their own."""
    first = int(np.random.SeedSequence([seed, generation, 3]).generate_state(1)[0]) >> 1
    return [first + e for e in range(episodes)]


def tell(strategy, backend, task, params: np.ndarray, fit: np.ndarray, cfg, seed: int,
         g: int, descriptors: np.ndarray | None = None):
    """``strategy.tell(params, fit)`` (and ``descriptors`` to a strategy that uses them)
    for generation ``g`` of a run seeded ``seed``, then
    ``cfg.recheck_episodes``: a new best genome plays that many more episodes and stays the
    best only if the mean fitness of all its episodes still beats the old best.  Returns
    (whether the best changed, the agent-steps of the recheck)."""
    best = int(np.argmax(fit))
    before = strategy.best_params, strategy.best_fitness
    if strategy.uses_descriptors:
        strategy.tell(params, fit, descriptors)
    else:
        strategy.tell(params, fit)
    improved = strategy.best_fitness != before[1]
    k = cfg.recheck_episodes
    if not (improved and k):
        return improved, 0
    again = backend.evaluate(task.genomes(params[best:best + 1]), recheck_seeds(seed, g, k))
    score = (cfg.episodes * fit[best] + k * again["fitness"][0]) / (cfg.episodes + k)
    improved = bool(score > before[1])
    strategy.set_best(*((params[best], score) if improved else before))
    return improved, int(again["agent_steps"])


def lapped(row: dict) -> bool:
    """Whether a generation's best car lapped every track it drove (cars): its
    ``best_lap_time``, the mean of its fastest lap per episode, is a number."""
    return bool(np.isfinite(row.get("best_lap_time", np.nan)))


def grid_spec(qd: QDConfig, ranges) -> GridSpec | None:
    """The archive's grid: ``qd.bounds`` or else each descriptor's natural range
    (``ranges``, from the task); None without descriptors."""
    if not qd.descriptors:
        return None
    low, high = [], []
    for i, name in enumerate(qd.descriptors):
        lo, hi = qd.bounds[i] if qd.bounds and qd.bounds[i] else ranges[i]
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ConfigError(f"qd.bounds: descriptor {name!r} has no finite natural range "
                              f"({lo:g}..{hi:g}); give it [low, high]")
        low.append(float(lo))
        high.append(float(hi))
    return GridSpec(tuple(qd.descriptors), tuple(low), tuple(high), tuple(qd.cells),
                    qd.offset)


def ask_rng(seed: int, generation: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, generation, 1]))


class EvolutionRun:
    def __init__(self, cfg: EvolveConfig, out: str | Path, reporters=()):
        cfg = effective(cfg)  # strategy neat: the policy is a node graph
        self.cfg = cfg
        # the run's config.yaml, also kept in every checkpoint and archive: built once (a
        # dump takes about 12 ms, a tenth of a short gym generation)
        self.config_yaml = to_yaml(cfg)
        self.out = Path(out)
        self.reporters = list(reporters)
        self.spec = cfg.task_spec(cfg.policy, cfg.population, cfg.qd.descriptors)
        self.task = self.spec.build()  # also validates track / creature files, descriptors
        self.grid = grid_spec(cfg.qd, self.task.describer.ranges
                              if self.task.describer is not None else [])
        self.net = self.task.network()
        self.net.init_params(np.random.default_rng(np.random.SeedSequence([cfg.seed, 7])))
        s = cfg.strategy
        # the network's weights, and what else the task evolves (walkers: body genes)
        init = self.task.initial_genome(self.net.get_params())
        cls = STRATEGIES[s.name]
        self.strategy = cls(len(init), cfg.population, s.settings, init_params=init,
                            init_scale=s.init_scale,
                            **({"grid": self.grid} if cls.uses_descriptors else {}),
                            **({"graph": self.net.layers[0]} if cls.needs_graph else {}))
        # the archive of elites: a QD strategy's own, else one the run fills with every
        # genome it evaluates (when qd.descriptors are given), else None
        self.archive = (self.strategy.archive if cls.uses_descriptors else
                        GridArchive(self.grid, len(init)) if self.grid is not None else None)
        self.qd_rows: list[dict] = []
        self.columns = ("generation", "best", "mean", "median", "worst",
                        *(f"best_{c}" for c in self.task.columns), "best_ever")
        self.rows: list[dict] = []
        self.timing: list[dict] = []
        self.generation = 0
        self.stop = StopRequest()  # Ctrl-C: finish the generation, save, stop
        # --time-limit: past it, stop after the generation in progress (status "time")
        self.time_limit = TimeLimit()

    # -- checkpoints -------------------------------------------------------------------------
    def save_checkpoint(self) -> None:
        meta = {"version": CHECKPOINT_VERSION, "generation": self.generation,
                "columns": list(self.columns), "config": self.config_yaml}
        arrays = {f"strategy/{k}": v for k, v in self.strategy.state_dict().items()}
        arrays.update({f"task/{k}": v for k, v in self.task.state_dict().items()})
        arrays["rows"] = np.array([[r[c] for c in self.columns] for r in self.rows],
                                  np.float64).reshape(len(self.rows), len(self.columns))
        arrays["timing"] = np.array([[r[c] for c in TIMING_COLUMNS] for r in self.timing],
                                    np.float64).reshape(len(self.timing), len(TIMING_COLUMNS))
        if self.archive is not None:
            arrays["qd_rows"] = np.array([[r[c] for c in QD_COLUMNS] for r in self.qd_rows],
                                         np.float64).reshape(len(self.qd_rows), len(QD_COLUMNS))
            if not self.strategy.uses_descriptors:  # the run's own archive
                arrays.update({f"archive/{k}": v for k, v in self.archive.state_dict().items()})
        write_npz(self.out / CHECKPOINT, arrays, meta)

    @classmethod
    def resume(cls, out: str | Path, generations: int | None = None,
               evaluation: dict | None = None, reporters=(),
               task: str | None = None) -> EvolutionRun:
        """The run in ``out`` as its checkpoint left it.  ``generations``: a new total;
        ``evaluation``: other backend settings; ``task``: the task the caller expects (a
        run of another task is refused)."""
        out = Path(out)
        path = out / CHECKPOINT
        if not path.is_file():
            raise ConfigError(f"--resume {out}: no run to resume there (no {CHECKPOINT})")
        arrays, meta = read_run_checkpoint(path, "evolve", READABLE_VERSIONS, ConfigError,
                                           required=("rows",))
        raw = resumed_config(meta, out, task, "evolve", "evolves")
        if generations is not None:
            raw["generations"] = generations
        if evaluation:
            raw["evaluation"].update(evaluation)
        cfg = build(EvolveConfig, raw, f"{path}: ")
        run = cls(cfg, out, reporters)
        saved = tuple(meta["columns"])
        if not set(saved) <= set(run.columns):
            raise ConfigError(f"{path}: checkpoint columns do not match this task")
        run.strategy.load_state_dict({k[len("strategy/"):]: v for k, v in arrays.items()
                                      if k.startswith("strategy/")})
        task_state = {k[len("task/"):]: v for k, v in arrays.items() if k.startswith("task/")}
        if task_state:
            run.task.load_state_dict(task_state)
        run.generation = int(meta["generation"])
        shift = 1 if meta["version"] == 1 else 0  # version 1 counted generations from 0
        # a column added since the checkpoint was written (e.g. lap_time) reads as NaN
        rows = [_typed(saved, r, shift) for r in arrays["rows"]]
        run.rows = [{c: row.get(c, float("nan")) for c in run.columns} for row in rows]
        run.timing = [_typed(TIMING_COLUMNS, r, shift) for r in arrays["timing"]]
        if run.archive is not None and "qd_rows" in arrays:
            run.qd_rows = [_typed(QD_COLUMNS, r) for r in arrays["qd_rows"]]
            if not run.strategy.uses_descriptors:
                run.archive.load_state_dict({k[len("archive/"):]: v for k, v in arrays.items()
                                             if k.startswith("archive/")})
        return run

    # -- outputs ----------------------------------------------------------------------------
    def write_tables(self) -> None:
        write_csv(self.out / "fitness.csv", self.columns, self.rows)
        write_csv(self.out / "timing.csv", TIMING_COLUMNS, self.timing)
        if self.archive is not None:
            write_csv(self.out / "qd.csv", QD_COLUMNS, self.qd_rows)

    def save_archive(self) -> None:
        """``archive.npz`` (:func:`evo.archive.write_archive`; the config it keeps lets
        ``neuroevo replay RUN/archive.npz --cell I,J`` rebuild any elite's policy)."""
        if self.archive is not None:
            write_archive(self.out / "archive.npz", self.archive,
                          {"task": self.cfg.task, "strategy": self.cfg.strategy.name,
                           "generation": self.generation, "config": self.config_yaml})

    def save_best(self) -> None:
        self.save_genome(self.out / "best.npz", self.strategy.best_params,
                         self.strategy.best_fitness)

    def save_genome(self, path: str | Path, genome: np.ndarray, fitness: float) -> None:
        """A policy model file (what ``best.npz`` is) of ``genome``."""
        save_genome(path, self.cfg, self.spec, self.task, self.net, genome, fitness,
                    self.generation)

    # -- the loop ---------------------------------------------------------------------------
    def run(self, backend=None) -> str:
        """Run to ``cfg.generations``; returns "completed", "lap" (stopped by until_lap),
        "time" (stopped by :attr:`time_limit`, counted from here, after a checkpointed
        generation, with generations left) or "interrupted".  ``backend`` replaces the
        configured backend (a viewer passes one that draws while it simulates; it must give
        the serial backend's numbers)."""
        cfg = self.cfg
        self.out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.out / "config.yaml", self.config_yaml)
        # The files agree with the checkpoint before anything else happens: a new run is
        # resumable from the start (a checkpoint before its first generation), and a resumed
        # one rewrites the tables and best.npz from its checkpoint (a crash may have left
        # them a generation ahead).
        self.write_tables()
        if self.generation:
            self.save_best()
            self.save_archive()
        if not (self.out / CHECKPOINT).is_file():
            self.save_checkpoint()
        if backend is None:
            backend = make_backend(cfg.evaluation.backend, self.spec,
                                   cfg.evaluation.workers, cfg.evaluation.address)
        status = "interrupted"  # what a KeyboardInterrupt (a second Ctrl-C) leaves
        try:
            for r in self.reporters:
                r.start(self)
            with self.stop:
                self.time_limit.start()
                status = self._generations(backend)
        finally:
            backend.close()
            for r in self.reporters:
                r.end(self, status)
        if self.rows:
            self.plot()
        return status

    def _generations(self, backend) -> str:
        cfg = self.cfg
        status = "completed"
        if cfg.until_lap and self.rows and lapped(self.rows[-1]):
            status = "lap"
        while status == "completed" and self.generation < cfg.generations:
            g = self.generation  # 0-based index: the seeds; people see g + 1
            for r in self.reporters:
                r.start_generation(self, g)
            t0 = time.perf_counter()
            params = self.strategy.ask(ask_rng(cfg.seed, g))
            try:
                result = backend.evaluate(self.task.genomes(params),
                                          generation_seeds(cfg.seed, g, cfg.episodes))
            except EvaluationAborted:
                status = "interrupted"
                break
            fit = result["fitness"]
            best = int(np.argmax(fit))
            desc = (np.stack([result[c] for c in descriptor_columns(cfg.qd.descriptors)],
                             axis=1) if self.archive is not None else None)  # (P, k)
            try:
                improved, extra = tell(self.strategy, backend, self.task, params, fit, cfg,
                                       cfg.seed, g, desc)
            except EvaluationAborted:
                status = "interrupted"
                break
            steps = int(result["agent_steps"]) + extra
            self.task.learn(result, improved)
            seconds = time.perf_counter() - t0
            row = {"generation": g + 1, "best": float(fit[best]), "mean": float(fit.mean()),
                   "median": float(np.median(fit)), "worst": float(fit.min()),
                   "best_ever": self.strategy.best_fitness}
            for c in self.task.columns:
                row[f"best_{c}"] = float(result[c][best])
            self.rows.append(row)
            self.timing.append({"generation": g + 1, "seconds": seconds,
                                "agent_steps": float(steps),
                                "agent_steps_per_second": steps / max(seconds, 1e-9)})
            self.generation = g + 1
            if self.archive is not None:
                if not self.strategy.uses_descriptors:
                    self.archive.add(params, fit, desc)
                a = self.archive
                self.qd_rows.append({"generation": g + 1, "cells": float(len(a)),
                                     "coverage": a.coverage, "qd_score": a.qd_score,
                                     "best": a.best})
            self.write_tables()
            self.save_best()
            self.save_archive()
            self.save_checkpoint()  # last: the checkpoint commits the generation
            for r in self.reporters:
                r.post_evaluate(self, row, result)
            if cfg.until_lap and lapped(row):
                status = "lap"
            if self.stop:
                status = "interrupted"
            elif (status == "completed" and self.generation < cfg.generations
                  and self.time_limit.reached()):
                status = "time"
        return status

    @property
    def fitness_unit(self) -> str:
        return self.task.fitness_label

    def fitness_figure(self):
        """Best, median and mean fitness (and the worst-to-best band) by generation."""
        from matplotlib.figure import Figure

        from common.plots import integer_ticks, legend_outside

        g = [r["generation"] for r in self.rows]
        fig = Figure(figsize=(8, 4), layout="constrained")
        ax = fig.subplots()
        ax.fill_between(g, [r["worst"] for r in self.rows], [r["best"] for r in self.rows],
                        alpha=0.15, label="worst to best")
        for key, style in (("best", "o-"), ("median", "s-"), ("mean", "--")):
            ax.plot(g, [r[key] for r in self.rows], style, ms=3, label=key)
        ax.set_xlabel("generation")
        ax.set_ylabel("fitness" + self.fitness_unit)
        ax.set_title(f"{self.cfg.task}: {self.cfg.strategy.name}, population "
                     f"{self.cfg.population}")
        ax.grid(alpha=0.3)
        integer_ticks(ax)
        legend_outside(fig, ax)
        return fig

    def plot(self) -> None:
        """``fitness.png``: :meth:`fitness_figure`."""
        from common.plots import save_figure

        save_figure(self.fitness_figure(), self.out / "fitness.png")
        for name, fig in self.strategy.figures(f"{self.cfg.task}, "
                                               f"{self.cfg.strategy.name}").items():
            save_figure(fig, self.out / name)  # neat: species.png
        if self.archive is not None:  # archive.png: the elites' fitness over the grid
            save_figure(archive_figure(self.archive, f"{self.cfg.task}, "
                                       f"{self.cfg.strategy.name}", self.fitness_unit),
                        self.out / "archive.png")


def save_genome(path: str | Path, cfg: EvolveConfig, spec: TaskSpec, task, net,
                genome: np.ndarray, fitness: float, generation: int) -> None:
    """The policy file (``best.npz``'s format, :mod:`evo.policy_file`) of ``genome`` of a
    run of ``cfg``: ``net`` (the task's network) with the genome's weights, and what the
    task keeps of the rest of the genome (evolved sensors or body)."""
    net = net.clone()
    net.set_params(task.weights(genome))
    save_policy(path, net, task=cfg.task, task_config=spec.task_config, policy=cfg.policy,
                fitness=fitness, extra={**task.model_meta(), **task.genome_meta(genome)},
                generation=generation)


def elite_policy(archive_path: str | Path, cell: tuple[int, ...], path: str | Path) -> dict:
    """Write the elite of ``cell`` in the ``archive.npz`` at ``archive_path`` as a policy
    model file ``path`` (what ``best.npz`` is, so ``neuroevo replay`` loads it as one);
    returns ``{"fitness", "descriptors": {name: value}}`` of the elite.  An empty or
    out-of-range cell, or an archive of a gym task, is a one-line ``ConfigError``."""
    from evo.archive import read_archive

    found = read_archive(archive_path)
    genome, fitness, desc = found.elite(cell)
    meta = found.meta
    if not isinstance(meta.get("config"), str):
        raise ConfigError(f"{archive_path}: the archive records no run config")
    cfg = build(EvolveConfig, parse_yaml(meta["config"]), f"{archive_path}: config: ")
    if cfg.task not in TASKS:
        raise ConfigError(f"{archive_path}: replay --cell drives cars and walkers, not "
                          f"{cfg.task}")
    spec = cfg.task_spec(cfg.policy, cfg.population)
    task = spec.build()
    if task.network().num_params + task.extra_genes != len(genome):
        raise ConfigError(f"{archive_path}: its genomes do not fit the network of its config")
    save_genome(path, cfg, spec, task, task.network(), genome, fitness,
                int(meta.get("generation", 0)))
    return {"fitness": fitness,
            "descriptors": dict(zip(found.archive.spec.names, map(float, desc)))}


def _typed(columns, values, shift: int = 0) -> dict:
    """A row read back from a checkpoint: generation as int (plus ``shift``), the rest as
    float."""
    return {c: int(v) + shift if c == "generation" else float(v)
            for c, v in zip(columns, values)}
