"""The ``neuroevo`` command (also ``python -m evo``).

Exit statuses: 0 success, 2 user error (one line on stderr), 130 interrupted,
1 only for internal faults.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from evo.config import ConfigError
from nn.errors import NNError

# Each module defines ``add_commands(subparsers)``; a command's ``func`` default names the
# function that runs it as "module:function".  Keep these modules' top-level imports light:
# heavy ones (pyglet, matplotlib) belong inside the functions that need them.
COMMAND_MODULES = ["evo.classify", "evo.evolve_cmd", "evo.compare", "evo.apps_cmd"]


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

    for name in COMMAND_MODULES:
        importlib.import_module(name).add_commands(sub)
    return p


def _resolve(spec: str):
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
