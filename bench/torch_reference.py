"""What the benchmarks against PyTorch share: the thread count fixed for every BLAS before
anything loads, and PyTorch imported with a one-line hint when it is missing."""

from __future__ import annotations

import os
import sys


def pin_threads(threads: int) -> None:
    """Re-run this script with OMP/OpenBLAS/MKL limited to ``threads`` (a BLAS reads the
    variables once, when it loads); returns at once when they are already set."""
    want = str(threads)
    if os.environ.get("OMP_NUM_THREADS") != want:
        env = dict(os.environ, OMP_NUM_THREADS=want, OPENBLAS_NUM_THREADS=want,
                   MKL_NUM_THREADS=want)
        os.execve(sys.executable, [sys.executable, *sys.argv], env)


def import_torch(script: str):
    """``torch``, or exit with a line saying how to install the CPU build."""
    try:
        import torch
    except ImportError:
        sys.exit(f"{script}: PyTorch is needed for the reference: "
                 ".venv/bin/pip install torch==2.13.0")
    return torch
