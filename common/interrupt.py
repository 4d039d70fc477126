"""Ctrl-C in two stages, for long loops (training epochs, generations).

The first Ctrl-C only asks the loop to stop at its next safe point (the end of a batch or of
a generation), so what was finished is saved; a second one raises ``KeyboardInterrupt`` at
once.  Outside the main thread no handler can be installed and only :meth:`request` stops.
:class:`TimeLimit` is the other way such a loop stops early: a wall-clock budget, checked at
the same safe points.
"""

from __future__ import annotations

import signal
import threading
import time


class StopRequest:
    """``with StopRequest() as stop: ... if stop: break``; truthy once a stop was asked."""

    def __init__(self) -> None:
        self.requested = False
        self._old = None
        self._installed = False

    def request(self) -> None:
        self.requested = True

    def __bool__(self) -> bool:
        return self.requested

    def _on_sigint(self, signum, frame) -> None:
        if self.requested:  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> StopRequest:
        self.requested = False
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._on_sigint)
            self._installed = True
        return self

    def __exit__(self, *exc) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._old)
            self._installed = False


class TimeLimit:
    """A wall-clock budget for a loop that stops at safe points (``--time-limit``):
    :meth:`reached` once ``seconds`` have passed since :meth:`start`.  ``seconds`` None:
    never.  ``clock`` (seconds, monotonic) is injected so tests need not wait."""

    def __init__(self, seconds: float | None = None, clock=time.monotonic) -> None:
        if seconds is not None and not seconds >= 0:
            raise ValueError(f"a time limit must be >= 0 seconds, got {seconds!r}")
        self.seconds = seconds
        self.clock = clock
        self._t0: float | None = None

    def start(self) -> None:
        self._t0 = self.clock()

    def reached(self) -> bool:
        if self.seconds is None:
            return False
        if self._t0 is None:
            self.start()
        return self.clock() - self._t0 >= self.seconds

    def __str__(self) -> str:
        return "no time limit" if self.seconds is None else f"the time limit of {self.seconds:g} s"
