"""The live window's pacing on a clock the test moves (no window, no real time): how many
frames' worth of steps a late frame takes, how long a frame waits, the frame-rate readout,
and the speed ladder of +/-."""

from __future__ import annotations

from types import SimpleNamespace

from neuroevo.watch.pacing import (
    CATCH_UP,
    MAX_BEHIND,
    SPEEDS,
    Pacer,
    auto_speed,
    faster,
    slower,
)


class Clock:
    def __init__(self, t: float = 50.0):
        self.t = t
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


def test_catch_up_counts_late_frames_and_caps_them():
    clock = Clock()
    pacer = Pacer(64.0, clock, clock.sleep)  # 64ths of a second: exact in binary
    assert pacer.catch_up() == 1.0  # nothing before it
    clock.t += 3 / 64
    assert pacer.catch_up() == 3.0
    clock.t += 0.25 / 64  # early: never fewer than one frame's steps
    assert pacer.catch_up() == 1.0
    clock.t += 100.0
    assert pacer.catch_up() == CATCH_UP
    clock.t += 2 / 64
    assert pacer.catch_up(exact=True) == 1.0  # --screenshot: frames count steps exactly
    pacer.restart()  # paused, or a new world: nothing to catch up
    clock.t += 5 / 64
    assert pacer.catch_up() == 1.0
    pacer.fps = None
    clock.t += 5 / 64
    assert pacer.catch_up() == 1.0
    assert clock.slept == []


def test_each_frame_waits_out_its_time_and_a_stall_is_not_made_up():
    clock = Clock()
    pacer = Pacer(64.0, clock, clock.sleep)
    for _ in range(5):  # drawing takes no time: every frame waits a whole 1/64 s
        pacer.wait(pacer.shown())
    assert clock.slept == [1 / 64] * 5
    clock.slept.clear()
    shown = pacer.shown()
    clock.t += 1.0  # this frame took a second
    pacer.wait(shown)
    rushed = 0
    while True:  # frames come without a wait until the pace is back
        pacer.wait(pacer.shown())
        if clock.slept:
            break
        rushed += 1
    # MAX_BEHIND s of frames (16 at 64 fps, and one more exactly due) are rushed, not the
    # 64 the stall took
    assert rushed == int(MAX_BEHIND * 64) + 1
    assert clock.slept == [1 / 64]


def test_without_fps_nothing_waits_and_the_rate_is_measured():
    clock = Clock()
    pacer = Pacer(None, clock, clock.sleep)
    assert pacer.rate() is None
    for _ in range(11):
        pacer.wait(pacer.shown())
        clock.t += 0.125
    assert clock.slept == []
    assert pacer.rate() == 8.0  # 10 frame intervals of 1/8 s
    for _ in range(100):  # the readout covers the last 30 frames only
        pacer.shown()
        clock.t += 0.5
    assert pacer.rate() == 2.0


def test_the_speed_ladder_and_the_default_speed():
    assert faster(1.0) == 2.0 and slower(1.0) == 0.5
    assert faster(SPEEDS[-1]) == SPEEDS[-1] and slower(SPEEDS[0]) == SPEEDS[0]
    assert faster(3.0) == 4.0 and slower(3.0) == 2.0  # off the ladder: the next step on it
    # 60 s at 1/60 s steps in 6 s at 60 fps: 10 steps a frame; short episodes: at least 2
    world = SimpleNamespace(config=SimpleNamespace(max_time=60.0), dt=1 / 60)
    assert auto_speed(world) == 10.0
    world.config.max_time = 1.0
    assert auto_speed(world) == 2.0
    world.config.max_time = 1e6
    assert auto_speed(world) == SPEEDS[-1]
