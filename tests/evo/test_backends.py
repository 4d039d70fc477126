"""Population backends: how many workers they start by default."""

from __future__ import annotations

import os

import pytest

from evo.backends import ProcessBackend, usable_cpus
from evo.tasks import TaskSpec


def test_worker_counts_default_to_the_cpus_this_process_may_use(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert usable_cpus() == 1  # pinned to one CPU of 64
    from common.config import build
    from evo.config import EvolveConfig

    cfg = build(EvolveConfig, {}, "test: ")
    spec = TaskSpec("cars", cfg.cars, cfg.walkers, cfg.policy)
    assert ProcessBackend(spec).workers == 1
    assert ProcessBackend(spec, workers=3).workers == 3


def test_a_container_cpu_quota_lowers_the_count(monkeypatch, tmp_path):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    real_open = open

    def fake_open(path, *a, **kw):
        if str(path) == "/sys/fs/cgroup/cpu.max":
            quota = tmp_path / "cpu.max"
            quota.write_text("150000 100000\n")  # 1.5 CPUs -> 2 workers
            return real_open(quota, *a, **kw)
        return real_open(path, *a, **kw)

    monkeypatch.setattr("builtins.open", fake_open)
    assert usable_cpus() == 2


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="Linux only")
def test_the_real_count_is_the_affinity_mask():
    assert usable_cpus() <= len(os.sched_getaffinity(0)) and usable_cpus() >= 1
