"""Evolution against gradient descent on the same network and task (``neuroevo compare``):
``config`` (settings, which methods run on which task), ``classification`` (backprop and
evolution on a dataset), ``control`` (evolution and policy gradients on a policy network),
``judges`` (the best policies on unseen episodes), ``run`` (every method on every seed),
``figures`` and ``report`` (``compare.png``, ``report.md``, ``results.json``).  Like ``nn``,
``evo`` and ``rl`` it exports nothing: a name is imported from its module."""
