"""Physics worlds (pymunk) that many agents act in at once: sensor cars on tracks, walkers.

Knows nothing of evolution or networks: numpy, pymunk and yaml only.
"""

from sims.car import CarParams
from sims.car_world import CarWorld, CarWorldConfig
from sims.errors import SimsError
from sims.sensors import SensorParams
from sims.track import load_track, shipped_tracks
from sims.track_geometry import Track
from sims.walker import CreatureSpec, load_creature
from sims.walker_world import WalkerWorld, WalkerWorldConfig

__all__ = [
    "CarParams",
    "CarWorld",
    "CarWorldConfig",
    "CreatureSpec",
    "SensorParams",
    "SimsError",
    "Track",
    "WalkerWorld",
    "WalkerWorldConfig",
    "load_creature",
    "load_track",
    "shipped_tracks",
]
