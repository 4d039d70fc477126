"""Run the ``neuroevo`` command line with a signal the process sends itself at a chosen
point of the run, so a test of SIGKILL or Ctrl-C knows exactly where it landed instead of
racing a timer against the run::

    python -m tests.interrupt_at WHEN SIGNALS ARGS...

``WHEN``: ``generation:N`` (as generation N starts, counted from 1 as fitness.csv counts:
N - 1 generations are finished), ``checkpoint:N`` (generation N is finished and its
fitness.csv, timing.csv and best.npz are written, but not yet the checkpoint that commits
it), or ``run:N`` (as the N-th run of ``neuroevo compare`` starts).  ``SIGNALS``: ``KILL``,
``INT``, or ``INT,INT`` (the second once the run has taken the first: a second Ctrl-C).
``ARGS``: the command line, as ``python -m neuroevo`` takes it.

The hooks wrap the run's own methods in this process only; what runs is the real command.
"""

from __future__ import annotations

import os
import signal
import sys


def send(signals: list[str], run=None) -> None:
    for i, name in enumerate(signals):
        if i and run is not None:
            while not run.stop:  # the first Ctrl-C has been handled: stop asked
                pass
        os.kill(os.getpid(), getattr(signal, f"SIG{name}"))


def install(when: str, signals: list[str]) -> None:
    point, _, n = when.partition(":")
    n = int(n)
    if point == "generation":
        from evo.run import EvolutionRun, Reporter

        class At(Reporter):
            def start_generation(self, run, generation):
                if generation + 1 == n:
                    send(signals, run)

        init = EvolutionRun.__init__

        def with_reporter(self, cfg, out, reporters=()):
            init(self, cfg, out, [*reporters, At()])

        EvolutionRun.__init__ = with_reporter
    elif point == "checkpoint":
        from evo.run import EvolutionRun

        save = EvolutionRun.save_checkpoint

        def before(self):
            if self.generation == n:
                send(signals, self)
            save(self)

        EvolutionRun.save_checkpoint = before
    elif point == "run":
        from compare import classification, control

        calls = [0]

        def counted(fn):
            def wrapper(*args, **kwargs):
                calls[0] += 1
                if calls[0] == n:
                    send(signals)
                return fn(*args, **kwargs)
            return wrapper

        classification.run_classification = counted(classification.run_classification)
        control.run_evolution = counted(control.run_evolution)
        control.run_pg = counted(control.run_pg)
    else:
        raise SystemExit(f"interrupt_at: unknown point {when!r}")


def main() -> None:
    when, signals, *argv = sys.argv[1:]
    # Ctrl-C raises KeyboardInterrupt here even where the test runner was started in the
    # background (which leaves SIGINT ignored in its children)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    install(when, signals.split(","))
    from neuroevo.cli import main as neuroevo

    sys.exit(neuroevo(argv))


if __name__ == "__main__":
    main()
