"""Interactive pyglet windows: ``draw`` (a canvas for image models), ``browse`` (test
images with the network's verdicts) and ``playground`` (the poisonous-fruit decision
boundary, live).

Nothing here imports pyglet at import time; the windows load it when they open
(:mod:`nn.apps.window`).  The numbers behind them (:mod:`nn.apps.canvas`,
:mod:`nn.apps.preprocess`, ``BrowseState``, ``Playground``) are plain numpy.
"""
