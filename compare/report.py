"""What ``neuroevo compare`` writes: ``report.md`` (the tables and what they show, per kind
of task), ``compare.png`` (:mod:`compare.figures`) and ``results.json``; and the report's
tables as the terminal shows them."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np

from common.files import atomic_write_text
from compare.config import EVOLUTION, is_control
from compare.figures import plot_classification, plot_control
from compare.judges import JUDGE_EPISODES
from evo.registry import STRATEGIES
from evo.tasks import task_class


def summarize_classification(results: dict[str, list[dict]]) -> list[dict]:
    finals = {m: [r["curve"]["accuracy"][-1] for r in runs] for m, runs in results.items()}
    best_final = max(np.mean(v) for v in finals.values())
    target = 0.9 * best_final
    rows = []
    for m, runs in results.items():
        times = []
        for r in runs:
            c = r["curve"]
            hit = [s for s, a in zip(c["seconds"], c["accuracy"]) if a >= target]
            times.append(hit[0] if hit else math.inf)
        rows.append({"method": m, "final_mean": float(np.mean(finals[m])),
                     "final_std": float(np.std(finals[m])), "seeds": len(runs),
                     "time_to_target": float(np.median(times)),
                     "evaluations": int(np.mean([r["curve"]["evaluations"][-1] for r in runs])),
                     "num_params": runs[0]["num_params"]})
    return rows, target


METHOD_NAMES = {"ga": "GA", "es": "ES", "cmaes": "CMA-ES", "random": "random search",
                "ppo": "PPO", "reinforce": "REINFORCE", "map-elites": "MAP-Elites",
                "novelty": "novelty search", "cma-me": "CMA-ME", "neat": "NEAT"}


def first_reach(results, key: str = "best") -> tuple[float, dict[str, dict]]:
    """Who got where first: the target is 90% of the best method's final ``key`` (median
    over seeds); per method the median seconds and agent-steps its curve took to reach it
    (inf where a seed never did)."""
    finals = {m: float(np.median([r["curve"][key][-1] if r["curve"][key] else -math.inf
                                  for r in runs])) for m, runs in results.items()}
    top = max(finals.values())
    target = 0.9 * top if top > 0 else top
    out = {}
    for m, runs in results.items():
        secs, steps = [], []
        for r in runs:
            c = r["curve"]
            hit = next((i for i, v in enumerate(c[key]) if v >= target), None)
            secs.append(math.inf if hit is None else c["seconds"][hit])
            steps.append(math.inf if hit is None else c["steps"][hit])
        out[m] = {"final": finals[m], "seconds": float(np.median(secs)),
                  "steps": float(np.median(steps))}
    return target, out


def _first_reach_lines(results, unit: str) -> list[str]:
    target, reach = first_reach(results)
    lines = ["", "## Who got where first", "",
             f"The target is 90% of the best method's final score ({target:.3g} {unit}, "
             "median over seeds); when each method's best reached it (median over seeds; "
             "never: a seed did not).", "",
             "| method | final best | reached the target after | agent-steps by then |",
             "|---|---:|---:|---:|"]
    for m, v in reach.items():
        when = "never" if math.isinf(v["seconds"]) else _seconds(v["seconds"])
        steps = "never" if math.isinf(v["steps"]) else f"{v['steps']:,.0f}"
        lines.append(f"| {m} | {v['final']:.3f} | {when} | {steps} |")
    return lines


def _budget_words(budget, generations, steps) -> str:
    if generations is not None:
        return f"{generations} generations per method and seed (equal episodes)"
    if steps is not None:
        return f"{steps:,} agent-steps per method and seed (equal environment steps)"
    return f"{budget:g} s per method and seed"


def _title(task: str, results) -> str:
    ran = [METHOD_NAMES.get(m, m) for m in results]
    return (f"# {task}: {', '.join(ran[:-1])} and {ran[-1]}" if len(ran) > 1
            else f"# {task}: {ran[0]}")


def write_control_report(out: Path, task, results, budget, seeds, generations=None,
                         steps=None) -> None:
    """The report of a walker or gym comparison."""
    cls = task_class(task)
    key, unit = cls.score, cls.measure
    judged = ("three episodes" if cls.world_task
              else f"{JUDGE_EPISODES} episodes it never trained on")
    lines = [_title(task, results), "",
             f"Budget: {_budget_words(budget, generations, steps)}; {seeds} seed(s). Each "
             f"method's best policy is then judged, acting greedily, on {judged}; medians "
             "over seeds.", "",
             f"| method | best during training | generations / iterations | agent-steps | "
             f"seconds | judged {key} |{_qd_head(results)}",
             "|---|---:|---:|---:|---:|---:|" + _qd_rule(results)]
    for m, runs in results.items():
        c = [r["curve"] for r in runs]
        best = np.median([x["best"][-1] if x["best"] else math.nan for x in c])
        gens = np.median([len(x["best"]) for x in c])
        n = np.median([x["steps"][-1] if x["steps"] else 0 for x in c])
        sec = np.median([x["seconds"][-1] if x["seconds"] else 0 for x in c])
        judge = np.median([r["driver"]["train"][key] for r in runs])
        lines.append(f"| {m} | {best:.3f} | {gens:.0f} | {n:,.0f} | {sec:.1f} | {judge:.3f} |"
                     + _qd_cells(results, runs))
    lines += _first_reach_lines(results, unit)
    lines += ["", "![comparison](compare.png)", ""]
    atomic_write_text(out / "report.md", "\n".join(lines))


def _has_qd(results) -> bool:
    return any("qd_score" in r["curve"] for runs in results.values() for r in runs)


def _qd_head(results) -> str:
    """Columns of quality diversity (runs with descriptors): the final archive's coverage
    and QD-score (:mod:`evo.archive`), medians over seeds."""
    return " coverage | QD-score |" if _has_qd(results) else ""


def _qd_rule(results) -> str:
    return "---:|---:|" if _has_qd(results) else ""


def _qd_cells(results, runs) -> str:
    if not _has_qd(results):
        return ""
    c = [r["curve"] for r in runs]
    if not all(x.get("qd_score") for x in c):  # a method without an archive (PPO)
        return " n/a | n/a |"
    cov = np.median([x["coverage"][-1] for x in c])
    qd = np.median([x["qd_score"][-1] for x in c])
    return f" {cov:.1%} | {qd:.4g} |"


def _seconds(t: float) -> str:
    return f"{t:.1f} s" if t >= 1 else f"{t:.2f} s"


def write_report(out: Path, task: str, rows, target, budget, seeds, cfg) -> None:
    if task.endswith("-cnn"):
        from nn.network import normalize_layers

        shape = ", ".join(f"{next(iter(s))} {s[next(iter(s))]}"
                          + (f" ({s['kernel']}x{s['kernel']}, stride {s['stride']})"
                             if "kernel" in s else "")
                          for s in normalize_layers(cfg.cnn.layers))
        network = f"a convolutional network: {shape}; ReLU, softmax"
    else:
        network = f"hidden {cfg.hidden}, {cfg.activation}, softmax"
    several = max(r["seeds"] for r in rows) > 1
    spread_head = " (mean ± std over seeds)" if several else ""
    lines = [f"# Evolution vs gradient descent: {task}", "",
             f"Budget: {budget:g} training seconds per method and seed; {seeds} seed(s). "
             f"Network: {rows[0]['num_params']:,} parameters for every method "
             f"({network}). Step sizes (learning rates, the "
             f"GA's mutation strength) fall linearly to {cfg.final_step_fraction:g} of "
             f"their start over the budget.", "",
             f"| method | final test accuracy{spread_head} | time to 90% of best final "
             f"({target:.3f}) | sample evaluations | parameters |",
             "|---|---:|---:|---:|---:|"]
    for r in rows:
        t = "never" if math.isinf(r["time_to_target"]) else _seconds(r["time_to_target"])
        # the spread over seeds; one seed has none to show
        spread = f" ± {r['final_std']:.4f}" if r["seeds"] > 1 else ""
        lines.append(f"| {r['method']} | {r['final_mean']:.4f}{spread} | {t} | "
                     f"{r['evaluations']:,} | {r['num_params']:,} |")
    backprop = [r for r in rows if r["method"].startswith("backprop")]
    evolution = [r for r in rows if not r["method"].startswith("backprop")]
    lines += ["", "## What the numbers show", ""]
    if backprop and evolution:
        bp = max(backprop, key=lambda r: r["final_mean"])
        ev = max(evolution, key=lambda r: r["final_mean"])
        ratio = ev["evaluations"] / max(bp["evaluations"], 1)
        gap = bp["final_mean"] - ev["final_mean"]
        lines.append(
            f"With the same {rows[0]['num_params']:,}-parameter network and the same "
            f"{budget:g} s, the best gradient method ({bp['method']}) reached "
            f"{bp['final_mean']:.1%} test accuracy and the best evolution strategy "
            f"({ev['method']}) {ev['final_mean']:.1%}, "
            + (f"{100 * gap:.1f} percentage points lower" if gap > 0
               else f"{-100 * gap:.1f} percentage points higher")
            + f", while evaluating {ratio:.1f}x as many samples. Backpropagation gets a "
            f"full gradient from each sample; evolution estimates a direction from "
            f"fitness differences between {cfg.population} perturbed copies, so each of "
            f"its steps costs a population of forward passes and carries far less "
            f"information per sample.")
    else:
        best = max(rows, key=lambda r: r["final_mean"])
        lines.append(f"Only {', '.join(r['method'] for r in rows)} ran; the best, "
                     f"{best['method']}, reached {best['final_mean']:.1%} test accuracy. Run "
                     f"every method to compare gradient descent with evolution.")
    lines += ["", "![comparison](compare.png)", ""]
    atomic_write_text(out / "report.md", "\n".join(lines))


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else (math.inf if a > 0 else math.nan)


def cars_summary(results) -> dict:
    """Per method, medians over seeds of what :func:`judge_driver` measured, and each
    method's median ratio to random search, seed by seed: ``laps`` (how far the best driver
    gets in an episode) on the training and the unseen tracks, and lap speed (random's lap
    time over the method's) on the training tracks."""
    out = {}
    rand = results.get("random")
    for m, runs in results.items():
        row = {}
        for where in ("train", "unseen"):
            d = [r["driver"][where] for r in runs]
            row[where] = {k: float(np.median([x[k] for x in d])) for k in
                          ("laps", "lap_time", "lapped")}
            row[where]["tracks"] = d[0]["tracks"]
            if rand is not None and m != "random":
                pairs = list(zip(d, (r["driver"][where] for r in rand)))
                row[where]["farther"] = float(np.median(
                    [_ratio(a["laps"], b["laps"]) for a, b in pairs]))
                row[where]["faster"] = float(np.median(
                    [_ratio(b["lap_time"], a["lap_time"]) for a, b in pairs]))
        out[m] = row
    return out


def write_cars_report(out: Path, results, budget, seeds, generations=None,
                      steps=None) -> None:
    runs0 = next(iter(results.values()))
    n_train = runs0[0]["driver"]["train"]["tracks"]
    n_unseen = runs0[0]["driver"]["unseen"]["tracks"]
    lines = [_title("Cars", results), "",
             f"Budget: {_budget_words(budget, generations, steps)}; {seeds} seed(s). Each "
             f"method's best driver then drives each of its {n_train} training track(s) and "
             f"{n_unseen} shipped track(s) it never saw once; medians over seeds. PPO's "
             "generations are its iterations, its best driver the greedy policy that drove "
             "the training tracks farthest.", "",
             "| method | best fitness (laps) | generations | episodes | fitness 1 lap at "
             "generation | training: laps driven | training: lap time | unseen: laps "
             "driven | unseen: tracks lapped | agent-steps |" + _qd_head(results),
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + _qd_rule(results)]
    summary = cars_summary(results)
    for m, runs in results.items():
        best = np.mean([r["curve"]["best"][-1] if r["curve"]["best"] else 0 for r in runs])
        gens = np.mean([len(r["curve"]["best"]) for r in runs])
        eps = np.mean([r["curve"]["episodes"][-1] if r["curve"]["episodes"] else 0
                       for r in runs])
        n = np.mean([r["curve"]["steps"][-1] if r["curve"].get("steps") else 0 for r in runs])
        laps = [next((g for g, b in zip(r["curve"]["generation"], r["curve"]["best"])
                      if b >= 1.0), None) for r in runs]
        lap = ", ".join("never" if v is None else str(v) for v in laps)
        tr, un = summary[m]["train"], summary[m]["unseen"]
        lt = f"{tr['lap_time']:.1f} s" if math.isfinite(tr["lap_time"]) else "no lap"
        lines.append(f"| {m} | {best:.3f} | {gens:.0f} | {eps:,.0f} | {lap} | "
                     f"{tr['laps']:.2f} | {lt} | {un['laps']:.2f} | "
                     f"{un['lapped']:g} / {un['tracks']} | {n:,.0f} |"
                     + _qd_cells(results, runs))

    def x(v):
        return f"{v:.2f}x" if math.isfinite(v) else "n/a"
    if "random" in summary and len(summary) > 1:
        lines += ["", "## Better than luck?", "",
                  "Each method's best driver against random search's, seed by seed (median "
                  "ratio): how much farther it drives in an episode, and how much faster it "
                  "laps the training tracks (random lap time over its own; n/a where either "
                  "does not lap them all).", "",
                  "| method | training: farther | training: faster per lap | unseen: farther |",
                  "|---|---:|---:|---:|"]
        for m, row in summary.items():
            if m != "random":
                lines.append(f"| {m} | {x(row['train']['farther'])} | "
                             f"{x(row['train']['faster'])} | {x(row['unseen']['farther'])} |")
    lines += _gradient_lines(results, summary)
    lines += _first_reach_lines(results, "laps")
    lines += ["", "![comparison](compare.png)", ""]
    atomic_write_text(out / "report.md", "\n".join(lines))


def _gradient_lines(results, summary) -> list[str]:
    """Policy gradients against the best evolution method: lap speed on the training
    tracks (the evolution method's lap time over the learner's, seed by seed), how far
    each drives, and whether the learner's driver laps the default track."""
    learners = [m for m in results if m not in (*EVOLUTION, "random")]
    evolved = [m for m in results if m in EVOLUTION]
    if not learners or not evolved:
        return []

    def goodness(m):  # lap time first (faster is better), then distance
        t = summary[m]["train"]
        return (math.isfinite(t["lap_time"]), -t["lap_time"] if math.isfinite(t["lap_time"])
                else 0.0, t["laps"])
    ev = max(evolved, key=goodness)
    lines = ["", "## Gradient descent against evolution", "",
             f"Each policy-gradient learner's best driver against the best evolution "
             f"method's ({ev}), seed by seed (median ratio): lap speed on the training tracks "
             f"({ev}'s lap time over the learner's; n/a where either does not lap them all) "
             "and laps driven; and on how many seeds it laps the shipped default track.", "",
             f"| method | lap speed vs {ev} | laps driven vs {ev} | laps `default` | "
             "agent-steps vs {ev} |".replace("{ev}", ev), "|---|---:|---:|---:|---:|"]
    for m in learners:
        pairs = list(zip(results[m], results[ev]))
        speed = float(np.median([_ratio(b["driver"]["train"]["lap_time"],
                                        a["driver"]["train"]["lap_time"]) for a, b in pairs]))
        far = float(np.median([_ratio(a["driver"]["train"]["laps"],
                                      b["driver"]["train"]["laps"]) for a, b in pairs]))
        steps = float(np.median([_ratio(a["curve"]["steps"][-1], b["curve"]["steps"][-1])
                                 for a, b in pairs if a["curve"]["steps"]
                                 and b["curve"]["steps"]] or [math.nan]))
        default = sum(bool(r["driver"].get("default_lapped")) for r in results[m])

        def x(v):
            return f"{v:.2f}x" if math.isfinite(v) else "n/a"
        lines.append(f"| {m} | {x(speed)} | {x(far)} | {default} / {len(results[m])} | "
                     f"{x(steps)} |")
        if math.isfinite(speed):
            verdict = (f"{m} reaches {speed:.0%} of {ev}'s lap speed on the training tracks "
                       f"(median of {len(pairs)} seed(s)).")
        else:
            tm, te = summary[m]["train"], summary[ev]["train"]
            verdict = (f"{m}'s best driver laps {tm['lapped']:g} of {tm['tracks']} training "
                       f"tracks and drives {tm['laps']:.2f} laps an episode on them; {ev}'s "
                       f"laps {te['lapped']:g} and drives {te['laps']:.2f}: lap speeds are "
                       "not comparable where a driver does not lap every track.")
        lines += ["", verdict]
    return lines


def write_results(task, out, budget, seeds, cfg, results, partial=None,
                  generations=None, steps=None) -> None:
    """``compare.png``, ``report.md`` and ``results.json``; ``partial``: ``(finished,
    total)`` runs when the comparison was interrupted."""
    import json

    # the same network for every method, but for NEAT's growing graph (needs_graph)
    counts = {r["num_params"] for m, runs in results.items() for r in runs
              if not (m in STRATEGIES and STRATEGIES[m].needs_graph)}
    if len(counts) > 1:
        raise RuntimeError(f"methods used different networks: {counts}")
    if is_control(task):
        plot_control(task, results, out / "compare.png", f"{task}: best so far, {seeds} seed(s)")
        if task_class(task).laps:
            write_cars_report(out, results, budget, seeds, generations, steps)
        else:
            write_control_report(out, task, results, budget, seeds, generations, steps)
    else:
        rows, target = summarize_classification(results)
        plot_classification(results, out / "compare.png",
                            f"{task}: test accuracy, {seeds} seed(s), {budget:g} s each")
        write_report(out, task, rows, target, budget, seeds, cfg)
    if partial:
        report = (out / "report.md").read_text()
        title, _, rest = report.partition("\n")
        atomic_write_text(out / "report.md", f"{title}\n\n**Interrupted**: {partial[0]} of "
                          f"{partial[1]} method-and-seed runs finished; only they are "
                          f"reported.\n{rest}")
    atomic_write_text(out / "results.json", json.dumps(
        {"task": task, "budget_seconds": None if generations or steps else budget,
         "generations": generations, "steps": steps, "seeds": seeds,
         "config": dataclasses.asdict(cfg), "results": results,
         "interrupted": bool(partial)}, default=float))


def terminal_tables(report: str) -> str:
    """The tables of ``report`` (a ``report.md``) as the terminal shows them: each under
    its heading (the first under the report's title), a blank line between them."""
    out, heading, in_table = [], None, False
    for line in report.splitlines():
        if line.startswith("|"):
            if not in_table:
                if out:
                    out.append("")
                if heading:
                    out.append(heading)
                heading = None
            out.append(line)
        elif line.startswith("#"):
            heading = line.lstrip("#").strip()
        in_table = line.startswith("|")
    return "\n".join(out)
