"""Track geometry, shipped tracks and bad track files (procedural tracks: test_procedural)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from common.errors import UserError
from sims.errors import SimsError
from sims.geometry import closed_self_crossing
from sims.track import TRACKS_DIR, load_track, shipped_tracks, track_from_file

RISING = ["oval", "default", "sbends", "hairpins", "technical"]


def test_shipped_tracks_load_and_are_valid() -> None:
    names = shipped_tracks()
    assert set(RISING) <= set(names) and "default" in names
    for name in RISING:
        track = load_track(name)
        assert 400 < track.length < 1500, name
        assert 10 <= track.width <= 20
        assert track.min_radius > track.width / 2 + 2 * track.wall_radius
        assert closed_self_crossing(track.points[::3]) is None
        # faces sit half a width either side of the centerline
        for face in (track.left_face, track.right_face):
            d = np.min(np.linalg.norm(face[:, None] - track.points[None], axis=2), axis=1)
            assert np.allclose(d, track.width / 2, atol=0.05)


def test_shipped_tracks_rise_in_difficulty() -> None:
    tracks = [load_track(n) for n in RISING]
    widths = [t.width for t in tracks]
    assert widths == sorted(widths, reverse=True)
    assert tracks[0].min_radius > tracks[-1].min_radius * 3


def test_load_by_path_and_name_agree(default_track) -> None:
    by_path = load_track(str(TRACKS_DIR / "default.yaml"))
    assert np.array_equal(by_path.points, default_track.points)


def test_start_is_first_sample_and_heading_follows_centerline(default_track) -> None:
    t = default_track
    assert np.allclose(t.start_position, t.points[0])
    assert np.isclose(np.cos(t.start_heading), t.tangents[0, 0])
    # sensor segments have the track interior on their right
    e = t.seg_b - t.seg_a
    mid = (t.seg_a + t.seg_b) / 2
    near = np.argmin(np.linalg.norm(mid[:, None] - t.points[None], axis=2), axis=1)
    to_centre = t.points[near] - mid
    assert np.all(e[:, 0] * to_centre[:, 1] - e[:, 1] * to_centre[:, 0] < 0)


@pytest.mark.parametrize(
    "spec", ["procedural:", "procedural:x", "procedural:1:2", "procedural:-1", "nosuchtrack"]
)
def test_bad_specs(spec: str) -> None:
    with pytest.raises(SimsError):
        load_track(spec)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return path


def _circle(n: int, r: float) -> str:
    t = 2 * np.pi * np.arange(n) / n
    return "\n".join(f"  - [{r * np.cos(a):.3f}, {r * np.sin(a):.3f}]" for a in t)


GOOD = f"name: ring\nwidth: 12\ncenterline:\n{_circle(16, 60)}\n"


def test_a_good_file_loads(tmp_path: Path) -> None:
    t = track_from_file(_write(tmp_path, GOOD))
    assert t.name == "ring" and abs(t.length - 2 * np.pi * 60) < 1.0


BAD_FILES = {
    "too few points": ("width: 12\ncenterline:\n" + _circle(5, 60), "at least 8"),
    "self-intersecting": (
        "width: 8\ncenterline:\n"
        + "\n".join(
            f"  - [{100 * np.sin(a):.2f}, {60 * np.sin(2 * a):.2f}]"
            for a in 2 * np.pi * np.arange(24) / 24
        ),
        "crosses itself",
    ),
    "width too large": (
        "width: 50\ncenterline:\n" + _circle(16, 20),
        "too large for the curvature",
    ),
    "not closed": (
        "width: 10\ncenterline:\n"
        + "\n".join(f"  - [{x}, {0.002 * x * x}]" for x in range(0, 400, 40)),
        "not closed",
    ),
    "unknown key": (GOOD + "colour: red\n", "unknown key"),
    "wrong type": (GOOD.replace("width: 12", "width: wide"), "'width' must be a number"),
    "bad point": ("width: 12\ncenterline:\n  - [1, 2, 3]\n" + _circle(10, 60), "point 0"),
    "malformed": ("width: 12\ncenterline: [[0, 0], [1\n", "malformed YAML"),
    "not a mapping": ("- 1\n- 2\n", "mapping"),
    "missing key": ("width: 12\n", "missing key"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_track_files_raise_one_line_naming_the_file(tmp_path: Path, case: str) -> None:
    text, expected = BAD_FILES[case]
    path = _write(tmp_path, text)
    with pytest.raises(UserError) as err:  # ConfigError (the file) or SimsError (the shape)
        load_track(str(path))
    message = str(err.value)
    assert str(path) in message and expected in message
    assert "\n" not in message
    assert isinstance(err.value, ValueError)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SimsError, match="no such track file"):
        load_track(str(tmp_path / "nope.yaml"))


def test_a_folder_named_like_a_shipped_track_or_creature_does_not_hide_it(tmp_path,
                                                                          monkeypatch) -> None:
    from sims.walker import load_creature

    shipped = load_track("oval")
    biped = load_creature("biped")
    for name in ("oval", "biped", "mine.yaml"):
        (tmp_path / name).mkdir()
    monkeypatch.chdir(tmp_path)
    assert np.array_equal(load_track("oval").points, shipped.points)
    assert load_creature("biped") == biped
    with pytest.raises(SimsError, match="is a folder, not a track file"):
        load_track("mine.yaml")
    with pytest.raises(SimsError, match="is a folder, not a creature file"):
        load_creature("mine.yaml")
    # a file of that name is still read as the file it is
    (tmp_path / "track.yaml").write_text((TRACKS_DIR / "sbends.yaml").read_text())
    assert load_track("track.yaml").name == load_track("sbends").name

