"""What `neuroevo compare` shows a person: lap-time panels without a lap, the spread over
seeds in report.md, and the report's tables in the terminal under their headings."""

import math

import numpy as np


def lapless_cars(seeds=1, lap=math.nan):
    """Cars results whose best drivers never finish a lap (``lap``: the last generation's
    lap time of the GA's first seed instead)."""
    results = {}
    for m in ("ga", "random"):
        runs = []
        for s in range(seeds):
            gens = [1, 2, 3]
            laps = [math.nan] * 3
            if m == "ga" and s == 0:
                laps[-1] = lap
            driver = {w: {"laps": 0.4, "lap_time": math.nan, "lapped": 0, "tracks": 2}
                      for w in ("train", "unseen")}
            runs.append({"curve": {"seconds": [0.5 * g for g in gens], "generation": gens,
                                   "best": [0.1 * g for g in gens],
                                   "episodes": [6 * g for g in gens],
                                   "steps": [700 * g for g in gens], "lap_time": laps},
                         "num_params": 74, "driver": driver})
        results[m] = runs
    return results


def lap_axes_texts(fig):
    return [[t.get_text() for t in ax.texts] for ax in fig.axes[2:4]]


def test_lap_time_panels_without_a_lap_say_no_lap():
    from compare.figures import control_figure
    from tests.nn.figures import assert_texts_inside, drawn

    fig = control_figure("cars", lapless_cars(seeds=2), "cars: best so far, 2 seed(s)")
    drawn(fig)
    assert lap_axes_texts(fig) == [["no lap"], ["no lap"]]
    for ax, top in zip(fig.axes[2:4], fig.axes[:2]):  # no made-up scale around nothing
        assert list(ax.get_yticks()) == []
        assert ax.get_ylabel() == "its lap time (s)"
        assert ax.get_xlim() == top.get_xlim() and top.get_xlim()[1] > 1
    assert_texts_inside(fig)
    # the best-fitness panels above keep their scale and say nothing of laps
    assert all(not ax.texts and len(ax.get_yticks()) for ax in fig.axes[:2])
    # one lap by one seed of one method: the panels draw it, with a scale
    fig = control_figure("cars", lapless_cars(seeds=2, lap=41.5), "cars")
    drawn(fig)
    assert lap_axes_texts(fig) == [[], []]
    lo, hi = fig.axes[2].get_ylim()
    assert lo < 41.5 < hi


def classification_results(seeds):
    finals = {"backprop-adam": [0.91, 0.95], "ga": [0.6, 0.7]}
    results = {}
    for m, accs in finals.items():
        results[m] = [{"curve": {"seconds": [0.0, 0.5, 1.0], "evaluations": [0, 100, 200],
                                 "accuracy": [0.1, 0.5, acc]}, "num_params": 50}
                      for acc in accs[:seeds]]
    return results


def table_rows(report: str) -> dict[str, list[str]]:
    return {cells[1]: cells[1:-1] for ln in report.splitlines() if ln.startswith("| ")
            for cells in [[c.strip() for c in ln.split("|")]]}


def test_one_seed_shows_no_spread_and_several_show_their_std(tmp_path):
    from compare.config import CompareConfig
    from compare.report import summarize_classification, write_report

    cfg = CompareConfig()
    rows, target = summarize_classification(classification_results(seeds=1))
    write_report(tmp_path, "fruit", rows, target, 1.0, 1, cfg)
    report = (tmp_path / "report.md").read_text()
    assert "±" not in report
    assert table_rows(report)["ga"][1] == "0.6000"
    assert table_rows(report)["method"][1] == "final test accuracy"
    rows, target = summarize_classification(classification_results(seeds=2))
    write_report(tmp_path, "fruit", rows, target, 1.0, 2, cfg)
    table = table_rows((tmp_path / "report.md").read_text())
    assert table["method"][1] == "final test accuracy (mean ± std over seeds)"
    mean, std = table["ga"][1].split(" ± ")
    assert float(mean) == round(np.mean([0.6, 0.7]), 4)
    assert float(std) == round(np.std([0.6, 0.7]), 4)


def test_the_terminal_shows_every_table_under_its_heading(tmp_path):
    from compare.report import terminal_tables, write_cars_report

    write_cars_report(tmp_path, lapless_cars(), 3.0, 1)
    report = (tmp_path / "report.md").read_text()
    shown = terminal_tables(report).splitlines()
    # every table line of the report, in its order, and nothing else but headings
    assert [ln for ln in shown if ln.startswith("|")] == [
        ln for ln in report.splitlines() if ln.startswith("|")]
    headings = [ln for ln in report.splitlines() if ln.startswith("#")]
    assert [ln for ln in shown if ln and not ln.startswith("|")] == [
        h.lstrip("#").strip() for h in headings]
    assert headings[0].startswith("# Cars: GA and random search")
    for heading in ("Better than luck?", "Who got where first"):
        i = shown.index(heading)
        assert shown[i - 1] == "" and shown[i + 1].startswith("| method |")


def test_compare_prints_its_tables_with_headings(tmp_path, cli):
    out = tmp_path / "cmp"
    proc = cli("compare", "fruit", "--budget-seconds", "0.3", "--methods", "ga",
               "--set", "evaluations=2", "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "Evolution vs gradient descent: fruit"
    assert lines[1].startswith("| method | final test accuracy |")
    assert lines[2].startswith("|---")
    assert lines[3].startswith("| ga | ") and "±" not in lines[3]
    assert lines[-1] == f"report: {out / 'report.md'}"
