"""The live window's keys and mouse: what each does (:func:`press`), the legend the panel
shows (:func:`keys_help`), and the archive map of a quality-diversity run (M shows it, a
click on a filled cell replays its elite).

Keys: space pause, F fast-forward to the next generation, R replay the best-ever genome, T
the next track (cars on several tracks), +/- simulation speed, S screenshot, M the archive
map, Esc or Q quit.  The handlers only set the window's state; its loop acts on it.
"""

from __future__ import annotations

import time
from pathlib import Path

from neuroevo.watch.pacing import faster, slower

KEYS_HELP = ("space pause    F fast-forward    R replay best",
             "T track    +/- speed    S screenshot    Esc quit")


def keys_help(panel: str, tracks: bool) -> tuple[str, str]:
    """The key legend of a panel: only keys that do something there (R replays the best
    genome while evolving; T shows the next track where cars drive several at once; a
    replay's window takes R only after the episode, as its status line says)."""
    if panel == "replay":
        return ("space pause    F fast-forward    +/- speed", "S screenshot    Esc quit")
    if tracks:
        return KEYS_HELP
    return ("space pause    F fast-forward    R replay best",
            "+/- speed    S screenshot    Esc quit")


def press(watch, symbol, key) -> bool | None:
    """The key ``symbol`` (``key``: pyglet's ``pyglet.window.key``) on ``watch``: True when
    handled (which keeps pyglet's default Esc handler from closing the window)."""
    if symbol == key.SPACE:
        watch.paused = not watch.paused
    elif symbol == key.F:
        watch.fast = not watch.fast
        watch.paused = False
    elif symbol == key.R:
        watch.replay_requested = True
    elif symbol == key.T:
        watch.next_view = True
    elif symbol in (key.PLUS, key.EQUAL, key.NUM_ADD):  # the next speed of the ladder
        watch.speed = faster(watch.speed)
    elif symbol in (key.MINUS, key.UNDERSCORE, key.NUM_SUBTRACT):
        watch.speed = slower(watch.speed)
    elif symbol == key.S:
        watch.capture_next = next_shot_name(watch.shots_dir)
    elif symbol == key.M:
        toggle_map(watch)
    elif symbol in (key.ESCAPE, key.Q):
        watch.closed = True
    else:
        return None
    return True


def next_shot_name(folder: Path) -> Path:
    """A screenshot file in ``folder`` named by the time, not yet taken."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for k in range(1000):
        path = Path(folder) / f"screenshot-{stamp}{f'-{k}' if k else ''}.png"
        if not path.exists():
            return path
    return path


# -- the archive map (quality diversity) -------------------------------------------------------
def toggle_map(watch) -> None:
    """M: show or hide the archive's map over the world (the elites' fitness over the first
    two descriptors); a click on a filled cell replays its elite."""
    if watch.archive_map is not None:
        watch.archive_map.delete()
        watch.archive_map = None
        return
    if watch.archive is None:
        watch.flash("no archive: this run has no qd.descriptors (docs/qd.md)")
        return
    spec = watch.archive.spec
    fb_w, fb_h = watch.size
    world_w = fb_w - watch.panel_width
    side = min(world_w - 80, fb_h - 120)
    rect = ((world_w - side) / 2, (fb_h - side) / 2 - 10, side, side)
    shape = (spec.cells[0], spec.cells[1] if len(spec.cells) > 1 else 1)
    watch.archive_map = watch.widgets.GridMap(
        watch.window, watch.batch, 30, rect, shape, "",
        spec.names[0], spec.names[1] if len(spec.names) > 1 else "")
    refresh_map(watch)


def refresh_map(watch) -> None:
    """Redraw the archive map (if shown) with the archive's elites now."""
    if watch.archive_map is None:
        return
    a = watch.archive
    best = f", best {a.best:.3g}" if len(a) else ""
    watch.archive_map.set(a.map2d()[0], f"archive: {len(a)} of {a.spec.size} cells"
                          f"{best}; click a cell to replay its elite")


def click(watch, x, y) -> bool | None:
    """A click at window pixel ``(x, y)``: on a filled cell of the archive map, replay its
    elite; True when handled."""
    if watch.archive_map is None:
        return None
    scale = watch.size[0] / max(watch.window.width, 1)  # window -> framebuffer pixels
    cell = watch.archive_map.cell_at(x * scale, y * scale)
    if cell is None:
        return None
    if watch.mode == "replay":
        watch.flash("a replay is playing: R ends it")
        return True
    index = int(watch.archive.map2d()[1][cell])
    where = ",".join(map(str, cell))
    if index < 0:
        watch.flash(f"cell {where} is empty")
        return True
    watch.replay_cell = index
    watch.replay_requested = True
    toggle_map(watch)  # out of the way of the replay
    return True
