"""One writer per run folder: ``RUN/run.lock`` holds the PID of the process writing it.

The lock is an ``flock`` on that file, so the kernel releases it when its process ends,
however it ends (a ``SIGKILL`` included): a lock file left behind by a dead process is
stale, and the next run takes it over.  While a process holds it, a second one (a second
``--resume`` of the same folder, or a new run into it) is refused with one line naming the
holder's PID.  The file is opened with ``O_CREAT`` and locked before anything is written;
a lock file replaced or removed between the open and the lock is opened again, so two
processes never both believe they hold it.
"""

from __future__ import annotations

import os
from pathlib import Path

from common.errors import UserError

LOCK_FILE = "run.lock"


class RunLocked(UserError):
    """Another live process is writing the run folder."""


class RunLock:
    """``with RunLock(folder):`` (or :meth:`acquire` / :meth:`release`): ``folder`` is
    created if needed; :class:`RunLocked` when another process holds it."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> RunLock:
        import fcntl

        if self._fd is not None:
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                holder = holder_pid(self.path)
                who = f"process {holder}" if holder is not None else "another process"
                raise RunLocked(f"{self.folder} is being written by {who} (its {LOCK_FILE}); "
                                f"wait for that run to end, or choose another folder") from None
            try:  # the file locked must still be the one at the path (not unlinked since)
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)  # unlinked while locked: no one reuses it
        finally:
            os.close(self._fd)  # closing releases the flock
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def holder_pid(path: str | Path) -> int | None:
    """The PID written in a lock file, or None (missing, empty, not a number)."""
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
