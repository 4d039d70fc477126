"""``common.lock.RunLock`` (one writer per run folder) and ``common.interrupt.TimeLimit``."""

import os
import subprocess
import sys

import pytest

from common.interrupt import TimeLimit
from common.lock import LOCK_FILE, RunLock, RunLocked, holder_pid
from tests.conftest import REPO

HOLD = ("import sys; from common.lock import RunLock; lock = RunLock(sys.argv[1]).acquire(); "
        "print('locked', flush=True); sys.stdin.read()")


def holder(folder):
    """A process that holds ``folder``'s lock until its stdin closes; returns once it says it
    holds it."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], cwd=REPO,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_lock_holds_the_pid_and_is_removed_on_release(tmp_path):
    folder = tmp_path / "run"
    with RunLock(folder) as lock:
        assert lock.held and folder.is_dir()
        assert holder_pid(folder / LOCK_FILE) == os.getpid()
    assert not (folder / LOCK_FILE).exists()
    with RunLock(folder):  # and can be taken again
        pass


def test_a_second_lock_of_the_same_folder_is_refused_while_the_first_is_held(tmp_path):
    with RunLock(tmp_path):
        with pytest.raises(RunLocked, match=f"process {os.getpid()}"):
            RunLock(tmp_path).acquire()
    RunLock(tmp_path).acquire().release()


def test_a_folder_locked_by_a_live_process_is_refused_naming_it(tmp_path):
    proc = holder(tmp_path)
    try:
        with pytest.raises(RunLocked) as e:
            RunLock(tmp_path).acquire()
        assert f"process {proc.pid}" in str(e.value) and "\n" not in str(e.value)
    finally:
        proc.communicate("")
    with RunLock(tmp_path):  # its process gone, the lock is free
        assert holder_pid(tmp_path / LOCK_FILE) == os.getpid()


def test_the_lock_of_a_killed_process_is_taken_over(tmp_path):
    proc = holder(tmp_path)
    proc.kill()
    proc.wait()
    assert holder_pid(tmp_path / LOCK_FILE) == proc.pid  # left behind, stale
    with RunLock(tmp_path):
        assert holder_pid(tmp_path / LOCK_FILE) == os.getpid()


def test_a_lock_file_of_a_pid_that_no_longer_runs_is_taken_over(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True)
    (tmp_path / LOCK_FILE).write_text(dead.stdout)
    with RunLock(tmp_path):
        assert holder_pid(tmp_path / LOCK_FILE) == os.getpid()


def test_time_limit_reads_its_injected_clock():
    now = [100.0]
    limit = TimeLimit(30, clock=lambda: now[0])
    limit.start()
    now[0] = 129.9
    assert not limit.reached()
    now[0] = 130.0
    assert limit.reached()
    assert not TimeLimit(None, clock=lambda: 1e9).reached()
    assert str(limit) == "the time limit of 30 s"
    with pytest.raises(ValueError):
        TimeLimit(-1)
