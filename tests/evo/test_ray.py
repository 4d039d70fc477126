"""The Ray backend as a cluster would use it: a missing extra, an actor that dies mid-run, and
a two-node cluster on this machine (every node on the loopback)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from common.config import build
from evo.backends import SerialBackend
from evo.config import EvolveConfig
from evo.run import EvolutionRun, Reporter
from evo.tasks import TaskSpec
from tests.conftest import REPO, assert_user_error

# every test here starts Ray: they share one worker of the parallel suite (make test), so
# that no two Ray instances run at once
pytestmark = pytest.mark.xdist_group("ray")

# the cluster's own settings: no token authentication between its nodes, no usage reports
RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
SMALL = ["--population", "8", "--generations", "3", "--headless", "--quiet",
         "--set", "cars.world.max_time=6"]


def need_ray():
    return pytest.importorskip("ray")  # CI installs the extra (a skip fails there)


def small_cfg(**over) -> EvolveConfig:
    raw = {"task": "cars", "population": 8, "generations": 3, "seed": 3,
           "cars": {"world": {"max_time": 6.0}}}
    raw.update(over)
    return build(EvolveConfig, raw, "test: ")


def fitness_rows(path: Path) -> list[str]:
    return path.read_text().splitlines()


def test_without_ray_the_backend_is_one_line_and_the_ctrl_c_handler_is_untouched(
        tmp_path, cli, monkeypatch):
    blocker = tmp_path / "no-ray"
    (blocker / "ray").mkdir(parents=True)
    (blocker / "ray" / "__init__.py").write_text("raise ImportError(\"No module named 'ray'\")\n")
    proc = cli("evolve", "cars", *SMALL, "--backend", "ray", "--out", str(tmp_path / "r"),
               env={"PYTHONPATH": f"{blocker}{os.pathsep}{REPO}"})
    assert_user_error(proc, "pip install 'neuroevo[ray]'")

    from common.errors import UserError

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    before = signal.getsignal(signal.SIGINT)
    run = EvolutionRun(small_cfg(evaluation={"backend": "ray"}), tmp_path / "in-process")
    with pytest.raises(UserError, match="neuroevo\\[ray\\]"):
        run.run()
    assert signal.getsignal(signal.SIGINT) is before


class _KillAnActor(Reporter):
    """Kills one Ray actor's process at the start of the second generation."""

    def __init__(self, backend):
        self.backend = backend
        self.killed = None

    def start_generation(self, run, generation):
        if generation == 1 and self.killed is None:
            ray = self.backend._ray
            self.killed = ray.get(self.backend._actors[0].pid.remote())
            os.kill(self.killed, signal.SIGKILL)


def test_a_dead_actor_is_replaced_and_the_run_matches_a_serial_one(tmp_path):
    need_ray()
    from evo.backends import RayBackend

    serial = EvolutionRun(small_cfg(), tmp_path / "serial")
    assert serial.run() == "completed"
    cfg = small_cfg()
    spec = TaskSpec("cars", cfg.cars, cfg.walkers, cfg.policy)
    backend = RayBackend(spec, workers=2)
    killer = _KillAnActor(backend)
    run = EvolutionRun(cfg, tmp_path / "ray", reporters=[killer])
    try:
        assert run.run(backend) == "completed"  # run() closes the backend (and its Ray)
    finally:
        backend.close()
    assert killer.killed is not None and backend.restarts >= 1
    assert fitness_rows(tmp_path / "ray" / "fitness.csv") == \
        fitness_rows(tmp_path / "serial" / "fitness.csv")


def test_ray_backend_gives_the_serial_fitness_on_a_local_ray():
    need_ray()
    from evo.backends import RayBackend

    cfg = small_cfg()
    spec = TaskSpec("cars", cfg.cars, cfg.walkers, cfg.policy)
    serial = SerialBackend(spec)
    thetas = np.random.default_rng(2).normal(0, 0.5, (6, serial.task.network().num_params))
    with RayBackend(spec, workers=2) as backend:
        got = backend.evaluate(thetas, seed=[1, 2])
    np.testing.assert_array_equal(serial.evaluate(thetas, seed=[1, 2])["fitness"],
                                  got["fitness"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ray(*args, timeout=120) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("ray")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **RAY_ENV})


