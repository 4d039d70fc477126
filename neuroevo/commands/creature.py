"""``neuroevo export-creature``: the body a walker evolved, as a creature file."""

from __future__ import annotations

import sys
from pathlib import Path

from common.config import ConfigError


def export_creature(args) -> int:
    from common.files import atomic_write_text
    from evo.policy_file import read_policy
    from evo.tasks import WalkersConfig
    from sims.walker import creature_yaml

    out = Path(args.out)
    if out.suffix.lower() not in (".yaml", ".yml"):
        raise ConfigError(f"--out {out}: a creature file's name ends in .yaml")
    pf = read_policy(args.model)
    meta, body = pf.meta, pf.body
    if body is None:
        what = ("its body was fixed (walkers.body: fixed)"
                if isinstance(pf.config, WalkersConfig) else f"a {pf.task} model")
        raise ConfigError(f"{args.model}: no evolved body to export ({what}; evolve one with "
                          f"--set walkers.body=evolve)")
    source = meta.get("task_config", {}).get("creature", "?")
    comment = (f"{body.name}, its body evolved by neuroevo evolve walkers (walkers.body: "
               f"evolve)\nfrom the creature {source}; model {Path(args.model).name}, fitness "
               f"{meta.get('fitness', float('nan')):.3f} m, generation "
               f"{meta.get('generation', '?')}.\nUse it with --set walkers.creature={out}")
    if not out.parent.is_dir():
        raise ConfigError(f"--out {out}: no folder {out.parent}")
    atomic_write_text(out, creature_yaml(body, comment))
    print(f"creature: {out}", file=sys.stderr)
    return 0


def add_commands(sub) -> None:
    """Register this module's subcommands with the ``neuroevo`` parser."""
    e = sub.add_parser("export-creature", help="save the body a walker evolved as a creature "
                       "file", description="Write the body recorded in a best.npz of "
                       "neuroevo evolve walkers --set walkers.body=evolve as a creature "
                       "YAML file (configs/creatures/ format): walk it with --set "
                       "walkers.creature=FILE.")
    e.add_argument("model", metavar="MODEL", help="a best.npz with an evolved body")
    e.add_argument("--out", metavar="FILE.yaml", required=True, help="the creature file")
    e.set_defaults(func="neuroevo.commands.creature:export_creature")
