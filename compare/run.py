"""``neuroevo compare``: run every method on every seed, then write the comparison.

Classification tasks run :func:`compare.classification.run_classification`; control tasks
:func:`compare.control.run_evolution` for the evolution methods and
:func:`compare.control.run_pg` for the policy-gradient learners.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from compare import classification, control
from compare.config import PG_METHODS, CompareConfig, is_control, methods_for
from compare.report import write_results


class CompareInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`compare`: the runs that finished were written; ``finished`` of
    ``total`` method-and-seed runs."""

    def __init__(self, finished: int, total: int):
        super().__init__(f"{finished} of {total} runs finished")
        self.finished, self.total = finished, total


def compare(task: str, out: Path, budget: float, seeds: int, cfg: CompareConfig,
            data=None, evolve_cfg=None, progress: bool = True,
            methods: tuple[str, ...] | None = None, generations: int | None = None,
            steps: int | None = None, pg_cfg=None, first_seed: int = 0) -> dict:
    """Run the comparison and write ``compare.png``, ``report.md`` and ``results.json``.
    ``methods``: a subset of the task's methods (default: all of them; without ``pg_cfg``
    all but the policy-gradient learners).  Control tasks run for ``budget`` seconds each,
    or ``generations`` (the same episodes for every evolution method), or ``steps``
    agent-steps (equal environment steps).  ``pg_cfg``: the ``reinforce`` config whose
    ``pg`` settings the policy-gradient learners (``ppo``, ``reinforce``) run with.
    The seeds are ``first_seed`` onwards (a comparison split over machines, then merged
    with :func:`merge_results`).

    Ctrl-C stops at once: the run under way is dropped, the ones that finished are written
    as usual (the report says how many), then :class:`CompareInterrupted` is raised."""
    from tqdm import tqdm

    out.mkdir(parents=True, exist_ok=True)
    methods = methods or tuple(m for m in methods_for(task)
                               if pg_cfg is not None or m not in PG_METHODS)
    if pg_cfg is None and set(methods) & set(PG_METHODS):
        raise ValueError(f"{', '.join(methods)}: the policy-gradient learners need pg_cfg")
    per_run = generations if generations is not None else steps if steps is not None \
        else budget
    unit = " generations" if generations is not None else " steps" if steps is not None \
        else " s"
    bar = tqdm(total=round(per_run * len(methods) * seeds, 1), disable=not progress,
               mininterval=0.5, desc=f"compare {task}",
               bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f}" + unit)
    results: dict[str, list[dict]] = {m: [] for m in methods}
    total, finished = len(methods) * seeds, 0
    try:
        for seed in range(first_seed, first_seed + seeds):
            for m in methods:
                done = bar.n

                def tick(s, done=done, m=m, seed=seed):
                    bar.n = done + min(s, per_run)
                    bar.set_postfix(method=m, seed=seed, refresh=False)
                    bar.refresh()

                if m in PG_METHODS:
                    learner = dataclasses.replace(
                        pg_cfg, pg=dataclasses.replace(pg_cfg.pg, algorithm=m))
                    r = control.run_pg(evolve_cfg, learner, seed, budget, tick, steps)
                elif is_control(task):
                    r = control.run_evolution(m, evolve_cfg, seed, budget, tick,
                                              generations, steps)
                else:
                    r = classification.run_classification(m, data, cfg, seed, budget, tick,
                                                          convnet=task.endswith("-cnn"))
                results[m].append(r)
                finished += 1
                bar.n = done + per_run
    except KeyboardInterrupt:
        pass
    finally:
        bar.close()
    results = {m: runs for m, runs in results.items() if runs}
    if results:
        write_results(task, out, budget, seeds, cfg, results,
                      None if finished == total else (finished, total), generations, steps)
    if finished < total:
        raise CompareInterrupted(finished, total)
    return results


def merge_results(parts: list[dict]) -> dict[str, list[dict]]:
    """The ``results`` of several ``results.json`` (the same comparison run on other seeds),
    method by method in the order given."""
    tasks = {(p["task"], p["budget_seconds"], p["generations"], p.get("steps")) for p in parts}
    if len(tasks) != 1:
        raise ValueError(f"these comparisons differ in task or budget: {sorted(map(str, tasks))}")
    merged: dict[str, list[dict]] = {}
    for p in parts:
        for m, runs in p["results"].items():
            merged.setdefault(m, []).extend(runs)
    return merged

