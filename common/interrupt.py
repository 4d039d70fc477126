"""Ctrl-C in two stages, for long loops (training epochs, generations).

The first Ctrl-C only asks the loop to stop at its next safe point (the end of a batch or of
a generation), so what was finished is saved; a second one raises ``KeyboardInterrupt`` at
once.  Outside the main thread no handler can be installed and only :meth:`request` stops.
"""

from __future__ import annotations

import signal
import threading


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
