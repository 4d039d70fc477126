"""What the cars and walkers tasks know of themselves beside their worlds and fitness: how
they are named and measured in text, tables and figures, their renderer, what a replay
shows and prints of an episode, PPO's score columns, what they evolve beside the network.

:class:`CarFace` and :class:`WalkerFace` are mixed into :class:`evo.tasks.CarTask` and
:class:`evo.tasks.WalkerTask` (whose config sections they read as ``self.cfg``); the
defaults, and what each attribute means, are :class:`evo.task.Task`'s.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from evo import descriptors


class CarFace:
    agents = "cars"
    measure = "laps"
    laps = True
    score = "laps"
    score_label = "laps driven"
    best_label = "best fitness (laps)"
    score_columns = ("laps_mean", "laps_best", "lap_time")
    behaviours = descriptors.CARS
    shared_world = True
    place = "track"

    @classmethod
    def replay_section(cls, section, place, max_time):
        if place is not None:
            section = replace(section, track=place)
        if max_time is not None:
            section = replace(section, world=replace(section.world, max_time=max_time))
        return section

    def replay_result(self, info):
        lap = float(info["best_lap_time"][0])
        result = {"progress": float(info["progress"][0]), "laps": int(info["laps"][0]),
                  "crashed": bool(info["crashed"][0]), "time": float(info["time_alive"][0]),
                  "lap_time": lap if np.isfinite(lap) else None}  # the fastest lap, s
        if "reached" in info:  # a course with a goal
            result["goal_distance"] = float(info["goal_distance"][0])  # m, at the end
            result["reached"] = bool(info["reached"][0])
        laps = f" lap time: {lap:.2f} s" if np.isfinite(lap) else ""
        goal = (f" goal: {'reached' if result['reached'] else 'not reached'}, "
                f"{result['goal_distance']:.1f} m away" if "reached" in result else "")
        return result, (f"progress: {result['progress']:.4f} laps: {result['laps']} "
                        f"crashed: {'yes' if result['crashed'] else 'no'} time: "
                        f"{result['time']:.2f} s{laps}{goal}")

    def round_episodes(self, worlds=1):
        """Every training track at once (``pg.worlds`` does not apply)."""
        return max(len(self.cfg.tracks or []), 1)

    @classmethod
    def evolved_extras(cls, section):
        return None if section.sensors == "fixed" else f"cars.sensors={section.sensors}"

    def score_row(self, eps):
        lap = eps["lap_time"]
        return {"laps_mean": float(np.mean(eps["fitness"])),
                "laps_best": float(np.max(eps["fitness"])),
                "lap_time": float(np.nanmin(lap)) if np.isfinite(lap).any() else math.nan}

    @property
    def fitness_label(self):
        if self.cfg.objective == "goal":
            return " (closeness to the goal)"
        return super().fitness_label

    @classmethod
    def renderer(cls):
        from sims.view.cars import CarRenderer

        return CarRenderer

    def replay_summary(self, world, info):
        lines = [f"track    {world.track.name}"]
        laps, progress = int(info["laps"][0]), float(info["progress"][0])
        goal = f" of {world.config.laps}" if world.config.laps else ""
        lines.append(f"laps     {laps}{goal} done, progress {progress:.3f}")
        if "reached" in info:  # a course with a goal
            lines.append(f"goal     {float(info['goal_distance'][0]):.1f} m away"
                         f"{', reached' if info['reached'][0] else ''}")
        state = ("finished" if info["finished"][0] else "crashed" if info["crashed"][0]
                 else "stalled" if info["stalled"][0] else "time up" if world.done[0]
                 else "driving")
        unit = "" if "reached" in info else " laps"  # a goal's fitness has no unit
        return lines, state, unit


class WalkerFace:
    agents = "walkers"
    unit = " m"
    measure = "m"
    score = "distance"
    score_label = "distance (m)"
    best_label = "best distance (m)"
    score_columns = ("distance_mean", "distance_best")
    behaviours = descriptors.WALKERS

    def reward_terms(self):
        return float(self.cfg.alive_bonus), float(self.cfg.fall_penalty)

    place = "terrain"

    @classmethod
    def replay_section(cls, section, place, max_time):
        world = section.world
        if place is not None:
            world = replace(world, terrain=place, ground_roughness=0.0)
        if max_time is not None:
            world = replace(world, max_time=max_time)
        return replace(section, world=world)

    def replay_result(self, info):
        result = {"distance": float(info["distance"][0]), "fallen": bool(info["fallen"][0]),
                  "time": float(info["time_alive"][0])}
        return result, (f"distance: {result['distance']:.2f} fallen: "
                        f"{'yes' if result['fallen'] else 'no'} time: {result['time']:.2f} s")

    @classmethod
    def evolved_extras(cls, section):
        return None if section.body == "fixed" else f"walkers.body={section.body}"

    def score_row(self, eps):
        return {"distance_mean": float(np.mean(eps["distance"])),
                "distance_best": float(np.max(eps["distance"]))}

    @classmethod
    def renderer(cls):
        from sims.view.walkers import WalkerRenderer

        return WalkerRenderer

    def replay_summary(self, world, info):
        lines = [f"creature {world.spec.name}",
                 f"distance {float(info['distance'][0]):.2f} m"]
        state = "fallen" if info["fallen"][0] else "time up" if world.done[0] else "walking"
        return lines, state, " m"
