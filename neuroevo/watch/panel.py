"""The side panel of the live window: what it holds (:func:`build`) and its text, line by
line (:func:`evolve_lines`, :func:`lap_line`, :func:`replay_lines`, :func:`status_line`).

The text functions read the window's state and return strings; only :func:`build` makes
drawables (through the window's ``sims.view`` modules, loaded when the window opened).
"""

from __future__ import annotations

import numpy as np

from neuroevo.watch.keys import keys_help

LAP_COLOR = (255, 150, 90)  # the lap-time graph
PANEL_WIDTH = 330
PANELS = ("evolve", "replay")  # what the side panel shows (Watch.set_panel)
SPECIES_COLORS = ((250, 210, 60), (90, 200, 255), (240, 120, 90), (150, 220, 120),
                  (200, 140, 250), (250, 160, 200), (120, 230, 220), (230, 230, 230))


def faster_lap(a, b):
    """Of two ``(lap time, generation)``, the faster (a NaN time: no lap; ties keep ``a``)."""
    return b if np.isfinite(b[0]) and not b[0] >= a[0] else a


def fmt_lap(t) -> str:
    return f"{t:6.2f} s" if t is not None and np.isfinite(t) else "     - "


def build(watch, panel: str) -> None:
    """Build the side panel for ``panel``: ``"evolve"`` (generation, agents alive, best
    and mean fitness, the fitness history graph and the leader's network) or
    ``"replay"`` (one saved policy: the model file ``model``, its track or creature,
    progress and laps or distance, time, and its network; no fitness graph)."""
    draw, widgets = watch.drawing, watch.widgets
    for item in watch._panel_items:
        item.delete()
    watch._panel_items = items = []
    watch.panel = panel
    fb_w, fb_h = watch.size
    px, W = fb_w - PANEL_WIDTH, PANEL_WIDTH
    x0, inner = px + 12, PANEL_WIDTH - 24
    batch, text = watch.batch, draw.Layer(watch.window, 40)

    def lbl(*args, **kw):
        made = draw.label(*args, **kw)
        items.append(made)
        return made

    items.append(widgets.Box(batch, draw.Layer(watch.window, 20), (px, 0, W, fb_h),
                             fill=(16, 18, 24), outline=None))
    watch.title_text = draw.TextSetter(lbl("", x0, fb_h - 28, batch, text, size=14,
                                          bold=True), width=inner, min_size=7)
    laps = panel == "evolve" and watch.task.laps  # lap line and lap graph
    n_lines = 6 if panel == "replay" or laps else 5
    watch.lines = [draw.TextSetter(lbl("", x0, fb_h - 54 - 19 * i, batch, text, size=10,
                                      font="DejaVu Sans Mono"), width=inner, min_size=7)
                  for i in range(n_lines)]
    top = fb_h - 54 - 19 * n_lines - 24
    watch.graph = watch.lap_graph = watch.species_graph = None
    if panel == "evolve":
        graph_h = 110
        if laps:  # fitness and lap times side by side, one point per generation
            gw = (inner - 12) // 2
            watch.graph = widgets.HistoryGraph(
                watch.window, batch, 21, (x0, top - graph_h, gw, graph_h),
                "fitness: best, mean")
            watch.lap_graph = widgets.HistoryGraph(
                watch.window, batch, 21, (x0 + inner - gw, top - graph_h, gw, graph_h),
                "lap time (best car)" if watch.episodes == 1 else
                f"lap, mean of {watch.episodes} (best car)", markers=True,
                missing="no lap")
            items.append(watch.lap_graph)
        else:
            watch.graph = widgets.HistoryGraph(
                watch.window, batch, 21, (x0, top - graph_h, inner, graph_h),
                "fitness by generation: best (yellow), mean (cyan)")
        items.append(watch.graph)
        top -= graph_h + 28
        if watch.species is not None:  # neat: species sizes, stacked
            species_h = 80
            watch.species_graph = widgets.HistoryGraph(
                watch.window, batch, 21, (x0, top - species_h, inner, species_h),
                "species sizes (stacked, one line per species)")
            items.append(watch.species_graph)
            top -= species_h + 28
    net_rect = (x0, 56, inner, top - 56)
    world1 = watch._world1
    note = watch.renderer.input_note(world1)  # walkers: what neck' means
    watch.network_title = lbl(
        ("leader's network (live)" if panel == "evolve" else "network (live)")
        + (f"; {note}" if note else ""), x0 + 4, top + 4, batch, text, size=9,
        color=widgets.MUTED, width=inner - 4)
    watch.network = widgets.NetworkDiagram(
        watch.window, batch, 25, net_rect, watch.net.sizes,
        watch.renderer.input_names(world1), watch.renderer.output_names(world1))
    items.append(watch.network)
    watch.keys_help = [lbl(line, x0, 34 - 16 * i, batch, text, size=9,
                          color=(190, 200, 120), width=inner)
                      for i, line in enumerate(keys_help(panel, watch.several_tracks))]
    if watch._world is not None:
        watch.attach(watch._world, watch._thetas)


def show_history(watch) -> None:
    """The history's graphs (fitness, lap times, species) and the best lap of its rows."""
    if watch.graph is not None:
        watch.graph.set([([r["best"] for r in watch.history], (250, 210, 60)),
                         ([r["mean"] for r in watch.history], (90, 200, 255))])
    laps = np.array([r.get("best_lap_time", np.nan) for r in watch.history], np.float64)
    done = np.flatnonzero(np.isfinite(laps))
    best = ((float(laps[done].min()), int(done[np.argmin(laps[done])]) + 1)
            if len(done) else (float("nan"), 0))
    # several episodes a row: its lap time is a mean over tracks, not one lap like
    # those driven here, so the lap line shows only the laps driven here
    watch.best_lap = (faster_lap(best, watch._lap_record) if watch.episodes == 1
                      else watch._lap_record)
    if watch.lap_graph is not None:
        watch.lap_graph.set([(laps, LAP_COLOR)], unit=" s")
    if watch.species_graph is not None:
        watch.species_graph.set(species_series(watch.species or []))


