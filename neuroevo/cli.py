"""The ``neuroevo`` command (also ``python -m neuroevo``): the parser and the one place
where errors become exit statuses.

Exit statuses: 0 success, 2 user error (any :class:`common.errors.UserError`: one line on
stderr), 130 interrupted, 1 only for internal faults.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys

from common.config import did_you_mean
from common.errors import EXIT_INTERRUPTED, EXIT_USER_ERROR, UserError
from neuroevo import __version__

# Each module defines ``add_commands(subparsers)``; a command's ``func`` default names the
# function that runs it as "module:function".  Keep these modules' top-level imports light:
# heavy ones (pyglet, matplotlib) belong inside the functions that need them.
COMMAND_MODULES = [f"neuroevo.commands.{name}" for name in
                   ("train", "evolve", "creature", "graph", "reinforce", "compare",
                    "windows")]


class Parser(argparse.ArgumentParser):
    """An argument error is one line, like every other user error (the usage block stays
    on ``--help``)."""

    def error(self, message: str):
        m = re.search(r"invalid choice: '?([^'\s]+)'? \(choose from (.*)\)", message)
        if m:  # say which choice was probably meant
            choices = [c.strip(" '\"") for c in m.group(2).split(",")]
            message += did_you_mean(m.group(1), choices).replace(" (", "; ").rstrip(")")
        raise ArgumentError(f"{message} (see: {self.prog} --help)")


class ArgumentError(UserError):
    """A command line that argparse cannot read."""


def build_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="neuroevo",
        description="One NumPy neural network, trained by gradient descent and by evolution.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    for name in COMMAND_MODULES:
        importlib.import_module(name).add_commands(sub)
    return p


def _resolve(spec: str):
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


# BLAS libraries read these when NumPy loads
BLAS_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def one_blas_thread(argv: list[str]) -> bool:
    """Whether the command line runs control work (evolution, policy gradients, replays, a
    comparison on cars, walkers or gym): its products are small (a batch of 1,024 x 64 at
    most), where BLAS threads gain little on a quiet machine and cost 5-20x on a busy one,
    fighting other work for the cores.  Image training keeps BLAS's threads.  Read from the
    raw arguments: the commands' modules load NumPy as the parser is built."""
    words = [a for a in argv if not a.startswith("-")]
    if not words:
        return False
    if words[0] in ("evolve", "reinforce", "replay"):
        return True
    from evo.kinds import WORLD_TASKS  # (names only: NumPy is not loaded yet)

    return words[0] == "compare" and any(w in WORLD_TASKS or w.startswith("gym:")
                                         for w in words[1:])  # the task, among option values


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # before NumPy loads; where it is loaded already (main called from Python), BLAS has
    # read its settings and the variables would only reach child processes
    if one_blas_thread(argv) and "numpy" not in sys.modules:
        for var in BLAS_THREAD_VARS:
            os.environ.setdefault(var, "1")
    try:
        parser = build_parser()  # imports the commands (a broken install fails here)
        args = parser.parse_args(argv)
        if args.command is None:  # bare `neuroevo`: the list of commands
            parser.print_help()
            return 0
        return int(_resolve(args.func)(args) or 0)
    except UserError as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"neuroevo: error: {msg}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("neuroevo: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0


def run() -> None:  # console-script entry point
    sys.exit(main())


if __name__ == "__main__":
    run()
