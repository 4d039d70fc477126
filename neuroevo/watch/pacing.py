"""How fast the live window plays: physics steps per frame, the frame rate it holds, and
catching up after late frames.

Everything here reads time only through the ``clock`` and ``sleep`` it is given
(:class:`Pacer`), so a test drives it with a clock of its own and checks exact numbers.
"""

from __future__ import annotations

import time

import numpy as np

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)  # physics steps per frame (+/-)
GENERATION_SECONDS = 6.0  # the default speed plays an episode's whole time limit in this long
NOMINAL_FPS = 60.0  # the frame rate the default speed is computed for
CATCH_UP = 4.0  # at most this many times the speed's steps in one (late) frame
FF_DRAW_EVERY = 0.25  # s between frames while fast-forwarding
MAX_BEHIND = 0.25  # s of frames that may come without a wait after a stall (none made up)
FPS_WINDOW = 30  # frames the frame-rate readout averages


def auto_speed(world, seconds: float = GENERATION_SECONDS, fps: float = NOMINAL_FPS) -> float:
    """Physics steps per frame that play ``world``'s whole episode (its ``max_time``) in
    about ``seconds`` at ``fps`` frames per second: a whole number from 2 (twice real time,
    for short episodes) to 64."""
    steps = float(world.config.max_time) / float(world.dt)
    return float(np.clip(np.ceil(steps / (seconds * fps) - 1e-9), 2, SPEEDS[-1]))


def faster(speed: float) -> float:
    """The next speed of the ladder :data:`SPEEDS` above ``speed`` (+)."""
    return min([v for v in SPEEDS if v > speed + 1e-9] or [SPEEDS[-1]])


def slower(speed: float) -> float:
    """The next speed of the ladder :data:`SPEEDS` below ``speed`` (-)."""
    return max([v for v in SPEEDS if v < speed - 1e-9] or [SPEEDS[0]])


class Pacer:
    """The window's clock: holds ``fps`` frames per second (``None``: as fast as possible),
    says how many frames' worth of steps a late frame takes, and measures the frame rate.
    ``clock`` (seconds) and ``sleep`` are all it reads and waits with."""

    def __init__(self, fps: float | None = 60.0, clock=time.perf_counter, sleep=time.sleep):
        self.fps, self.clock, self.sleep = fps, clock, sleep
        self._last_tick = None  # when the last frame advanced the simulation
        self._next_frame = clock()
        self._shown: list[float] = []  # when the last frames were shown

    def restart(self) -> None:
        """The simulation stood still (paused, fast-forward, a new world): the next frame
        has nothing to catch up."""
        self._last_tick = None

    def catch_up(self, exact: bool = False) -> float:
        """How many frames' worth of steps this frame takes: 1 while frames come at
        ``fps``, more (up to :data:`CATCH_UP`) when they come late, so the simulation keeps
        its pace on a slow renderer.  Always 1 without ``fps`` or when ``exact`` (frames
        then count steps exactly: ``--screenshot``)."""
        now = self.clock()
        last, self._last_tick = self._last_tick, now
        if not self.fps or exact or last is None:
            return 1.0
        return float(min(max((now - last) * self.fps, 1.0), CATCH_UP))

    def shown(self) -> float:
        """A frame was shown: note it for :meth:`rate`; returns the clock's time."""
        now = self.clock()
        self._shown = (self._shown + [now])[-FPS_WINDOW:]
        return now

    def wait(self, shown_at: float) -> None:
        """Wait out the rest of the ``1/fps`` of the frame shown at ``shown_at`` (nothing
        without ``fps``).  After a stall at most :data:`MAX_BEHIND` s of frames come
        without a wait; the rest is not made up."""
        if not self.fps:
            return
        self._next_frame = max(self._next_frame + 1.0 / self.fps, shown_at - MAX_BEHIND)
        delay = self._next_frame - self.clock()
        if delay > 0:
            self.sleep(delay)

    def rate(self) -> float | None:
        """Frames per second over the last :data:`FPS_WINDOW` frames (None before two)."""
        if len(self._shown) > 1:
            span = self._shown[-1] - self._shown[0]
            if span > 0:
                return (len(self._shown) - 1) / span
        return None

    def deadline(self, seconds: float) -> float:
        """The clock's time ``seconds`` from now."""
        return self.clock() + seconds

    def past(self, t: float) -> bool:
        """Whether the clock has reached ``t``."""
        return self.clock() >= t
