"""Shared fixtures for the sims tests: tracks are loaded once per session (they are immutable)."""

from __future__ import annotations

import pytest

from sims.track import load_track
from sims.track_geometry import Track


@pytest.fixture(scope="session")
def default_track() -> Track:
    return load_track("default")


@pytest.fixture(scope="session")
def oval_track() -> Track:
    return load_track("oval")
