"""Watch evolution live: a pyglet window that draws every episode while it is simulated.

:class:`Watch` (:mod:`~neuroevo.watch.window`) owns the window: a world renderer from
:mod:`sims.view` (cars from above, walkers from the side with a camera on the leader), and a
panel (:mod:`~neuroevo.watch.panel`) with the generation, agents alive, best and mean
fitness, a fitness-history graph and the leader's network with live activations; for cars
also the leader's lap clock, the best lap so far and a lap-time graph (or, for ``neuroevo
replay``, the replay panel: the model file, its track or creature, laps and progress or
distance, time, and its network).  :class:`WindowBackend` (:mod:`~neuroevo.watch.backends`)
plugs it into :meth:`evo.run.EvolutionRun.run`: it advances the passes of
:meth:`evo.task.Task.episodes` that the serial backend runs to the end, a few physics steps
per frame, so the fitness it returns is the serial backend's, bit for bit.  The window only
reads the world between steps.

Speed (:mod:`~neuroevo.watch.pacing`): by default (:func:`auto_speed`) a whole episode, up to
its time limit, plays in about :data:`GENERATION_SECONDS` seconds (cars: x10, ten physics
steps per frame at 60 fps); when frames come slower than ``fps``, each frame takes more
steps (up to :data:`CATCH_UP` times as many) so that the simulation keeps its pace.  The
ghost (cars, :mod:`~neuroevo.watch.ghost`): the best genome so far drives the generation's
episode again in a world of its own, stepped in lockstep with the population's and drawn
translucent; it never touches the population's world.

Keys (:mod:`~neuroevo.watch.keys`, also shown in the window): space pause, F fast-forward to
the next generation, R replay the best-ever genome, T the next track (cars on several
tracks), +/- simulation speed, S screenshot, M a QD run's archive map, Esc quit (the run's
checkpoint is written first; ``--resume`` continues it).

Nothing here imports pyglet at import time: the window modules load in :class:`Watch`.
"""

from __future__ import annotations

from evo.run import EvaluationAborted
from neuroevo.watch.backends import WindowBackend, WindowPlayer
from neuroevo.watch.keys import KEYS_HELP, keys_help
from neuroevo.watch.pacing import (
    CATCH_UP,
    FF_DRAW_EVERY,
    GENERATION_SECONDS,
    NOMINAL_FPS,
    SPEEDS,
    auto_speed,
)
from neuroevo.watch.panel import LAP_COLOR, PANEL_WIDTH, PANELS, species_series
from neuroevo.watch.window import CAPTION_STRIP, ScreenshotTaken, Watch, WindowClosed

__all__ = ["CAPTION_STRIP", "CATCH_UP", "FF_DRAW_EVERY", "GENERATION_SECONDS", "KEYS_HELP",
           "LAP_COLOR", "NOMINAL_FPS", "PANELS", "PANEL_WIDTH", "SPEEDS", "EvaluationAborted",
           "ScreenshotTaken", "Watch", "WindowBackend", "WindowClosed", "WindowPlayer",
           "auto_speed", "keys_help", "species_series"]
