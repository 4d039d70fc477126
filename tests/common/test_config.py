"""Strict configs: every bad input is one line naming the file and key, exit status 2."""

import re

import pytest

from common.config import ConfigError, load_config, named_config
from nn.config import TrainRunConfig
from tests.conftest import assert_user_error

GOOD = """
data: {name: fruit}
model: {hidden: [4]}
train: {epochs: 1, lr: 0.1}
"""


def write(tmp_path, text):
    p = tmp_path / "c.yaml"
    p.write_text(text)
    return p


def test_shipped_configs_load():
    for name in ("fruit", "fruit-curved"):
        cfg = load_config(TrainRunConfig, named_config(name))
        assert cfg.data.name == name


def test_overrides_are_typed(tmp_path):
    p = write(tmp_path, GOOD)
    cfg = load_config(TrainRunConfig, p, ["train.lr=0.5", "model.hidden=[3, 2]",
                                          "data.options.n_train=50"])
    assert cfg.train.lr == 0.5 and cfg.model.hidden == [3, 2]
    assert cfg.data.options == {"n_train": 50}
    assert isinstance(cfg.train.lr, float)


@pytest.mark.parametrize("text,fragment", [
    ("train: {lrr: 0.1}", "train.lrr: unknown key"),
    ("bogus: 1", "bogus: unknown key"),
    ("train: {epochs: ten}", "train.epochs: expected an integer"),
    ("train: {epochs: 2.5}", "train.epochs: expected an integer"),
    ("train: {lr: -0.1}", "train.lr: must be > 0"),
    ("train: {batch_size: 0}", "train.batch_size: must be >= 1"),
    ("train: {momentum: 1.5}", "train.momentum"),
    ("train: {validation_fraction: 1.0}", "train.validation_fraction"),
    ("train: {dropout: 1.0}", "train.dropout: must be in [0, 1)"),
    ("train: {optimizer: rmsprop}", "train.optimizer"),
    ("model: {hidden: 16}", "model.hidden: expected a list"),
    ("model: {hidden: [8, -1]}", "model.hidden"),
    ("model: {hidden_activation: swish}", "model.hidden_activation"),
    ("model: {loss: cross_entropy, output_activation: tanh}", "model.loss"),
    ("train: [1, 2]", "train: expected a mapping"),
    ("- just\n- a list", "expected a mapping at the top level"),
    ("train: {lr: 0.1\n", "malformed YAML"),
    ("train: {flag: !!python/object:os.system echo}", "malformed YAML"),
])
def test_bad_config_files(tmp_path, text, fragment):
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(TrainRunConfig, p)
    msg = str(info.value)
    assert fragment in msg and str(p) in msg and "\n" not in msg


@pytest.mark.parametrize("override,fragment", [
    ("train.lrr=1", "unknown key 'train.lrr'"),
    ("train.lr=fast", "train.lr: expected a number"),
    ("train.epochs=-3", "train.epochs: must be >= 1"),
    ("noequals", "KEY=VALUE"),
    ("train.lr.x=1", "unknown key"),
])
def test_bad_overrides(tmp_path, override, fragment):
    with pytest.raises(ConfigError, match=fragment.replace(".", r"\.")):
        load_config(TrainRunConfig, write(tmp_path, GOOD), [override])


def test_unknown_config_name():
    with pytest.raises(ConfigError, match="no config named 'nope'"):
        named_config("nope")


@pytest.mark.parametrize("text,fragment", [
    ("train: {lr: -1}", "train.lr"),
    ("train: {epochs: 1}\nmodel: {hiden: [3]}", "model.hiden"),
    ("data: {name: fruit, options: {colour: red}}", "data.options.colour"),
    ("data: {name: no-such-set}", "unknown dataset 'no-such-set'"),
    ("train: {lr: [1, 2", "malformed YAML"),
])
def test_cli_exits_2_with_one_line(tmp_path, cli, text, fragment):
    p = write(tmp_path, text)
    proc = cli("train", "fruit", "--config", str(p), "--out", str(tmp_path / "run"), "--quiet")
    assert_user_error(proc, fragment)


def test_cli_set_is_checked(tmp_path, cli):
    proc = cli("train", "fruit", "--set", "train.batch_size=0", "--out", str(tmp_path / "r"))
    assert_user_error(proc, "train.batch_size")
    proc = cli("train", "fruit", "--epochs", "-1", "--out", str(tmp_path / "r"))
    assert_user_error(proc, "train.epochs")


# -- numbers as people write them, and numbers that are not numbers ----------------------------
@pytest.mark.parametrize("text,value", [("1e-3", 1e-3), ("1E3", 1e3), (".5", 0.5), ("5.", 5.0),
                                        ("2.5e+2", 250.0), ("+1.5E-2", 0.015), ("3", 3.0)])
def test_every_written_number_is_a_number(tmp_path, text, value):
    cfg = load_config(TrainRunConfig, write(tmp_path, f"train: {{lr: {text}}}"))
    assert cfg.train.lr == value and isinstance(cfg.train.lr, float)
    cfg = load_config(TrainRunConfig, None, [f"train.lr={text}"])
    assert cfg.train.lr == value


def test_integers_stay_integers_and_words_stay_words():
    from common.config import parse_yaml

    assert parse_yaml("12") == 12 and isinstance(parse_yaml("12"), int)
    assert parse_yaml("[1e-3, x, 1e, e3, nan]") == [0.001, "x", "1e", "e3", "nan"]


@pytest.mark.parametrize("override,key", [("train.lr=.nan", "train.lr"),
                                          ("train.l2=.inf", "train.l2"),
                                          ("train.momentum=-.inf", "train.momentum")])
def test_non_finite_values_are_refused_where_they_are_read(override, key):
    with pytest.raises(ConfigError, match=rf"{re.escape(key)}: expected a finite number"):
        load_config(TrainRunConfig, None, [override])


def test_evolution_values_are_checked_for_finiteness_too(cli, tmp_path):
    proc = cli("evolve", "cars", "--headless", "--generations", "1", "--out",
               str(tmp_path / "r"), "--set", "strategy.ga.mutation_sigma=.nan")
    assert_user_error(proc, "strategy.ga.mutation_sigma", "finite")


# -- suggestions --------------------------------------------------------------------------------
def test_unknown_keys_and_names_get_a_suggestion(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown key 'train\.lrr' \(did you mean 'train\.lr'"):
        load_config(TrainRunConfig, None, ["train.lrr=0.1"])
    with pytest.raises(ConfigError, match=r"hiden: unknown key \(did you mean 'hidden'\?\)"):
        load_config(TrainRunConfig, write(tmp_path, "model: {hiden: [3]}"))
    with pytest.raises(ConfigError, match=r"'mnsit' \(did you mean 'mnist'\?\)"):
        named_config("mnsit")
    with pytest.raises(ConfigError) as err:
        named_config("zzzz")
    assert "did you mean" not in str(err.value)