def show_text(watch, world, fitness, n_alive: int, info, leader: int) -> None:
    """The panel's title and lines for the frame being drawn; a flash message whose time
    is up is cleared."""
    watch.title_text(watch.heading + (f", track {watch.shown % watch.n_views + 1} of "
                                      f"{watch.n_views}" if watch.n_views > 1 else ""))
    if watch.panel == "replay":
        lines = replay_lines(watch, world, info)
    else:
        lines = evolve_lines(watch, world, fitness, n_alive, info, leader)
    for setter, text in zip(watch.lines, lines):
        setter(text)
    if watch._flash_until and watch.pacer.clock() > watch._flash_until:
        watch.flash_text("")
        watch._flash_until = 0.0


def species_series(history) -> list:
    """NEAT's species sizes, rows ``(generation, species, size)``, as the lines of a
    stacked plot: per species (in order of founding) the running total of the sizes up
    to it, by generation, NaN where it does not exist; first a zero line (the scale's
    floor)."""
    h = np.asarray(history, np.int64).reshape(-1, 3)
    if not len(h):
        return []
    gens, keys = np.unique(h[:, 0]), np.unique(h[:, 1])
    sizes = np.zeros((len(keys), int(gens.max())))
    sizes[np.searchsorted(keys, h[:, 1]), h[:, 0] - 1] = h[:, 2]
    tops = np.cumsum(sizes, axis=0)
    tops[sizes == 0] = np.nan
    return [(np.zeros(len(tops[0])), (90, 90, 100)),
            *((t, SPECIES_COLORS[i % len(SPECIES_COLORS)]) for i, t in enumerate(tops))]


def evolve_lines(watch, world, fitness, n_alive: int, info, leader: int) -> list[str]:
    unit = watch.task.unit
    # with several episodes a genome, "now" is one episode's fitness and the rest are
    # means over the episodes: a car can be ahead now of the best-ever mean
    k = watch.episodes
    one, mean_of = ("", "") if k == 1 else (" (1 episode)", f" (mean of {k})")
    w = 7 if k == 1 else 0  # the numbers' width: aligned, or compact beside a note
    lines = [f"{watch.task.agents} alive {n_alive:>4} / {world.n_agents}",
             f"now   best {fitness.max():{w}.3f}{unit}  mean {fitness.mean():{w}.3f}{unit}"
             f"{one}"]
    if watch.history:
        last = watch.history[-1]
        lines.append(f"last  best {last['best']:{w}.3f}{unit}  mean "
                     f"{last['mean']:{w}.3f}{unit}{mean_of}")
    else:
        lines.append("last  (no generation finished yet)")
    if watch.best_ever is not None:
        lines.append(f"best ever  {watch.best_ever[1]:.3f}{unit}{mean_of and ' ' + mean_of}")
    else:
        lines.append("best ever  -")
    if watch.lap_graph is not None:
        lines.append(lap_line(watch, world, info, leader))
    lines.append(status_line(watch, world))
    return lines


def lap_line(watch, world, info, leader: int) -> str:
    """The leader's lap clock and the fastest lap so far: of the finished generations
    (``best_lap_time`` of their rows) or driven by any car in this window, the first
    the moment it is done."""
    watch.lap_now = float(world.lap_clock()[leader])
    live = np.asarray(info["best_lap_time"], np.float64)
    if watch.mode != "replay" and np.isfinite(live).any():  # (a replay is no new lap)
        gen = watch.generation if watch.generation is not None else len(watch.history) + 1
        watch._lap_record = faster_lap(watch._lap_record, (float(np.nanmin(live)), gen))
        watch.best_lap = faster_lap(watch.best_lap, watch._lap_record)
    best, gen = watch.best_lap
    where = (f" (gen {gen}{', one track' if watch.episodes > 1 else ''})"
             if np.isfinite(best) else "")
    return f"lap  now {fmt_lap(watch.lap_now)}  best {fmt_lap(best)}{where}"


def replay_lines(watch, world, info) -> list[str]:
    """The replay panel: one agent (the first) of ``world``."""
    lines = [f"model    {watch.model_name or '-'}"]
    limit = world.config.max_time
    more, state, unit = watch.task.replay_summary(world, info)
    lines += more
    lines.append(f"time     {float(info['time_alive'][0]):.1f} s of {limit:g} s, {state}")
    saved = watch.best_ever[1] if watch.best_ever is not None else float("nan")
    lines.append(f"fitness  {saved:.3f}{unit} when saved" if np.isfinite(saved)
                 else "fitness  - (not saved with the model)")
    lines.append(status_line(watch, world, clock=False))
    return lines


def status_line(watch, world, clock: bool = True) -> str:
    rate = watch.pacer.rate()
    fps = f"  {rate:4.0f} fps" if rate is not None else ""
    t = f"t {world.time:5.1f} s  " if clock else ""
    if watch.mode == "replay":
        state = "REPLAY (R: back)"
    elif watch.mode == "done":
        state = "FINISHED (R: replay)"
    elif watch.fast:
        state = "FAST-FORWARD"
    elif watch.paused:
        state = "PAUSED"
    else:
        state = f"speed x{watch.speed:g}"
    return f"{t}{state}{fps}"
