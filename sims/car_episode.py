"""The end rules of a car episode and what a car world reports about it.

:class:`EpisodeRules` is mixed into :class:`sims.car_world.CarWorld`: the per-car state of
one episode (crashed, finished, stalled, laps and lap times, the goal, behaviour sums,
which cars still drive), the rules that end a car's drive (a wall contact, `laps` laps, the
goal, a stall, `max_time`) and ``info``.  It reads from the world: ``n_agents``, ``config``
(:class:`~sims.car_world.CarWorldConfig`), ``time``, ``progress``
(:class:`~sims.progress.ProgressTracker`), ``position``, ``velocity`` and ``speed``, and
``has_goal``, ``_goal``, ``_goal_r2`` (each car's goal and squared radius),
``_inv_length`` and ``behaviour``.

Every change of a car's done flags sets ``_events``; :meth:`EpisodeRules._settle` then
updates the set of driving cars once, after the step's observation.  The arrays are
replaced, never written in place, so those an earlier ``info`` returned stay as they were.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class EpisodeRules:
    """Per-car episode bookkeeping and end rules of a car world (see the module docstring)."""

    # ------------------------------------------------------------------ a new episode
    def _start_episode(self) -> None:
        """Every car drives again from where it is now: its progress (already reset) and
        lap clock start at the world's time; nothing has ended."""
        n = self.n_agents
        self.crashed = np.zeros(n, dtype=bool)
        self.finished = np.zeros(n, dtype=bool)
        self.stalled = np.zeros(n, dtype=bool)
        self.terminated = np.zeros(n, dtype=bool)
        self.truncated = np.zeros(n, dtype=bool)
        self.lap_time = np.full(n, np.nan)  # duration of the last completed lap
        self.best_lap_time = np.full(n, np.nan)  # the fastest completed lap of the episode
        self._end_time = np.full(n, np.inf)  # when each car became done
        self._lap_start = np.full(n, self.time)
        self._laps = np.zeros(n, dtype=np.int64)
        self._next_lap = np.ones(n) * self.progress.length  # best progress that completes a lap
        self._stall_best = self.progress.best.copy()
        self._stall_since = np.full(n, self.time)
        self._events = False
        self._reset_sums()
        self._reset_goal()
        self._set_active(np.ones(n, dtype=bool))

    def _reset_goal(self) -> None:
        """Goal bookkeeping from the current positions (courses with a goal only)."""
        if self.has_goal:
            self.reached = np.zeros(self.n_agents, dtype=bool)
            self._goal_start = np.abs(self.position.view(np.complex128)[:, 0] - self._goal)

    def _reset_sums(self) -> None:
        """Per-car sums over the steps a car drives (behaviour statistics of `info`; a car
        drives `time_alive / dt` steps).  Each step replaces them (never in place), so
        the arrays `info` returned before stay as they were."""
        n = self.n_agents
        self._sum_speed = np.zeros(n)  # of |forward speed|, m/s
        self._sum_steer = np.zeros(n)  # of |steer| in [0, 1]
        self._sum_lateral = np.zeros(n)  # of the signed offset from the centerline, m

    def _set_active(self, active: np.ndarray) -> None:
        """Which cars still drive: (N,) bool, their indices and how many."""
        self._active = active
        self._active_idx = np.flatnonzero(active)
        self._n_active = len(self._active_idx)
        self._all_active = self._n_active == self.n_agents

    # ------------------------------------------------------------------ each step
    @property
    def done(self) -> np.ndarray:
        """(N,) bool: terminated or truncated."""
        return self.terminated | self.truncated

    def _add_behaviour(self, steer: np.ndarray, forward: np.ndarray, active: np.ndarray,
                       all_active: bool) -> None:
        """Add this step to the behaviour sums: steer (N,) actions, forward (N,) speeds (0
        for cars that do not drive); five vector ops."""
        steer = np.abs(steer)
        lateral = self.progress.lateral
        if not all_active:
            steer *= active
            lateral = lateral * active
        self._sum_speed = self._sum_speed + np.abs(forward)
        self._sum_steer = self._sum_steer + steer
        self._sum_lateral = self._sum_lateral + lateral

    def _apply_rules(self, pos: np.ndarray, active: np.ndarray) -> None:
        """The end rules after the cars moved (wall contacts were booked by `_crash`): the
        goal, completed laps, stalls and the time limit; pos (N,) complex."""
        if self.has_goal:
            self._goal_check(pos, active)
        if (self.progress.best >= self._next_lap).any():
            self._lap_done(active)
        if self.config.stall_time > 0:
            self._stall_check(active)
        if self.time >= self.config.max_time - 1e-9:
            self._events = True
            self.truncated = self.truncated | (active & ~self.terminated)

    def _settle(self, active: np.ndarray) -> None:
        """After the step's observation: the cars that became done stop driving, and their
        clocks stop (`active` (N,): who drove this step)."""
        if self._events:  # every change of done comes with an event
            self._events = False
            self._set_active(~(self.terminated | self.truncated))
            self._end_time = np.where(active & ~self._active, self.time, self._end_time)

    def _crash(self, cars: Sequence[int]) -> list[int]:
        """Stop the driving cars of `cars` that touched a wall; returns those that crashed
        now (sorted), for the physics to let go of."""
        fresh = sorted({i for i in cars if not self.crashed[i] and self._active[i]})
        if not fresh:
            return fresh
        self._events = True
        crashed = self.crashed.copy()
        crashed[fresh] = True
        self.crashed = crashed
        self.terminated = self.terminated | crashed
        self.velocity = np.where(crashed, 0.0, self.velocity)
        self.speed = np.where(crashed, 0.0, self.speed)
        return fresh

    def _lap_done(self, active: np.ndarray) -> None:
        """Book-keeping when some car completes a lap."""
        self._events = True
        laps = self.progress.laps
        new_lap = (laps > self._laps) & active
        self.lap_time = np.where(new_lap, self.time - self._lap_start, self.lap_time)
        self.best_lap_time = np.where(new_lap, np.fmin(self.best_lap_time, self.lap_time),
                                      self.best_lap_time)
        self._lap_start = np.where(new_lap, self.time, self._lap_start)
        self._laps = np.where(active, laps, self._laps)
        self._next_lap = (self._laps + 1) * self.progress.length
        if self.config.laps:
            self.finished = self.finished | (active & (self._laps >= self.config.laps))
            self.terminated = self.terminated | self.finished

    def _goal_check(self, pos: np.ndarray, active: np.ndarray) -> None:
        """Finish the cars that reached their goal: pos (N,) complex."""
        d = pos - self._goal
        reached = active & ((d.real * d.real + d.imag * d.imag) <= self._goal_r2)
        if reached.any():
            self._events = True
            self.reached = self.reached | reached
            self.finished = self.finished | reached
            self.terminated = self.terminated | reached

    def _stall_check(self, active: np.ndarray) -> None:
        """Truncate cars that made too little progress for `stall_time`."""
        best = self.progress.best
        moved = best - self._stall_best >= self.config.stall_distance
        self._stall_best = np.where(moved, best, self._stall_best)
        self._stall_since = np.where(moved, self.time, self._stall_since)
        stalled = active & ~self.terminated & (
            self.time - self._stall_since > self.config.stall_time
        )
        if stalled.any():
            self._events = True
            self.stalled = self.stalled | stalled
            self.truncated = self.truncated | stalled

    # ------------------------------------------------------------------ reports
    def info(self) -> dict[str, np.ndarray]:
        """Per-car episode statistics (arrays of length N; fresh each step)."""
        info = {
            "progress": self.progress.best * self._inv_length,  # best progress, laps
            "distance": self.progress.best,  # m of best progress along the centerline
            "laps": self._laps,  # completed laps
            "crashed": self.crashed,
            "finished": self.finished,  # completed `laps` laps
            "stalled": self.stalled,
            "time_alive": np.minimum(self._end_time, self.time),  # s until done
            "lap_time": self.lap_time,  # s of the last completed lap, NaN if none
            "best_lap_time": self.best_lap_time,  # s of the fastest completed lap, NaN if none
            "speed": self.speed,  # m/s forward
        }
        if self.behaviour:  # sums over the steps each car drove (time_alive / dt of them)
            info["sum_speed"] = self._sum_speed  # of |forward speed|, m/s
            info["sum_abs_steering"] = self._sum_steer  # of |steer|, 0..1
            info["sum_lateral"] = self._sum_lateral  # of the offset from the centerline, m
            info["final_x"] = self.position[:, 0].copy()  # m, where each car is (or stopped)
            info["final_y"] = self.position[:, 1].copy()
        if self.has_goal:  # courses with a goal
            pos = self.position.view(np.complex128)[:, 0]
            info["goal_distance"] = np.abs(pos - self._goal)  # m from the goal now
            info["goal_start"] = self._goal_start  # m from the goal at the start
            info["reached"] = self.reached  # came within the goal radius
        return info

    def lap_clock(self) -> np.ndarray:
        """(N,) s into each car's current lap (stopped when the car is done)."""
        return np.minimum(self._end_time, self.time) - self._lap_start
