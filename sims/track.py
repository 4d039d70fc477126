"""Loading tracks: YAML track files, the tracks shipped in ``configs/tracks/``, and
``procedural:SEED[:DIFFICULTY]`` specs.  A track itself (:class:`~sims.track_geometry.Track`)
and its validation (:func:`~sims.track_geometry.build_track`) are :mod:`sims.track_geometry`.

A track file is YAML::

    name: oval              # free text
    width: 16.0             # metres between the two walls
    centerline:             # a closed loop of at least 8 [x, y] points in metres, in
      - [0, 0]              # driving order; smoothed by a periodic cubic spline
      - ...
    start: 0                # optional index into `centerline` where cars start
    barriers:               # optional straight walls on the road, [[x0, y0], [x1, y1]]
      - [[55, -12], [55, 12]]   # each: one across the road makes a dead end on each side
    goal: [40, 0]           # optional point the cars drive to (cars.objective: goal)
    goal_radius: 3.0        # optional, m: a car within this of the goal has reached it

`load_track(spec)` accepts a file path, the name of a track shipped in `configs/tracks/`, or
`procedural:SEED[:DIFFICULTY]` (see :mod:`sims.procedural`). Every user-caused problem raises
:class:`~sims.errors.SimsError` with a one-line message naming the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.config import as_int, as_positive, as_str, as_vec2, check_keys, read_yaml
from common.resources import file_or_shipped, shipped_dir, shipped_names
from sims.errors import SimsError
from sims.procedural import parse_procedural_spec, procedural_track
from sims.track_geometry import Track, build_track, with_course

TRACKS_DIR = shipped_dir("tracks")  # configs/tracks/, found by common.resources
DEFAULT_TRACK = "default"


_FILE_CACHE: dict[tuple[str, str, int, int], Track] = {}


def track_from_file(path: str | Path) -> Track:
    """Load and validate a YAML track file (cached while the file is unchanged)."""
    path = Path(path)
    try:
        stat = path.stat()
        key = (str(path), str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    except OSError:
        key = None
    if key is not None and key in _FILE_CACHE:
        return _FILE_CACHE[key]
    track = _read_track_file(path)
    if key is not None:
        if len(_FILE_CACHE) > 64:
            _FILE_CACHE.clear()
        _FILE_CACHE[key] = track
    return track


def _read_track_file(path: Path) -> Track:
    where = str(path)
    data = read_yaml(path, "track")
    check_keys(where, data, {"width", "centerline"},
               {"name", "start", "barriers", "goal", "goal_radius"})
    name = as_str(where, "name", data.get("name", path.stem))
    width = as_positive(where, "width", data["width"])
    start = as_int(where, "start", data.get("start", 0))
    raw = data["centerline"]
    if not isinstance(raw, list):
        raise SimsError(f"{where}: 'centerline' must be a list of [x, y] points")
    for i, p in enumerate(raw):
        ok = isinstance(p, (list, tuple)) and len(p) == 2
        ok = ok and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p)
        if not ok:
            raise SimsError(f"{where}: centerline point {i} must be a pair of numbers [x, y]")
    pts = np.asarray(raw, dtype=np.float64).reshape(-1, 2)
    if not np.all(np.isfinite(pts)):
        raise SimsError(f"{where}: centerline points must be finite numbers")
    track = build_track(pts, width, name=name, start=start, source=where)
    if not any(k in data for k in ("barriers", "goal", "goal_radius")):
        return track
    raw_bars = data.get("barriers", [])
    if not isinstance(raw_bars, list):
        raise SimsError(f"{where}: 'barriers' must be a list of [[x0, y0], [x1, y1]] segments")
    bars = []
    for i, b in enumerate(raw_bars):
        if not isinstance(b, list) or len(b) != 2:
            raise SimsError(f"{where}: barrier {i} must be a pair of points [[x0, y0], [x1, y1]]")
        bars.append([as_vec2(where, f"barriers[{i}]", p) for p in b])
    goal = as_vec2(where, "goal", data["goal"]) if "goal" in data else None
    if "goal_radius" in data and goal is None:
        raise SimsError(f"{where}: 'goal_radius' without a 'goal'")
    radius = as_positive(where, "goal_radius", data.get("goal_radius", 3.0))
    return with_course(track, bars, goal, radius, source=where)


def shipped_tracks() -> list[str]:
    """Names of the tracks in configs/tracks/."""
    return shipped_names("tracks")


def load_track(spec: str | Path = DEFAULT_TRACK) -> Track:
    """A track from a file path, a shipped track name, or 'procedural:SEED[:DIFFICULTY]'."""
    text = str(spec)
    if text.startswith("procedural:"):
        seed, difficulty = parse_procedural_spec(text)
        return procedural_track(seed, difficulty)
    found = file_or_shipped("tracks", text)
    if found is not None:
        return track_from_file(found)
    path = Path(text)
    if path.exists():
        raise SimsError(f"{path}: is a folder, not a track file")
    if path.suffix in (".yaml", ".yml"):
        raise SimsError(f"{path}: no such track file")
    names = ", ".join(shipped_tracks())
    raise SimsError(
        f"track '{text}': not a file, not a shipped track ({names}), nor procedural:SEED"
    )
