"""The ``neuroevo`` command (also ``python -m evo``).

Exit statuses: 0 success, 2 user error (one line on stderr), 130 interrupted,
1 only for internal faults.
"""

from __future__ import annotations

import argparse
import sys

from evo.config import ConfigError
from nn.errors import NNError


def _user_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [ConfigError, NNError]
    try:
        from sims.errors import SimsError

        errors.append(SimsError)
    except ImportError:
        pass
    return tuple(errors)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="neuroevo",
        description="One NumPy neural network, trained by gradient descent and by evolution.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    t = sub.add_parser("train", help="train a classifier by backpropagation",
                       description="Train a network on a dataset by backpropagation. DATASET names "
                       "a config in configs/ (fruit, fruit-curved, ...). Writes model.npz, "
                       "metrics.csv, timing.csv, curves.png and the resolved config.yaml to --out.")
    t.add_argument("dataset", metavar="DATASET", help="config name, e.g. fruit-curved")
    t.add_argument("--config", metavar="FILE", help="YAML config to use instead of "
                   "configs/DATASET.yaml")
    t.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                   help="override a config value, e.g. --set train.lr=0.01 (repeatable)")
    t.add_argument("--epochs", type=int, metavar="N", help="shortcut for --set train.epochs=N")
    t.add_argument("--seed", type=int, metavar="N", help="shortcut for --set train.seed=N")
    t.add_argument("--out", metavar="DIR", help="run directory (default runs/DATASET-TIME)")
    t.add_argument("--data-dir", metavar="DIR", help="where dataset files are (else "
                   "$NEUROEVO_DATA, then the cache)")
    t.add_argument("--quiet", action="store_true", help="no progress bars")
    t.set_defaults(func="evo.classify:train")

    e = sub.add_parser("evaluate", help="test a saved model on a dataset",
                       description="Print the test accuracy and a per-class table of a saved "
                       "model.")
    e.add_argument("model", metavar="MODEL", help="a model.npz written by neuroevo train, or "
                   "a .json network saved by the original C# project")
    e.add_argument("--dataset", metavar="NAME", help="dataset to test on (default: the model's)")
    e.add_argument("--data-dir", metavar="DIR", help="where dataset files are")
    e.add_argument("--json", action="store_true", help="print one JSON object with keys "
                   "accuracy, per_class, n")
    e.set_defaults(func="evo.classify:evaluate_cmd")

    x = sub.add_parser("export", help="write a model in another format",
                       description="Write a saved model in the JSON format of the original C# "
                       "project (SebLague/Neural-Network-Experiments). Image models are "
                       "written to take bottom-row-first pixels, as that project feeds them.")
    x.add_argument("model", metavar="MODEL", help="a model.npz (or .json) to convert")
    x.add_argument("--format", default="lague-json", choices=["lague-json"],
                   help="output format (default lague-json)")
    x.add_argument("--out", metavar="FILE", required=True, help="file to write")
    x.set_defaults(func="evo.classify:export_cmd")

    v = sub.add_parser("evolve", help="evolve driving cars or walking creatures",
                       description="Evolve the policy network's weights with a genetic "
                       "algorithm or evolution strategies. Writes fitness.csv, timing.csv, "
                       "best.npz, checkpoint.npz (every generation), config.yaml and "
                       "fitness.png to --out.")
    v.add_argument("task", choices=["cars", "walkers"], help="what to evolve")
    v.add_argument("--config", metavar="FILE", help="YAML config (default configs/TASK.yaml)")
    v.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                   help="override a config value, e.g. --set strategy.name=es (repeatable)")
    v.add_argument("--generations", type=int, metavar="N")
    v.add_argument("--population", type=int, metavar="N")
    v.add_argument("--workers", type=int, metavar="N", help="worker processes (0 = all cores)")
    v.add_argument("--backend", choices=["serial", "process", "ray"])
    v.add_argument("--address", metavar="ADDR", help="Ray cluster address (--backend ray)")
    v.add_argument("--seed", type=int, metavar="N")
    v.add_argument("--track", metavar="FILE|procedural:SEED", help="track for cars")
    v.add_argument("--until-lap", action="store_true",
                   help="cars: stop after the first generation whose best car completes a lap")
    v.add_argument("--headless", action="store_true", help="no window")
    v.add_argument("--out", metavar="DIR", help="run directory (default runs/TASK-TIME)")
    v.add_argument("--resume", metavar="DIR", help="continue the run in DIR")
    v.add_argument("--quiet", action="store_true", help="no progress bar")
    v.set_defaults(func="evo.evolve_cmd:evolve")

    r = sub.add_parser("replay", help="run a saved policy once",
                       description="Drive a saved car (or walk a saved creature) for one "
                       "episode and print how it did.")
    r.add_argument("model", metavar="MODEL", help="a best.npz written by neuroevo evolve")
    r.add_argument("--track", metavar="FILE|procedural:SEED", help="another track (cars)")
    r.add_argument("--headless", action="store_true", help="no window")
    r.add_argument("--json", action="store_true", help="print one JSON object")
    r.set_defaults(func="evo.evolve_cmd:replay")
    return p


def _resolve(spec: str):
    import importlib

    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    user_errors = _user_errors()
    try:
        return int(_resolve(args.func)(args) or 0)
    except user_errors as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"neuroevo: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("neuroevo: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def run() -> None:  # console-script entry point
    sys.exit(main())


if __name__ == "__main__":
    run()
