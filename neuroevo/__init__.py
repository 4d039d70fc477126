"""The ``neuroevo`` application: the command line (:mod:`neuroevo.cli`, one module per
command in :mod:`neuroevo.commands`), run folders and the live evolution window
(:mod:`neuroevo.watch`).  The libraries it drives are ``nn`` (networks, backprop, image
data), ``sims`` (physics worlds), ``evo`` (strategies, generation loop, rollouts) and ``rl``
(policy gradients)."""

__version__ = "0.2.0"
