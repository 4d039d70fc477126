"""The live window's options, shared by ``evolve``, ``replay`` and ``reinforce``:
``--screenshot``, ``--frames`` and ``--speed``, their checks, and opening the window
(:class:`neuroevo.watch.Watch`, imported only when one is asked for)."""

from __future__ import annotations

import sys
from pathlib import Path

from common.config import ConfigError


def add_window_options(p, speed_help: str) -> None:
    """``--screenshot``, ``--frames`` and ``--speed`` on the subparser ``p``."""
    p.add_argument("--screenshot", metavar="FILE",
                   help="render --frames frames (off screen where there is no display), "
                   "save them as a PNG and exit")
    p.add_argument("--frames", type=int, metavar="N",
                   help="frames to render before --screenshot (default 120)")
    p.add_argument("--speed", type=float, metavar="X", help=speed_help)


def check_window_args(args) -> None:
    """The window options checked before any work: one line for a bad one."""
    speed = getattr(args, "speed", None)
    if speed is not None and not 0 < speed <= 64:
        raise ConfigError(f"--speed must be > 0 and <= 64 physics steps per frame, got {speed}")
    if args.frames is not None and args.screenshot is None:
        raise ConfigError("--frames N needs --screenshot FILE")
    if args.frames is not None and args.frames < 1:
        raise ConfigError(f"--frames must be >= 1, got {args.frames}")
    if args.screenshot is not None and Path(args.screenshot).suffix.lower() != ".png":
        raise ConfigError(f"--screenshot {args.screenshot}: the file name must end in .png")


def open_watch(task, args, title: str, shots_dir, doing: str, net=None, speed=None):
    """The live window (:class:`neuroevo.watch.Watch`) unless ``--headless``; ``None`` after one
    line on stderr where no display can be opened.  ``--screenshot`` always renders (off
    screen where there is no display) and is a user error where nothing can render.
    ``speed``: physics steps per frame unless ``--speed`` is given (``None``: the window's
    default, :func:`neuroevo.watch.auto_speed`)."""
    if args.headless and args.screenshot is None:
        return None
    from common.window import NoDisplay
    from neuroevo.watch import Watch

    try:
        return Watch(task, title=title, screenshot=args.screenshot, frames=args.frames,
                     shots_dir=shots_dir, net=net,
                     speed=speed if getattr(args, "speed", None) is None else args.speed,
                     ghost=not getattr(args, "no_ghost", False))
    except NoDisplay as e:
        if args.screenshot is not None:
            raise ConfigError(f"--screenshot {args.screenshot}: {e}") from None
        if not getattr(args, "quiet", False):
            print(f"neuroevo: {e.reason}: {doing} headless", file=sys.stderr)
        return None
