"""Run folders: where a command writes its files when ``--out`` is not given."""

from __future__ import annotations

import time
from pathlib import Path

RUNS_DIR = Path("runs")


def default_out(name: str) -> Path:
    """``runs/NAME-YYYYmmdd-HHMMSS`` (in the current directory)."""
    return RUNS_DIR / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
