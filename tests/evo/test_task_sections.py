"""One dataclass holds what evolve and reinforce configs share (the task and its world
sections); a run's config.yaml reads top-down and round-trips through the strict loader."""

import dataclasses

import pytest

from common.config import ConfigError, build, load_config, parse_yaml, to_yaml
from evo.config import EvolveConfig
from evo.tasks import TaskSections
from rl.config import ReinforceConfig


@pytest.mark.parametrize("cls, name", [(EvolveConfig, "walkers"), (EvolveConfig, "cars"),
                                       (ReinforceConfig, "reinforce-walkers"),
                                       (ReinforceConfig, "reinforce-gym")])
def test_a_config_round_trips_through_its_yaml(cls, name):
    cfg = load_config(cls, f"configs/{name}.yaml")
    assert build(cls, parse_yaml(to_yaml(cfg)), "") == cfg


def test_both_configs_take_the_task_sections_from_one_place():
    shared = {f.name: f.type for f in dataclasses.fields(TaskSections)}
    for cls in (EvolveConfig, ReinforceConfig):
        assert issubclass(cls, TaskSections)
        fields = {f.name: f.type for f in dataclasses.fields(cls)}
        assert {k: fields[k] for k in shared} == shared


def test_the_yaml_puts_plain_settings_first_then_own_sections_then_the_task_sections():
    keys = [line.split(":")[0] for line in to_yaml(EvolveConfig()).splitlines()
            if not line.startswith(" ")]
    assert keys[:2] == ["task", "population"]
    assert keys[-3:] == ["cars", "walkers", "gym"]
    assert keys.index("strategy") > keys.index("recheck_episodes")
    keys = [line.split(":")[0] for line in to_yaml(ReinforceConfig()).splitlines()
            if not line.startswith(" ")]
    assert keys == ["task", "total_steps", "seed", "pg", "policy", "cars", "walkers", "gym"]


def test_an_unknown_task_is_one_problem_for_both():
    for cls in (EvolveConfig, ReinforceConfig):
        with pytest.raises(ConfigError, match="task: must be one of cars, walkers"):
            build(cls, {"task": "bikes"}, "x.yaml: ")


def test_the_task_spec_carries_the_sections_and_the_run_layout():
    cfg = load_config(EvolveConfig, "configs/walkers.yaml")
    spec = cfg.task_spec(cfg.policy, 7, ["distance"])
    assert (spec.name, spec.walkers, spec.cars, spec.gym, spec.policy) == \
        (cfg.task, cfg.walkers, cfg.cars, cfg.gym, cfg.policy)
    assert (spec.population, spec.descriptors) == (7, ("distance",))
