"""sims depends on numpy, pymunk and yaml only: never on nn, evo or pyglet."""

from __future__ import annotations

import subprocess
import sys


def test_sims_imports_no_nn_evo_or_pyglet() -> None:
    code = (
        "import sys, sims, sims.car_world, sims.walker_world, sims.procedural; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('nn', 'evo', 'pyglet')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
