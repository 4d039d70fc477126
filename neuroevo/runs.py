"""Run folders: where a command writes its files, and the rule that no run is overwritten.

A folder *holds a run* when it has any file a run writes (a checkpoint, a model, a metrics
or fitness table, a compare report).  A new run refuses such a folder unless ``--force`` is
given (then the old run's files are removed first, so nothing of it is mistaken for the new
one); ``--resume DIR`` continues the run in it instead.

While a process writes a run folder it holds the folder's lock (:class:`common.lock.RunLock`,
``run.lock`` with its PID): a second process resuming it, or starting a new run into it, is
refused with one line; the lock of a process that died is taken over.
"""

from __future__ import annotations

import time
from pathlib import Path

from common.errors import UserError
from common.lock import RunLock

RUNS_DIR = Path("runs")
# every file that marks a folder as holding a run (the files the commands write)
RUN_FILES = ("checkpoint.npz", "train-checkpoint.npz", "reinforce-checkpoint.npz",
             "best.npz", "model.npz", "fitness.csv", "metrics.csv", "timing.csv",
             "returns.csv", "returns.png", "results.json", "report.md",
             "config.yaml", "fitness.png", "curves.png", "compare.png", "confusion.png",
             "mistakes.png", "boundary.png")


class RunExists(UserError):
    """``--out`` names a folder that already holds a run."""


def default_out(name: str) -> Path:
    """``runs/NAME-YYYYmmdd-HHMMSS`` (in the current directory), made unique with ``-2``,
    ``-3``... when a run of the same second exists."""
    base = RUNS_DIR / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, k = base, 1
    while path.exists():
        k += 1
        path = base.with_name(f"{base.name}-{k}")
    return path


def holds_run(folder: str | Path) -> bool:
    folder = Path(folder)
    return folder.is_dir() and any((folder / f).exists() for f in RUN_FILES)


def run_dir(out: str | Path | None, name: str, *, force: bool = False,
            resumable: bool = True) -> Path:
    """The folder a new run will write to: ``out``, or ``runs/NAME-TIME``.  Refuses a
    folder that holds a run (one line naming ``--resume`` where the command has it, and
    ``--force``) unless ``force``.  Writes nothing: call :func:`claim_run_dir` once
    everything that can fail before the run starts has passed."""
    path = Path(out) if out else default_out(name)
    if path.exists() and not path.is_dir():
        raise RunExists(f"--out {path}: exists and is not a folder")
    if holds_run(path) and not force:
        how = f"continue it with --resume {path}, or " if resumable else ""
        raise RunExists(f"{path} already holds a run: {how}pass --force to replace it "
                        f"(or choose another --out)")
    return path


def claim_run_dir(path: Path, *, force: bool = False, resumable: bool = True) -> RunLock:
    """Make ``path`` the new run's folder and lock it (the returned lock is held until the
    caller releases it): the files of a run it held (``--force``) are removed, so nothing of
    the old run is mistaken for the new one.  Checked again under the lock: a run another
    process wrote there since :func:`run_dir` looked is refused as that one refuses it."""
    lock = RunLock(path).acquire()
    try:
        run_dir(path, "", force=force, resumable=resumable)
        _clear(path)
    except BaseException:
        lock.release()
        raise
    return lock


def lock_run_dir(path: str | Path) -> RunLock | None:
    """The lock of an existing run folder (``--resume DIR``), held until the caller releases
    it; None where ``path`` is no folder (the resume itself then says what is wrong)."""
    path = Path(path)
    return RunLock(path).acquire() if path.is_dir() else None


def _clear(path: Path) -> None:
    for f in RUN_FILES:
        (path / f).unlink(missing_ok=True)
    path.mkdir(parents=True, exist_ok=True)


def new_run_dir(out: str | Path | None, name: str, *, force: bool = False,
                resumable: bool = True) -> Path:
    """:func:`run_dir` and the removal of an old run's files at once (for a command with
    nothing to check in between, and no lock to hold)."""
    path = run_dir(out, name, force=force, resumable=resumable)
    _clear(path)
    return path


def time_limit_arg(value: str) -> float:
    """``--time-limit SECONDS``: a number >= 0."""
    import argparse

    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {value!r}") from None
    if not seconds >= 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds >= 0, got {value!r}")
    return seconds


def add_time_limit(parser, unit: str) -> None:
    """``--time-limit SECONDS`` of a command whose loop stops cleanly after a ``unit``."""
    parser.add_argument("--time-limit", type=time_limit_arg, metavar="SECONDS",
                        help=f"stop after the {unit} in progress once SECONDS have passed "
                        f"(it is checkpointed as always; exit 0, and --resume DIR continues "
                        f"the run with the same results as an uninterrupted one)")


def time_limit_message(limit, after: str, out: Path) -> str:
    """The line a run stopped by its time limit ends with."""
    return f"neuroevo: {limit} reached after {after}; resume with --resume {out}"