def _start_two_nodes(port: int) -> str | None:
    """Starts the head and joins the second node; None, with everything stopped, where Ray
    gave up, else the error text."""
    address = f"127.0.0.2:{port}"
    head = _ray("start", "--head", "--node-ip-address=127.0.0.2", f"--port={port}",
                "--num-cpus=1", "--include-dashboard=false", "--disable-usage-stats")
    if head.returncode != 0:
        return f"ray start --head: {head.stderr[-2000:]}"
    node = _ray("start", f"--address={address}", "--node-ip-address=127.0.0.2", "--num-cpus=1")
    if node.returncode != 0:
        return f"ray start --address: {node.stderr[-2000:]}"
    for _ in range(60):  # the second node registers within seconds
        status = _ray("status", f"--address={address}")
        if status.stdout.count(" node_") >= 2:
            return None
        time.sleep(1)
    return f"the second node never joined: {status.stdout}{status.stderr}"


@pytest.fixture(scope="module")
def two_node_cluster():
    """``ray start --head`` plus a second node joined with ``ray start --address``, one CPU
    each, both on 127.0.0.2 (the loopback); shared by this module's tests, stopped afterwards.

    Ray gives a starting node a fixed 30 s to register with the head, which a loaded 2-core
    machine can exceed ("The current node timed out during startup"): the cluster is then
    stopped and started again, three tries in all."""
    need_ray()
    errors = []
    try:
        for _ in range(3):
            port = _free_port()
            error = _start_two_nodes(port)
            if error is None:
                break
            errors.append(error)
            _ray("stop", "--force")
        else:
            pytest.fail("no two-node cluster in three tries:\n" + "\n".join(errors))
        yield f"127.0.0.2:{port}"
    finally:
        _ray("stop", "--force")


def test_a_local_ray_is_its_own_beside_a_cluster_started_here(two_node_cluster):
    """`ray start` leaves its cluster's address where ``ray.init()`` looks first; the local
    backend (no --address) still starts a Ray of its own, and leaves the cluster up."""
    from evo.backends import RayBackend

    cfg = small_cfg()
    spec = TaskSpec("cars", cfg.cars, cfg.walkers, cfg.policy)
    serial = SerialBackend(spec)
    thetas = np.random.default_rng(3).normal(0, 0.5, (4, serial.task.network().num_params))
    with RayBackend(spec, workers=2) as backend:
        assert backend.nodes() == 1  # its own node, not the cluster's two
        got = backend.evaluate(thetas, seed=[5])
    np.testing.assert_array_equal(serial.evaluate(thetas, seed=[5])["fitness"],
                                  got["fitness"])
    status = _ray("status", f"--address={two_node_cluster}")
    assert status.returncode == 0 and status.stdout.count(" node_") >= 2, status.stderr


def test_a_two_node_cluster_runs_the_serial_generations_and_stays_up(tmp_path, cli,
                                                                     two_node_cluster):
    address = two_node_cluster
    serial = cli("evolve", "cars", *SMALL, "--out", str(tmp_path / "serial"))
    assert serial.returncode == 0, serial.stderr
    proc = cli("evolve", "cars", *SMALL, "--backend", "ray", "--address", address,
               "--out", str(tmp_path / "ray"), env=RAY_ENV)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"2 actors on 2 node(s) of the cluster at {address}" in proc.stderr
    assert fitness_rows(tmp_path / "ray" / "fitness.csv") == \
        fitness_rows(tmp_path / "serial" / "fitness.csv")
    status = _ray("status", f"--address={address}")  # the joined cluster keeps running
    assert status.returncode == 0 and status.stdout.count(" node_") >= 2, status.stderr
